// The daemon's one event loop: listening sockets, the pre-authentication limits (applied at accept,
// before any crypto), the signals (SIGHUP reload, SIGTERM/SIGINT/SIGQUIT shutdown, SIGCHLD reaping)
// and the registry of live connections. One single-threaded io_context carries everything; each
// connection is a coroutine (connection.cpp), and a child process exists only for a shell or command.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <asio/signal_set.hpp>

#include "async.hpp"
#include "denial_pace.hpp"
#include "descriptors.hpp"
#include "settings.hpp"
#include "decision_pool.hpp"
#include "password_failures.hpp"
#include "pickups.hpp"
#include "startups.hpp"

namespace twowayd {

// How many connections of one account the session limits refused may be open at once. Each waits 10 s
// at most for its request and closes at most 5 s after its REJECT (when the client does not close first).
inline constexpr std::uint32_t refused_per_account = 32;

class Connection;
class Session;

struct ServerOptions {
    std::string config_path;
    Overrides overrides;
    bool log_level_forced = false;  // -d: the config's LogLevel does not apply
};

// Threads for verdict work: one account's work runs one piece at a time, so these are how many accounts'
// files can be parsed at once (a 16 MiB authorized_keys takes about 0.2 s).
inline constexpr std::size_t decision_threads = 4;

class Server {
public:
    Server(asio::io_context& io, ServerOptions options, std::shared_ptr<const Settings> settings);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every listen endpoint, logging each ("Server listening on 127.0.0.1 port 4422."). False when
    // none could be bound.
    [[nodiscard]] bool listen();
    // Logs the host key fingerprints, starts the accept loops and the signal handlers.
    void start();

    // ---- for connections ----
    [[nodiscard]] asio::io_context& io() noexcept { return io_; }
    // Where verdict work that must not hold the event loop runs (decision_pool.hpp).
    [[nodiscard]] DecisionPool& decisions() noexcept { return decisions_; }
    // PerUserMaxPasswordFailures: failed passwords per account name (password_failures.hpp).
    [[nodiscard]] PasswordFailures& password_failures() noexcept { return password_failures_; }
    // Remote forwarding: connections listen sessions announced, waiting for their pickup (pickups.hpp).
    [[nodiscard]] Pickups& pickups() noexcept { return pickups_; }
    [[nodiscard]] twoway::Rng& rng() noexcept;
    [[nodiscard]] std::shared_ptr<const Settings> settings() const { return settings_; }
    // A connection authenticated or ended: it no longer counts against MaxStartups.
    void release_startup(StartupTable::Id id);
    // A connection reached a step of its handshake that counts as progress (StartupTable).
    void startup_progress(StartupTable::Id id, Progress step);
    // Its handshake is over without authentication; it only lingers (StartupTable::conclude).
    void startup_conclude(StartupTable::Id id);
    // A connection from `source` ended badly before authenticating (PerSourcePenalties).
    void penalise(const Source& source, PenaltyKind kind);
    // When to send a denial whose proof arrived at `proof`, decided now (DenialPace).
    [[nodiscard]] SteadyTime denial_deadline(SteadyTime proof) {
        return denial_pace_.deadline(proof, std::chrono::steady_clock::now());
    }
    // Whether a drop of this kind is logged at INFO now (DropLog).
    [[nodiscard]] DropLog::Decision note_drop(DropKind kind);
    // ---- authenticated sessions (MaxSessionsTotal, PerUserMaxSessions) ----
    // Counts an authenticated connection against both limits, or says which one is reached (for the
    // log) and counts nothing. Every true must be matched by one release_session(uid).
    [[nodiscard]] bool reserve_session(uid_t uid, std::string& refusal);
    void release_session(uid_t uid);
    // An authenticated connection the limits refused, open until it has been refused (REJECT) and closed:
    // at most refused_per_account of one account at once; false (counting nothing) past that, and the
    // connection is closed at once. Every true must be matched by one release_refused(uid).
    [[nodiscard]] bool hold_refused(uid_t uid);
    void release_refused(uid_t uid);

