#include "server.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <optional>

#include <asio/ip/v6_only.hpp>

#include "connection.hpp"
#include "log.hpp"
#include "notify.hpp"
#include "session.hpp"

namespace twowayd {

namespace {

// After SIGTERM, sessions get this long to end cleanly before they are closed outright.
constexpr auto shutdown_grace = std::chrono::seconds(5);
// How long a shed connection is held before its close (ShedHold): a random time in this range, so that
// the closes of connections shed together do not all come back as one burst of reopened ones.
constexpr auto shed_pause_min = std::chrono::milliseconds(500);
constexpr auto shed_pause_spread = std::chrono::milliseconds(1000);
// How many shed connections are held at most: as many as the table, and never fewer than this, so that a
// small table still paces a source holding many more connections than it has slots; but never more than
// the descriptor limit serves (startups_descriptors_serve). Past it, a shed connection closes at once.
constexpr std::size_t shed_hold_floor = 1024;

std::size_t shed_hold_capacity(std::uint32_t table, std::uint64_t fit) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::size_t>(table, shed_hold_floor), fit));
}
// How long the accept loop pauses when accept() fails for want of descriptors or memory.
constexpr auto accept_pause = std::chrono::milliseconds(100);

enum class AcceptFailure { descriptors, memory, other };

// By errno value in Asio's own category ("asio.system"), whose default_error_condition maps only some
// errors to std::errc: EMFILE is not among them, so comparing with std::errc::too_many_files_open never
// matched and the loop spun on the error.
AcceptFailure accept_failure(const std::error_code& ec) {
    const auto& cat = ec.category();
    if (cat != asio::error::get_system_category() && cat != std::system_category() && cat != std::generic_category()) {
        return AcceptFailure::other;
    }
    switch (ec.value()) {
        case EMFILE:
        case ENFILE: return AcceptFailure::descriptors;
        case ENOBUFS:
        case ENOMEM: return AcceptFailure::memory;
        default: return AcceptFailure::other;
    }
}

std::string duration_text(std::chrono::steady_clock::duration d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    return buf;
}

Peer peer_of(const tcp::socket& s, std::error_code& ec) {
    Peer p;
    const auto remote = s.remote_endpoint(ec);
    if (ec) return p;
    const auto local = s.local_endpoint(ec);
    if (ec) return p;
    p.ip = remote.address().to_string();
    p.port = remote.port();
    p.local_ip = local.address().to_string();
    p.local_port = local.port();
    return p;
}

// The connection's source for the limits; nothing if the address cannot be read.
std::optional<Source> source_of(const tcp::socket& s, const twowayd::DaemonConfig& config) {
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (ec) return std::nullopt;
    Source src;
    auto addr = remote.address();
    // An IPv4 client reaching a dual-stack listener (::ffff:a.b.c.d) is that IPv4 address: as an IPv6
    // one, every IPv4 client would fall in one /64 and share one fair share, one penalty and one limit.
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    if (addr.is_v4()) {
        const auto b = addr.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), src.address.bytes.begin());
    } else {
        const auto b = addr.to_v6().to_bytes();
        src.address.v6 = true;
        std::copy(b.begin(), b.end(), src.address.bytes.begin());
    }
    src.key = twowayd::source_key(src.address, config.per_source_net_block_v4, config.per_source_net_block_v6);
    src.group = fairness_key(src.address, config.per_source_net_block_v4, config.per_source_net_block_v6);
    return src;
}

}  // namespace

Server::Server(asio::io_context& io, ServerOptions options, std::shared_ptr<const Settings> settings)
    : io_(io),
      options_(std::move(options)),
      settings_(std::move(settings)),
      startups_(),
      shed_hold_(),
      shed_timer_(io),
      penalties_(settings_->config.penalties, settings_->config.penalty_exempt),
      pickups_(io),
      signals_(io),
      child_signals_(io, SIGCHLD),
      shutdown_timer_(io) {
    apply_session_limits();
    password_failures_.configure(settings_->config.per_user_max_password_failures,
                                 std::chrono::seconds(settings_->config.password_failure_window));
}

