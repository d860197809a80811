#include "forward.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "async.hpp"
#include "local_io.hpp"
#include "log.hpp"
#include "resolve.hpp"
#include "session_pump.hpp"
#include "socks.hpp"

namespace twoway_client {

namespace session = twoway::session;

namespace {

using asio::ip::tcp;

std::vector<tcp::endpoint> bind_addresses(const cli::LocalForward& f) {
    TcpLookup found = lookup_tcp(f.bind_address, f.port, cli::AddressFamily::any, true);
    if (!found.error.empty()) log::error(std::string(f.option()) + " " + f.spec + ": cannot resolve " + f.bind_address + ": " + found.error);
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

// -D's local end once the SOCKS request is read: the reply goes out when the server accepts (so a
// refusal can still be told to the SOCKS client), and what the client sent after its request is the
// first input of the session.
class SocksIo final : public LocalIo {
public:
    SocksIo(tcp::socket socket, std::vector<std::byte> reply, std::vector<std::byte> rest)
        : inner_(std::move(socket)), reply_(std::move(reply)), rest_(std::move(rest)) {}

    asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte> buf) override {
        if (rest_.empty()) co_return co_await inner_.read(buf);
        const std::size_t n = std::min(buf.size(), rest_.size());
        std::copy_n(rest_.begin(), n, buf.begin());
        rest_.erase(rest_.begin(), rest_.begin() + static_cast<std::ptrdiff_t>(n));
        co_return std::pair{std::error_code{}, n};
    }
    asio::awaitable<std::error_code> write(session::Stream s, std::span<const std::byte> bytes) override {
        co_return co_await inner_.write(s, bytes);
    }
    void end_of(session::Stream s) override { inner_.end_of(s); }
    void cancel() noexcept override { inner_.cancel(); }
    asio::awaitable<void> accepted() override {
        replied_ = true;
        auto [ec, n] = co_await asio::async_write(inner_.socket(), asio::buffer(reply_), use_nothrow_awaitable);
        (void)n;
        if (ec) log::debug(1, "-D: SOCKS reply: " + ec.message());
    }
    [[nodiscard]] bool replied() const noexcept { return replied_; }
    [[nodiscard]] tcp::socket& socket() noexcept { return inner_.socket(); }

private:
    SocketIo inner_;
    std::vector<std::byte> reply_;
    std::vector<std::byte> rest_;
    bool replied_ = false;
};

asio::awaitable<void> write_all(tcp::socket& socket, const std::vector<std::byte>& bytes) {
    if (bytes.empty()) co_return;
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), use_nothrow_awaitable);
    (void)ec;
    (void)n;
}

// The SOCKS reply for a server's refusal: "not allowed" for its policy (PermitOpen, permitopen=).
socks::Reply refusal_reply(const session::Rejected& r) {
    return r.code == session::reject::prohibited ? socks::Reply::not_allowed : socks::Reply::general_failure;
}

