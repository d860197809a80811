// The ssh-agent client (client/twoway/agent.hpp): the reply parsers on good, cut, oversized and
// trailing input; the request encoders byte by byte; the connection against small fake agents (stuck,
// lying, hanging up); and the whole client against OpenSSH's own ssh-agent and ssh-add, which must be
// installed (openssh-client): these tests fail, not skip, without them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>

#include "../../../client/twoway/agent.hpp"
#include "client_test_support.hpp"

extern char** environ;

using namespace twoway_client;
using twoway::errc;
using Bytes = std::vector<std::byte>;
using namespace std::string_view_literals;

namespace {

void put_u32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xff));
}
void put_string(Bytes& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    for (char c : s) out.push_back(static_cast<std::byte>(c));
}
void put_string(Bytes& out, const Bytes& b) {
    put_u32(out, static_cast<std::uint32_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}
Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
Bytes str(std::string_view s) {
    Bytes out;
    put_string(out, s);
    return out;
}
Bytes raw(std::string_view s) {
    Bytes out;
    for (char c : s) out.push_back(static_cast<std::byte>(c));
    return out;
}

twoway::PrivateKey make_key(int n) {
    std::array<std::byte, 32> seed{};
    seed.fill(static_cast<std::byte>(n));
    return twoway::PrivateKey::from_seed(seed);
}

// Key blobs of the types an agent holds besides plain Ed25519 (their insides do not matter here: the
// parser keeps them whole and unusable).
Bytes fake_blob(std::string_view type, std::size_t body) {
    Bytes b = str(type);
    put_string(b, Bytes(body, std::byte{0x5a}));
    return b;
}

// An identities answer with a plain Ed25519 key, RSA, ECDSA, an Ed25519 certificate, a broken Ed25519
// blob (a 31-byte key), an empty blob and a blob whose "type" is binary.
std::vector<AgentIdentity> mixed_identities() {
    Bytes broken = str("ssh-ed25519");
    put_string(broken, Bytes(31, std::byte{1}));
    Bytes binary_type;
    put_string(binary_type, Bytes{std::byte{0}, std::byte{0xff}});
    std::vector<AgentIdentity> ids(7);
    ids[0].blob = make_key(1).public_key().blob();
    ids[0].comment = "alice@laptop";
    ids[1].blob = fake_blob("ssh-rsa", 257);
    ids[1].comment = "rsa key";
    ids[2].blob = fake_blob("ecdsa-sha2-nistp256", 65);
    ids[3].blob = fake_blob("ssh-ed25519-cert-v01@openssh.com", 300);
    ids[3].comment = "a certificate";
    ids[4].blob = broken;
    ids[5].blob = {};
    ids[5].comment = "empty blob";
    ids[6].blob = binary_type;
    ids[6].comment = "tab\there, é";
    return ids;
}

Bytes sign_response(const Bytes& signature_blob) {
    Bytes out{std::byte{14}};
    put_string(out, signature_blob);
    return out;
}
Bytes ed25519_signature_blob(std::span<const std::byte> sig) {
    Bytes out = str("ssh-ed25519");
    put_string(out, Bytes(sig.begin(), sig.end()));
    return out;
}

}  // namespace

// ---- parsers --------------------------------------------------------------------------------------

TEST_CASE("identities answer: mixed key types are listed, only plain ssh-ed25519 is usable", "[agent]") {
    const auto ids = mixed_identities();
    const auto parsed = parse_identities_answer(encode_identities_answer(ids));
    REQUIRE(parsed.has_value());
    REQUIRE(parsed->size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        INFO(i);
        CHECK((*parsed)[i].blob == ids[i].blob);
        CHECK((*parsed)[i].comment == ids[i].comment);
    }
    CHECK((*parsed)[0].usable());
    CHECK(*(*parsed)[0].key == make_key(1).public_key());
    CHECK((*parsed)[0].type == "ssh-ed25519");
    CHECK((*parsed)[1].type == "ssh-rsa");
    CHECK((*parsed)[2].type == "ecdsa-sha2-nistp256");
    CHECK((*parsed)[3].type == "ssh-ed25519-cert-v01@openssh.com");
    CHECK((*parsed)[4].type == "ssh-ed25519");
    CHECK((*parsed)[5].type.empty());
    CHECK((*parsed)[6].type.empty());
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK_FALSE((*parsed)[i].usable());
}