Server::~Server() = default;

twoway::Rng& Server::rng() noexcept { return twoway::system_rng(); }

void Server::bind_endpoint(const twowayd::Endpoint& e, std::vector<Listener>& into) {
    std::error_code ec;
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(e.host, std::to_string(e.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) {
        log_error("Bad ListenAddress ", e.host, ": ", ec.message());
        return;
    }
    for (const auto& r : results) {
        const tcp::endpoint ep = r.endpoint();
        auto acceptor = std::make_shared<tcp::acceptor>(io_);
        const std::string where = "port " + std::to_string(ep.port()) + " on " + ep.address().to_string();
        (void)acceptor->open(ep.protocol(), ec);
        if (!ec) (void)acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        // As sshd: an IPv6 socket takes IPv6 only, so "::" and "0.0.0.0" can both be bound.
        if (!ec && ep.address().is_v6()) (void)acceptor->set_option(asio::ip::v6_only(true), ec);
        if (!ec) (void)acceptor->bind(ep, ec);
        if (!ec) (void)acceptor->listen(asio::socket_base::max_listen_connections, ec);
        // accept_and_close() calls accept4() on it directly: it must never block.
        if (!ec) (void)acceptor->non_blocking(true, ec);
        if (ec) {
            log_error("Bind to ", where, " failed: ", ec.message(), ".");
            continue;
        }
        const auto bound = acceptor->local_endpoint(ec);
        log_info("Server listening on ", bound.address().to_string(), " port ", bound.port(), ".");
        into.push_back(Listener{e, std::move(acceptor)});
    }
}

bool Server::listen() {
    for (const auto& e : twowayd::listen_endpoints(settings_->config)) bind_endpoint(e, listeners_);
    if (listeners_.empty()) {
        log_fatal("Cannot bind any address.");
        return false;
    }
    return true;
}

void Server::log_host_keys() const {
    const auto& keys = settings_->host_keys;
    log_info("Host key: ", key_fingerprint_text(keys.front().key.public_key()));
    log_verbose("Host key file: ", keys.front().path);
    for (std::size_t i = 1; i < keys.size(); ++i) {
        // ssh's UpdateHostKeys: every HostKey is announced with its proof after ACCEPT (PROTOCOL.md 15),
        // so that clients learn it before it becomes the first (twowayd.md, rotating a host key).
        log_info("Host key ", keys[i].path, " (", key_fingerprint_text(keys[i].key.public_key()),
                 ") is announced to clients; the handshake presents the first HostKey");
    }
}

void Server::start() {
    log_host_keys();
    signals_.add(SIGHUP);
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGQUIT);
    asio::co_spawn(io_, signal_loop(), asio::detached);
    asio::co_spawn(io_, child_loop(), asio::detached);
    for (const auto& l : listeners_) asio::co_spawn(io_, accept_loop(l.acceptor), asio::detached);
}

awaitable<void> Server::accept_loop(std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(use_nothrow_awaitable);
        if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
        if (!ec) {
            on_accept(std::move(socket));
            continue;
        }
        if (ec == asio::error::connection_aborted) continue;
        const AcceptFailure why = accept_failure(ec);
        if (why == AcceptFailure::descriptors && spare_.held()) {
            // At the descriptor limit the waiting connection stays in the backlog, the listening socket
            // stays readable and every accept fails again at once: with the spare descriptor freed for a
            // moment, take the connection off the backlog and close it, so the client learns at once
            // and the loop waits again for something new.
            spare_.release();
            const bool closed = accept_and_close(acceptor->native_handle());
            (void)spare_.restore();
            log_accept_failure(ec, closed);
            if (closed) continue;
        } else {
            log_accept_failure(ec, false);
        }
        if (why != AcceptFailure::other) {
            // Out of descriptors (with no spare) or of kernel memory: pause instead of spinning on the
            // same error, as sshd does.
            asio::steady_timer pause(io_, accept_pause);
            (void)co_await pause.async_wait(use_nothrow_awaitable);
        }
    }
}