// One -D connection: read its SOCKS request (answering SOCKS5's greeting), then a twoway connection of
// its own with a direct session to the destination asked for, as -L host:hostport makes one.
asio::awaitable<void> forward_dynamic(tcp::socket local, cli::LocalForward spec, ConnectParams params,
                                      std::shared_ptr<std::size_t> active) {
    ++*active;
    std::error_code ignored;
    const auto from = local.remote_endpoint(ignored);
    const std::string who = from.address().to_string() + " port " + std::to_string(from.port());
    socks::Parser parser;
    socks::Step step;
    std::array<std::byte, 1024> buf{};
    // The request is bounded (socks::max_request) and so is the time a client may take to send it.
    asio::steady_timer deadline(local.get_executor(), std::chrono::seconds(30));
    deadline.async_wait([&local](std::error_code ec) {
        if (!ec) {
            std::error_code e;
            local.cancel(e);
        }
    });
    while (step.kind == socks::Step::Kind::need_more) {
        auto [ec, n] = co_await local.async_read_some(asio::buffer(buf), use_nothrow_awaitable);
        if (ec || n == 0) {
            log::debug(1, "-D " + spec.spec + ": connection from " + who + " ended before its SOCKS request" +
                              (ec && ec != asio::error::eof ? ": " + ec.message() : ""));
            break;
        }
        step = parser.feed(std::span(buf).first(n));
        co_await write_all(local, step.send);
    }
    deadline.cancel();
    if (step.kind == socks::Step::Kind::failed) {
        log::debug(1, "-D " + spec.spec + ": connection from " + who + ": " + step.error);
    }
    if (step.kind == socks::Step::Kind::done) {
        const std::string dest = session::destination_text(*step.destination);
        log::debug(1, "Connection to port " + std::to_string(spec.port) + " forwarding to " + dest +
                          " (SOCKS" + std::to_string(static_cast<int>(parser.version())) + ") requested from " + who + ".");
        PumpOptions options;
        options.alive_interval = params.server_alive_interval;
        options.alive_count_max = params.server_alive_count_max;
        auto conn = co_await establish(std::move(params));
        if (!conn) {
            co_await write_all(local, parser.reply(socks::Reply::general_failure));
        } else {
            session::Request request;
            request.kind = session::RequestKind::direct;
            request.command = dest;
            SocksIo io(std::move(local), parser.reply(socks::Reply::succeeded), std::move(step.rest));
            const SessionOutcome o = co_await run_session(*conn, request, io, options);
            if (o.rejected) {
                log::error("-D " + spec.spec + ": " + dest + ": " + reject_reason(*o.rejected));
                co_await write_all(io.socket(), parser.reply(refusal_reply(*o.rejected)));
            } else if (!io.replied()) {
                co_await write_all(io.socket(), parser.reply(socks::Reply::general_failure));
            }
            co_await conn->close();
        }
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
            log::error(std::string(spec.option()) + " " + spec.spec + ": bind " + ep.address().to_string() + " port " + std::to_string(ep.port()) +
                       ": " + ec.message());
            return false;  // the listeners bound so far close with `bound`
        }
        if (port == 0) {
            port = l->acceptor.local_endpoint(ec).port();
            log::line("Allocated port " + std::to_string(port) +
                      (spec.dynamic ? std::string(" for dynamic forward") : " for local forward to " + spec.target()));
        }
        l->port = port;
        log::debug(1, std::string(spec.dynamic ? "Dynamic" : "Local") + " forwarding listening on " + ep.address().to_string() + " port " + std::to_string(port) + ".");
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
    "      -R[bind_address:]port:host:hostport    Request remote forward\n"
    "      -D[bind_address:]port            Request dynamic forward\n"
    "      -KL[bind_address:]port           Cancel local forward\n"
    "      -KR[bind_address:]port           Cancel remote forward\n"
    "      -KD[bind_address:]port           Cancel dynamic forward";
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
    if (kind == 'R' && remote_ == nullptr) return "Remote forwarding is not available here.";
    if (kind == 'R' && !cancelling) {
        auto r = parse_remote_forward(text);
        if (!r.forward) return "Bad forwarding specification.";
        remote_->add(*r.forward);  // its answer ("Allocated port", a warning) is reported when it comes
        return "Forwarding port.";
    }
    if (!cancelling) {
        auto spec = kind == 'D' ? cli::parse_dynamic_forward(std::string(text)) : cli::parse_local_forward(std::string(text));
        if (!spec) return "Bad forwarding specification.";
        return add(*spec) ? "Forwarding port." : "Port forwarding failed.";
    }
    // [bind_address:]port, the address possibly in brackets (an IPv6 one) or "*".
    std::optional<std::string> address;
    std::string_view port_text = text;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        std::string_view a = text.substr(0, colon);
        if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
        // A remote forward's address is the one it was asked with (the server bound it); a local one's
        // is what the listener was bound to.
        address = a == "*" && kind != 'R' ? std::string("0.0.0.0") : std::string(a);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        return "Bad forwarding close port";
    }
    const std::size_t closed = kind == 'R' ? remote_->cancel(address, static_cast<std::uint16_t>(port))
                                           : cancel(address, static_cast<std::uint16_t>(port));
    return closed > 0 ? "Canceled forwarding." : "Unknown port forwarding.";
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
            log::debug(1, std::string(l->spec.option()) + " " + l->spec.spec + ": accept: " + ec.message());
            asio::steady_timer pause(ex_, std::chrono::milliseconds(100));
            (void)co_await pause.async_wait(use_nothrow_awaitable);
            continue;
        }
        if (l->spec.dynamic) {
            asio::co_spawn(ex_, forward_dynamic(std::move(socket), l->spec, make_params_(), active_), asio::detached);
        } else {
            asio::co_spawn(ex_, forward_one(std::move(socket), l->spec, make_params_(), active_), asio::detached);
        }
    }
}

}  // namespace twoway_client
