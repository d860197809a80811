// A stand-in password server for the client's password tests, until twowayd's own password mode is
// merged: the sans-I/O ServerHandshake with an OPAQUE key and one account's record, made at start from
// the password given, over blocking sockets. It completes the handshake (no session protocol: the client
// is run with -N) and closes. Prints "PORT <n>" and "HOSTKEY <public key line>" on stdout, then serves
// connections one after another until killed.
//   password_server ACCOUNT PASSWORD HOSTKEY_SEED_BYTE
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/password.hpp>
#include <twoway/random.hpp>

namespace {

bool send_all(int fd, const std::vector<std::byte>& out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void serve(int fd, const twoway::ServerConfig& config, const std::string& account, const twoway::PasswordRecord& record) {
    twoway::ServerHandshake hs(config, twoway::system_rng());
    std::vector<std::byte> buf(4096);
    for (;;) {
        if (!send_all(fd, hs.take_output())) return;
        const twoway::ServerEvent ev = hs.event();
        if (std::holds_alternative<twoway::WantInput>(ev)) {
            const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) {
                (void)hs.end_of_input();
            } else {
                (void)hs.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
            }
        } else if (const auto* r = std::get_if<twoway::NeedPasswordRecord>(&ev)) {
            (void)(r->account == account ? hs.provide_password_record(record.registration.span(), record.ksf)
                                         : hs.no_password_record());
        } else if (std::holds_alternative<twoway::NeedClientVerdict>(ev)) {
            (void)hs.authorize();
        } else if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) {
            std::fprintf(stderr, "handshake failed: %s\n", f->error.message().c_str());
            return;
        } else {
            std::fprintf(stderr, "logged in\n");
            // Wait for the client's end (-N closes at once), then close.
            while (::recv(fd, buf.data(), buf.size(), 0) > 0) {
            }
            return;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    const std::string account = argv[1];
    const std::string password = argv[2];
    std::array<std::byte, 32> seed{};
    seed.fill(static_cast<std::byte>(std::atoi(argv[3])));
    const twoway::PrivateKey host = twoway::PrivateKey::from_seed(seed);
    const twoway::OpaqueKey opaque = twoway::generate_opaque_key(twoway::system_rng());
    auto record = twoway::register_password(opaque, account, std::as_bytes(std::span(password)),
                                            twoway::PasswordKsf{1, 8 * 1024}, twoway::system_rng());
    if (!record) return 3;
    const twoway::PasswordServerKeys keys{opaque.oprf_seed.clone(), opaque.private_key.clone()};
    twoway::ServerConfig config{.host_key = host};
    config.password_keys = &keys;
    config.password_default_ksf = twoway::PasswordKsf{1, 8 * 1024};

    const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 8) != 0) return 4;
    socklen_t len = sizeof addr;
    ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("PORT %u\nHOSTKEY %s\n", ntohs(addr.sin_port), twoway::format_public_key_line(host.public_key(), {}).c_str());
    std::fflush(stdout);
    for (;;) {
        const int fd = ::accept(ls, nullptr, nullptr);
        if (fd < 0) continue;
        serve(fd, config, account, *record);
        ::close(fd);
    }
}
