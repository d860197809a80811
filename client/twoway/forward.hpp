// -L [bind_address:]port:service: listen locally and, for every accepted connection, open a twoway
// connection of its own (handshake, authentication, one service session) and copy bytes both ways. One
// session per connection keeps each forwarded stream independent: a stalled or failed one never holds
// up another.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "cli.hpp"
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

    [[nodiscard]] std::size_t active() const noexcept { return *active_; }

private:
    struct Listener {
        cli::LocalForward spec;
        asio::ip::tcp::acceptor acceptor;
    };
    asio::awaitable<void> accept_loop(std::shared_ptr<Listener> l);

    asio::any_io_executor ex_;
    std::vector<cli::LocalForward> specs_;
    std::function<ConnectParams()> make_params_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    std::shared_ptr<std::size_t> active_ = std::make_shared<std::size_t>(0);
};

}  // namespace twoway_client
