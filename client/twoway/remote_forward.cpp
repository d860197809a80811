#include "remote_forward.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <twoway/session.hpp>

#include "async.hpp"
#include "local_io.hpp"
#include "log.hpp"
#include "resolve.hpp"
#include "session_pump.hpp"

namespace twoway_client {

namespace session = twoway::session;
using asio::ip::tcp;

struct RemoteForwarder::Remote {
    enum class State { pending, listening, failed, ended };
    cli::RemoteForward spec;
    bool at_start = false;  // given at the start (ExitOnForwardFailure applies)
    State state = State::pending;
    std::uint16_t port = 0;  // as the server bound it
    bool cancelled = false;  // ~C -KR or stop(): the listen session is ours to end
    std::shared_ptr<SessionControl> control = std::make_shared<SessionControl>();
};

// What the coroutines share with the forwarder; they keep it alive as long as they run.
struct RemoteForwarder::Hub {
    Hub(asio::any_io_executor e, std::function<ConnectParams()> m, bool exit)
        : ex(std::move(e)), make_params(std::move(m)), exit_on_failure(exit), settled(ex) {}
    asio::any_io_executor ex;
    std::function<ConnectParams()> make_params;
    bool exit_on_failure = false;
    std::size_t pending = 0;   // forwards without an answer yet
    std::size_t failures = 0;  // forwards that failed
    Notifier settled;

    // The forward has its answer: listening, or failed (said here, in ssh's words).
    void answered(Remote& r, bool ok) {
        if (r.state != Remote::State::pending) return;
        r.state = ok ? Remote::State::listening : Remote::State::failed;
        if (!ok && !r.cancelled) {
            ++failures;
            const std::string port = std::to_string(r.spec.listen.port);
            if (exit_on_failure && r.at_start) {
                log::line("Error: remote port forwarding failed for listen port " + port);
            } else {
                log::info("Warning: remote port forwarding failed for listen port " + port);
            }
        }
        if (pending > 0 && --pending == 0) settled.notify();
    }

    PumpOptions options(const ConnectParams& p) const {
        PumpOptions o;
        o.alive_interval = p.server_alive_interval;
        o.alive_count_max = p.server_alive_count_max;
        return o;
    }
};

namespace {

using Remote = RemoteForwarder::Remote;
using Hub = RemoteForwarder::Hub;

// The local end of a session that takes nothing and gives nothing: a pickup whose local connection
// failed. Once the server accepts, the session is closed, which closes the announced connection.
class DroppedIo final : public LocalIo {
public:
    DroppedIo(const asio::any_io_executor& ex, std::shared_ptr<SessionControl> control)
        : wait_(ex), control_(std::move(control)) {}

    asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte>) override {
        wait_.expires_at(asio::steady_timer::time_point::max());
        (void)co_await wait_.async_wait(use_nothrow_awaitable);
        co_return std::pair{std::error_code(asio::error::operation_aborted), std::size_t{0}};
    }
    asio::awaitable<std::error_code> write(session::Stream, std::span<const std::byte>) override {
        co_return std::error_code{};
    }
    asio::awaitable<void> accepted() override {
        control_->close();
        co_return;
    }
    void cancel() noexcept override {
        try {
            wait_.cancel();
        } catch (...) {
            // Nothing waits on it then.
        }
    }

private:
    asio::steady_timer wait_;
    std::shared_ptr<SessionControl> control_;
};

// A connection to host:hostport from here, trying each address in turn.
asio::awaitable<std::optional<tcp::socket>> connect_local(const cli::RemoteForward& spec) {
    auto ex = co_await asio::this_coro::executor;
    const TcpLookup found = lookup_tcp(spec.host, spec.host_port, cli::AddressFamily::any, false);
    if (!found.error.empty()) log::debug(1, "connect_to " + spec.host + ": " + found.error);
    for (const auto& ep : found.endpoints) {
        tcp::socket s(ex);
        auto [ec] = co_await s.async_connect(ep, use_nothrow_awaitable);
        if (!ec) co_return std::optional<tcp::socket>(std::move(s));
        log::debug(1, "connect_to " + ep.address().to_string() + " port " + std::to_string(ep.port()) + ": " + ec.message());
    }
    co_return std::nullopt;
}

// One announced connection: the local connection, then the pickup, spliced until both ends close.
asio::awaitable<void> pickup_one(session::ListenConnection announced, std::shared_ptr<Remote> r, std::shared_ptr<Hub> hub) {
    const cli::RemoteForward& spec = r->spec;
    const std::string from = log::untrusted(announced.originator);  // the server's text
    log::debug(1, "client_request_forwarded_tcpip: listen port " + std::to_string(r->port) + ", originator " + from +
                      ", connect " + spec.target());
    auto local = co_await connect_local(spec);
    if (!local) log::line("connect_to " + spec.host + " port " + std::to_string(spec.host_port) + ": failed.");
    ConnectParams params = hub->make_params();
    PumpOptions options = hub->options(params);
    auto conn = co_await establish(std::move(params));
    if (!conn) co_return;  // said by establish
    session::Request request;
    request.kind = session::RequestKind::pickup;
    request.command = session::pickup_text(announced.token);
    SessionOutcome o;
    if (local) {
        SocketIo io(std::move(*local));
        o = co_await run_session(*conn, request, io, options);
    } else {
        options.control = std::make_shared<SessionControl>();
        DroppedIo io(hub->ex, options.control);
        o = co_await run_session(*conn, request, io, options);
    }
    if (o.rejected) {
        log::error("-R " + spec.spec + ": the connection from " + from + " could not be picked up: " +
                   reject_reason(*o.rejected));
    }
    co_await conn->close();
}

// The local end of a listen session: its out stream is listen records, read as they come (the
// incomplete tail kept, under max_listen_record bytes); everything written is taken at once, so the
// server's window reopens as records are read. Nothing is sent on in.
class ListenIo final : public LocalIo {
public:
    ListenIo(const asio::any_io_executor& ex, std::shared_ptr<Remote> r, std::shared_ptr<Hub> hub)
        : wait_(ex), remote_(std::move(r)), hub_(std::move(hub)) {}

    asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte>) override {
        wait_.expires_at(asio::steady_timer::time_point::max());
        (void)co_await wait_.async_wait(use_nothrow_awaitable);
        co_return std::pair{std::error_code(asio::error::operation_aborted), std::size_t{0}};
    }

    asio::awaitable<std::error_code> write(session::Stream s, std::span<const std::byte> bytes) override {
        if (s != session::Stream::out) co_return std::error_code{};  // err carries nothing
        tail_.insert(tail_.end(), bytes.begin(), bytes.end());
        auto parsed = session::parse_listen_records(tail_, bound_);
        if (!parsed) {
            // One line, and the session closes (a failed write on out closes it).
            log::error("-R " + remote_->spec.spec + ": broken listen records from the server (" +
                       parsed.error().message() + "); remote forward ended");
            hub_->answered(*remote_, false);
            tail_.clear();
            co_return parsed.error();
        }
        for (auto& record : parsed->records) {
            if (const auto* b = std::get_if<session::ListenBound>(&record)) {
                bound_ = true;
                bound(b->port);
            } else {
                auto& c = std::get<session::ListenConnection>(record);
                asio::co_spawn(hub_->ex, pickup_one(std::move(c), remote_, hub_), asio::detached);
            }
        }
        tail_.erase(tail_.begin(), tail_.begin() + static_cast<std::ptrdiff_t>(parsed->consumed));
        co_return std::error_code{};
    }

    void cancel() noexcept override {
        try {
            wait_.cancel();
        } catch (...) {
            // Nothing waits on it then.
        }
    }

private:
    void bound(std::uint16_t port) {
        const cli::RemoteForward& spec = remote_->spec;
        remote_->port = port;
        log::debug(1, "remote forward success for: listen " + session::listen_address_text(spec.listen) + ", connect " +
                          spec.target());
        if (spec.listen.port == 0) {
            log::info("Allocated port " + std::to_string(port) + " for remote forward to " + spec.target());
        }
        hub_->answered(*remote_, true);
    }

