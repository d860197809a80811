// handshake_loop: twoway handshakes against a running twowayd from one process, with blocking sockets and
// the sans-I/O ClientHandshake (no Asio, no session): loads that the twoway client process per login
// could not deliver in reasonable time, or could not time precisely.
//
//   handshake_loop PORT KEY HOST_PUB ACCOUNT COUNT
//       COUNT full handshakes in a row, one TCP connection each, for ACCOUNT with KEY; any host key but
//       the one in HOST_PUB is refused. After each, close our sending side and wait for the daemon to
//       close too, so that rounds do not overlap. Prints "ok COUNT SECONDS" (daemon_rss.py).
//   handshake_loop --hold PORT KEY HOST_PUB COUNT
//       COUNT connections, each stopped once the daemon's flight (server_hello .. server_auth) has
//       arrived: never a client_auth. Prints "held COUNT" and keeps them until standard input ends
//       (the memory of a connection stalled after our flight, daemon_preauth.py).
//   handshake_loop --denials PORT KEY HOST_PUB ACCOUNT_A ACCOUNT_B COUNT
//       COUNT rounds of one handshake for each account (the order alternating from round to round),
//       each expected to be denied; per round prints "A_us B_us": the time from our client_auth leaving
//       to the denial arriving (daemon_denial_timing.py).
//   handshake_loop --hog PORT KEY HOST_PUB ACCOUNT COUNT COMMAND out|in
//       COUNT authenticated sessions running COMMAND (or forwarding to service NAME, written
//       service:NAME) that never read: "out" announces the largest
//       window for the command's output (4 GiB) and never reads the socket; "in" waits for the
//       session's acceptance, then sends as much input as the daemon's window allows, and never reads
//       again. Prints "hogging COUNT" and holds them until standard input ends (daemon_sessions.py).
//       COMMAND "-": authenticate and never send a session request at all.
//   handshake_loop --password PORT HOST_PUB ACCOUNT COMMAND
//       One password login (PROTOCOL.md 4.8) for ACCOUNT, the password read from the first line of
//       standard input; any host key but the one in HOST_PUB is refused. Prints "accepted", then runs
//       COMMAND ("-": none) and prints its output and "exit N"; or prints "denied: REASON" when the
//       handshake fails (a wrong password and an unknown account both end as auth_denied, found by the
//       client itself after server_password; "after-finish" is added when the client had sent its
//       proof, i.e. the password was right and the server's verdict refused). Exits 0 either way
//       (daemon_password.py).
//   handshake_loop --password-timing PORT HOST_PUB COUNT ACCOUNT...
//       COUNT rounds of one password login for each ACCOUNT (the order rotating from round to round),
//       each stopped once the daemon answers client_password (PROTOCOL.md 4.8: our KE1, naming the
//       account) with server_password (its KE2, a real record's or the fake one); the answer is not
//       opened (no Argon2id). Per round prints one number per account, in the order given: microseconds
//       from our client_password leaving to the answer's first byte arriving. What an attacker times
//       to learn whether an account exists or has a record (daemon_password.py).
// Exits 0, or prints one error line and exits 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <twoway/channel.hpp>
#include <twoway/file.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key_file.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/session.hpp>