TEST_CASE("identities answer: empty list, exact bytes", "[agent]") {
    const Bytes empty{std::byte{12}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
    const auto parsed = parse_identities_answer(empty);
    REQUIRE(parsed.has_value());
    CHECK(parsed->empty());
    // One key, spelled out by hand (not by the encoder under test).
    Bytes one{std::byte{12}};
    put_u32(one, 1);
    put_string(one, make_key(2).public_key().blob());
    put_string(one, "c");
    const auto one_parsed = parse_identities_answer(one);
    REQUIRE(one_parsed.has_value());
    REQUIRE(one_parsed->size() == 1);
    CHECK(*one_parsed->front().key == make_key(2).public_key());
    CHECK(one_parsed->front().comment == "c");
    CHECK(encode_identities_answer(*one_parsed) == one);
}

TEST_CASE("identities answer: every cut of a good answer is refused", "[agent]") {
    const Bytes good = encode_identities_answer(mixed_identities());
    for (std::size_t n = 0; n < good.size(); ++n) {
        INFO(n);
        const auto r = parse_identities_answer(std::span<const std::byte>(good.data(), n));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::short_input);
    }
}

TEST_CASE("identities answer: counts and lengths beyond the bounds", "[agent]") {
    SECTION("more than 2048 identities") {
        Bytes b{std::byte{12}};
        put_u32(b, 2049);
        for (int i = 0; i < 2049; ++i) {
            put_u32(b, 0);
            put_u32(b, 0);
        }
        CHECK(parse_identities_answer(b).error() == errc::length_too_large);
    }
    SECTION("exactly 2048 empty identities are fine") {
        Bytes b{std::byte{12}};
        put_u32(b, 2048);
        for (int i = 0; i < 2048; ++i) {
            put_u32(b, 0);
            put_u32(b, 0);
        }
        const auto r = parse_identities_answer(b);
        REQUIRE(r.has_value());
        CHECK(r->size() == 2048);
    }
    SECTION("a count the bytes cannot hold is refused before anything is reserved") {
        Bytes b{std::byte{12}};
        put_u32(b, 1000);
        put_u32(b, 0);
        put_u32(b, 0);
        CHECK(parse_identities_answer(b).error() == errc::short_input);
        Bytes huge{std::byte{12}};
        put_u32(huge, 0xffffffff);
        CHECK(parse_identities_answer(huge).error() == errc::length_too_large);
    }
    SECTION("a string longer than an agent message") {
        Bytes b{std::byte{12}};
        put_u32(b, 1);
        put_u32(b, 256 * 1024 + 1);
        put_u32(b, 0);  // the 8 bytes an entry takes at least, so the count passes
        CHECK(parse_identities_answer(b).error() == errc::length_too_large);
    }
    SECTION("a string longer than what is left") {
        Bytes b{std::byte{12}};
        put_u32(b, 1);
        put_u32(b, 100);
        b.resize(b.size() + 99);
        put_u32(b, 0);  // the 8 bytes the count check wants, but the blob is still cut
        CHECK(parse_identities_answer(b).error() == errc::short_input);
    }
}

