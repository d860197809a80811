#include "forward.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/v6_only.hpp>

#include "async.hpp"
#include "local_io.hpp"
#include "log.hpp"
#include "resolve.hpp"
#include "session_pump.hpp"

namespace twoway_client {

namespace session = twoway::session;

namespace {

using asio::ip::tcp;

std::vector<tcp::endpoint> bind_addresses(const cli::LocalForward& f) {
    TcpLookup found = lookup_tcp(f.bind_address, f.port, cli::AddressFamily::any, true);
    if (!found.error.empty()) log::error("-L " + f.spec + ": cannot resolve " + f.bind_address + ": " + found.error);
    return std::move(found.endpoints);
}

// One forwarded connection, from accept to close. Owns everything it uses.
asio::awaitable<void> forward_one(tcp::socket local, cli::LocalForward spec, ConnectParams params,
                                  std::shared_ptr<std::size_t> active) {
    ++*active;
    std::error_code ignored;
    const auto from = local.remote_endpoint(ignored);
    log::debug(1, "Connection to port " + std::to_string(spec.port) + " forwarding to service " + spec.service +
                      " requested from " + from.address().to_string() + " port " + std::to_string(from.port()) + ".");
    PumpOptions options;
    options.alive_interval = params.server_alive_interval;
    options.alive_count_max = params.server_alive_count_max;
    auto conn = co_await establish(std::move(params));
    if (conn) {
        session::Request request;
        request.kind = session::RequestKind::service;
        request.command = spec.service;
        SocketIo io(std::move(local));
        const SessionOutcome o = co_await run_session(*conn, request, io, options);
        if (o.rejected) log::error("-L " + spec.spec + ": service '" + spec.service + "': " + reject_reason(*o.rejected));
        co_await conn->close();
    }
    --*active;
}

}  // namespace

Forwarder::Forwarder(asio::any_io_executor ex, std::vector<cli::LocalForward> specs,
                     std::function<ConnectParams()> make_params)
    : ex_(std::move(ex)), specs_(std::move(specs)), make_params_(std::move(make_params)) {}

bool Forwarder::listen() {
    for (const auto& spec : specs_) {
        const auto addresses = bind_addresses(spec);
        if (addresses.empty()) return false;
        std::uint16_t port = spec.port;
        for (auto ep : addresses) {
            // With port 0 every address gets the port the first one was given.
            ep.port(port);
            auto l = std::make_shared<Listener>(Listener{spec, tcp::acceptor(ex_)});
            std::error_code ec;
            l->acceptor.open(ep.protocol(), ec);
            if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
            if (!ec && ep.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
            if (!ec) l->acceptor.bind(ep, ec);
            if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
            if (ec) {
                log::error("-L " + spec.spec + ": bind " + ep.address().to_string() + " port " + std::to_string(ep.port()) +
                           ": " + ec.message());
                return false;
            }
            if (port == 0) {
                port = l->acceptor.local_endpoint(ec).port();
                log::line("Allocated port " + std::to_string(port) + " for local forward to service " + spec.service);
            }
            log::debug(1, "Local forwarding listening on " + ep.address().to_string() + " port " + std::to_string(port) + ".");
            listeners_.push_back(std::move(l));
        }
    }
    return true;
}

void Forwarder::start() {
    for (auto& l : listeners_) asio::co_spawn(ex_, accept_loop(l), asio::detached);
}

void Forwarder::stop() {
    for (auto& l : listeners_) {
        std::error_code ignored;
        l->acceptor.close(ignored);
    }
}

asio::awaitable<void> Forwarder::accept_loop(std::shared_ptr<Listener> l) {
    for (;;) {
        auto [ec, socket] = co_await l->acceptor.async_accept(use_nothrow_awaitable);
        if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
        if (ec) {
            // Out of descriptors, say: wait a little rather than spin.
            log::debug(1, "-L " + l->spec.spec + ": accept: " + ec.message());
            asio::steady_timer pause(ex_, std::chrono::milliseconds(100));
            (void)co_await pause.async_wait(use_nothrow_awaitable);
            continue;
        }
        asio::co_spawn(ex_, forward_one(std::move(socket), l->spec, make_params_(), active_), asio::detached);
    }
}

}  // namespace twoway_client
