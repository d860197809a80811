// -L [bind_address:]port:service (and -D [bind_address:]port, whose connections first say where to go
// in a SOCKS 4, 4a or 5 request: socks.hpp): listen locally and, for every accepted connection, open a twoway
// connection of its own (handshake, authentication, one service session) and copy bytes both ways. One
// session per connection keeps each forwarded stream independent: a stalled or failed one never holds
// up another.
#pragma once

#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "cli.hpp"
#include "remote_forward.hpp"
#include "transport.hpp"

namespace twoway_client {

class Forwarder {
public:
    // make_params: the parameters of a new connection (same host, identity and host key verdict).
    Forwarder(asio::any_io_executor ex, std::vector<cli::LocalForward> specs, std::function<ConnectParams()> make_params);

    // Binds every listener (printing "Allocated port N ..." for port 0). False if one cannot be set up
    // (reported): a forwarding the person asked for and cannot have is a failure.
    [[nodiscard]] bool listen();
    // Starts accepting (on the executor).
    void start();
    // Stops accepting; connections already forwarded go on until they end.
    void stop();
    // ~C's -L and -D: binds one more forward (reported as listen() reports) and, once started, accepts on it.
    [[nodiscard]] bool add(const cli::LocalForward& spec);
    // ~C's -KL: closes the listeners on port (the port in use, also when 0 was asked for), only those
    // bound to bind_address when one is given; connections already forwarded go on. How many closed.
    std::size_t cancel(const std::optional<std::string>& bind_address, std::uint16_t port);
    // One ~C command line, as ssh's: "-L[bind_address:]port:service", "-D[bind_address:]port",
    // "-KL[bind_address:]port" or "-KD..." (either closes any forward on that port, as ssh's shared
    // listener table does), "-R[bind_address:]port:host:hostport" and "-KR[bind_address:]port" (given to
    // set_remote()'s forwarder), "-h" or "?" for help. Returns what to print (ssh's words: "Forwarding
    // port.", "Canceled forwarding.", ...); empty for an empty line.
    [[nodiscard]] std::string command_line(std::string_view text);
    // Where ~C's -R and -KR go (must outlive this forwarder); without one they are refused.
    void set_remote(RemoteForwarder* remote) noexcept { remote_ = remote; }

    [[nodiscard]] std::size_t active() const noexcept { return *active_; }

private:
    struct Listener {
        cli::LocalForward spec;
        asio::ip::tcp::acceptor acceptor;
        std::uint16_t port = 0;  // as bound
    };
    [[nodiscard]] bool bind(const cli::LocalForward& spec);
    asio::awaitable<void> accept_loop(std::shared_ptr<Listener> l);

    asio::any_io_executor ex_;
    std::vector<cli::LocalForward> specs_;
    std::function<ConnectParams()> make_params_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    bool started_ = false;
    RemoteForwarder* remote_ = nullptr;
    std::shared_ptr<std::size_t> active_ = std::make_shared<std::size_t>(0);
};

}  // namespace twoway_client
