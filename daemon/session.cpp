// Session transport: the socket, the channel and the session protocol's events. The request itself is
// started in session_start.cpp; the byte pumps and the child's events are in session_pump.cpp.
#include "session.hpp"

#include <sys/wait.h>

#include <csignal>
#include <limits>

#include <asio/write.hpp>

#include "child.hpp"
#include "log.hpp"
#include "server.hpp"

namespace twowayd {

namespace ts = twoway::session;

namespace {
// The session protocol's options from PerSessionMaxBuffer: the window we grant the client for input is
// the buffer (so input can never exceed it), and the protocol stops taking output at the output queue's.
ts::Options session_options(const Settings& settings) {
    ts::Options o;
    const auto cap = std::min<std::uint64_t>(settings.config.per_session_max_buffer, 0xffffffffU);
    o.window = static_cast<std::uint32_t>(cap);
    o.max_pending_output = std::max<std::size_t>(output_queue_cap(static_cast<std::size_t>(cap)), ts::max_message_size);
    return o;
}

// Once our channel close is on its way, how long we wait for the client's close before closing.
constexpr auto linger_after_close = std::chrono::seconds(5);
// After SIGTERM, how long a child has to exit after SIGHUP before the session is closed without it.
constexpr auto terminate_wait = std::chrono::seconds(3);
}  // namespace

Session::Session(Server& server, std::unique_ptr<Transport> transport, Peer peer, std::shared_ptr<const Settings> settings,
                 Account account,
                 std::optional<std::chrono::steady_clock::time_point> request_deadline,
                 std::optional<std::string> refusal)
    : server_(server),
      transport_(std::move(transport)),
      peer_(std::move(peer)),
      settings_(std::move(settings)),
      account_(std::move(account)),
      proto_(std::move(*ts::SessionServer::create(session_options(*settings_)))),
      changed_(socket().get_executor()),
      request_timer_(socket().get_executor()),
      linger_timer_(socket().get_executor()),
      terminate_timer_(socket().get_executor()),
      request_deadline_(request_deadline),
      refusal_(std::move(refusal)),
      buffer_cap_(static_cast<std::size_t>(settings_->config.per_session_max_buffer)),
      drain_timer_(socket().get_executor()) {}

Session::~Session() {
    server_.forget_buffer_waiter(this);
    server_.adjust_buffered(-static_cast<std::int64_t>(accounted_));
}

void Session::spawn(awaitable<void> task) {
    ++tasks_;
    auto self = shared_from_this();
    asio::co_spawn(socket().get_executor(), std::move(task), [self](std::exception_ptr e) {
        --self->tasks_;
        self->changed_.notify_all();
        if (e) {
            // Coroutines report errors as values; an exception here is a bug (or out of memory).
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_error("session task failed: ", ex.what());
            } catch (...) {
                log_error("session task failed");
            }
            self->stop();
        }
    });
}

awaitable<void> Session::run() {
    auto self = shared_from_this();
    if (request_deadline_) {
        request_timer_.expires_at(*request_deadline_);
        request_timer_.async_wait([self](std::error_code ec) {
            if (ec || self->request_seen_) return;
            log_info("Timeout waiting for a session request from user ", self->account_.name, " ", self->peer_.text());
            self->stop();
        });
    }
    spawn(write_loop());
    co_await read_loop();
    if (proto_.finished() || force_channel_close_) {
        // A clean end, from either side: let our last records (CLOSE, the channel close) leave before
        // closing the socket. The writer ends after them, or on a write error (stop()).
        changed_.notify_all();
        while (!writer_done_ && !stopping_) co_await changed_.wait();
    }
    // Either way nothing more can be delivered: whatever still runs behind the session (a background
    // job holding the terminal, a service that kept its side open) is hung up, and every coroutine of
    // the session ends.
    stop();
    while (tasks_ > 0) co_await changed_.wait();
    request_timer_.cancel();
    linger_timer_.cancel();
    terminate_timer_.cancel();
    drain_timer_.cancel();
    std::error_code ec;
    (void)socket().close(ec);
}