void Server::log_accept_failure(const std::error_code& ec, bool closed) {
    // One line at ERROR per interval, so a flood at the limit cannot flood the log; the rest at DEBUG.
    const auto d = drop_log_.note(DropKind::accept_error, std::chrono::steady_clock::now());
    const std::string what = cat("accept: ", ec.message(), closed ? ": closed a waiting connection unserved" : "");
    if (d.info) {
        if (d.unshown > 0) return log_error(what, " (and ", d.unshown, " more since the last such line)");
        return log_error(what);
    }
    log_debug(what);
}

void Server::on_accept(tcp::socket socket) {
    std::error_code ec;
    const Peer peer = peer_of(socket, ec);
    if (ec) return;  // already gone
    if (terminating_) return;
    auto source = source_of(socket, settings_->config);
    if (!source) return;
    // Each refusal closes the socket as it goes out of scope: no byte read, no crypto done.
    if (auto why = penalties_.refused(source->address, source->key, std::chrono::steady_clock::now())) {
        log_penalty_drop(*why, peer);
        return;
    }
    // Room is made by shedding from the source holding the most, never by refusing the newcomer
    // (startups.hpp says why).
    const auto admitted = startups_.admit(source->key, source->group, std::chrono::steady_clock::now());
    for (const auto& victim : admitted.shed) shed(victim);
    (void)socket.set_option(tcp::no_delay(true), ec);
    (void)socket.set_option(asio::socket_base::keep_alive(true), ec);
    auto conn = std::make_shared<Connection>(*this, std::move(socket), peer, std::move(*source), settings_,
                                             admitted.id);
    preauth_[admitted.id] = conn.get();
    asio::co_spawn(io_, [conn]() -> awaitable<void> { co_await conn->run(); }, asio::detached);
}

void Server::shed(const StartupTable::Shed& victim) {
    auto it = preauth_.find(victim.id);
    if (it == preauth_.end()) return;
    Connection* conn = it->second;
    preauth_.erase(it);
    if (conn->concluded()) return hold_shed(conn->shed());  // refused already, and logged: its linger is cut short
    const Peer& peer = conn->peer();
    // sshd's words, naming the connection shed (the one fail2ban should count), not the newcomer.
    const std::string what = cat("drop connection #", startups_.startups(), " from [", peer.ip, "]:", peer.port,
                                 " on [", peer.local_ip, "]:", peer.local_port);
    if (victim.why == Admission::past_per_source) {
        // The line fail2ban's ddos mode counts: its text stays as it is; only repeats are demoted.
        const bool info = startups_.per_source_drop_at_info(conn->source_key(), std::chrono::steady_clock::now());
        log_at(info ? LogLevel::info : LogLevel::verbose, what, " past PerSourceMaxStartups");
    } else {
        // As sshd: announce the episode, log its first drop at INFO and the rest at VERBOSE, so that a
        // flood cannot flood the log too.
        LogLevel level = LogLevel::verbose;
        if (!throttling_) {
            throttling_ = true;
            throttle_start_ = std::chrono::steady_clock::now();
            throttle_dropped_ = 0;
            log_error("beginning MaxStartups throttling");
            level = LogLevel::info;
        }
        ++throttle_dropped_;
        log_at(level, what, " past MaxStartups");
    }
    // Never penalised: the source may be a good client's too. Closed without a byte, after a pause.
    hold_shed(conn->shed());
}

