// An authenticated connection: the twoway stream (its channel) over the socket, the session protocol
// (SessionServer) over the stream, and what the client asked for behind it: a shell or a command in
// a child process (PTY or pipes), or a named service the daemon connects to itself.
//
// Coroutines of one session, all on the one io_context thread:
//   read_loop    stream -> protocol events (request, data, EOF, signals, window changes)
//   write_loop   protocol output -> stream (sealed records), one write at a time
//   pumps        child/service output -> protocol (only while the client's window has room), and
//                client input -> child/service (granting window back only as bytes are written)
//   alive_loop   with ClientAliveInterval: a PING after each interval in which nothing came from the
//                client; the connection dropped when a silent interval would make the count exceed
//                ClientAliveCountMax (sshd's client_alive_check), whatever the phase or the backend
// Memory stays bounded, in each direction, by PerSessionMaxBuffer: client input by the window we grant
// (that size), output by what is queued for the client (the protocol's pending output and the write in
// flight), past which nothing is read from the child or service until it drains; and by MaxBufferTotal
// for all sessions together, past which a session reads and grants only while it holds less than its
// floor (session_buffer_floor), so that sessions that do not read cannot stall the others.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include <asio/posix/stream_descriptor.hpp>

#include <twoway/session.hpp>

#include "account.hpp"
#include "async.hpp"
#include "child.hpp"
#include "session_policy.hpp"
#include "settings.hpp"