void Session::stop() {
    if (stopping_) return;
    stopping_ = true;
    std::error_code ec;
    (void)socket().close(ec);
    // Closing our ends: a PTY hangs up (the kernel sends SIGHUP to the session), pipes see EOF/EPIPE,
    // the service connection closes. Pending operations end with operation_aborted.
    if (pty_) (void)pty_->close(ec);
    if (child_in_) (void)child_in_->close(ec);
    if (child_out_) (void)child_out_->close(ec);
    if (child_err_) (void)child_err_->close(ec);
    if (remote_) (void)remote_->close(ec);
    changed_.notify_all();
}

void Session::abort() { stop(); }

void Session::fail(const std::string& what) {
    if (!stopping_) log_info(what, " (user ", account_.name, ")");
    stop();
}

awaitable<void> Session::read_loop() {
    // The records that came with the handshake's last message are in the stream already: the first
    // read delivers them. Plaintext is handed to the protocol as a view into the stream's buffer (no
    // copy, no read buffer of our own for an idle session), before anything else touches the stream.
    while (!stopping_) {
        auto [ec, plain] = co_await transport_->async_read_view(std::numeric_limits<std::size_t>::max(), use_nothrow_awaitable);
        if (!plain.empty() && !deliver(plain)) co_return;
        if (ec) {
            if (stopping_) co_return;
            if (ec == asio::error::eof) {
                // The client's authenticated close: the end of its input.
                changed_.notify_all();
            } else if (ec == twoway::errc::truncated) {
                // The client vanished (killed, network gone) without closing the channel.
                fail("Connection closed by " + peer_.text() + " without an authenticated close");
            } else if (ec.category() == twoway::twoway_category()) {
                fail("Bad record from " + peer_.text() + ": " + ec.message());
            } else {
                log_verbose("Read error from ", peer_.text(), ": ", ec.message());
            }
            co_return;
        }
        co_await start_pending();
    }
}

awaitable<void> Session::start_pending() {
    // The start (spawn, connect) runs inline in the read loop: the client may send nothing before our
    // answer, so there is nothing to read meanwhile.
    if (!pending_request_) co_return;
    auto req = std::move(pending_request_);
    if (terminating_) co_return;  // shutting down: the channel is being closed, nothing new starts
    co_await start(*req);
    progress();
}

bool Session::deliver(std::span<const std::byte> bytes) {
    auto events = proto_.feed(bytes);
    if (!events) {
        fail("Protocol error from " + peer_.text() + ": " + events.error().message());
        return false;
    }
    for (auto& ev : *events) handle(ev);
    progress();
    return true;
}

void Session::handle(ts::Event& ev) {
    if (auto* req = std::get_if<ts::RequestReceived>(&ev)) {
        request_seen_ = true;
        request_timer_.cancel();
        pending_request_ = std::make_unique<ts::Request>(std::move(req->request));
    } else if (auto* data = std::get_if<ts::Data>(&ev)) {
        on_input(std::move(data->bytes));
    } else if (std::holds_alternative<ts::Eof>(ev)) {
        input_eof_ = true;
    } else if (auto* wc = std::get_if<ts::WindowChange>(&ev)) {
        resize(wc->size);
    } else if (auto* sig = std::get_if<ts::Signal>(&ev)) {
        send_signal(sig->name);
    } else if (std::holds_alternative<ts::Closed>(ev)) {
        // The client ends the session (our CLOSE answer is queued): hang up whatever is behind it.
        log_debug("session closed by the client ", peer_.text());
        close_sent_ = true;
        hang_up_backend();
    }
    // WindowAdjusted: the pumps re-check the window once notified (progress()).
}

void Session::hang_up_backend() {
    std::error_code ec;
    if (pty_) (void)pty_->close(ec);
    if (child_in_) (void)child_in_->close(ec);
    if (child_out_) (void)child_out_->close(ec);
    if (child_err_) (void)child_err_->close(ec);
    if (remote_) (void)remote_->close(ec);
    input_dead_ = true;
    discard_input();
}

