// An authenticated connection: the record layer (Channel) over the socket, the session protocol
// (SessionServer) over the channel, and what the client asked for behind it: a shell or a command in
// a child process (PTY or pipes), or a named service the daemon connects to itself.
//
// Coroutines of one session, all on the one io_context thread:
//   read_loop    socket -> channel -> protocol events (request, data, EOF, signals, window changes)
//   write_loop   protocol output -> channel records -> socket, one write at a time
//   pumps        child/service output -> protocol (only while the client's window has room), and
//                client input -> child/service (granting window back only as bytes are written)
// Memory stays bounded: client input is bounded by the window we grant, output by the protocol's
// pending-output cap plus one write in flight, and nothing is read from the child while the client's
// window is exhausted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <asio/posix/stream_descriptor.hpp>

#include <twoway/channel.hpp>

#include "account.hpp"
#include "async.hpp"
#include "session/server.hpp"
#include "settings.hpp"

namespace twowayd {

class Server;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Server& server, tcp::socket socket, Peer peer, std::shared_ptr<const Settings> settings, Account account,
            twoway::Channel channel, std::vector<std::byte> leftover,
            std::optional<std::chrono::steady_clock::time_point> request_deadline);
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

private:
    using Stream = twoway::session::Stream;
    using Descriptor = asio::posix::stream_descriptor;

    // transport (session.cpp)
    awaitable<void> read_loop();
    awaitable<void> write_loop();
    [[nodiscard]] bool process_records();
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
    void end_input(Descriptor& to);
    void end_input(tcp::socket& to);
    void terminate_backend();

    Server& server_;
    tcp::socket socket_;
    Peer peer_;
    std::shared_ptr<const Settings> settings_;
    Account account_;
    twoway::Channel channel_;
    std::vector<std::byte> leftover_;
    twoway::session::SessionServer proto_;
    Condition changed_;
    asio::steady_timer request_timer_;
    asio::steady_timer linger_timer_;
    asio::steady_timer terminate_timer_;
    std::optional<std::chrono::steady_clock::time_point> request_deadline_;
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