TEST_CASE("identities answer: trailing bytes, NUL in a comment, wrong or failure type", "[agent]") {
    Bytes good = encode_identities_answer(mixed_identities());
    Bytes trailing = good;
    trailing.push_back(std::byte{0});
    CHECK(parse_identities_answer(trailing).error() == errc::trailing_data);

    Bytes nul{std::byte{12}};
    put_u32(nul, 1);
    put_string(nul, make_key(1).public_key().blob());
    put_string(nul, std::string_view("a\0b", 3));
    CHECK(parse_identities_answer(nul).error() == errc::malformed);

    for (std::uint8_t failure : {5, 30, 102}) {
        INFO(int(failure));
        const auto r = parse_identities_answer(Bytes{std::byte{failure}});
        CHECK(r.error() == AgentError::failure);
        CHECK(r.error().message() == "the agent refused the request");
    }
    Bytes wrong = good;
    wrong[0] = std::byte{14};
    CHECK(parse_identities_answer(wrong).error() == AgentError::unexpected_reply);
    CHECK(parse_identities_answer(Bytes{std::byte{6}}).error() == AgentError::unexpected_reply);
    CHECK(parse_identities_answer(Bytes{}).error() == errc::short_input);
}

TEST_CASE("sign response: exactly one ssh-ed25519 signature of 64 bytes", "[agent]") {
    const auto key = make_key(3);
    const Bytes data = raw("payload");
    const auto sig = key.sign(data);
    const Bytes good = sign_response(ed25519_signature_blob(sig));

    const auto parsed = parse_sign_response(good);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == sig);
    CHECK(verify_agent_signature(key.public_key(), data, *parsed).has_value());
    CHECK(verify_agent_signature(make_key(4).public_key(), data, *parsed).error() == errc::bad_signature);

    for (std::size_t n = 0; n < good.size(); ++n) {
        INFO(n);
        CHECK(parse_sign_response(std::span<const std::byte>(good.data(), n)).error() == errc::short_input);
    }
    Bytes trailing = good;
    trailing.push_back(std::byte{0});
    CHECK(parse_sign_response(trailing).error() == errc::trailing_data);

    Bytes inner_trailing = ed25519_signature_blob(sig);
    inner_trailing.push_back(std::byte{0});
    CHECK(parse_sign_response(sign_response(inner_trailing)).error() == errc::trailing_data);

    Bytes rsa = str("rsa-sha2-512");
    put_string(rsa, Bytes(256, std::byte{7}));
    CHECK(parse_sign_response(sign_response(rsa)).error() == errc::unsupported_key_type);

    CHECK(parse_sign_response(sign_response(ed25519_signature_blob(Bytes(63, std::byte{1})))).error() ==
          errc::malformed);
    CHECK(parse_sign_response(sign_response(ed25519_signature_blob(Bytes(65, std::byte{1})))).error() ==
          errc::malformed);
    CHECK(parse_sign_response(sign_response({})).error() == errc::short_input);
    CHECK(parse_sign_response(Bytes{std::byte{5}}).error() == AgentError::failure);
    Bytes wrong = good;
    wrong[0] = std::byte{12};
    CHECK(parse_sign_response(wrong).error() == AgentError::unexpected_reply);
}

TEST_CASE("status reply: success alone", "[agent]") {
    CHECK(parse_status_reply(Bytes{std::byte{6}}).has_value());
    CHECK(parse_status_reply(Bytes{std::byte{5}}).error() == AgentError::failure);
    CHECK(parse_status_reply(Bytes{std::byte{6}, std::byte{0}}).error() == errc::trailing_data);
    CHECK(parse_status_reply(Bytes{std::byte{12}}).error() == AgentError::unexpected_reply);
    CHECK(parse_status_reply(Bytes{}).error() == errc::short_input);
}

// ---- encoders -------------------------------------------------------------------------------------

TEST_CASE("sign request: layout and size bound", "[agent]") {
    const Bytes blob = make_key(1).public_key().blob();
    const auto r = encode_sign_request(blob, raw("data"), 4);
    REQUIRE(r.has_value());
    Bytes want{std::byte{13}};
    put_string(want, blob);
    put_string(want, "data");
    put_u32(want, 4);
    CHECK(*r == want);
    CHECK(encode_sign_request(blob, Bytes(256 * 1024 - blob.size() - 13), 0).has_value());
    CHECK(encode_sign_request(blob, Bytes(256 * 1024 - blob.size() - 12), 0).error() ==
          AgentError::message_too_large);
}