awaitable<void> Session::write_loop() {
    std::vector<std::byte> plain;  // one batch at a time; its storage goes back to the session
    for (;;) {
        while (!stopping_ && proto_.pending_output() == 0 && !(proto_.finished() && !channel_close_sent_) &&
               !(force_channel_close_ && !channel_close_sent_)) {
            co_await changed_.wait();
        }
        if (stopping_) break;
        proto_.take_output(plain);
        const bool close_now = (proto_.finished() || force_channel_close_) && !channel_close_sent_;
        in_flight_ = plain.size();
        account();
        changed_.notify_all();  // the protocol's output cap has room again: the pumps may go on
        std::error_code ec;
        if (close_now) {
            // The last batch and the channel's close record in one write: one segment, one turn less
            // for the client.
            auto [wec, n] = co_await transport_->async_write_last(asio::buffer(plain), use_nothrow_awaitable);
            ec = wec;
            channel_close_sent_ = true;
        } else if (!plain.empty()) {
            // The stream seals and writes it all (a few records per write) before resuming us.
            auto [wec, n] = co_await asio::async_write(*transport_, asio::buffer(plain), use_nothrow_awaitable);
            ec = wec;
        }
        in_flight_ = 0;
        account();
        changed_.notify_all();
        if (ec) {
            if (!stopping_) log_verbose("Write error to ", peer_.text(), ": ", ec.message());
            stop();
            break;
        }
        if (channel_close_sent_) {
            std::error_code sec;
            (void)socket().shutdown(tcp::socket::shutdown_send, sec);
            // The client answers with its own close and FIN; do not wait for it forever.
            auto self = shared_from_this();
            linger_timer_.expires_after(linger_after_close);
            linger_timer_.async_wait([self](std::error_code e) {
                if (!e) self->stop();
            });
            break;
        }
    }
    writer_done_ = true;
    changed_.notify_all();
}

void Session::progress() {
    finish_streams();
    account();
    changed_.notify_all();
}

void Session::finish_streams() {
    if (stopping_ || close_sent_ || !proto_.accepted() || proto_.error()) return;
    // The pumps set out_eof_/err_eof_ only once everything they read has been handed to the protocol.
    if (out_eof_ && !out_eof_sent_) {
        (void)proto_.send_eof(Stream::out);
        out_eof_sent_ = true;
    }
    if (err_eof_ && !err_eof_sent_) {
        (void)proto_.send_eof(Stream::err);
        err_eof_sent_ = true;
    }
    if (!out_eof_sent_ || !err_eof_sent_) return;
    if (kind_ == Kind::process) {
        if (!exited_ && !give_up_exit_) return;
        if (exited_ && !exit_sent_) {
            if (WIFSIGNALED(exit_status_)) {
                const int sig = WTERMSIG(exit_status_);
                log_debug("session of ", account_.name, ": killed by signal ", sig);
                (void)proto_.send_exit_signal(signal_name(sig), WCOREDUMP(exit_status_) != 0);
            } else {
                const int code = WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : 255;
                log_debug("session of ", account_.name, ": exit status ", code);
                (void)proto_.send_exit_status(static_cast<std::uint32_t>(code));
            }
            exit_sent_ = true;
        }
    } else if (kind_ == Kind::service) {
        // Both directions must be over: the service's output ended and the client's input was passed on.
        if (!input_shut_ && !input_dead_) return;
    }
    (void)proto_.close();
    close_sent_ = true;
}

void Session::terminate() {
    if (terminating_) return;
    terminating_ = true;
    if (starting_) return;  // start() calls terminate_backend() once the request has its answer
    terminate_backend();
}

void Session::terminate_backend() {
    if (kind_ == Kind::none) {
        // No request yet (or it is being started): nothing to report, just close the channel.
        force_channel_close_ = true;
        changed_.notify_all();
        return;
    }
    if (kind_ == Kind::service) {
        hang_up_backend();
        out_eof_ = err_eof_ = true;
        progress();
        return;
    }
    if (pid_ > 0 && !exited_) ::kill(-pid_, SIGHUP);
    auto self = shared_from_this();
    terminate_timer_.expires_after(terminate_wait);
    terminate_timer_.async_wait([self](std::error_code ec) {
        if (ec) return;
        // The child ignored SIGHUP: end the session without its exit status.
        self->hang_up_backend();
        self->out_eof_ = self->err_eof_ = true;
        self->give_up_exit_ = true;
        self->progress();
    });
}

}  // namespace twowayd
