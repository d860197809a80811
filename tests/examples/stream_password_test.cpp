// twoway::stream's server half of password mode (PROTOCOL.md 4.8) over real TCP sockets on 127.0.0.1:
// PendingPasswordRecord's answers (a record, none, a refusal, none at all), the verdict on a correct
// password, and a stream that cannot judge password logins. The client is the sans-I/O ClientHandshake
// on a blocking socket in a thread of its own, so this test needs nothing of the stream's client half.
// Links the shared library through the public headers only, as an embedder would.
#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/password.hpp>
#include "../support/deterministic_rng.hpp"

using asio::ip::tcp;
using twoway::errc;
using Stream = twoway::stream<tcp::socket>;

namespace {

std::error_code ec_of(errc e) { return twoway::make_error_code(e); }

// libsodium's minimums: these tests are about the stream, not about the cost of a guess.
constexpr twoway::PasswordKsf test_ksf{1, 8};

std::span<const std::byte> bytes_of(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

// The server's OPAQUE key and alice's record for "correct horse".
struct Setup {
    twoway_test::DeterministicRng rng{17};
    twoway::PrivateKey host = twoway::PrivateKey::generate(rng);
    twoway::PrivateKey alice_key = twoway::PrivateKey::generate(rng);
    twoway::OpaqueKey opaque = twoway::generate_opaque_key(rng);
    twoway::PasswordServerKeys server_keys{opaque.oprf_seed.clone(), opaque.private_key.clone()};
    twoway::PasswordRecord alice = make_record("alice", "correct horse");

    twoway::PasswordRecord make_record(std::string_view account, std::string_view password) {
        auto r = twoway::register_password(opaque, account, bytes_of(password), test_ksf, rng);
        REQUIRE(r);
        return std::move(*r);
    }
};

Setup& setup() {
    static Setup s;
    return s;
}

// What the server stream saw.
struct ServerSide {
    std::optional<std::error_code> result;
    std::vector<std::string> record_requests;   // accounts asked for
    std::vector<twoway::NeedClientVerdict> verdicts;
};

// A password-mode server config: the record callback and the verdict callback are the test's.
twoway::StreamServerConfig password_server(ServerSide& side,
                                           std::function<void(const std::string&, twoway::PendingPasswordRecord)> answer,
                                           bool with_authorize_async = true) {
    twoway::StreamServerConfig c{.handshake = twoway::ServerConfig{setup().host}};
    c.handshake.password_keys = &setup().server_keys;
    c.handshake.password_default_ksf = test_ksf;
    c.password_record_async = [&side, answer](const twoway::NeedPasswordRecord& r, twoway::PendingPasswordRecord p) {
        side.record_requests.push_back(r.account);
        answer(r.account, std::move(p));
    };
    if (with_authorize_async) {
        c.authorize_async = [&side](const twoway::NeedClientVerdict& v, twoway::PendingVerdict verdict) {
            side.verdicts.push_back(v);
            if (v.password && v.account == "alice") return verdict.accept();
            if (!v.password && v.account == "alice" && v.client_key == setup().alice_key.public_key()) return verdict.accept();
            verdict.reject("not alice");
        };
    } else {
        // The synchronous verdict would let anyone in: the stream must still refuse a password login.
        c.authorize = [](const std::string&, const twoway::PublicKey&) { return true; };
    }
    return c;
}

// alice's record from the directory this test does not have.
void answer_alice(const std::string& account, twoway::PendingPasswordRecord p) {
    if (account == "alice") return p.provide(setup().alice.registration.span(), setup().alice.ksf);
    p.none();
}

// What the password client saw.
struct ClientSide {
    std::error_code error;  // empty: the server accepted
    bool sent_finish = false;  // the client sent client_password_finish (it found the password right)
};

// A password login by the sans-I/O client over a blocking socket; returns when it completes or fails,
// then closes the socket (after a wrong password the server sees the connection end, PROTOCOL.md 10.16).
ClientSide password_client(tcp::socket sock, std::string account, std::string password) {
    twoway_test::DeterministicRng rng{5};
    twoway::ClientConfig cc{.account = std::move(account)};
    cc.password = true;
    twoway::ClientHandshake c(cc, rng);
    ClientSide out;
    int flights = 0;
    std::vector<std::byte> buf(4096);
    for (;;) {
        const std::vector<std::byte> o = c.take_output();
        if (!o.empty()) {
            ++flights;
            std::error_code ec;
            asio::write(sock, asio::buffer(o), ec);
            if (ec) {
                out.error = ec;
                break;
            }
            if (flights == 3) out.sent_finish = true;  // client_hello, client_password, client_password_finish
        }
        const twoway::ClientEvent ev = c.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev)) break;
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) {
            out.error = f->error;
            break;
        }
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            REQUIRE(v->password_mode);
            REQUIRE(v->server_key == setup().host.public_key());
            REQUIRE(c.accept_server_with_password(bytes_of(password)));
            continue;
        }
        std::error_code ec;
        const std::size_t n = sock.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::eof) {
            (void)c.end_of_input();
        } else if (ec) {
            out.error = ec;
            break;
        } else {
            (void)c.feed(std::span<const std::byte>(buf.data(), n));
        }
    }
    std::error_code ignored;
    (void)sock.shutdown(tcp::socket::shutdown_both, ignored);
    (void)sock.close(ignored);
    return out;
}