TEST_CASE("add identity: the ssh-ed25519 private key encoding, with and without constraints", "[agent]") {
    const auto key = make_key(5);
    const auto& pub = key.public_key().raw();
    const auto seed = key.seed();
    Bytes key_part = str("ssh-ed25519");
    put_string(key_part, Bytes(pub.begin(), pub.end()));
    Bytes priv(64);  // seed || public key (g++ 12 warns falsely about insert() here)
    std::copy(seed.span().begin(), seed.span().end(), priv.begin());
    std::copy(pub.begin(), pub.end(), priv.begin() + 32);
    put_string(key_part, priv);
    put_string(key_part, "my comment");

    const auto plain = encode_add_identity(key, "my comment", std::nullopt, false);
    REQUIRE(plain.has_value());
    const Bytes plain_want = cat({Bytes{std::byte{17}}, key_part});
    CHECK(Bytes(plain->span().begin(), plain->span().end()) == plain_want);

    const auto both = encode_add_identity(key, "my comment", 3600, true);
    REQUIRE(both.has_value());
    Bytes both_want = cat({Bytes{std::byte{25}}, key_part, Bytes{std::byte{1}}});
    put_u32(both_want, 3600);
    both_want.push_back(std::byte{2});
    CHECK(Bytes(both->span().begin(), both->span().end()) == both_want);

    const auto confirm = encode_add_identity(key, "my comment", std::nullopt, true);
    REQUIRE(confirm.has_value());
    CHECK(Bytes(confirm->span().begin(), confirm->span().end()) ==
          cat({Bytes{std::byte{25}}, key_part, Bytes{std::byte{2}}}));

    CHECK(encode_add_identity(key, std::string_view("a\0b", 3), std::nullopt, false).error() ==
          errc::invalid_argument);
    CHECK(encode_add_identity(key, std::string(256 * 1024, 'x'), std::nullopt, false).error() ==
          AgentError::message_too_large);
}

TEST_CASE("agent socket: IdentityAgent, SSH_AUTH_SOCK, none", "[agent]") {
    CHECK(*agent_socket_path(std::nullopt, "/tmp/a.sock") == "/tmp/a.sock");
    CHECK(*agent_socket_path("SSH_AUTH_SOCK", "/tmp/a.sock") == "/tmp/a.sock");
    CHECK(*agent_socket_path("/run/agent", "/tmp/a.sock") == "/run/agent");
    CHECK(agent_socket_path("none", "/tmp/a.sock").error() == AgentError::not_configured);
    CHECK(agent_socket_path(std::nullopt, "none").error() == AgentError::not_configured);
    CHECK(agent_socket_path(std::nullopt, nullptr).error() == AgentError::not_configured);
    CHECK(agent_socket_path(std::nullopt, "").error() == AgentError::not_configured);
    CHECK(agent_socket_path("SSH_AUTH_SOCK", nullptr).error() == AgentError::not_configured);
}

// ---- the connection against fake agents ------------------------------------------------------------