void Server::hold_shed(int fd) {
    if (fd < 0) return;
    std::array<std::byte, 2> r{};
    rng().fill(r);
    const auto spread = shed_pause_spread.count() * ((std::uint32_t(r[0]) << 8) | std::uint32_t(r[1])) / 65536;
    const auto until = std::chrono::steady_clock::now() + shed_pause_min + std::chrono::milliseconds(spread);
    close_held(shed_hold_.hold(fd, until));
    arm_shed_timer();
}

void Server::close_held(const std::vector<int>& fds) {
    for (const int fd : fds) ::close(fd);
}

void Server::arm_shed_timer() {
    const auto next = shed_hold_.next();
    if (!next) return;
    if (shed_timer_armed_ && shed_timer_.expiry() <= *next) return;
    shed_timer_armed_ = true;
    shed_timer_.expires_at(*next);
    shed_timer_.async_wait([this](std::error_code ec) {
        if (ec) return;  // re-armed for an earlier close, or shutting down
        shed_timer_armed_ = false;
        close_held(shed_hold_.expired(std::chrono::steady_clock::now()));
        arm_shed_timer();
    });
}

void Server::log_penalty_drop(PenaltyKind why, const Peer& peer) {
    const auto d = drop_log_.note(DropKind::penalty, std::chrono::steady_clock::now());
    const std::string what = cat("drop connection #", startups_.startups(), " from [", peer.ip, "]:", peer.port,
                                 " on [", peer.local_ip, "]:", peer.local_port, " penalty: ", penalty_reason(why));
    if (d.info && d.unshown > 0) {
        log_info(what, " (and ", d.unshown, " more since the last such line)");
    } else {
        log_at(d.info ? LogLevel::info : LogLevel::verbose, what);
    }
}

void Server::penalise(const Source& source, PenaltyKind kind) {
    const auto activated = penalties_.penalise(source.address, source.key, kind, std::chrono::steady_clock::now());
    if (!activated) return;
    // Once per activation: a source has to earn each one with connections that were admitted.
    log_info("Penalty for ", source.key, " (", penalty_reason(kind), "): new connections refused for ",
             static_cast<long long>(activated->refused_for.count()), "s");
}

DropLog::Decision Server::note_drop(DropKind kind) { return drop_log_.note(kind, std::chrono::steady_clock::now()); }

void Server::startup_progress(StartupTable::Id id, Progress step) {
    startups_.progress(id, step, std::chrono::steady_clock::now());
}

void Server::startup_conclude(StartupTable::Id id) { startups_.conclude(id, std::chrono::steady_clock::now()); }

void Server::release_startup(StartupTable::Id id) {
    startups_.release(id);
    preauth_.erase(id);
    if (throttling_ && startups_.below_throttling()) {
        throttling_ = false;
        log_info("exited MaxStartups throttling after ", duration_text(std::chrono::steady_clock::now() - throttle_start_),
                 ", ", throttle_dropped_, " connections dropped");
    }
}

void Server::apply_session_limits() {
    const auto& c = settings_->config;
    // The table, and the shed connections held, take one descriptor each: a table larger than the
    // descriptor limit serves would run the daemon out of descriptors before it sheds anything, and then
    // every newcomer (a good client too) is closed at accept. Lowered, and the log says so.
    const rlim_t limit = descriptor_limit();
    const std::uint64_t startups_fit = startups_descriptors_serve(limit);
    std::uint32_t table = c.max_startups;
    if (startups_fit < table) {
        table = static_cast<std::uint32_t>(startups_fit);
        if (startups_cap_ != table) {
            log_info("MaxStartups ", c.max_startups, " lowered to ", table, ": the descriptor limit (", limit,
                     ") serves no more (1/8 of it for the table, 1/8 for shed connections held before their close)");
        }
    }
    startups_cap_ = table;
    startups_.configure(table, c.per_source_max_startups);
    close_held(shed_hold_.configure(shed_hold_capacity(table, startups_fit)));

    std::optional<std::uint32_t> total = c.max_sessions_total;
    if (total) {
        // Past what the descriptors serve, sessions could not start anyway, and every login would fail
        // its account lookup: a limit above that is lowered, and the log says so.
        const std::uint64_t fit = sessions_descriptors_serve(limit);
        if (fit < *total) {
            const auto lowered = static_cast<std::uint32_t>(fit);
            if (sessions_total_cap_ != lowered) {
                log_info("MaxSessionsTotal ", *total, " lowered to ", lowered, ": the descriptor limit (", limit,
                         ") serves no more (4 descriptors a session, 3/4 of them for sessions)");
            }
            total = lowered;
        }
    }
    sessions_total_cap_ = total;
    sessions_per_user_cap_ = c.per_user_max_sessions;
    buffer_total_cap_ = c.max_buffer_total;
    if (buffer_room()) adjust_buffered(0);  // a larger MaxBufferTotal: wake whoever waited
}

