// echo_client: a twoway client embedded through libtwoway's public API. It connects to 127.0.0.1,
// accepts the server only if its key is in an allow-list (a minimal known_hosts), proves its own key,
// sends standard input, closes, and prints everything the server echoes until the server closes too.
//
//   echo_client --generate-key PATH                 write a new key to PATH and PATH.pub
//   echo_client --key PATH --known-hosts FILE --port N [--account NAME]
//
// Exit status: 0 after a complete echo and an authenticated close from the server; 255 when the
// connection, the handshake or the session fails (one line on stderr, in OpenSSH's words).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <tuple>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/key.hpp>

#include "example_keys.hpp"

using asio::ip::tcp;
namespace {

using twoway::use_nothrow_awaitable;

struct Outcome {
    std::error_code error;  // first failure
    std::string where;      // what failed, for the message
    std::size_t received = 0;
};

std::vector<char> read_stdin() {
    std::vector<char> data;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(0, buf, sizeof buf);
        if (n <= 0) break;
        data.insert(data.end(), buf, buf + n);
    }
    return data;
}

asio::awaitable<void> send_all(twoway::stream<tcp::socket>& s, const std::vector<char>& data, Outcome& out) {
    auto [wec, n] = co_await asio::async_write(s, asio::buffer(data), use_nothrow_awaitable);
    std::error_code ec = wec;
    if (!ec) std::tie(ec) = co_await s.async_shutdown(use_nothrow_awaitable);
    if (ec && !out.error) {
        out.error = ec;
        out.where = "write";
    }
}

asio::awaitable<void> run(twoway::stream<tcp::socket>& s, unsigned short port, const std::vector<char>& data,
                          Outcome& out) {
    auto [cec] = co_await s.next_layer().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                                        use_nothrow_awaitable);
    if (cec) {
        out = {cec, "connect", 0};
        co_return;
    }
    auto [hec] = co_await s.async_handshake(use_nothrow_awaitable);
    if (hec) {
        out = {hec, "handshake", 0};
        co_return;
    }
    // Send and receive at once: a large echo would otherwise fill both directions' buffers and stall.
    asio::co_spawn(s.get_executor(), send_all(s, data, out), asio::detached);
    std::vector<char> buf(64 * 1024);
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_nothrow_awaitable);
        if (ec == asio::error::eof) co_return;  // the server's authenticated close: a clean end
        if (ec) {
            if (!out.error) out = {ec, "read", out.received};
            co_return;
        }
        std::fwrite(buf.data(), 1, n, stdout);
        out.received += n;
    }
}

int usage() {
    std::cerr << "usage: echo_client --generate-key PATH\n"
                 "       echo_client --key PATH --known-hosts FILE --port N [--account NAME]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string key_path, known_path, account = "echo";
    unsigned long port = 0;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i + 1 >= args.size()) return usage();
        const std::string& v = args[++i];
        if (a == "--generate-key") return example::generate_key(v);
        if (a == "--key") key_path = v;
        else if (a == "--known-hosts") known_path = v;
        else if (a == "--account") account = v;
        else if (a == "--port") port = std::strtoul(v.c_str(), nullptr, 10);
        else return usage();
    }
    if (key_path.empty() || known_path.empty() || port == 0 || port > 65535) return usage();

    std::optional<twoway::PrivateKey> key;
    std::vector<twoway::PublicKey> known;
    if (!example::load_key(key_path, key) || !example::load_allow_list(known_path, known)) return 255;
    const std::vector<char> data = read_stdin();

    asio::io_context io;
    twoway::stream<tcp::socket> s(
        tcp::socket(io), twoway::StreamClientConfig{{*key, account}, [&known, &known_path](const twoway::PublicKey& server_key) {
                             if (example::allowed(known, server_key)) return true;
                             std::cerr << "server key " << twoway::fingerprint_sha256(server_key)
                                       << " is not in " << known_path << "\n";
                             return false;
                         }});
    Outcome out;
    asio::co_spawn(io, run(s, static_cast<unsigned short>(port), data, out), asio::detached);
    io.run();
    std::fflush(stdout);

    if (!out.error) {
        if (out.received == data.size()) return 0;
        std::cerr << "echo_client: received " << out.received << " of " << data.size() << " bytes\n";
        return 255;
    }
    if (out.error == twoway::errc::host_key_rejected) {
        std::cerr << "Host key verification failed.\n";
    } else if (out.error == twoway::errc::auth_denied) {
        std::cerr << "Permission denied (publickey).\n";
    } else {
        std::cerr << "echo_client: " << out.where << ": " << out.error.message() << "\n";
    }
    return 255;
}
