// An authenticated connection: the twoway stream (its channel) over the socket, the session protocol
// (SessionServer) over the stream, and what the client asked for behind it: a shell or a command in
// a child process (PTY or pipes), or a named service the daemon connects to itself.
//
// Coroutines of one session, all on the one io_context thread:
//   read_loop    stream -> protocol events (request, data, EOF, signals, window changes)
//   write_loop   protocol output -> stream (sealed records), one write at a time
//   pumps        child/service output -> protocol (only while the client's window has room), and
//                client input -> child/service (granting window back only as bytes are written)
// Memory stays bounded, in each direction, by PerSessionMaxBuffer: client input by the window we grant
// (that size), output by what is queued for the client (the protocol's pending output and the write in
// flight), past which nothing is read from the child or service until it drains; and by MaxBufferTotal
// for all sessions together, past which a session reads and grants only while it holds less than its
// floor (session_buffer_floor), so that sessions that do not read cannot stall the others.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <asio/posix/stream_descriptor.hpp>

#include <span>

#include <twoway/session.hpp>

#include "account.hpp"
#include "async.hpp"
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
    Session(Server& server, std::unique_ptr<Transport> transport, Peer peer, std::shared_ptr<const Settings> settings, Account account,
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
    using Descriptor = asio::posix::stream_descriptor;

    // transport (session.cpp)
    [[nodiscard]] tcp::socket& socket() noexcept { return transport_->next_layer(); }
    awaitable<void> read_loop();
    awaitable<void> write_loop();
    // The client's plaintext to the protocol; false once the session failed.
    [[nodiscard]] bool deliver(std::span<const std::byte> bytes);
    awaitable<void> start_pending();
    void handle(twoway::session::Event& ev);
    void stop();
    void spawn(awaitable<void> task);
    void fail(const std::string& what);
    // After any change: sends the EOFs, the exit status and CLOSE once they are due, and wakes every
    // coroutine waiting on changed_.
    void progress();
    void finish_streams();
    void hang_up_backend();

    // request (session_start.cpp)
    awaitable<void> start(const twoway::session::Request& req);
    awaitable<void> start_process(const twoway::session::Request& req);
    awaitable<void> start_service(const twoway::session::Request& req);
    [[nodiscard]] std::vector<std::string> child_environment(const twoway::session::Request& req) const;
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
    twoway::session::SessionServer proto_;
    Condition changed_;
    asio::steady_timer request_timer_;
    asio::steady_timer linger_timer_;
    asio::steady_timer terminate_timer_;
    std::optional<std::chrono::steady_clock::time_point> request_deadline_;
    std::optional<std::string> refusal_;
    int tasks_ = 0;  // coroutines of this session still running (run() waits for them)

    // transport state
    bool stopping_ = false;
    bool request_seen_ = false;
    bool writer_done_ = false;
    bool channel_close_sent_ = false;
    bool force_channel_close_ = false;  // close the channel without the session protocol's CLOSE
    bool terminating_ = false;
    bool starting_ = false;  // a request is being started (spawn, connect)
    std::unique_ptr<twoway::session::Request> pending_request_;  // received, to be started by read_loop

    // client input, held until the child or service takes it (bounded by our window)
    std::deque<std::vector<std::byte>> input_;
    std::size_t input_offset_ = 0;  // bytes of input_.front() already written
    bool input_eof_ = false;         // the client sent EOF on in
    bool input_dead_ = false;        // the child or service no longer reads: input is discarded
    std::size_t input_bytes_ = 0;    // bytes in input_ not yet written
    std::size_t owed_input_ = 0;     // written, but not yet granted back (MaxBufferTotal reached)

    // buffer accounting
    std::size_t buffer_cap_;         // PerSessionMaxBuffer
    std::size_t in_flight_ = 0;      // sealed bytes of the write in progress
    std::size_t accounted_ = 0;      // what the server was last told this session holds

    // the backend
    enum class Kind { none, process, service } kind_ = Kind::none;
    bool is_pty_ = false;
    pid_t pid_ = -1;
    bool exited_ = false;
    int exit_status_ = 0;
    std::optional<Descriptor> pty_;
    std::optional<Descriptor> child_in_;
    std::optional<Descriptor> child_out_;
    std::optional<Descriptor> child_err_;
    std::optional<tcp::socket> remote_;
    std::optional<tcp::resolver> resolver_;
    bool connect_timed_out_ = false;
    asio::steady_timer drain_timer_;  // PTY after the shell exited: stop after a pause in output
    bool pty_read_pending_ = false;
    bool drain_expired_ = false;
    bool out_eof_ = false;  // no more output on out / err (the child's or service's side ended)
    bool err_eof_ = false;
    bool out_eof_sent_ = false;
    bool err_eof_sent_ = false;
    bool exit_sent_ = false;
    bool close_sent_ = false;
    bool give_up_exit_ = false;  // SIGTERM: the child did not exit in time; close without its status
    bool input_shut_ = false;    // the service connection's write side was shut down
};

}  // namespace twowayd