namespace {

using Clock = std::chrono::steady_clock;

bool write_all(int fd, const std::vector<std::byte>& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A connected socket to 127.0.0.1:port, or an error.
std::unique_ptr<twoway::UniqueFd> connect_to(unsigned short port, std::string& error) {
    auto fd = std::make_unique<twoway::UniqueFd>(::socket(AF_INET, SOCK_STREAM, 0));
    if (fd->get() < 0) {
        error = errno_text("socket");
        return nullptr;
    }
    timeval tv{10, 0};  // no round may hang the test
    (void)::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    (void)::setsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        error = errno_text("connect");
        return nullptr;
    }
    return fd;
}

// Where a handshake stopped.
enum class Stop {
    flight,  // the daemon's flight arrived (--hold stops here, before deciding on the host key)
    end,     // completed, or failed: see the handshake's event
};

// Runs the handshake on fd until `stop`; sent_auth is set when our client_auth left. Empty on success.
std::string drive(int fd, twoway::ClientHandshake& hs, const twoway::PublicKey& host, Stop stop,
                  std::optional<Clock::time_point>* sent_auth = nullptr) {
    std::array<std::byte, 4096> buf{};
    for (;;) {
        if (auto out = hs.take_output(); !out.empty()) {
            if (!write_all(fd, out)) return errno_text("write");
        }
        const auto ev = hs.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev) || std::holds_alternative<twoway::HandshakeFailed>(ev)) {
            return {};
        }
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            if (stop == Stop::flight) return {};
            if (v->server_key != host) return "the daemon presented another host key";
            (void)hs.accept_server();
            if (auto out = hs.take_output(); !out.empty()) {  // client_auth
                if (!write_all(fd, out)) return errno_text("write");
                if (sent_auth != nullptr) *sent_auth = Clock::now();
            }
            continue;
        }
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_text("read");
        if (n == 0) {
            (void)hs.end_of_input();
        } else {
            (void)hs.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
        }
    }
}

// Waits for the daemon's close after ours, so that rounds do not overlap.
std::string await_close(int fd) {
    (void)::shutdown(fd, SHUT_WR);
    std::array<std::byte, 4096> buf{};
    for (;;) {
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return "the daemon did not close after our end";
        if (n <= 0) return {};
    }
}

std::string full_round(unsigned short port, const twoway::PrivateKey& key, const twoway::PublicKey& host,
                       const std::string& account) {
    std::string error;
    auto fd = connect_to(port, error);
    if (!fd) return error;
    twoway::ClientHandshake hs(twoway::ClientConfig{.identity = key, .account = account}, twoway::system_rng());
    if (auto e = drive(fd->get(), hs, host, Stop::end); !e.empty()) return e;
    const auto ev = hs.event();
    if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) return "handshake: " + f->error.message();
    auto result = hs.take_result();
    if (!result) return "result: " + result.error().message();
    return await_close(fd->get());
}

// One denied handshake; the microseconds from client_auth to the denial, or an error.
std::string denied_round(unsigned short port, const twoway::PrivateKey& key, const twoway::PublicKey& host,
                         const std::string& account, double& micros) {
    std::string error;
    auto fd = connect_to(port, error);
    if (!fd) return error;
    twoway::ClientHandshake hs(twoway::ClientConfig{.identity = key, .account = account}, twoway::system_rng());
    std::optional<Clock::time_point> sent;
    if (auto e = drive(fd->get(), hs, host, Stop::end, &sent); !e.empty()) return e;
    const auto done = Clock::now();
    const auto ev = hs.event();
    const auto* f = std::get_if<twoway::HandshakeFailed>(&ev);
    if (f == nullptr || f->error != twoway::errc::auth_denied) return "account " + account + " was not denied";
    if (!sent) return "no client_auth was sent";
    micros = std::chrono::duration<double, std::micro>(done - *sent).count();
    return await_close(fd->get());
}