namespace {

// A listening UNIX socket in a temp dir; serve() runs one connection's script on a thread.
class FakeAgent {
public:
    FakeAgent() : path_(dir_.file("agent.sock")) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, path_.c_str(), path_.size());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
    }
    ~FakeAgent() {
        ::shutdown(fd_, SHUT_RDWR);  // wakes an accept() no client came for (a test that failed early)
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    FakeAgent(const FakeAgent&) = delete;
    FakeAgent& operator=(const FakeAgent&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }

    // Accepts one connection, reads one request, writes `reply` as it is (framing included), then
    // holds the connection open until the client goes (or closes at once when hang_up).
    void serve(Bytes reply, bool hang_up = false) {
        thread_ = std::thread([this, reply = std::move(reply), hang_up] {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::array<std::byte, 4> len{};
            if (::recv(c, len.data(), 4, MSG_WAITALL) == 4) {
                std::uint32_t n = 0;
                for (auto b : len) n = n << 8 | std::to_integer<std::uint32_t>(b);
                request_.resize(n);
                if (n > 0) (void)::recv(c, request_.data(), n, MSG_WAITALL);
            }
            if (!reply.empty()) (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            if (!hang_up) {
                std::array<std::byte, 64> sink{};
                while (::recv(c, sink.data(), sink.size(), 0) > 0) {
                }
            }
            ::close(c);
        });
    }
    [[nodiscard]] const Bytes& request() const { return request_; }

private:
    test::TempDir dir_;
    std::string path_;
    int fd_ = -1;
    std::thread thread_;
    Bytes request_;
};

Bytes framed(const Bytes& body) {
    Bytes out;
    put_u32(out, static_cast<std::uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

}  // namespace

TEST_CASE("connection: no agent at the path, a path too long", "[agent]") {
    test::TempDir dir;
    const auto missing = AgentClient::connect(dir.file("no-such.sock"));
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(missing.error().message() == "No such file or directory");
    CHECK(AgentClient::connect("/tmp/" + std::string(200, 'a')).error() == std::errc::filename_too_long);
    // A file that is not a socket.
    const std::string file = dir.write("plain-file", "x");
    CHECK(AgentClient::connect(file).error() == std::errc::connection_refused);
}

TEST_CASE("connection: an agent that never answers times out, and the failure sticks", "[agent]") {
    FakeAgent agent;  // listens, never accepts: the request sits in the socket buffer
    auto client = AgentClient::connect(agent.path(), std::chrono::milliseconds(200));
    REQUIRE(client.has_value());
    const auto start = std::chrono::steady_clock::now();
    const auto r = client->list_identities();
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.error() == AgentError::timeout);
    CHECK(took >= std::chrono::milliseconds(190));
    CHECK(took < std::chrono::seconds(5));
    // The stream is out of step: nothing more is attempted.
    const auto again_start = std::chrono::steady_clock::now();
    CHECK(client->list_identities().error() == AgentError::timeout);
    CHECK(std::chrono::steady_clock::now() - again_start < std::chrono::milliseconds(100));
}

TEST_CASE("connection: a reply announced above 256 KiB is refused unread", "[agent]") {
    FakeAgent agent;
    agent.serve(Bytes{std::byte{0x00}, std::byte{0x04}, std::byte{0x00}, std::byte{0x01}});  // 256 KiB + 1
    auto client = AgentClient::connect(agent.path(), std::chrono::seconds(10));
    REQUIRE(client.has_value());
    CHECK(client->list_identities().error() == AgentError::message_too_large);
    CHECK(agent.request() == Bytes{std::byte{11}});
}

TEST_CASE("connection: an agent that hangs up mid-reply", "[agent]") {
    FakeAgent agent;
    Bytes cut = framed(encode_identities_answer(mixed_identities()));
    cut.resize(cut.size() / 2);
    agent.serve(cut, true);
    auto client = AgentClient::connect(agent.path(), std::chrono::seconds(10));
    REQUIRE(client.has_value());
    CHECK(client->list_identities().error() == AgentError::closed);
}

TEST_CASE("connection: a signature by another key is caught before it is returned", "[agent]") {
    const auto key = make_key(6);
    const Bytes data = raw("transcript hash");
    FakeAgent agent;
    agent.serve(framed(sign_response(ed25519_signature_blob(make_key(7).sign(data)))));
    auto client = AgentClient::connect(agent.path(), std::chrono::seconds(10));
    REQUIRE(client.has_value());
    CHECK(client->sign(key.public_key().blob(), data).error() == errc::bad_signature);
    Bytes want{std::byte{13}};
    put_string(want, key.public_key().blob());
    put_string(want, data);
    put_u32(want, 0);
    CHECK(agent.request() == want);
}

TEST_CASE("connection: sign refuses key types it cannot check, before asking", "[agent]") {
    FakeAgent agent;  // never accepts: a request would time out
    auto client = AgentClient::connect(agent.path(), std::chrono::milliseconds(100));
    REQUIRE(client.has_value());
    CHECK(client->sign(fake_blob("ssh-rsa", 100), raw("x")).error() == errc::unsupported_key_type);
    CHECK(client->sign({}, raw("x")).error() == errc::unsupported_key_type);
}

// ---- against OpenSSH's ssh-agent --------------------------------------------------------------------

namespace {

struct Ran {
    int status = -1;
    std::string output;
};

// Runs a shell command line, output and errors together.
Ran run(const std::string& cmd) {
    Ran r;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) r.output += buf.data();
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// ssh-agent -D -a <dir>/agent.sock as a child of the test, ended (SIGTERM, waited for) when this goes.
// Its confirmations (keys added with confirm) are answered by `askpass`, as ssh-agent runs it.
class SshAgent {
public:
    explicit SshAgent(const test::TempDir& dir, const std::string& askpass = "/bin/false")
        : sock_(dir.file("agent.sock")) {
        REQUIRE(::access("/usr/bin/ssh-agent", X_OK) == 0);  // openssh-client is a test dependency
        std::vector<std::string> env;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view v(*e);
            if (!v.starts_with("SSH_ASKPASS") && !v.starts_with("DISPLAY=")) env.emplace_back(v);
        }
        env.push_back("SSH_ASKPASS=" + askpass);
        env.push_back("SSH_ASKPASS_REQUIRE=force");
        env.push_back("DISPLAY=:0");
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        std::string a0 = "ssh-agent", a1 = "-D", a2 = "-a";
        char* argv[] = {a0.data(), a1.data(), a2.data(), sock_.data(), nullptr};
        const int rc = ::posix_spawn(&pid_, "/usr/bin/ssh-agent", &fa, nullptr, argv, envp.data());
        posix_spawn_file_actions_destroy(&fa);
        REQUIRE(rc == 0);
        for (int i = 0; i < 500 && ::access(sock_.c_str(), F_OK) != 0; ++i) ::usleep(10'000);
        if (::access(sock_.c_str(), F_OK) != 0) {
            stop();  // the destructor does not run when the constructor throws
            FAIL("ssh-agent made no socket in 5 s");
        }
    }
    ~SshAgent() { stop(); }
    SshAgent(const SshAgent&) = delete;
    SshAgent& operator=(const SshAgent&) = delete;

    [[nodiscard]] const std::string& socket() const { return sock_; }
    // An ssh-add command line aimed at this agent; an encrypted key's passphrase comes from askpass.
    [[nodiscard]] std::string ssh_add(const std::string& args, const std::string& askpass = "/bin/false") const {
        return "SSH_AUTH_SOCK='" + sock_ + "' SSH_ASKPASS='" + askpass +
               "' SSH_ASKPASS_REQUIRE=force DISPLAY=:0 /usr/bin/ssh-add " + args + " </dev/null";
    }

private:
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int st = 0;
            ::waitpid(pid_, &st, 0);
            pid_ = -1;
        }
    }
    std::string sock_;
    pid_t pid_ = -1;
};