    // ---- bytes the sessions hold (MaxBufferTotal) ----
    void adjust_buffered(std::int64_t delta);
    [[nodiscard]] bool buffer_room() const noexcept { return buffered_ < buffer_total_cap_; }
    [[nodiscard]] std::size_t buffer_left() const noexcept {
        return buffer_room() ? static_cast<std::size_t>(buffer_total_cap_ - buffered_) : 0;
    }
    [[nodiscard]] std::uint64_t buffered() const noexcept { return buffered_; }
    // Wakes the session (Session::wake) once the total is under MaxBufferTotal again.
    void await_buffer_room(Session* s) { buffer_waiters_.insert(s); }
    void forget_buffer_waiter(Session* s) { buffer_waiters_.erase(s); }

    // Calls on_exit(wait status) once the child has been reaped.
    void watch_child(pid_t pid, std::function<void(int)> on_exit);
    void attach(Connection* c) { connections_.insert(c); }
    void detach(Connection* c);
    [[nodiscard]] bool terminating() const noexcept { return terminating_; }

private:
    struct Listener {
        twowayd::Endpoint configured;  // as the config (or -p) names it; the key for reloads
        std::shared_ptr<tcp::acceptor> acceptor;
    };

    void bind_endpoint(const twowayd::Endpoint& e, std::vector<Listener>& into);
    awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor);
    void on_accept(tcp::socket socket);
    void log_accept_failure(const std::error_code& ec, bool closed);
    void shed(const StartupTable::Shed& victim);
    void hold_shed(int fd);
    void close_held(const std::vector<int>& fds);
    void arm_shed_timer();
    void log_penalty_drop(PenaltyKind why, const Peer& peer);
    awaitable<void> signal_loop();
    awaitable<void> child_loop();
    void reap();
    void reload();
    void begin_shutdown(int sig);
    void finish_shutdown();
    void log_host_keys() const;
    // The session limits in force: the configured ones, MaxSessionsTotal lowered where the descriptor
    // limit could not serve that many sessions (logged once per change).
    void apply_session_limits();

    asio::io_context& io_;
    ServerOptions options_;
    std::shared_ptr<const Settings> settings_;
    std::vector<Listener> listeners_;
    StartupTable startups_;
    std::unordered_map<StartupTable::Id, Connection*> preauth_;  // every connection startups_ counts
    ShedHold shed_hold_;
    asio::steady_timer shed_timer_;
    bool shed_timer_armed_ = false;
    PenaltyBox penalties_;
    PasswordFailures password_failures_;  // kept across reloads (a reload must not reset a lockout)
    Pickups pickups_;
    DropLog drop_log_;
    DenialPace denial_pace_;
    SpareDescriptor spare_;
    asio::signal_set signals_;
    asio::signal_set child_signals_;
    asio::steady_timer shutdown_timer_;
    std::unordered_map<pid_t, std::function<void(int)>> children_;
    std::unordered_set<Connection*> connections_;
    bool terminating_ = false;
    std::optional<std::uint32_t> sessions_total_cap_;
    std::uint32_t startups_cap_ = 0;  // MaxStartups, or less when the descriptor limit serves fewer
    std::optional<std::uint32_t> sessions_per_user_cap_;
    std::uint32_t sessions_ = 0;
    std::unordered_map<uid_t, std::uint32_t> sessions_by_user_;
    std::unordered_map<uid_t, std::uint32_t> refused_by_user_;  // hold_refused
    std::uint64_t buffer_total_cap_ = 0;
    std::uint64_t buffered_ = 0;
    std::unordered_set<Session*> buffer_waiters_;
    // sshd's MaxStartups throttling episode, for its "beginning"/"exited" log lines.
    bool throttling_ = false;
    std::chrono::steady_clock::time_point throttle_start_{};
    std::uint64_t throttle_dropped_ = 0;
    // Last, so that it is stopped (its threads joined) before anything its work could refer to goes.
    DecisionPool decisions_{decision_threads};
};

}  // namespace twowayd
