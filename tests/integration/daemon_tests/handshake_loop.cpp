// handshake_loop: N full twoway handshakes in a row against a running twowayd, one TCP connection each,
// with blocking sockets and the sans-I/O ClientHandshake (no Asio, no session): the load the RSS test
// (daemon_rss.py) needs at 10^4..10^5 handshakes, which the twoway client process per login could not
// deliver in reasonable time.
//
//   handshake_loop PORT KEY HOST_PUB ACCOUNT COUNT
//
// Each round: connect to 127.0.0.1:PORT, run the handshake with KEY for ACCOUNT, refuse any host key
// but the one in HOST_PUB, then close our sending side and wait for the daemon to close too, so that
// rounds do not overlap. Prints "ok COUNT SECONDS" and exits 0, or one error line and exits 1.
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
#include <sstream>
#include <string>
#include <variant>

#include <twoway/handshake.hpp>
#include <twoway/keyfile.hpp>
#include <twoway/keys.hpp>
#include <twoway/random.hpp>

namespace {

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }

private:
    int fd_;
};

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

// One handshake; an empty string on success, else what went wrong.
std::string one_round(unsigned short port, const twoway::PrivateKey& key, const twoway::PublicKey& host,
                      const std::string& account) {
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    if (fd.get() < 0) return std::string("socket: ") + std::strerror(errno);
    timeval tv{10, 0};  // no round may hang the test
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return std::string("connect: ") + std::strerror(errno);
    }

    twoway::ClientHandshake hs(twoway::ClientConfig{.identity = key, .account = account}, twoway::system_rng());
    std::array<std::byte, 4096> buf{};
    for (;;) {
        if (auto out = hs.take_output(); !out.empty() && !write_all(fd.get(), out)) {
            return std::string("write: ") + std::strerror(errno);
        }
        const auto ev = hs.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev)) break;
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) return "handshake: " + f->error.message();
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            if (v->server_key == host) {
                (void)hs.accept_server();
            } else {
                (void)hs.reject_server();
            }
            continue;
        }
        const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::string("read: ") + std::strerror(errno);
        if (n == 0) {
            (void)hs.end_of_input();
        } else {
            (void)hs.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
        }
    }
    auto result = hs.take_result();
    if (!result) return "result: " + result.error().message();
    // Done: let the daemon see our end and wait for its close, so the next round starts on a daemon
    // that has finished with this one.
    (void)::shutdown(fd.get(), SHUT_WR);
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return "the daemon did not close after our end";
        if (n <= 0) return {};
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: handshake_loop PORT KEY HOST_PUB ACCOUNT COUNT\n");
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::strtoul(argv[1], nullptr, 10));
    auto key = twoway::load_private_key(argv[2], "");
    if (!key) {
        std::fprintf(stderr, "handshake_loop: %s: %s\n", argv[2], key.error().message().c_str());
        return 1;
    }
    std::ifstream pub_file(argv[3]);
    std::stringstream pub_text;
    pub_text << pub_file.rdbuf();
    auto host = twoway::parse_public_key_line(pub_text.str());
    if (!host) {
        std::fprintf(stderr, "handshake_loop: %s: %s\n", argv[3], host.error().message().c_str());
        return 1;
    }
    const std::string account = argv[4];
    const unsigned long count = std::strtoul(argv[5], nullptr, 10);

    const auto start = std::chrono::steady_clock::now();
    for (unsigned long i = 0; i < count; ++i) {
        const std::string problem = one_round(port, key->key, host->key, account);
        if (!problem.empty()) {
            std::fprintf(stderr, "handshake_loop: round %lu: %s\n", i + 1, problem.c_str());
            return 1;
        }
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("ok %lu %.3f\n", count, took.count());
    return 0;
}