bool Server::reserve_session(uid_t uid, std::string& refusal) {
    auto& mine = sessions_by_user_[uid];
    if (sessions_per_user_cap_ && mine >= *sessions_per_user_cap_) {
        refusal = cat("too many sessions for the account (PerUserMaxSessions ", *sessions_per_user_cap_, ")");
    } else if (sessions_total_cap_ && sessions_ >= *sessions_total_cap_) {
        refusal = cat("too many sessions (MaxSessionsTotal ", *sessions_total_cap_, ")");
    }
    if (!refusal.empty()) {
        if (mine == 0) sessions_by_user_.erase(uid);
        return false;
    }
    ++mine;
    ++sessions_;
    return true;
}

void Server::release_session(uid_t uid) {
    auto it = sessions_by_user_.find(uid);
    if (it == sessions_by_user_.end()) return;
    if (sessions_ > 0) --sessions_;
    if (--it->second == 0) sessions_by_user_.erase(it);
}

bool Server::hold_refused(uid_t uid) {
    auto& mine = refused_by_user_[uid];
    if (mine >= refused_per_account) return false;
    ++mine;
    return true;
}

void Server::release_refused(uid_t uid) {
    auto it = refused_by_user_.find(uid);
    if (it == refused_by_user_.end()) return;
    if (--it->second == 0) refused_by_user_.erase(it);
}

void Server::adjust_buffered(std::int64_t delta) {
    buffered_ = delta < 0 && static_cast<std::uint64_t>(-delta) > buffered_ ? 0 : buffered_ + delta;
    if (buffer_waiters_.empty() || !buffer_room()) return;
    const auto waiting = std::move(buffer_waiters_);
    buffer_waiters_.clear();
    for (Session* s : waiting) s->wake();
}

void Server::watch_child(pid_t pid, std::function<void(int)> on_exit) { children_[pid] = std::move(on_exit); }

awaitable<void> Server::child_loop() {
    for (;;) {
        auto [ec, sig] = co_await child_signals_.async_wait(use_nothrow_awaitable);
        if (ec) co_return;
        reap();
    }
}

void Server::reap() {
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        auto it = children_.find(pid);
        if (it == children_.end()) continue;  // its session is gone; reaping is all that was left
        auto on_exit = std::move(it->second);
        children_.erase(it);
        if (on_exit) on_exit(status);
    }
}

awaitable<void> Server::signal_loop() {
    for (;;) {
        auto [ec, sig] = co_await signals_.async_wait(use_nothrow_awaitable);
        if (ec) co_return;
        if (sig == SIGHUP) {
            if (!terminating_) reload();
            continue;
        }
        begin_shutdown(sig);
    }
}

