// echo_server: a twoway server embedded through libtwoway's public API. It listens on 127.0.0.1,
// authenticates clients whose key is in an allow-list (any account name), and echoes what they send
// until they close.
//
//   echo_server --generate-key PATH                 write a new key to PATH and PATH.pub
//   echo_server --key PATH --allow FILE [--port N] [--port-file FILE]
//
// With --port 0 (the default) the system picks a free port; it is printed ("listening on 127.0.0.1
// port N") and, with --port-file, written to that file once the server accepts connections.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/key.hpp>

#include "example_keys.hpp"

using asio::ip::tcp;
namespace {

using twoway::use_nothrow_awaitable;
constexpr auto handshake_deadline = std::chrono::seconds(10);

struct Server {
    twoway::PrivateKey host_key;
    std::vector<twoway::PublicKey> allowed;
};

std::string peer_text(const tcp::socket& s) {
    std::error_code ec;
    const auto ep = s.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + " port " + std::to_string(ep.port());
}

asio::awaitable<void> serve(tcp::socket socket, const Server& server) {
    const std::string peer = peer_text(socket);
    twoway::stream<tcp::socket> s(
        std::move(socket),
        twoway::StreamServerConfig{{server.host_key}, [&server](const std::string&, const twoway::PublicKey& key) {
                                       return example::allowed(server.allowed, key);
                                   }});

    // Unauthenticated peers get a bounded time: the timer closes the socket if the handshake lingers.
    asio::steady_timer deadline(s.get_executor(), handshake_deadline);
    deadline.async_wait([&s](std::error_code ec) {
        if (!ec) s.lowest_layer().close(ec);
    });
    auto [hs_ec] = co_await s.async_handshake(use_nothrow_awaitable);
    deadline.cancel();
    if (hs_ec) {
        // denial_reason() says why a client was refused (for this log only; the client learns nothing).
        const bool denied = hs_ec == twoway::errc::auth_denied && !s.denial_reason().empty();
        std::printf("refused %s: %s%s%s\n", peer.c_str(), hs_ec.message().c_str(), denied ? ": " : "",
                    denied ? s.denial_reason().c_str() : "");
        std::fflush(stdout);
        co_return;
    }
    std::printf("accepted %s for %s from %s\n", twoway::fingerprint_sha256(s.peer_key()).c_str(), s.account().c_str(),
                peer.c_str());
    std::fflush(stdout);

    std::vector<std::byte> buf(64 * 1024);
    std::size_t total = 0;
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_nothrow_awaitable);
        if (ec == asio::error::eof) break;  // the client's authenticated close: answer with ours
        if (ec) {
            std::printf("connection from %s failed: %s\n", peer.c_str(), ec.message().c_str());
            std::fflush(stdout);
            co_return;
        }
        auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), use_nothrow_awaitable);
        if (wec) {
            std::printf("connection from %s failed: %s\n", peer.c_str(), wec.message().c_str());
            co_return;
        }
        total += w;
    }
    auto [sec] = co_await s.async_shutdown(use_nothrow_awaitable);
    std::printf("closed %s after echoing %zu bytes%s\n", peer.c_str(), total, sec ? " (close not sent)" : "");
    std::fflush(stdout);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const Server& server) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow_awaitable);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;  // e.g. a connection reset before accept: keep serving
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), server), asio::detached);
    }
}

int usage() {
    std::cerr << "usage: echo_server --generate-key PATH\n"
                 "       echo_server --key PATH --allow FILE [--port N] [--port-file FILE]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string key_path, allow_path, port_file;
    unsigned long port = 0;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i + 1 >= args.size()) return usage();
        const std::string& v = args[++i];
        if (a == "--generate-key") return example::generate_key(v);
        if (a == "--key") key_path = v;
        else if (a == "--allow") allow_path = v;
        else if (a == "--port-file") port_file = v;
        else if (a == "--port") port = std::strtoul(v.c_str(), nullptr, 10);
        else return usage();
    }
    if (key_path.empty() || allow_path.empty() || port > 65535) return usage();

    std::optional<twoway::PrivateKey> key;
    std::vector<twoway::PublicKey> allowed;
    if (!example::load_key(key_path, key) || !example::load_allow_list(allow_path, allowed)) return 1;
    const Server server{std::move(*key), std::move(allowed)};

    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    const unsigned short bound = acceptor.local_endpoint().port();
    if (!port_file.empty()) {
        // Written whole under a temporary name, then renamed: a reader never sees half a number.
        const std::string tmp = port_file + ".tmp";
        std::ofstream(tmp) << bound << "\n";
        std::rename(tmp.c_str(), port_file.c_str());
    }
    std::printf("listening on 127.0.0.1 port %u, host key %s\n", bound,
                twoway::fingerprint_sha256(server.host_key.public_key()).c_str());
    std::fflush(stdout);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) { io.stop(); });
    asio::co_spawn(io, listen(acceptor, server), asio::detached);
    io.run();
    return 0;
}
