#include "session_pump.hpp"

#include <array>
#include <csignal>
#include <deque>
#include <exception>
#include <span>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/signal_set.hpp>
#include <asio/this_coro.hpp>

#include "async.hpp"
#include "escape.hpp"
#include "log.hpp"
#include "terminal.hpp"

namespace twoway_client {

namespace session = twoway::session;
using twoway::errc;

using session::Stream;

namespace {

constexpr std::size_t input_chunk = 128 * 1024;
constexpr auto disconnect_grace = std::chrono::seconds(2);

}  // namespace

class Pump {
public:
    Pump(SecureConnection& c, LocalIo& l, const PumpOptions& o, session::SessionClient sc, asio::any_io_executor ex)
        : conn_(c), local_(l), opt_(o), sc_(std::move(sc)), ex_(ex), wake_writer_(ex), capacity_(ex), done_(ex),
          escape_(o.interactive ? o.escape_char : EscapeFilter::none, static_cast<bool>(o.command_line)), grace_(ex), alive_timer_(ex),
          last_heard_(std::chrono::steady_clock::now()), local_ready_(ex), local_idle_(ex) {}

    asio::awaitable<SessionOutcome> run() {
        if (opt_.interactive) winch_.emplace(ex_, SIGWINCH);  // before anything can stop() us
        spawn(&Pump::reader);
        spawn(&Pump::local_writer);
        spawn(&Pump::writer);
        if (winch_) spawn(&Pump::window_changes);
        if (opt_.alive_interval > 0) spawn(&Pump::alive);
        if (opt_.control) opt_.control->close_ = [this] { close_from_outside(); };
        while (running_ > 0) co_await done_.wait();
        if (opt_.control) opt_.control->close_ = nullptr;
        if (error_) std::rethrow_exception(error_);
        co_return outcome_;
    }

private:
    void spawn(asio::awaitable<void> (Pump::*fn)()) {
        ++running_;
        asio::co_spawn(ex_, (this->*fn)(), [this](std::exception_ptr e) {
            if (e && !error_) {
                error_ = e;
                stop();
            }
            if (--running_ == 0) done_.notify();
        });
    }

    // The session is over (or failed): no more input, wake everyone so they can finish.
    void stop() {
        if (stopping_) return;
        stopping_ = true;
        local_.cancel();
        if (winch_) {
            std::error_code ignored;
            winch_->cancel(ignored);
        }
        grace_.cancel();
        alive_timer_.cancel();
        local_ready_.notify();
        local_idle_.notify();
        wake_writer_.notify();
        capacity_.notify();
    }

    void failed(const std::string& message) {
        if (!outcome_.failed && !outcome_.disconnected) log::line(message);
        outcome_.failed = true;
        stop();
    }

