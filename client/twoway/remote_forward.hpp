// -R [bind_address:]port:host:hostport (docs/PROTOCOL.md 15, "Remote forwarding"). A twoway connection
// carries one session, so each remote forward is a connection of its own (handshake, authentication) with
// a listen session: the server listens and announces, on that session's out stream, the port it bound
// and then each connection that arrives, with a one-time token. For each announced connection twoway
// connects to host:hostport from here and opens one more connection with a pickup session for the
// token, and the two are spliced as -L splices its connections (run_session over a SocketIo). When the
// local connection fails, the announced one is still picked up and closed at once, so that the remote
// peer sees its end instead of waiting for the server's timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "cli.hpp"
#include "transport.hpp"

namespace twoway_client {

class RemoteForwarder {
public:
    // make_params: the parameters of a new connection (same host, identity and host key verdict).
    // exit_on_failure: ExitOnForwardFailure, for the forwards given at the start (their failure is
    // ssh's "Error: ..." line, and run() exits 255); the others' is "Warning: ...".
    RemoteForwarder(asio::any_io_executor ex, std::vector<cli::RemoteForward> specs,
                    std::function<ConnectParams()> make_params, bool exit_on_failure);
    RemoteForwarder(const RemoteForwarder&) = delete;
    RemoteForwarder& operator=(const RemoteForwarder&) = delete;
    ~RemoteForwarder();

    // Opens the listen connection of every forward given at the start (after the login).
    void start();
    // Waits until every forward opened so far listens or has failed. How many failed.
    [[nodiscard]] asio::awaitable<std::size_t> settled();
    // Ends every listen session (its server stops listening); connections already forwarded go on.
    void stop();
    // ~C -R: one more forward, opened at once (its answer is reported when it comes).
    void add(const cli::RemoteForward& spec);
    // ~C -KR: ends the listen sessions on port (the port the server reported, also when 0 was asked for),
    // only those asked for with bind_address when one is given ("" and "*" the same). How many ended.
    std::size_t cancel(const std::optional<std::string>& bind_address, std::uint16_t port);

    [[nodiscard]] bool empty() const noexcept;

    struct Remote;
    struct Hub;

private:
    void open(std::shared_ptr<Remote> r);

    std::shared_ptr<Hub> hub_;
    std::vector<std::shared_ptr<Remote>> remotes_;
    std::vector<cli::RemoteForward> specs_;
};

}  // namespace twoway_client