// One login: the server stream in this thread's io_context, the client in a thread. The server stream
// is kept for the caller (its account, password_login, denial_reason).
struct Login {
    // First, so that it is destroyed last: the server stream's socket belongs to it.
    std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>();
    ClientSide client;
    std::optional<Stream> server;
};

Login login(ServerSide& side, twoway::StreamServerConfig config, std::string account, std::string password) {
    Login out;
    asio::io_context& io = *out.io;
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::io_context client_io;
    tcp::socket client_sock(client_io);
    client_sock.connect(acc.local_endpoint());
    out.server.emplace(acc.accept(), std::move(config));
    std::thread client([&] { out.client = password_client(std::move(client_sock), account, password); });
    out.server->async_handshake([&](std::error_code e) { side.result = e; });
    io.run();
    client.join();
    return out;
}

}  // namespace

TEST_CASE("stream password mode: the right password logs in, judged by authorize_async", "[stream]") {
    ServerSide side;
    Login l = login(side, password_server(side, answer_alice), "alice", "correct horse");
    REQUIRE(side.result == std::error_code{});
    CHECK(l.client.error == std::error_code{});
    CHECK(side.record_requests == std::vector<std::string>{"alice"});
    REQUIRE(side.verdicts.size() == 1);
    CHECK(side.verdicts[0].password);
    CHECK(side.verdicts[0].account == "alice");
    REQUIRE(l.server->handshake_complete());
    CHECK(l.server->password_login());
    CHECK(l.server->account() == "alice");
}

TEST_CASE("stream password mode: a wrong password fails at the client, the server sees the end", "[stream]") {
    ServerSide side;
    Login l = login(side, password_server(side, answer_alice), "alice", "battery staple");
    CHECK(l.client.error == ec_of(errc::auth_denied));
    CHECK_FALSE(l.client.sent_finish);
    CHECK(side.record_requests == std::vector<std::string>{"alice"});
    CHECK(side.verdicts.empty());  // no verdict: the client never proved anything
    CHECK(side.result == ec_of(errc::truncated));
}

TEST_CASE("stream password mode: an unknown account (none) looks like a wrong password to the client", "[stream]") {
    ServerSide side;
    Login l = login(side, password_server(side, answer_alice), "bob", "correct horse");
    CHECK(l.client.error == ec_of(errc::auth_denied));
    CHECK_FALSE(l.client.sent_finish);
    CHECK(side.record_requests == std::vector<std::string>{"bob"});
    CHECK(side.verdicts.empty());
    CHECK(side.result == ec_of(errc::truncated));
}