twoway::PublicKey read_pub(const std::string& path) {
    std::string line = test::read_text(path);
    auto parsed = twoway::parse_public_key_line(line);
    REQUIRE(parsed.has_value());
    return parsed->key;
}

}  // namespace

TEST_CASE("live: ssh-agent lists, signs with and takes keys", "[agent]") {
    test::TempDir dir;
    SshAgent agent(dir);
    const std::string plain = dir.file("plain"), enc = dir.file("enc");
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N '' -C 'plain agent key' -f " + plain).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N 'agent pass' -C 'encrypted agent key' -f " + enc).status == 0);
    const std::string askpass = dir.write("askpass", "#!/bin/sh\necho 'agent pass'\n");
    REQUIRE(::chmod(askpass.c_str(), 0700) == 0);
    {
        const Ran added = run(agent.ssh_add(plain + " " + enc, askpass));
        INFO(added.output);
        REQUIRE(added.status == 0);
    }
    const twoway::PublicKey plain_pub = read_pub(plain + ".pub"), enc_pub = read_pub(enc + ".pub");

    auto client = AgentClient::connect(agent.socket());
    REQUIRE(client.has_value());
    auto ids = client->list_identities();
    REQUIRE(ids.has_value());
    REQUIRE(ids->size() == 2);
    CHECK((*ids)[0].comment == "plain agent key");
    CHECK((*ids)[1].comment == "encrypted agent key");
    REQUIRE((*ids)[0].usable());
    REQUIRE((*ids)[1].usable());
    CHECK(*(*ids)[0].key == plain_pub);
    CHECK(*(*ids)[1].key == enc_pub);

    const Bytes payload = raw("twoway v1 client sig\0 transcript hash stands here"sv);
    for (const auto& id : *ids) {
        INFO(id.comment);
        const auto sig = client->sign(id.blob, payload);
        REQUIRE(sig.has_value());
        // Checked by libsodium itself, not only by sign()'s own check.
        CHECK(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                          reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                                          reinterpret_cast<const unsigned char*>(id.key->raw().data())) == 0);
        const auto& other = id.key == plain_pub ? enc_pub : plain_pub;
        CHECK(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                          reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                                          reinterpret_cast<const unsigned char*>(other.raw().data())) != 0);
    }
    // A key the agent does not hold: it refuses, and the connection stays usable.
    CHECK(client->sign(make_key(9).public_key().blob(), payload).error() == AgentError::failure);

    // AddKeysToAgent: a key twoway made, plain and with a lifetime.
    auto made = twoway::PrivateKey::generate(twoway::system_rng());
    auto timed = twoway::PrivateKey::generate(twoway::system_rng());
    REQUIRE(client->add_identity(made, "made by twoway").has_value());
    REQUIRE(client->add_identity(timed, "for an hour", 3600).has_value());
    const Ran listed = run(agent.ssh_add("-L"));
    INFO(listed.output);
    CHECK(listed.status == 0);
    CHECK(listed.output.find(twoway::format_public_key_line(made.public_key(), "made by twoway") + "\n") !=
          std::string::npos);
    CHECK(listed.output.find(twoway::format_public_key_line(timed.public_key(), "for an hour") + "\n") !=
          std::string::npos);
    auto after = client->list_identities();
    REQUIRE(after.has_value());
    CHECK(after->size() == 4);
    const auto made_sig = client->sign(made.public_key().blob(), payload);
    REQUIRE(made_sig.has_value());
    CHECK(made.public_key().verify(payload, *made_sig));
}