// One session that never reads (--hog). The socket stays open in `fd` (held by the caller).
std::string hog_round(unsigned short port, const twoway::PrivateKey& key, const twoway::PublicKey& host,
                      const std::string& account, const std::string& command, bool input,
                      std::unique_ptr<twoway::UniqueFd>& fd) {
    namespace ts = twoway::session;
    std::string error;
    fd = connect_to(port, error);
    if (!fd) return error;
    twoway::ClientHandshake hs(twoway::ClientConfig{.identity = key, .account = account}, twoway::system_rng());
    if (auto e = drive(fd->get(), hs, host, Stop::end); !e.empty()) return e;
    auto result = hs.take_result();
    if (!result) return "handshake: " + result.error().message();
    auto channel = twoway::Channel::create(*result);  // takes in the records that came with the verdict
    if (!channel) return "channel: " + channel.error().message();
    if (command == "-") return {};
    ts::Options options;
    options.window = 0xffffffffU;  // the most output we could ever be sent
    const bool service = command.starts_with("service:");
    auto sc = ts::SessionClient::start(ts::Request{service ? ts::RequestKind::service : ts::RequestKind::exec,
                                                   service ? command.substr(8) : command, std::nullopt, {}},
                                       options);
    if (!sc) return "session: " + sc.error().message();
    std::vector<std::byte> wire;
    if (auto st = channel->seal(sc->take_output(), wire); !st || !write_all(fd->get(), wire)) return "send request";
    if (!input) return {};
    // Wait for ACCEPT (it carries the daemon's window for our input), then fill that window.
    while (!sc->accepted()) {
        for (;;) {
            auto r = channel->read();
            if (!r) return "channel read: " + r.error().message();
            if (r->kind != twoway::Channel::Received::Kind::data) break;
            if (auto ev = sc->feed(r->data); !ev) return "session feed: " + ev.error().message();
        }
        if (sc->accepted()) break;
        auto space = channel->prepare();
        const ssize_t n = ::recv(fd->get(), space.data(), space.size(), 0);
        if (n <= 0) return errno_text("read");
        if (auto st = channel->commit(static_cast<std::size_t>(n)); !st) return "channel: " + st.error().message();
    }
    const std::vector<std::byte> chunk(32768, std::byte{'x'});
    while (sc->send_capacity(ts::Stream::in) > 0) {
        auto took = sc->send_data(ts::Stream::in, chunk);
        if (!took) return "send_data: " + took.error().message();
        wire.clear();
        if (auto st = channel->seal(sc->take_output(), wire); !st || !write_all(fd->get(), wire)) return "send input";
    }
    return {};
}

// Reads channel records from fd into the session until `done` says so; the command's output goes to
// `out`. Empty on success.
template <class Done>
std::string pump_session(int fd, twoway::Channel& channel, twoway::session::SessionClient& sc, std::string& out,
                         std::optional<std::uint32_t>& status, Done done) {
    namespace ts = twoway::session;
    std::vector<std::byte> wire;
    while (!done()) {
        for (;;) {
            auto r = channel.read();
            if (!r) return "channel read: " + r.error().message();
            if (r->kind == twoway::Channel::Received::Kind::closed) return done() ? std::string() : "closed early";
            if (r->kind != twoway::Channel::Received::Kind::data) break;
            auto evs = sc.feed(r->data);
            if (!evs) return "session feed: " + evs.error().message();
            for (const auto& ev : *evs) {
                if (const auto* d = std::get_if<ts::Data>(&ev)) {
                    out.append(reinterpret_cast<const char*>(d->bytes.data()), d->bytes.size());
                    (void)sc.consumed(d->stream, d->bytes.size());
                } else if (const auto* x = std::get_if<ts::ExitStatus>(&ev)) {
                    status = x->status;
                } else if (const auto* j = std::get_if<ts::Rejected>(&ev)) {
                    return "session rejected: " + j->text;
                }
            }
            wire.clear();
            if (auto st = channel.seal(sc.take_output(), wire); !st || !write_all(fd, wire)) return "send";
            if (done()) return {};
        }
        auto space = channel.prepare();
        const ssize_t n = ::recv(fd, space.data(), space.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_text("read");
        if (n == 0) return done() ? std::string() : "the daemon closed early";
        if (auto st = channel.commit(static_cast<std::size_t>(n)); !st) return "channel: " + st.error().message();
    }
    return {};
}

// --password-timing: one password-mode login up to the daemon's server_password (KE2); `micros` is the
// time from our client_password (KE1, which names the account) leaving to the first byte of the
// daemon's answer arriving. The answer is never fed to the handshake: that would run Argon2id.
std::string password_flight_round(unsigned short port, const twoway::PublicKey& host, const std::string& account,
                                  double& micros) {
    std::string error;
    auto fd = connect_to(port, error);
    if (!fd) return error;
    twoway::ClientConfig config{.account = account};
    config.password = true;
    twoway::ClientHandshake hs(config, twoway::system_rng());
    std::array<std::byte, 4096> buf{};
    for (;;) {
        if (auto out = hs.take_output(); !out.empty()) {
            if (!write_all(fd->get(), out)) return errno_text("write");
        }
        const auto ev = hs.event();
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) return "failed: " + f->error.message();
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            if (!v->password_mode) return "not in password mode";
            if (v->server_key != host) return "the daemon presented another host key";
            static const std::byte guess[] = {std::byte{'x'}};
            if (auto st = hs.accept_server_with_password(guess); !st) return "verdict: " + st.error().message();
            const auto ke1 = hs.take_output();  // client_password
            if (ke1.empty()) return "no client_password";
            if (!write_all(fd->get(), ke1)) return errno_text("write");
            const auto sent = Clock::now();
            for (;;) {
                const ssize_t n = ::recv(fd->get(), buf.data(), buf.size(), 0);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) return errno_text("read");
                if (n == 0) return "the daemon closed instead of answering client_password";
                micros = std::chrono::duration<double, std::micro>(Clock::now() - sent).count();
                return {};
            }
        }
        const ssize_t n = ::recv(fd->get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_text("read");
        if (n == 0) return "the daemon closed before its flight";
        (void)hs.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
    }
}