    // Reads the connection without pause, so the server's PINGs are answered and its CLOSE seen however
    // slowly our local side takes the data: what it has not taken yet waits in local_queue_, which the
    // window bounds (credit goes back only once local_writer has written the bytes).
    asio::awaitable<void> reader() {
        for (;;) {
            auto r = co_await conn_.read();
            if (stopping_) co_return;
            if (!r) {
                co_await drain_local();  // what did arrive is shown before the failure is reported
                co_return failed(conn_.describe(r.error()));
            }
            // Any bytes from the server show it is alive: the count starts again (as ssh's, at the receipt:
            // a check that runs late must not count the interval in which the answer came).
            last_heard_ = std::chrono::steady_clock::now();
            silent_intervals_ = 0;
            if (r->closed) {
                co_await drain_local();
                co_return failed(conn_.describe(errc::truncated));
            }
            auto events = sc_.feed(r->data);
            if (!events) {
                co_await drain_local();
                co_return failed("twoway: connection to " + conn_.host() + ": session protocol error: " +
                                 events.error().message());
            }
            wake_writer_.notify();
            for (auto& ev : *events) {
                if (auto* d = std::get_if<session::Data>(&ev)) {
                    local_queue_.push_back(LocalItem{d->stream, std::move(d->bytes), false});
                    local_ready_.notify();
                } else if (std::holds_alternative<session::Accepted>(ev)) {
                    log::debug(2, "session accepted");
                    co_await local_.accepted();
                    // A resize while the request was on its way is not lost.
                    if (opt_.interactive) send_window_size(sc_.request().pty ? &sc_.request().pty->size : nullptr);
                    spawn(&Pump::input);
                } else if (auto* hk = std::get_if<session::HostKeysAnnounced>(&ev)) {
                    if (opt_.on_host_keys) {
                        opt_.on_host_keys(*hk);
                    } else {
                        log::debug(2, "server announced " + std::to_string(hk->keys.size()) + " host keys; not used here");
                    }
                } else if (auto* rj = std::get_if<session::Rejected>(&ev)) {
                    outcome_.rejected = *rj;
                } else if (auto* e = std::get_if<session::Eof>(&ev)) {
                    log::debug(2, std::string("remote end of ") + (e->stream == Stream::out ? "stdout" : "stderr"));
                    local_queue_.push_back(LocalItem{e->stream, {}, true});  // after the stream's data
                    local_ready_.notify();
                } else if (std::holds_alternative<session::WindowAdjusted>(ev)) {
                    capacity_.notify();
                } else if (auto* x = std::get_if<session::ExitStatus>(&ev)) {
                    log::debug(1, "Exit status " + std::to_string(x->status));
                    outcome_.exit_status = x->status;
                } else if (auto* sg = std::get_if<session::ExitSignal>(&ev)) {
                    log::debug(1, "Exit signal " + sg->name);
                    outcome_.exit_signal = *sg;
                } else if (std::holds_alternative<session::Closed>(ev)) {
                    outcome_.closed = true;
                }
            }
            if (sc_.finished()) {
                co_await drain_local();  // everything received reaches the local side first
                stop();
                co_return;
            }
        }
    }

    // Waits until local_writer has written everything queued (or we stop).
    asio::awaitable<void> drain_local() {
        while (!stopping_ && (local_busy_ || !local_queue_.empty())) co_await local_idle_.wait();
    }

    // Received data -> the local side, in order, each stream's end after its data; credit goes back to
    // the server as the bytes are written.
    asio::awaitable<void> local_writer() {
        std::array<bool, 3> broken{};  // a local stream we could not write to: its data is dropped
        for (;;) {
            while (!stopping_ && local_queue_.empty()) co_await local_ready_.wait();
            if (stopping_) co_return;
            LocalItem item = std::move(local_queue_.front());
            local_queue_.pop_front();
            local_busy_ = true;
            if (item.eof) {
                local_.end_of(item.stream);
            } else {
                const auto i = static_cast<std::size_t>(item.stream);
                if (!broken[i]) {
                    auto ec = co_await local_.write(item.stream, item.bytes);
                    if (ec) {
                        broken[i] = true;
                        if (item.stream == Stream::out) {
                            // Nobody reads our output any more (`twoway host yes | head -1`): end the
                            // session, as the reader of a local pipe would end the writer.
                            log::debug(1, "local write failed: " + ec.message() + "; closing the session");
                            if (sc_.close()) wake_writer_.notify();
                        } else {
                            log::debug(1, "local write failed: " + ec.message() + "; dropping the rest of stderr");
                        }
                    }
                    if (stopping_) co_return;
                }
                if (auto s = sc_.consumed(item.stream, item.bytes.size()); !s) {
                    co_return failed("twoway: session: " + s.error().message());
                }
                wake_writer_.notify();
            }
            local_busy_ = false;
            local_idle_.notify();
        }
    }

    asio::awaitable<void> writer() {
        std::vector<std::byte> out;  // one batch at a time; its storage goes back to the session
        for (;;) {
            if (outcome_.failed) co_return;
            sc_.take_output(out);
            if (!out.empty()) {
                if (auto s = co_await conn_.write(out); !s) co_return failed(conn_.describe(s.error()));
                capacity_.notify();
                continue;
            }
            if (stopping_) co_return;
            co_await wake_writer_.wait();
        }
    }