TEST_CASE("stream password mode: reject() and an unanswered record are the generic denial", "[stream]") {
    SECTION("reject") {
        ServerSide side;
        Login l = login(side, password_server(side, [](const std::string&, twoway::PendingPasswordRecord p) {
                            REQUIRE(p.pending());
                            p.reject("records unreadable");
                            CHECK_FALSE(p.pending());
                            p.none();  // a second answer does nothing
                        }), "alice", "correct horse");
        CHECK(l.client.error == ec_of(errc::auth_denied));
        CHECK(side.result == ec_of(errc::auth_denied));
        CHECK(l.server->denial_reason() == "records unreadable");
        CHECK(side.verdicts.empty());
    }
    SECTION("dropped unanswered") {
        ServerSide side;
        Login l = login(side, password_server(side, [](const std::string&, twoway::PendingPasswordRecord) {}),
                        "alice", "correct horse");
        CHECK(l.client.error == ec_of(errc::auth_denied));
        CHECK(side.result == ec_of(errc::auth_denied));
        CHECK(side.verdicts.empty());
    }
    SECTION("answered later, from another thread") {
        ServerSide side;
        std::thread later;
        Login l = login(side, password_server(side, [&later](const std::string&, twoway::PendingPasswordRecord p) {
                            later = std::thread([q = std::move(p)]() mutable {
                                q.provide(setup().alice.registration.span(), setup().alice.ksf);
                            });
                        }), "alice", "correct horse");
        later.join();
        CHECK(l.client.error == std::error_code{});
        CHECK(side.result == std::error_code{});
    }
}

TEST_CASE("stream password mode: a refused account after the right password is denied", "[stream]") {
    ServerSide side;
    // carol's record is real and her password right, but authorize_async refuses everyone but alice.
    static const twoway::PasswordRecord carol = setup().make_record("carol", "hunter2");
    Login l = login(side, password_server(side, [](const std::string& account, twoway::PendingPasswordRecord p) {
                        if (account == "carol") return p.provide(carol.registration.span(), carol.ksf);
                        p.none();
                    }), "carol", "hunter2");
    CHECK(l.client.sent_finish);
    CHECK(l.client.error == ec_of(errc::auth_denied));
    CHECK(side.result == ec_of(errc::auth_denied));
    REQUIRE(side.verdicts.size() == 1);
    CHECK(side.verdicts[0].password);
}

TEST_CASE("stream password mode: refused without the callbacks it needs", "[stream]") {
    SECTION("only the synchronous authorize") {
        ServerSide side;
        Login l = login(side, password_server(side, answer_alice, false), "alice", "correct horse");
        CHECK(l.client.sent_finish);  // the password was right ...
        CHECK(l.client.error == ec_of(errc::auth_denied));  // ... and the stream still refused
        CHECK(side.result == ec_of(errc::auth_denied));
        CHECK(l.server->denial_reason() == "a password login needs authorize_async");
    }
    SECTION("no password_record_async") {
        ServerSide side;
        twoway::StreamServerConfig c = password_server(side, answer_alice);
        c.password_record_async = nullptr;
        Login l = login(side, std::move(c), "alice", "correct horse");
        CHECK(l.client.error == ec_of(errc::auth_denied));
        CHECK(side.result == ec_of(errc::auth_denied));
        CHECK(side.record_requests.empty());
    }
    SECTION("password mode off (no password_keys)") {
        ServerSide side;
        twoway::StreamServerConfig c = password_server(side, answer_alice);
        c.handshake.password_keys = nullptr;
        Login l = login(side, std::move(c), "alice", "correct horse");
        CHECK(l.client.error == ec_of(errc::auth_denied));
        CHECK(side.result);
        CHECK(side.record_requests.empty());
    }
}

TEST_CASE("stream password mode: key logins still work and are not password logins", "[stream]") {
    ServerSide side;
    asio::io_context io;
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client_sock(io);
    client_sock.connect(acc.local_endpoint());
    Stream server(acc.accept(), password_server(side, answer_alice));
    twoway::StreamClientConfig cc{{setup().alice_key, "alice"},
                                  [](const twoway::PublicKey& k) { return k == setup().host.public_key(); }};
    Stream client(std::move(client_sock), std::move(cc));
    std::optional<std::error_code> ce;
    server.async_handshake([&](std::error_code e) { side.result = e; });
    client.async_handshake([&](std::error_code e) { ce = e; });
    io.run();
    REQUIRE(side.result == std::error_code{});
    REQUIRE(ce == std::error_code{});
    CHECK_FALSE(server.password_login());
    CHECK_FALSE(client.password_login());
    CHECK(server.peer_key() == setup().alice_key.public_key());
    CHECK(side.record_requests.empty());
}
