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
                 Account account, ConnectionConfig config, SessionPolicy key_policy,
                 std::optional<std::chrono::steady_clock::time_point> request_deadline,
                 std::optional<std::string> refusal)
    : server_(server),
      transport_(std::move(transport)),
      peer_(std::move(peer)),
      settings_(std::move(settings)),
      account_(std::move(account)),
      config_(std::move(config)),
      proto_(std::move(*ts::SessionServer::create(session_options(*settings_)))),
      changed_(socket().get_executor()),
      request_timer_(socket().get_executor()),
      linger_timer_(socket().get_executor()),
      alive_timer_(socket().get_executor()),
      last_heard_(std::chrono::steady_clock::now()),
      request_deadline_(request_deadline),
      refusal_(std::move(refusal)),
      key_policy_(std::move(key_policy)),
      buffer_cap_(static_cast<std::size_t>(settings_->config.per_session_max_buffer)) {}

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
            // Cancelled once the request came; a completion queued before that finds it in the phase.
            const auto& phase = self->phase_;
            if (ec || std::holds_alternative<Requested>(phase) || std::holds_alternative<Starting>(phase) ||
                std::holds_alternative<Answered>(phase) || std::holds_alternative<Closing>(phase)) {
                return;
            }
            log_info("Timeout waiting for a session request from user ", self->account_.name, " ", self->peer_.text());
            self->stop();
        });
    }
    spawn(write_loop());
    if (config_.client_alive_interval > 0) spawn(alive_loop());
    co_await read_loop();
    if (channel_close_due()) {
        // A clean end, from either side: let our last records (CLOSE, the channel close) leave before
        // closing the socket. The writer ends after them (Lingering), or on a write error (stop()).
        changed_.notify_all();
        while (!std::holds_alternative<Lingering>(phase_) && !stopped()) co_await changed_.wait();
    }
    // Either way nothing more can be delivered: whatever still runs behind the session (a background
    // job holding the terminal, a service that kept its side open) is hung up, and every coroutine of
    // the session ends.
    stop();
    while (tasks_ > 0) co_await changed_.wait();
    request_timer_.cancel();
    linger_timer_.cancel();
    alive_timer_.cancel();
    if (auto* p = process()) {
        p->hang_up.cancel();
        if (auto* t = terminal()) t->drain.cancel();
    }
    std::error_code ec;
    (void)socket().close(ec);
}

void Session::stop() {
    if (stopped()) return;
    phase_ = Stopped{};
    std::error_code ec;
    (void)socket().close(ec);
    alive_timer_.cancel();
    close_backend();
    changed_.notify_all();
}

void Session::close_backend() {
    // Closing our ends: a PTY hangs up (the kernel sends SIGHUP to the session), pipes see EOF/EPIPE,
    // the service connection closes. Pending operations end with operation_aborted.
    std::error_code ec;
    if (auto* p = process()) {
        if (auto* t = std::get_if<Terminal>(&p->io)) {
            (void)t->master.close(ec);
        } else if (auto* pipes = std::get_if<Pipes>(&p->io)) {
            (void)pipes->in.close(ec);
            (void)pipes->out.close(ec);
            (void)pipes->err.close(ec);
        }
    } else if (auto* svc = service()) {
        (void)svc->socket.close(ec);
        stop_connector(*svc);
    } else if (auto* l = listener()) {
        // No more connections; those announced and not picked up close too.
        (void)l->acceptor.close(ec);
        server_.pickups().drop_listener(l->id);
    }
}

Session::Terminal* Session::terminal() noexcept {
    auto* p = process();
    return p != nullptr ? std::get_if<Terminal>(&p->io) : nullptr;
}

void Session::end_output(Stream s) noexcept {
    // Once: an EOF already sent stays sent.
    if (auto& o = output(s); o == Output::open) o = Output::ended;
}

void Session::abort() { stop(); }

void Session::fail(const std::string& what) {
    if (!stopped()) log_info(what, " (user ", account_.name, ")");
    stop();
}