namespace twowayd {

class Server;

// What a session queues for its client at most (protocol output and the write in flight): 128 KiB, or
// PerSessionMaxBuffer if that is smaller. More adds no throughput (the kernel's socket buffer carries the
// data in flight; the client's window paces it), only memory: each byte queued is held up to three times
// (the protocol's buffer, the batch being sealed, the sealed records) while a client does not read.
inline constexpr std::size_t output_queue_max = 128 * 1024;
[[nodiscard]] constexpr std::size_t output_queue_cap(std::size_t per_session) noexcept {
    return per_session < output_queue_max ? per_session : output_queue_max;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    // refusal: the session limits refuse this connection (why, for the log): its request is answered with
    // REJECT resource_shortage and nothing is started.
    // policy: the sshd_config policy that applies to this connection (Match applied, access.hpp).
    Session(Server& server, std::unique_ptr<Transport> transport, Peer peer, std::shared_ptr<const Settings> settings, Account account,
            ConnectionConfig config, SessionPolicy key_policy,
            std::optional<std::chrono::steady_clock::time_point> request_deadline,
            std::optional<std::string> refusal = std::nullopt);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs until the connection is closed and every coroutine of the session has ended.
    awaitable<void> run();
    // SIGTERM: hang up the child (SIGHUP to its process group) or the service connection, report the
    // end to the client and close.
    void terminate();
    // Close everything now.
    void abort();
    // MaxBufferTotal has room again (Server::adjust_buffered): the pumps look again.
    void wake() { changed_.notify_all(); }

private:
    using Stream = twoway::session::Stream;
    using Request = twoway::session::Request;
    using Descriptor = asio::posix::stream_descriptor;

    // ---- states as types -------------------------------------------------------------------------

    // The session's course. The request is answered once; stop() may end any phase. SIGTERM
    // (terminate()) may come in any phase: before an answer it closes the channel (ClosingChannel),
    // while starting it waits for the answer, after it it hangs up the backend (terminate_backend()).
    struct AwaitingRequest {};  // authenticated, no request yet (request_timer_ runs, with a deadline)
    struct Requested {          // received: read_loop starts it after this read
        Request request;
    };
    struct Starting {};   // spawn or connect in progress, inline in read_loop: the client waits for the answer
    struct Answered {};   // accepted (the backend runs, the pumps move bytes) or rejected (the protocol is finished)
    struct Closing {};    // our session CLOSE is queued (the end reported, or the client's CLOSE answered):
                          // nothing more goes to the protocol; the channel closes once it is finished()
    struct ClosingChannel {};  // terminate() before there was a backend: the channel closes without CLOSE
    struct Lingering {};  // our channel close is written: the client's close and FIN are awaited (linger_timer_)
    struct Stopped {};    // stop(): the socket and the backend are closed, every coroutine ends
    using Phase = std::variant<AwaitingRequest, Requested, Starting, Answered, Closing, ClosingChannel, Lingering,
                               Stopped>;

    // One output stream (out, err) towards the client: the child's or service's side ends (every byte
    // read from it handed to the protocol), then its EOF is sent, in that order.
    enum class Output : std::uint8_t { open, ended, eof_sent };

    // The client's input on `in`, held until the child or service takes it. What it holds and what is
    // owed (written, but not yet granted back because MaxBufferTotal was reached) stay within the window
    // we granted (PerSessionMaxBuffer): the client can send no more than that before credit comes back.
    class InputQueue {
    public:
        void push(std::vector<std::byte> bytes);  // not empty; not once dead()
        [[nodiscard]] bool empty() const noexcept { return chunks_.empty(); }
        // The first chunk's bytes not yet written (empty() must be false).
        [[nodiscard]] std::span<const std::byte> front() const noexcept;
        // n bytes of front() were written: they leave the queue and are owed to the client.
        void written(std::size_t n) noexcept;
        [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }  // held, not yet written
        [[nodiscard]] std::size_t owed() const noexcept { return owed_; }
        [[nodiscard]] std::size_t take_owed() noexcept { return std::exchange(owed_, 0); }
        void end() noexcept { eof_ = true; }  // the client sent EOF on in
        [[nodiscard]] bool eof() const noexcept { return eof_; }
        // The child or service no longer reads: everything held is dropped, and whatever comes later.
        // Returns the credit to grant back at once (held and owed), so the client is never stalled.
        [[nodiscard]] std::size_t kill() noexcept;
        [[nodiscard]] bool dead() const noexcept { return dead_; }

    private:
        std::deque<std::vector<std::byte>> chunks_;
        std::size_t offset_ = 0;  // bytes of chunks_.front() already written
        std::size_t bytes_ = 0;   // bytes in chunks_ not yet written
        std::size_t owed_ = 0;    // written, not yet granted back
        bool eof_ = false;
        bool dead_ = false;
    };

    // A shell or command: the child runs as the account, in a PTY or on three pipes.
    struct Terminal {
        explicit Terminal(Descriptor m) : master(std::move(m)), drain(master.get_executor()) {}
        // pump_out's read: idle (handing output over, or waiting for room), waiting (for output, or
        // reading it), cut (after the shell exited, the drain timer found a pause: the output ends).
        enum class Read : std::uint8_t { idle, waiting, cut };
        Descriptor master;
        asio::steady_timer drain;  // after the shell exited: stop at the first pause in output
        Read read = Read::idle;
    };
    struct Pipes {
        Descriptor in;
        Descriptor out;
        Descriptor err;
    };
    struct Process {
        Process(pid_t p, const asio::any_io_executor& ex) : pid(p), hang_up(ex) {}
        pid_t pid;
        asio::steady_timer hang_up;  // after SIGTERM's SIGHUP: how long the child has to exit
        std::optional<int> exit_status;  // once reaped (its pid may be reused: never signal it then)
        bool abandoned = false;  // SIGTERM: the child did not exit in time; close without its status
        bool passwd = false;     // the twoway-passwd helper (passwd_serve.hpp): its exit is logged
        std::variant<std::monostate, Terminal, Pipes> io;  // set once its exec report came back clean
    };
    // A named service: the daemon's own connection to it.
    struct Service {
        explicit Service(const asio::any_io_executor& ex) : socket(ex), connect_timer(ex) {}
        tcp::socket socket;
        std::optional<tcp::resolver> resolver;  // while a host name is resolved
        // Running as root: the child connecting as the account (service_connect.hpp), and its answer.
        pid_t connector_pid = -1;
        std::optional<Descriptor> connector;
        asio::steady_timer connect_timer;
        bool connect_timed_out = false;
        bool input_shut = false;  // the client's EOF was passed on: our write side is shut down
    };
    // A listen request (remote forwarding, ssh -R): the port the daemon listens on for the client. Each
    // connection it accepts waits in the server's Pickups and is announced on out (listen_loop).
    struct Listener {
        explicit Listener(const asio::any_io_executor& ex) : acceptor(ex) {}
        tcp::acceptor acceptor;
        std::uint64_t id = 0;  // in Pickups
        std::uint16_t port = 0;
    };
    using Backend = std::variant<std::monostate, Process, Service, Listener>;

    // transport (session.cpp)
    [[nodiscard]] tcp::socket& socket() noexcept { return transport_->next_layer(); }
    [[nodiscard]] bool stopped() const noexcept { return std::holds_alternative<Stopped>(phase_); }
    // Our channel close is due: the session protocol is finished (both CLOSEs, or REJECT) or forced.
    [[nodiscard]] bool channel_close_due() const noexcept {
        return proto_.finished() || std::holds_alternative<ClosingChannel>(phase_);
    }
    // Nothing more is read from the child or service for the client.
    [[nodiscard]] bool output_over() const noexcept {
        return std::holds_alternative<Closing>(phase_) || std::holds_alternative<Lingering>(phase_) || stopped();
    }
    awaitable<void> read_loop();
    awaitable<void> write_loop();
    // The client's plaintext to the protocol; false once the session failed.
    [[nodiscard]] bool deliver(std::span<const std::byte> bytes);
    awaitable<void> start_pending();
    void handle(twoway::session::Event& ev);
    void stop();
    void spawn(awaitable<void> task);
    void fail(const std::string& what);
    awaitable<void> alive_loop();
    // After any change: sends the EOFs, the exit status and CLOSE once they are due, and wakes every
    // coroutine waiting on changed_.
    void progress();
    void finish_streams();
    void close_backend();
    void hang_up_backend();
    [[nodiscard]] Process* process() noexcept { return std::get_if<Process>(&backend_); }
    [[nodiscard]] Service* service() noexcept { return std::get_if<Service>(&backend_); }
    [[nodiscard]] Listener* listener() noexcept { return std::get_if<Listener>(&backend_); }
    [[nodiscard]] Terminal* terminal() noexcept;
    [[nodiscard]] Output& output(Stream s) noexcept { return s == Stream::err ? err_ : out_; }
    void end_output(Stream s) noexcept;

    // request (session_start.cpp)
    awaitable<void> start(const Request& req);
    awaitable<void> start_process(const Request& req);
    awaitable<void> start_service(const Request& req);
    awaitable<void> start_direct(const Request& req);
    // Remote forwarding (session_listen.cpp): a listen request binds, answers, announces the port and
    // then each connection; a pickup request takes one announced connection over, as a direct one.
    void start_listen(const Request& req);
    void start_pickup(const Request& req);
    awaitable<void> listen_loop();
    // Why the configuration refuses remote forwarding at all, a listen request or a pickup:
    // DisableForwarding, AllowTcpForwarding (nothing: allowed).
    [[nodiscard]] std::optional<std::string> remote_forwarding_refusal() const;
    // For a listen request: the above, PermitListen, the privileged-port rule (nothing: allowed).
    [[nodiscard]] std::optional<std::string> listen_refusal(const twoway::session::ListenAddress& a) const;
    // Where GatewayPorts binds a listen request for a (nothing, with why, when it cannot).
    [[nodiscard]] std::optional<asio::ip::address> listen_bind_address(const twoway::session::ListenAddress& a,
                                                                       std::string& why) const;
    // The connection behind a service or a direct connection: resolves host (off the loop), connects as
    // the account, then ACCEPT and the pumps; REJECT start_failed when it cannot. `what` names it in the
    // log ("service web", "direct connection").
    awaitable<void> start_connection(std::string what, std::string host, std::uint16_t port);
    [[nodiscard]] bool account_may_use_services() const;  // logs a refusal
    // Connects svc.socket to the first of endpoints that answers, as the account when running as root.
    awaitable<std::error_code> connect_service(Service& svc, const std::vector<tcp::endpoint>& endpoints);
    // Kills the connecting child, if one runs (the server reaps it), and closes its answer descriptor.
    static void stop_connector(Service& svc) noexcept;
    // ChrootDirectory expanded for the account and checked as sshd does (chroot.hpp): "" for none,
    // nothing when the session must be refused (logged, with sshd's message).
    [[nodiscard]] std::optional<std::string> chroot_directory() const;
    [[nodiscard]] std::vector<std::string> child_environment(const Request& req, const std::string* original_command) const;
    // sshd_config's policy on the request (session_start.cpp): ForceCommand replaces the command (the
    // original goes to TWOWAY_ORIGINAL_COMMAND), PermitTTY no drops the PTY; for a service, why
    // DisableForwarding, AllowTcpForwarding, PermitOpen or PermitService refuse it (nothing: allowed).
    void apply_force_command(Request& req, std::optional<std::string>& original) const;
    void apply_permit_tty(Request& req) const;
    // The twoway-passwd helper for this session's account (passwd_serve.hpp).
    [[nodiscard]] SpawnRequest passwd_request() const;
    [[nodiscard]] std::optional<std::string> service_refusal(const std::string& name) const;
    // For a direct connection: DisableForwarding, AllowTcpForwarding or PermitOpen (nothing: allowed).
    [[nodiscard]] std::optional<std::string> direct_refusal(const twoway::session::Destination& d) const;
    // The request as the key's options let it run: no PTY where none is permitted (logged).
    [[nodiscard]] Request permitted_request(const Request& req) const;
    void answered() noexcept;
    // ACCEPT, with HOSTKEYS when the client announced host_keys.
    [[nodiscard]] twoway::Status accept_request();
    void reject(std::uint32_t code, std::string_view text);
    void run_process_pumps();
    void run_service_pumps();

    // pumps (session_pump.cpp)
    template <class Source>
    awaitable<void> pump_out(Source& from, Stream to);
    template <class Sink>
    awaitable<void> pump_in(Sink& to);
    void on_input(std::vector<std::byte> bytes);
    void discard_input();
    void on_child_exit(int status);
    void send_signal(std::string_view name);
    void resize(const twoway::session::TermSize& size);
    void arm_drain_timer();
    // buffers (session_pump.cpp)
    [[nodiscard]] std::size_t queued_output() const noexcept { return proto_.pending_output() + in_flight_; }
    // How much may be read from the child or service for `to` now (0: wait).
    [[nodiscard]] std::size_t output_room(Stream to);
    // Reports n input bytes written to the child or service: the client gets its window back, unless the
    // sessions together hold too much (then it is owed until they do not).
    void input_written(std::size_t n);
    void pay_owed_input();
    // Tells the server what this session holds now (MaxBufferTotal).
    void account();
    void end_input(Descriptor& to);
    void end_input(tcp::socket& to);
    void terminate_backend();

    Server& server_;
    std::unique_ptr<Transport> transport_;  // one heap object, handed over from the Connection
    Peer peer_;
    std::shared_ptr<const Settings> settings_;
    Account account_;
    ConnectionConfig config_;  // the sshd_config policy for this connection (Match applied)
    twoway::session::SessionServer proto_;
    Condition changed_;
    asio::steady_timer request_timer_;
    asio::steady_timer linger_timer_;
    asio::steady_timer alive_timer_;
    std::chrono::steady_clock::time_point last_heard_;  // the client's latest bytes (or the session's start)
    std::uint32_t silent_intervals_ = 0;  // ClientAlive: intervals in a row with nothing from the client
    std::optional<std::chrono::steady_clock::time_point> request_deadline_;
    std::optional<std::string> refusal_;
    SessionPolicy key_policy_;  // what the authorized_keys line permits (command=, no-pty, services)
    int tasks_ = 0;  // coroutines of this session still running (run() waits for them)

    Phase phase_;
    bool terminating_ = false;  // terminate() came (in whatever phase): once only

    // client input, held until the child or service takes it (bounded by our window)
    InputQueue input_;

    // buffer accounting
    std::size_t buffer_cap_;         // PerSessionMaxBuffer
    std::size_t in_flight_ = 0;      // sealed bytes of the write in progress
    std::size_t accounted_ = 0;      // what the server was last told this session holds

    Backend backend_;
    Output out_ = Output::open;
    Output err_ = Output::open;
};

}  // namespace twowayd