TEST_CASE("live: RSA, ECDSA and a certificate are listed as unusable; the certificate still signs", "[agent]") {
    test::TempDir dir;
    SshAgent agent(dir);
    const std::string ed = dir.file("ed"), rsa = dir.file("rsa"), ecdsa = dir.file("ecdsa"), ca = dir.file("ca");
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N '' -C ed -f " + ed).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -t rsa -b 2048 -N '' -C rsa -f " + rsa).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ecdsa -N '' -C ecdsa -f " + ecdsa).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N '' -C ca -f " + ca).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -s " + ca + " -I 'agent cert' -n alice " + ed + ".pub").status == 0);
    // ssh-add adds ed, then ed-cert.pub beside it.
    const Ran added = run(agent.ssh_add(rsa + " " + ecdsa + " " + ed));
    INFO(added.output);
    REQUIRE(added.status == 0);

    auto client = AgentClient::connect(agent.socket());
    REQUIRE(client.has_value());
    auto ids = client->list_identities();
    REQUIRE(ids.has_value());
    REQUIRE(ids->size() == 4);
    std::vector<std::string> types;
    for (const auto& id : *ids) types.push_back(id.type);
    std::sort(types.begin(), types.end());
    CHECK(types == std::vector<std::string>{"ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
                                            "ssh-rsa"});
    const auto usable = std::count_if(ids->begin(), ids->end(), [](const auto& id) { return id.usable(); });
    CHECK(usable == 1);

    const Bytes payload = raw("data");
    for (const auto& id : *ids) {
        INFO(id.type);
        if (id.type == "ssh-ed25519-cert-v01@openssh.com") {
            const auto cert = twoway::parse_certificate(id.blob);
            REQUIRE(cert.has_value());
            CHECK(cert->key == read_pub(ed + ".pub"));
            const auto sig = client->sign(id.blob, payload);  // checked against the certified key
            REQUIRE(sig.has_value());
            CHECK(cert->key.verify(payload, *sig));
        } else if (!id.usable()) {
            CHECK(client->sign(id.blob, payload).error() == errc::unsupported_key_type);
        }
    }
}