    asio::awaitable<void> input() {
        std::vector<std::byte> buf(input_chunk);
        std::vector<std::byte> filtered;       // interactive: what the escape filter let through
        std::span<const std::byte> pending;    // still to send: a view into buf or into filtered
        for (;;) {
            // Bulk input is framed straight from the read buffer: no copy into a queue, no moving
            // the rest to the front after each frame.
            while (!pending.empty()) {
                if (stopping_) co_return;
                auto took = sc_.send_data(Stream::in, pending);
                if (!took) co_return;  // the session no longer takes input (closing)
                pending = pending.subspan(*took);
                if (*took > 0) wake_writer_.notify();
                if (!pending.empty()) co_await capacity_.wait();
            }
            // Read only what can go out at once, so a slow remote holds back the local writer.
            while (!stopping_ && sc_.send_capacity(Stream::in) == 0) co_await capacity_.wait();
            if (stopping_) co_return;
            const std::size_t want = std::min(buf.size(), sc_.send_capacity(Stream::in));
            auto [ec, n] = co_await local_.read(std::span(buf).first(want));
            if (stopping_) co_return;
            if (ec || n == 0) {
                if (ec && ec != asio::error::eof) log::debug(1, "local input: " + ec.message());
                log::debug(2, "local end of input: sending EOF");
                if (sc_.send_eof(Stream::in)) wake_writer_.notify();
                co_return;
            }
            const auto got = std::span<const std::byte>(buf).first(n);
            if (!opt_.interactive) {
                pending = got;  // buf is not read into again before pending is sent
                continue;
            }
            EscapeFilter::Output out;
            escape_.filter(got, out);
            filtered = std::move(out.bytes);
            pending = filtered;
            if (!out.echo.empty()) log::write_all(STDERR_FILENO, out.echo);  // the ~C line, typed in raw mode
            std::size_t line = 0;
            for (auto cmd : out.commands) {
                switch (cmd) {
                    case EscapeFilter::Command::disconnect: disconnect(pending); co_return;
                    case EscapeFilter::Command::help: log::block(escape_.help()); break;
                    case EscapeFilter::Command::suspend: suspend(); break;
                    case EscapeFilter::Command::command_line: {
                        const std::string& text = out.lines.at(line++);
                        const std::string reply = opt_.command_line ? opt_.command_line(text)
                                                                    : std::string("commandline disabled");
                        if (!reply.empty()) log::block(reply);
                        break;
                    }
                }
            }
        }
    }

    // ssh's server_alive_check: after each interval in which nothing came from the server, one more PING;
    // anything arriving resets the count; the silent interval that takes it above ServerAliveCountMax
    // gives up (with ServerAliveCountMax 0, the first one, as ssh).
    asio::awaitable<void> alive() {
        const auto interval = std::chrono::seconds(opt_.alive_interval);
        auto due = last_heard_ + interval;
        while (!stopping_) {
            alive_timer_.expires_at(due);
            auto [ec] = co_await alive_timer_.async_wait(use_nothrow_awaitable);
            if (ec || stopping_) co_return;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_heard_ < interval) {
                due = last_heard_ + interval;
                continue;
            }
            if (++silent_intervals_ > opt_.alive_count_max) {
                failed("Timeout, server " + conn_.host() + " not responding.");
                conn_.abort();  // the reader and writer wait on a server that will not answer
                co_return;
            }
            if (sc_.send_ping()) {
                log::debug(1, "keep-alive PING to the server (" + std::to_string(silent_intervals_) + " unanswered)");
                wake_writer_.notify();
            }
            due = now + interval;
        }
    }

    // ~. : what was typed before goes out, then CLOSE; the connection is dropped if the server does not
    // answer in time.
    void disconnect(std::span<const std::byte> before) {
        outcome_.disconnected = true;
        if (!before.empty()) (void)sc_.send_data(Stream::in, before);
        (void)sc_.close();
        wake_writer_.notify();
        spawn(&Pump::grace);
    }

    asio::awaitable<void> grace() {
        if (stopping_) co_return;
        grace_.expires_after(disconnect_grace);
        auto [ec] = co_await grace_.async_wait(use_nothrow_awaitable);
        if (!ec && !stopping_) {
            conn_.abort();
            stop();
        }
    }

    // SessionControl::close(): as ~. (an end asked for, not reported as a failure); before ACCEPT, when
    // CLOSE cannot be sent yet, the connection is dropped at once.
    void close_from_outside() {
        if (stopping_ || outcome_.disconnected) return;
        outcome_.disconnected = true;
        if (sc_.close()) {
            wake_writer_.notify();
            spawn(&Pump::grace);
            return;
        }
        conn_.abort();
        stop();
    }