awaitable<void> Session::read_loop() {
    // The records that came with the handshake's last message are in the stream already: the first
    // read delivers them. Plaintext is handed to the protocol as a view into the stream's buffer (no
    // copy, no read buffer of our own for an idle session), before anything else touches the stream.
    while (!stopped()) {
        auto [ec, plain] = co_await transport_->async_read_view(std::numeric_limits<std::size_t>::max(), use_nothrow_awaitable);
        // Any bytes from the client are a sign of life (as sshd counts any packet), a PONG or not.
        // The count starts again at the receipt (a check that runs late must not count the interval in
        // which the answer came).
        if (!plain.empty()) {
            last_heard_ = std::chrono::steady_clock::now();
            silent_intervals_ = 0;
        }
        if (!plain.empty() && !deliver(plain)) co_return;
        if (ec) {
            if (stopped()) co_return;
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
    // Not after terminate(): the channel is being closed (ClosingChannel), nothing new starts.
    auto* requested = std::get_if<Requested>(&phase_);
    if (requested == nullptr) co_return;
    const Request req = std::move(requested->request);
    phase_ = Starting{};
    co_await start(req);
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
        request_timer_.cancel();
        // One request per session (the protocol's rule): after terminate() it is not started.
        if (std::holds_alternative<AwaitingRequest>(phase_)) phase_ = Requested{std::move(req->request)};
    } else if (auto* data = std::get_if<ts::Data>(&ev)) {
        on_input(std::move(data->bytes));
    } else if (std::holds_alternative<ts::Eof>(ev)) {
        input_.end();
    } else if (auto* wc = std::get_if<ts::WindowChange>(&ev)) {
        resize(wc->size);
    } else if (auto* sig = std::get_if<ts::Signal>(&ev)) {
        send_signal(sig->name);
    } else if (std::holds_alternative<ts::Closed>(ev)) {
        // The client ends the session (our CLOSE answer is queued): hang up whatever is behind it.
        log_debug("session closed by the client ", peer_.text());
        if (!stopped()) phase_ = Closing{};
        hang_up_backend();
    }
    // WindowAdjusted: the pumps re-check the window once notified (progress()).
}

awaitable<void> Session::alive_loop() {
    // sshd's client_alive_check: after each interval in which nothing arrived, one more PING; anything
    // arriving resets the count; the silent interval that takes it above CountMax ends the connection.
    // Whether a program runs or not, and whatever our output queue holds: a stopped client (SIGSTOP,
    // a frozen host) keeps its TCP connection open but sends nothing, and only this notices.
    const auto interval = std::chrono::seconds(config_.client_alive_interval);
    const std::uint32_t count_max = config_.client_alive_count_max;
    auto due = last_heard_ + interval;
    for (;;) {
        alive_timer_.expires_at(due);
        auto [ec] = co_await alive_timer_.async_wait(use_nothrow_awaitable);
        // Cancelled by stop(); once our channel close is written, linger_timer_ bounds the rest.
        if (ec || stopped() || std::holds_alternative<Lingering>(phase_)) co_return;
        const auto now = std::chrono::steady_clock::now();
        if (std::holds_alternative<Starting>(phase_)) {
            // The start runs inline in the read loop: nothing is read meanwhile, so silence says nothing.
            last_heard_ = now;
            silent_intervals_ = 0;
        }
        if (now - last_heard_ < interval) {
            due = last_heard_ + interval;
            continue;
        }
        // ClientAliveCountMax 0: PINGs, but never a drop (sshd since 8.2).
        if (count_max > 0 && ++silent_intervals_ > count_max) {
            log_info("Timeout, client not responding from user ", account_.name, " ", peer_.text());
            stop();
            co_return;
        }
        // Refused after our CLOSE or REJECT: then the count alone decides.
        if (proto_.send_ping()) {
            log_debug("keep-alive PING to ", peer_.text(), " (", silent_intervals_, " unanswered)");
            changed_.notify_all();
        }
        due = now + interval;
    }
}

void Session::hang_up_backend() {
    close_backend();
    discard_input();
}

awaitable<void> Session::write_loop() {
    std::vector<std::byte> plain;  // one batch at a time; its storage goes back to the session
    for (;;) {
        // The loop ends once the channel close is written: it is never sent twice.
        while (!stopped() && proto_.pending_output() == 0 && !channel_close_due()) co_await changed_.wait();
        if (stopped()) break;
        proto_.take_output(plain);
        const bool close_now = channel_close_due();
        in_flight_ = plain.size();
        account();
        changed_.notify_all();  // the protocol's output cap has room again: the pumps may go on
        std::error_code ec;
        if (close_now) {
            // The last batch and the channel's close record in one write: one segment, one turn less
            // for the client.
            auto [wec, n] = co_await transport_->async_write_last(asio::buffer(plain), use_nothrow_awaitable);
            ec = wec;
        } else if (!plain.empty()) {
            // The stream seals and writes it all (a few records per write) before resuming us.
            auto [wec, n] = co_await asio::async_write(*transport_, asio::buffer(plain), use_nothrow_awaitable);
            ec = wec;
        }
        in_flight_ = 0;
        account();
        changed_.notify_all();
        if (ec) {
            if (!stopped()) log_verbose("Write error to ", peer_.text(), ": ", ec.message());
            stop();
            break;
        }
        if (close_now) {
            if (!stopped()) phase_ = Lingering{};
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
    changed_.notify_all();
}

void Session::progress() {
    finish_streams();
    account();
    changed_.notify_all();
}

void Session::finish_streams() {
    // Only while the answer was an acceptance and our CLOSE is not queued yet (Closing).
    if (!std::holds_alternative<Answered>(phase_) || !proto_.accepted() || proto_.error()) return;
    // The pumps end a stream only once everything they read has been handed to the protocol.
    for (const Stream s : {Stream::out, Stream::err}) {
        if (output(s) == Output::ended) {
            (void)proto_.send_eof(s);
            output(s) = Output::eof_sent;
        }
    }
    if (out_ != Output::eof_sent || err_ != Output::eof_sent) return;
    if (auto* p = process()) {
        if (!p->exit_status && !p->abandoned) return;
        // The exit goes out right before CLOSE, so once only.
        if (p->exit_status) {
            const int status = *p->exit_status;
            if (WIFSIGNALED(status)) {
                const int sig = WTERMSIG(status);
                log_debug("session of ", account_.name, ": killed by signal ", sig);
                (void)proto_.send_exit_signal(signal_name(sig), WCOREDUMP(status) != 0);
            } else {
                const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
                log_debug("session of ", account_.name, ": exit status ", code);
                (void)proto_.send_exit_status(static_cast<std::uint32_t>(code));
            }
        }
    } else if (auto* svc = service()) {
        // Both directions must be over: the service's output ended and the client's input was passed on.
        if (!svc->input_shut && !input_.dead()) return;
    }
    (void)proto_.close();
    phase_ = Closing{};
}

void Session::terminate() {
    if (std::exchange(terminating_, true)) return;
    if (std::holds_alternative<Starting>(phase_)) return;  // start() calls terminate_backend() once answered
    terminate_backend();
}

void Session::terminate_backend() {
    if (std::holds_alternative<std::monostate>(backend_)) {
        // No request yet, a pending one (dropped), or a refused one: nothing to report, just close the
        // channel.
        if (std::holds_alternative<AwaitingRequest>(phase_) || std::holds_alternative<Requested>(phase_) ||
            std::holds_alternative<Answered>(phase_)) {
            phase_ = ClosingChannel{};
        }
        changed_.notify_all();
        return;
    }
    if (service() != nullptr || listener() != nullptr) {
        hang_up_backend();
        end_output(Stream::out);
        end_output(Stream::err);
        progress();
        return;
    }
    auto& p = *process();
    if (p.pid > 0 && !p.exit_status) ::kill(-p.pid, SIGHUP);
    auto self = shared_from_this();
    p.hang_up.expires_after(terminate_wait);
    p.hang_up.async_wait([self](std::error_code ec) {
        if (ec) return;
        // The child ignored SIGHUP: end the session without its exit status.
        self->hang_up_backend();
        self->end_output(Stream::out);
        self->end_output(Stream::err);
        self->process()->abandoned = true;
        self->progress();
    });
}

}  // namespace twowayd