TEST_CASE("live: the confirm and lifetime constraints reach ssh-agent", "[agent]") {
    test::TempDir dir;
    // ssh-agent asks this program before each use of a confirm key; it leaves a mark and says yes.
    const std::string mark = dir.file("asked");
    const std::string askpass =
        dir.write("confirm", "#!/bin/sh\necho \"$SSH_ASKPASS_PROMPT\" > '" + mark + "'\necho yes\n");
    REQUIRE(::chmod(askpass.c_str(), 0700) == 0);
    SshAgent agent(dir, askpass);
    auto client = AgentClient::connect(agent.socket());
    REQUIRE(client.has_value());

    const Bytes payload = raw("data");
    const auto plain = make_key(10), confirmed = make_key(11), brief = make_key(12);
    REQUIRE(client->add_identity(plain, "plain").has_value());
    REQUIRE(client->add_identity(confirmed, "confirm", std::nullopt, true).has_value());
    auto has_brief = [&] {
        auto ids = client->list_identities();
        REQUIRE(ids.has_value());
        return std::any_of(ids->begin(), ids->end(), [&](const auto& id) { return id.key == brief.public_key(); });
    };
    REQUIRE(client->add_identity(brief, "one second", 1).has_value());
    CHECK(has_brief());

    REQUIRE(client->sign(plain.public_key().blob(), payload).has_value());
    CHECK(::access(mark.c_str(), F_OK) != 0);  // no confirmation asked for a plain key
    REQUIRE(client->sign(confirmed.public_key().blob(), payload).has_value());
    CHECK(test::read_text(mark) == "confirm\n");

    // The one-second key goes (ssh-agent reaps expired keys at its next wake-up).
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
        ::usleep(100'000);
        gone = !has_brief();
    }
    CHECK(gone);
    CHECK(client->sign(brief.public_key().blob(), payload).error() == AgentError::failure);
}

TEST_CASE("live: a key ssh-add -h bound to SSH destinations is refused, the next one signs", "[agent]") {
    test::TempDir dir;
    SshAgent agent(dir);
    const std::string bound = dir.file("bound"), free = dir.file("free");
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N '' -C bound -f " + bound).status == 0);
    REQUIRE(run("/usr/bin/ssh-keygen -q -t ed25519 -N '' -C free -f " + free).status == 0);
    // ssh-add -h wants the destination's host key, from a known_hosts file (-H).
    const std::string known_hosts = dir.write("known_hosts", "example.org " + test::key_text(20) + "\n");
    const Ran added_bound = run(agent.ssh_add("-H " + known_hosts + " -h example.org " + bound));
    INFO(added_bound.output);
    REQUIRE(added_bound.status == 0);
    REQUIRE(run(agent.ssh_add(free)).status == 0);

    auto client = AgentClient::connect(agent.socket());
    REQUIRE(client.has_value());
    const auto ids = client->list_identities();
    REQUIRE(ids.has_value());
    REQUIRE(ids->size() == 2);
    const Bytes payload = raw("twoway v1 client sig");
    CHECK(client->sign(read_pub(bound + ".pub").blob(), payload).error() == AgentError::failure);
    const auto sig = client->sign(read_pub(free + ".pub").blob(), payload);
    REQUIRE(sig.has_value());
    CHECK(read_pub(free + ".pub").verify(payload, *sig));
}