// --password: one password login, then COMMAND. Prints the outcome; empty on success (denied included).
std::string password_round(unsigned short port, const twoway::PublicKey& host, const std::string& account,
                           const twoway::SecretBuffer& password, const std::string& command) {
    std::string error;
    auto fd = connect_to(port, error);
    if (!fd) return error;
    twoway::ClientConfig config{.account = account};
    config.password = true;
    twoway::ClientHandshake hs(config, twoway::system_rng());
    std::array<std::byte, 4096> buf{};
    int flights = 0;  // client_hello, client_password, client_password_finish
    for (;;) {
        if (auto out = hs.take_output(); !out.empty()) {
            if (!write_all(fd->get(), out)) return errno_text("write");
            ++flights;
        }
        const auto ev = hs.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev)) break;
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) {
            std::printf("denied: %s%s\n", f->error.message().c_str(), flights >= 3 ? " after-finish" : "");
            return {};
        }
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            if (!v->password_mode) return "not in password mode";
            if (v->server_key != host) return "the daemon presented another host key";
            if (auto st = hs.accept_server_with_password(password.span()); !st) return "verdict: " + st.error().message();
            continue;
        }
        const ssize_t n = ::recv(fd->get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_text("read");
        if (n == 0) {
            (void)hs.end_of_input();
        } else {
            (void)hs.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
        }
    }
    auto result = hs.take_result();
    if (!result) return "result: " + result.error().message();
    if (!result->password) return "the result is not a password login";
    std::printf("accepted\n");
    std::fflush(stdout);
    if (command == "-") return await_close(fd->get());
    auto channel = twoway::Channel::create(*result);
    if (!channel) return "channel: " + channel.error().message();
    namespace ts = twoway::session;
    auto sc = ts::SessionClient::start(ts::Request{ts::RequestKind::exec, command, std::nullopt, {}});
    if (!sc) return "session: " + sc.error().message();
    std::vector<std::byte> wire;
    if (auto st = channel->seal(sc->take_output(), wire); !st || !write_all(fd->get(), wire)) return "send request";
    std::string output;
    std::optional<std::uint32_t> status;
    if (auto e = pump_session(fd->get(), *channel, *sc, output, status, [&] { return sc->finished(); }); !e.empty()) {
        return e;
    }
    std::printf("%sexit %u\n", output.c_str(), status ? *status : 255U);
    // The authenticated close, then the daemon's end.
    std::array<std::byte, twoway::Channel::control_record_size> close_record{};
    auto n = channel->close(close_record);
    if (!n) return "close: " + n.error().message();
    if (!write_all(fd->get(), std::vector<std::byte>(close_record.begin(), close_record.begin() + static_cast<long>(*n)))) {
        return errno_text("write");
    }
    return await_close(fd->get());
}