    // ~^Z : the terminal and descriptors as the shell expects them while we are stopped.
    void suspend() {
        log::line("^Z [suspend twoway]");
        std::array<int, 3> flags{};
        for (int fd = 0; fd < 3; ++fd) flags[static_cast<std::size_t>(fd)] = ::fcntl(fd, F_GETFL);
        terminal::restore_all();
        (void)::kill(::getpid(), SIGTSTP);
        for (int fd = 0; fd < 3; ++fd) {
            if (flags[static_cast<std::size_t>(fd)] >= 0) (void)::fcntl(fd, F_SETFL, flags[static_cast<std::size_t>(fd)]);
        }
        (void)terminal::enter_raw_mode();
        send_window_size();
    }

    // Sends the terminal's size, unless it equals `unless`.
    void send_window_size(const session::TermSize* unless = nullptr) {
        auto ws = terminal::window_size(STDIN_FILENO);
        if (!ws || ws->cols == 0 || ws->rows == 0) return;  // a terminal that does not know its size
        const session::TermSize size{ws->cols, ws->rows, ws->width_px, ws->height_px};
        if (unless != nullptr && *unless == size) return;
        if (sc_.send_window_change(size)) {
            log::debug(2, "window change " + std::to_string(size.cols) + "x" + std::to_string(size.rows));
            wake_writer_.notify();
        }
    }

    asio::awaitable<void> window_changes() {
        while (!stopping_) {
            auto [ec, sig] = co_await winch_->async_wait(use_nothrow_awaitable);
            (void)sig;
            if (ec || stopping_) co_return;
            if (sc_.accepted()) send_window_size();
        }
    }

    SecureConnection& conn_;
    LocalIo& local_;
    PumpOptions opt_;
    session::SessionClient sc_;
    asio::any_io_executor ex_;
    Notifier wake_writer_;
    Notifier capacity_;
    Notifier done_;
    EscapeFilter escape_;
    asio::steady_timer grace_;
    std::optional<asio::signal_set> winch_;
    asio::steady_timer alive_timer_;
    std::chrono::steady_clock::time_point last_heard_;  // the server's latest bytes (or the session's start)
    std::uint32_t silent_intervals_ = 0;
    // Received, not yet written locally (at most the windows we granted: out and err's).
    struct LocalItem {
        Stream stream = Stream::out;
        std::vector<std::byte> bytes;
        bool eof = false;  // the stream's end, after its data
    };
    std::deque<LocalItem> local_queue_;
    bool local_busy_ = false;  // local_writer holds an item it took from the queue
    Notifier local_ready_;     // local_writer: the queue has items (or we stop)
    Notifier local_idle_;      // reader: local_writer finished an item
    int running_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
    SessionOutcome outcome_;
};


asio::awaitable<SessionOutcome> run_session(SecureConnection& connection, const session::Request& request,
                                            LocalIo& local, const PumpOptions& options) {
    auto sc = session::SessionClient::start(request);
    if (!sc) {
        log::error("cannot start the session: " + sc.error().message());
        SessionOutcome o;
        o.failed = true;
        co_return o;
    }
    // Every connection's client_hello carries host_keys (transport.cpp), so HOSTKEYS may follow ACCEPT.
    (void)sc->allow_host_keys();
    auto ex = co_await asio::this_coro::executor;
    Pump pump(connection, local, options, std::move(*sc), ex);
    co_return co_await pump.run();
}

std::string reject_reason(const session::Rejected& r) {
    std::string why;
    switch (r.code) {
        case session::reject::prohibited: why = "administratively prohibited"; break;
        case session::reject::unknown_service: why = "unknown service"; break;
        case session::reject::start_failed: why = "could not start"; break;
        case session::reject::pty_failed: why = "no pseudo-terminal available"; break;
        case session::reject::resource_shortage: why = "resource shortage"; break;
        default: why = "refused (code " + std::to_string(r.code) + ")"; break;
    }
    if (!r.text.empty()) why += ": " + log::untrusted(r.text);  // the server's words: escaped
    return why;
}

}  // namespace twoway_client