void Server::reload() {
    log_info("Received SIGHUP; reloading configuration from ", options_.config_path);
    // Type=notify(-reload): RELOADING=1 with the monotonic time (systemd 253 and later ask for it), then
    // READY=1 once done, whether the new configuration took or the old one stays.
    timespec now{};
    (void)::clock_gettime(CLOCK_MONOTONIC, &now);
    (void)notify_service_manager("RELOADING=1\nMONOTONIC_USEC=" +
                                 std::to_string(std::uint64_t(now.tv_sec) * 1000000 + std::uint64_t(now.tv_nsec) / 1000) +
                                 "\nSTATUS=Reloading the configuration");
    auto loaded = load_settings(options_.config_path, options_.overrides);
    if (!loaded.settings) {
        for (const auto& p : loaded.problems) log_error(p);
        log_error("configuration not reloaded: keeping the current one");
        (void)notify_service_manager("READY=1\nSTATUS=Configuration not reloaded (errors logged); the previous one is in use");
        return;
    }
    for (const auto& w : loaded.warnings) log_error(w);
    settings_ = std::move(loaded.settings);
    if (!options_.log_level_forced) log_set_level(settings_->config.log_level);
    apply_session_limits();
    penalties_.configure(settings_->config.penalties, settings_->config.penalty_exempt);
    password_failures_.configure(settings_->config.per_user_max_password_failures,
                                 std::chrono::seconds(settings_->config.password_failure_window));

    // Keep the listeners whose endpoint is still configured, close the others, bind the new ones.
    const auto wanted = twowayd::listen_endpoints(settings_->config);
    std::vector<Listener> kept;
    for (auto& l : listeners_) {
        bool still = false;
        for (const auto& e : wanted) still = still || e == l.configured;
        if (still) {
            kept.push_back(std::move(l));
        } else {
            std::error_code ec;
            const auto ep = l.acceptor->local_endpoint(ec);
            log_info("No longer listening on ", ep.address().to_string(), " port ", ep.port(), ".");
            (void)l.acceptor->close(ec);
        }
    }
    for (const auto& e : wanted) {
        bool have = false;
        for (const auto& l : kept) have = have || l.configured == e;
        if (have) continue;
        std::vector<Listener> fresh;
        bind_endpoint(e, fresh);
        for (auto& l : fresh) {
            asio::co_spawn(io_, accept_loop(l.acceptor), asio::detached);
            kept.push_back(std::move(l));
        }
    }
    listeners_ = std::move(kept);
    if (listeners_.empty()) log_error("configuration reloaded, but no address could be bound: not listening");
    log_host_keys();
    log_info("Configuration reloaded.");
    (void)notify_service_manager("READY=1\nSTATUS=Configuration reloaded");
}

void Server::begin_shutdown(int sig) {
    if (terminating_) return;
    terminating_ = true;
    log_info("Received signal ", sig, "; terminating.");
    (void)notify_service_manager("STOPPING=1\nSTATUS=Terminating");
    for (auto& l : listeners_) {
        std::error_code ec;
        (void)l.acceptor->close(ec);
    }
    listeners_.clear();
    // terminate() may end a connection at once (detach() below), so walk a copy.
    const std::vector<Connection*> live(connections_.begin(), connections_.end());
    for (auto* c : live) c->terminate();
    if (connections_.empty()) return finish_shutdown();
    shutdown_timer_.expires_after(shutdown_grace);
    shutdown_timer_.async_wait([this](std::error_code ec) {
        if (ec) return;
        const std::vector<Connection*> left(connections_.begin(), connections_.end());
        if (!left.empty()) log_info("closing ", left.size(), " connections that did not end in time");
        for (auto* c : left) c->abort();
        finish_shutdown();
    });
}

void Server::detach(Connection* c) {
    connections_.erase(c);
    if (terminating_ && connections_.empty()) finish_shutdown();
}

void Server::finish_shutdown() {
    std::error_code ec;
    shutdown_timer_.cancel();
    shed_timer_.cancel();
    close_held(shed_hold_.take_all());
    (void)signals_.cancel(ec);
    (void)child_signals_.cancel(ec);
    // Whatever still holds work (a stuck connection after abort) must not keep the daemon alive.
    io_.stop();
}

}  // namespace twowayd