int fail(const std::string& what) {
    std::fprintf(stderr, "handshake_loop: %s\n", what.c_str());
    return 1;
}

struct Keys {
    twoway::PrivateKey key;
    twoway::PublicKey host;
};

std::optional<Keys> load_keys(const char* key_path, const char* host_pub_path, std::string& error) {
    auto key = twoway::load_private_key(key_path, "");
    if (!key) {
        error = std::string(key_path) + ": " + key.error().message();
        return std::nullopt;
    }
    std::ifstream pub_file(host_pub_path);
    std::stringstream pub_text;
    pub_text << pub_file.rdbuf();
    auto host = twoway::parse_public_key_line(pub_text.str());
    if (!host) {
        error = std::string(host_pub_path) + ": " + host.error().message();
        return std::nullopt;
    }
    return Keys{std::move(key->key), host->key};
}

unsigned short port_of(const char* s) { return static_cast<unsigned short>(std::strtoul(s, nullptr, 10)); }

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    std::string error;
    if (mode == "--hold" && argc == 6) {
        auto keys = load_keys(argv[3], argv[4], error);
        if (!keys) return fail(error);
        const unsigned long count = std::strtoul(argv[5], nullptr, 10);
        std::vector<std::unique_ptr<twoway::UniqueFd>> held;
        std::vector<std::unique_ptr<twoway::ClientHandshake>> states;
        for (unsigned long i = 0; i < count; ++i) {
            auto fd = connect_to(port_of(argv[2]), error);
            if (!fd) return fail("connection " + std::to_string(i + 1) + ": " + error);
            auto hs = std::make_unique<twoway::ClientHandshake>(twoway::ClientConfig{.identity = keys->key, .account = "x"},
                                                                twoway::system_rng());
            if (auto e = drive(fd->get(), *hs, keys->host, Stop::flight); !e.empty()) return fail(e);
            if (!std::holds_alternative<twoway::NeedServerVerdict>(hs->event())) {
                return fail("connection " + std::to_string(i + 1) + ": no flight from the daemon");
            }
            held.push_back(std::move(fd));
            states.push_back(std::move(hs));
        }
        std::printf("held %lu\n", count);
        std::fflush(stdout);
        std::string line;
        while (std::getline(std::cin, line)) {
        }
        return 0;
    }
    if (mode == "--denials" && argc == 8) {
        auto keys = load_keys(argv[3], argv[4], error);
        if (!keys) return fail(error);
        const std::string accounts[2] = {argv[5], argv[6]};
        const unsigned long count = std::strtoul(argv[7], nullptr, 10);
        for (unsigned long i = 0; i < count; ++i) {
            double us[2] = {0, 0};
            for (int k = 0; k < 2; ++k) {
                const int which = (i % 2 == 0) ? k : 1 - k;  // alternate who goes first
                if (auto e = denied_round(port_of(argv[2]), keys->key, keys->host, accounts[which], us[which]);
                    !e.empty()) {
                    return fail("round " + std::to_string(i + 1) + ": " + e);
                }
            }
            std::printf("%.1f %.1f\n", us[0], us[1]);
        }
        return 0;
    }
    if (mode == "--hog" && argc == 9) {
        auto keys = load_keys(argv[3], argv[4], error);
        if (!keys) return fail(error);
        const unsigned long count = std::strtoul(argv[6], nullptr, 10);
        const bool input = std::string(argv[8]) == "in";
        std::vector<std::unique_ptr<twoway::UniqueFd>> held;
        for (unsigned long i = 0; i < count; ++i) {
            std::unique_ptr<twoway::UniqueFd> fd;
            if (auto e = hog_round(port_of(argv[2]), keys->key, keys->host, argv[5], argv[7], input, fd); !e.empty()) {
                return fail("session " + std::to_string(i + 1) + ": " + e);
            }
            held.push_back(std::move(fd));
        }
        std::printf("hogging %lu\n", count);
        std::fflush(stdout);
        std::string line;
        while (std::getline(std::cin, line)) {
        }
        return 0;
    }
    if (mode == "--password" && argc == 6) {
        std::ifstream pub_file(argv[3]);
        std::stringstream pub_text;
        pub_text << pub_file.rdbuf();
        auto host = twoway::parse_public_key_line(pub_text.str());
        if (!host) return fail(std::string(argv[3]) + ": " + host.error().message());
        std::string line;
        std::getline(std::cin, line);
        twoway::SecretBuffer password(std::span<const std::byte>(reinterpret_cast<const std::byte*>(line.data()), line.size()));
        twoway::wipe(std::span<std::byte>(reinterpret_cast<std::byte*>(line.data()), line.size()));
        if (auto e = password_round(port_of(argv[2]), host->key, argv[4], password, argv[5]); !e.empty()) return fail(e);
        return 0;
    }
    if (mode == "--password-timing" && argc >= 6) {
        std::ifstream pub_file(argv[3]);
        std::stringstream pub_text;
        pub_text << pub_file.rdbuf();
        auto host = twoway::parse_public_key_line(pub_text.str());
        if (!host) return fail(std::string(argv[3]) + ": " + host.error().message());
        const unsigned long count = std::strtoul(argv[4], nullptr, 10);
        const std::vector<std::string> accounts(argv + 5, argv + argc);
        std::vector<double> us(accounts.size());
        for (unsigned long i = 0; i < count; ++i) {
            for (std::size_t k = 0; k < accounts.size(); ++k) {
                const std::size_t which = (k + i) % accounts.size();  // rotate who goes first
                if (auto e = password_flight_round(port_of(argv[2]), host->key, accounts[which], us[which]); !e.empty()) {
                    return fail("round " + std::to_string(i + 1) + ", " + accounts[which] + ": " + e);
                }
            }
            for (std::size_t k = 0; k < us.size(); ++k) std::printf(k == 0 ? "%.1f" : " %.1f", us[k]);
            std::printf("\n");
        }
        return 0;
    }
    if (argc == 6 && mode.rfind("--", 0) != 0) {
        auto keys = load_keys(argv[2], argv[3], error);
        if (!keys) return fail(error);
        const std::string account = argv[4];
        const unsigned long count = std::strtoul(argv[5], nullptr, 10);
        const auto start = Clock::now();
        for (unsigned long i = 0; i < count; ++i) {
            if (auto e = full_round(port_of(argv[1]), keys->key, keys->host, account); !e.empty()) {
                return fail("round " + std::to_string(i + 1) + ": " + e);
            }
        }
        const std::chrono::duration<double> took = Clock::now() - start;
        std::printf("ok %lu %.3f\n", count, took.count());
        return 0;
    }
    std::fprintf(stderr,
                 "usage: handshake_loop PORT KEY HOST_PUB ACCOUNT COUNT\n"
                 "       handshake_loop --hold PORT KEY HOST_PUB COUNT\n"
                 "       handshake_loop --denials PORT KEY HOST_PUB ACCOUNT_A ACCOUNT_B COUNT\n"
                 "       handshake_loop --hog PORT KEY HOST_PUB ACCOUNT COUNT COMMAND out|in\n"
                 "       handshake_loop --password PORT HOST_PUB ACCOUNT COMMAND\n"
                 "       handshake_loop --password-timing PORT HOST_PUB COUNT ACCOUNT...\n");
    return 2;
}