    asio::steady_timer wait_;
    std::shared_ptr<Remote> remote_;
    std::shared_ptr<Hub> hub_;
    std::vector<std::byte> tail_;
    bool bound_ = false;
};

// One remote forward: its listen connection and session, for as long as they last.
asio::awaitable<void> listen_one(std::shared_ptr<Remote> r, std::shared_ptr<Hub> hub) {
    const std::string listen = session::listen_address_text(r->spec.listen);
    // ssh's words; "LOCALHOST" where no address was asked for (the server's default, twowayd's loopback).
    const std::string from = r->spec.listen.host.empty() ? "LOCALHOST:" + listen : listen;
    log::debug(1, "Remote connections from " + from + " forwarded to local address " + r->spec.target());
    ConnectParams params = hub->make_params();
    PumpOptions options = hub->options(params);
    options.control = r->control;
    auto conn = co_await establish(std::move(params));
    if (!conn) {
        hub->answered(*r, false);
        co_return;
    }
    if (r->cancelled) {
        hub->answered(*r, false);
        co_await conn->close();
        co_return;
    }
    session::Request request;
    request.kind = session::RequestKind::listen;
    request.command = listen;
    ListenIo io(hub->ex, r, hub);
    const SessionOutcome o = co_await run_session(*conn, request, io, options);
    if (o.rejected) log::debug(1, "-R " + r->spec.spec + ": " + reject_reason(*o.rejected));
    if (r->state == Remote::State::pending) {
        hub->answered(*r, false);
    } else if (r->state == Remote::State::listening) {
        r->state = Remote::State::ended;
        if (!r->cancelled) log::debug(1, "-R " + r->spec.spec + ": the server ended the remote forward");
    }
    co_await conn->close();
}

bool same_bind(const std::optional<std::string>& asked, const std::optional<std::string>& given) {
    if (!asked) return true;
    if (!given) return false;
    const auto everywhere = [](const std::string& a) { return a.empty() || a == "*"; };
    return *asked == *given || (everywhere(*asked) && everywhere(*given));
}

}  // namespace

RemoteForwarder::RemoteForwarder(asio::any_io_executor ex, std::vector<cli::RemoteForward> specs,
                                 std::function<ConnectParams()> make_params, bool exit_on_failure)
    : hub_(std::make_shared<Hub>(std::move(ex), std::move(make_params), exit_on_failure)), specs_(std::move(specs)) {}

RemoteForwarder::~RemoteForwarder() = default;

void RemoteForwarder::start() {
    for (const auto& spec : specs_) {
        auto r = std::make_shared<Remote>();
        r->spec = spec;
        r->at_start = true;
        open(std::move(r));
    }
    specs_.clear();
}

void RemoteForwarder::open(std::shared_ptr<Remote> r) {
    ++hub_->pending;
    remotes_.push_back(r);
    asio::co_spawn(hub_->ex, listen_one(std::move(r), hub_), asio::detached);
}

asio::awaitable<std::size_t> RemoteForwarder::settled() {
    auto hub = hub_;
    while (hub->pending > 0) co_await hub->settled.wait();
    co_return hub->failures;
}

void RemoteForwarder::add(const cli::RemoteForward& spec) {
    auto r = std::make_shared<Remote>();
    r->spec = spec;
    open(std::move(r));
}

std::size_t RemoteForwarder::cancel(const std::optional<std::string>& bind_address, std::uint16_t port) {
    std::size_t ended = 0;
    std::erase_if(remotes_, [&](const std::shared_ptr<Remote>& r) {
        if (r->state == Remote::State::failed || r->state == Remote::State::ended) return true;  // gone already
        const std::uint16_t in_use = r->port != 0 ? r->port : r->spec.listen.port;
        if (in_use != port || !same_bind(bind_address, r->spec.bind_address)) return false;
        r->cancelled = true;
        r->control->close();
        ++ended;
        return true;
    });
    return ended;
}

void RemoteForwarder::stop() {
    for (auto& r : remotes_) {
        r->cancelled = true;
        r->control->close();
    }
    remotes_.clear();
}

bool RemoteForwarder::empty() const noexcept { return remotes_.empty() && specs_.empty(); }

}  // namespace twoway_client
