#include "forward.hpp"

#include <charconv>

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
    log::debug(1, "Connection to port " + std::to_string(spec.port) + " forwarding to " + spec.target() +
                      " requested from " + from.address().to_string() + " port " + std::to_string(from.port()) + ".");
    PumpOptions options;
    options.alive_interval = params.server_alive_interval;
    options.alive_count_max = params.server_alive_count_max;
    auto conn = co_await establish(std::move(params));
    if (conn) {
        session::Request request;
        const bool direct = !spec.destination.empty();
        request.kind = direct ? session::RequestKind::direct : session::RequestKind::service;
        request.command = direct ? spec.destination : spec.service;
        SocketIo io(std::move(local));
        const SessionOutcome o = co_await run_session(*conn, request, io, options);
        if (o.rejected) {
            log::error("-L " + spec.spec + ": " + (direct ? spec.destination : "service '" + spec.service + "'") + ": " +
                       reject_reason(*o.rejected));
        }
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
        if (!bind(spec)) return false;
    }
    return true;
}

bool Forwarder::bind(const cli::LocalForward& spec) {
    const auto addresses = bind_addresses(spec);
    if (addresses.empty()) return false;
    std::uint16_t port = spec.port;
    std::vector<std::shared_ptr<Listener>> bound;
    for (auto ep : addresses) {
        // With port 0 every address gets the port the first one was given.
        ep.port(port);
        auto l = std::make_shared<Listener>(Listener{spec, tcp::acceptor(ex_), 0});
        std::error_code ec;
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec && ep.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            log::error("-L " + spec.spec + ": bind " + ep.address().to_string() + " port " + std::to_string(ep.port()) +
                       ": " + ec.message());
            return false;  // the listeners bound so far close with `bound`
        }
        if (port == 0) {
            port = l->acceptor.local_endpoint(ec).port();
            log::line("Allocated port " + std::to_string(port) + " for local forward to " + spec.target());
        }
        l->port = port;
        log::debug(1, "Local forwarding listening on " + ep.address().to_string() + " port " + std::to_string(port) + ".");
        bound.push_back(std::move(l));
    }
    for (auto& l : bound) {
        if (started_) asio::co_spawn(ex_, accept_loop(l), asio::detached);
        listeners_.push_back(std::move(l));
    }
    return true;
}

bool Forwarder::add(const cli::LocalForward& spec) { return bind(spec); }

std::size_t Forwarder::cancel(const std::optional<std::string>& bind_address, std::uint16_t port) {
    std::size_t closed = 0;
    std::erase_if(listeners_, [&](const std::shared_ptr<Listener>& l) {
        if (l->port != port || (bind_address && l->spec.bind_address != *bind_address)) return false;
        std::error_code ignored;
        l->acceptor.close(ignored);
        ++closed;
        return true;
    });
    return closed;
}

namespace {
std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

constexpr std::string_view command_line_help =
    "Commands:\n"
    "      -L[bind_address:]port:service    Request local forward\n"
    "      -L[bind_address:]port:host:hostport\n"
    "      -KL[bind_address:]port           Cancel local forward\n"
    "      (-R, -D, -KR and -KD: twoway has no remote or dynamic forwarding yet)";
}  // namespace

std::string Forwarder::command_line(std::string_view text) {
    text = trim_blanks(text);
    if (text.empty()) return {};
    if (text == "?" || text == "-h") return std::string(command_line_help);
    if (!text.starts_with('-')) return "Invalid command.";
    text.remove_prefix(1);
    const bool cancelling = text.starts_with('K');
    if (cancelling) text.remove_prefix(1);
    if (text.empty() || (text.front() != 'L' && text.front() != 'R' && text.front() != 'D')) return "Invalid command.";
    const char kind = text.front();
    text = trim_blanks(text.substr(1));
    if (kind != 'L') return "twoway has no remote (-R) or dynamic (-D) forwarding yet.";
    if (!cancelling) {
        auto spec = cli::parse_local_forward(std::string(text));
        if (!spec) return "Bad forwarding specification.";
        return add(*spec) ? "Forwarding port." : "Port forwarding failed.";
    }
    // [bind_address:]port, the address possibly in brackets (an IPv6 one) or "*".
    std::optional<std::string> address;
    std::string_view port_text = text;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        std::string_view a = text.substr(0, colon);
        if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
        address = a == "*" ? std::string("0.0.0.0") : std::string(a);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        return "Bad forwarding close port";
    }
    return cancel(address, static_cast<std::uint16_t>(port)) > 0 ? "Canceled forwarding." : "Unknown port forwarding.";
}

void Forwarder::start() {
    started_ = true;
    for (auto& l : listeners_) asio::co_spawn(ex_, accept_loop(l), asio::detached);
}

void Forwarder::stop() {
    started_ = false;
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
