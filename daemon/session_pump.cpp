// The byte pumps between the session protocol and the child (PTY or pipes) or the service connection,
// with flow control in both directions, and the events that concern the child: its exit, signals from
// the client, window changes.
#include <sys/ioctl.h>

#include <algorithm>
#include <csignal>

#include "child.hpp"
#include "log.hpp"
#include "server.hpp"
#include "session.hpp"

namespace twowayd {

namespace {

// One read from the child or the service: a session DATA message's worth, so each read becomes one
// message and one record.
constexpr std::size_t read_chunk = 65536 - 16;
// What a session may always hold per direction, whatever the sessions hold together (MaxBufferTotal): so
// sessions whose clients or programs do not read cannot stall everyone else's.
constexpr std::size_t session_buffer_floor = 32 * 1024;
// With a PTY, output may still be in flight in the terminal when the shell's exit is reported, and a
// background job may keep the terminal open for ever: after the exit, stop at the first pause this long.
constexpr auto pty_drain_pause = std::chrono::milliseconds(500);

}  // namespace

void Session::run_process_pumps() {
    if (pty_) {
        err_eof_ = true;  // a terminal has no separate error stream
        spawn(pump_out(*pty_, Stream::out));
        spawn(pump_in(*pty_));
        return;
    }
    spawn(pump_out(*child_out_, Stream::out));
    spawn(pump_out(*child_err_, Stream::err));
    spawn(pump_in(*child_in_));
}

void Session::run_service_pumps() {
    err_eof_ = true;  // a service has one stream back
    spawn(pump_out(*remote_, Stream::out));
    spawn(pump_in(*remote_));
}

template <class Source>
awaitable<void> Session::pump_out(Source& from, Stream to) {
    // The read buffer exists only while data flows: an idle session (most forwarded connections, most
    // of the time) waits for readability without one, which keeps its memory to a few KiB.
    std::vector<std::byte> buf;
    const bool pty_output = is_pty_ && kind_ == Kind::process;
    for (;;) {
        // Read only what the client can take now and what our buffers may hold: while either is full,
        // the child blocks on a full pipe or terminal (the service on its TCP window), which is the
        // back-pressure we want.
        while (!stopping_ && !close_sent_ && output_room(to) == 0) co_await changed_.wait();
        if (stopping_ || close_sent_) break;
        if (pty_output) {
            pty_read_pending_ = true;
            if (exited_) arm_drain_timer();
        }
        if (buf.empty()) {
            // A failed wait (cancelled, closed) falls through: the read below reports it.
            (void)co_await from.async_wait(Source::wait_read, use_nothrow_awaitable);
        }
        // The room may have changed while we waited for readability. The buffer grows only to what is
        // read (resize() writes every byte of it: a large buffer for small reads would cost its pages).
        const std::size_t want = std::min(read_chunk, std::max<std::size_t>(output_room(to), 1));
        if (buf.size() < want) buf.resize(want);
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf.data(), want), use_nothrow_awaitable);
        if (pty_output) {
            pty_read_pending_ = false;
            drain_timer_.cancel();
        }
        // Hand over everything that was read; the window may have shrunk meanwhile (the other stream
        // used the shared output allowance), so wait for room as needed.
        std::size_t done = 0;
        bool broken = false;
        while (done < n && !stopping_ && !close_sent_) {
            if (proto_.send_capacity(to) == 0) {
                co_await changed_.wait();
                continue;
            }
            auto took = proto_.send_data(to, std::span<const std::byte>(buf.data() + done, n - done));
            if (!took) {
                broken = true;
                break;
            }
            done += *took;
            changed_.notify_all();
        }
        // End of file, EIO from a PTY whose terminal closed, a cancelled drain, a reset: all end the stream.
        if (ec || broken) break;
        if (n < want) buf = {};  // drained for now: wait without the buffer
    }
    if (to == Stream::out) {
        out_eof_ = true;
    } else {
        err_eof_ = true;
    }
    progress();
}

template <class Sink>
awaitable<void> Session::pump_in(Sink& to) {
    for (;;) {
        while (!stopping_ && !input_dead_ && input_.empty() && !input_eof_ &&
               !(owed_input_ > 0 && server_.buffer_room())) {
            co_await changed_.wait();
        }
        if (stopping_ || input_dead_) break;
        if (owed_input_ > 0) {
            pay_owed_input();
            progress();  // the WINDOW_ADJUST goes out
        }
        if (input_.empty() && !input_eof_) continue;
        if (input_.empty()) {
            end_input(to);  // the client's EOF, after everything before it was written
            break;
        }
        const auto& front = input_.front();
        auto [ec, n] = co_await to.async_write_some(
            asio::buffer(front.data() + input_offset_, front.size() - input_offset_), use_nothrow_awaitable);
        if (stopping_ || input_dead_) break;  // input_ may have been discarded meanwhile
        if (ec) {
            // The child closed its input (or exited): the rest can never be delivered. Keep granting
            // window so the client is not stalled, and drop what it sends.
            log_debug("input for ", account_.name, "'s session no longer read: ", ec.message());
            input_dead_ = true;
            discard_input();
            break;
        }
        input_offset_ += n;
        // Credit goes back to the client only for bytes that really left our buffer.
        input_written(n);
        if (input_offset_ == input_.front().size()) {
            input_.pop_front();
            input_offset_ = 0;
        }
        progress();
    }
    progress();
}

void Session::end_input(Descriptor& to) {
    // A PTY gets nothing: like sshd, the client's EOF is not turned into VEOF (the terminal is in the
    // client's raw mode, where ^D travels as a byte). Pipes: the child reads end of file.
    if (pty_ && &to == &*pty_) return;
    std::error_code ec;
    (void)to.close(ec);
}

void Session::end_input(tcp::socket& to) {
    std::error_code ec;
    (void)to.shutdown(tcp::socket::shutdown_send, ec);
    input_shut_ = true;
}

void Session::on_input(std::vector<std::byte> bytes) {
    if (bytes.empty()) return;
    if (input_dead_ || kind_ == Kind::none) {
        (void)proto_.consumed(Stream::in, bytes.size());
        return;
    }
    input_bytes_ += bytes.size();
    input_.push_back(std::move(bytes));
}

void Session::discard_input() {
    // Dropped, not held: the client gets its window back at once, owed credit included.
    const std::size_t n = input_bytes_ + owed_input_;
    input_.clear();
    input_offset_ = 0;
    input_bytes_ = 0;
    owed_input_ = 0;
    if (n > 0) (void)proto_.consumed(Stream::in, n);
}

std::size_t Session::output_room(Stream to) {
    const std::size_t queued = queued_output();
    const std::size_t cap = output_queue_cap(buffer_cap_);
    const std::size_t own = queued < cap ? cap - queued : 0;
    // Of the pool (MaxBufferTotal), what is left; the session's floor whatever is left.
    const std::size_t floor = queued < session_buffer_floor ? session_buffer_floor - queued : 0;
    const std::size_t pool = std::max<std::size_t>(server_.buffer_left(), floor);
    const std::size_t room = std::min({proto_.send_capacity(to), own, pool});
    if (room == 0 && pool == 0) server_.await_buffer_room(this);
    return room;
}

void Session::input_written(std::size_t n) {
    input_bytes_ -= std::min(n, input_bytes_);
    owed_input_ += n;
    pay_owed_input();
    if (owed_input_ > 0) server_.await_buffer_room(this);
}

void Session::pay_owed_input() {
    // Without the window back, the client can send only what it was already granted: while the sessions
    // together hold too much, this session grants back only what keeps it at its floor.
    if (owed_input_ == 0) return;
    if (!server_.buffer_room() && input_bytes_ + owed_input_ > session_buffer_floor) return;
    (void)proto_.consumed(Stream::in, std::exchange(owed_input_, 0));
}

void Session::account() {
    const std::size_t now = queued_output() + input_bytes_;
    if (now == accounted_) return;
    server_.adjust_buffered(static_cast<std::int64_t>(now) - static_cast<std::int64_t>(accounted_));
    accounted_ = now;
}

void Session::on_child_exit(int status) {
    exited_ = true;
    exit_status_ = status;
    if (pty_read_pending_) arm_drain_timer();
    progress();
}

void Session::arm_drain_timer() {
    auto self = shared_from_this();
    drain_timer_.expires_after(pty_drain_pause);
    drain_timer_.async_wait([self](std::error_code ec) {
        if (ec || !self->pty_read_pending_ || !self->pty_) return;
        std::error_code ignored;
        (void)self->pty_->cancel(ignored);
    });
}

void Session::send_signal(std::string_view name) {
    const auto sig = signal_from_name(name);
    if (!sig) {
        log_debug("ignoring signal ", log_safe(name), " from the client");
        return;
    }
    if (kind_ != Kind::process || pid_ <= 0 || exited_) return;  // never signal a reaped (reusable) pid
    // With the account's rights, as sshd: the client can signal only what its account could.
    TemporaryIdentity as_user(account_);
    if (!as_user.ok()) return;
    if (::kill(-pid_, *sig) != 0) log_debug("kill(-", pid_, ", ", name, "): ", errno_text(errno));
}

void Session::resize(const twoway::session::TermSize& size) {
    if (!pty_) return;
    struct winsize ws {};
    auto clamp = [](std::uint32_t v) { return static_cast<unsigned short>(std::min<std::uint32_t>(v, 0xffff)); };
    ws.ws_col = clamp(size.cols);
    ws.ws_row = clamp(size.rows);
    ws.ws_xpixel = clamp(size.width_px);
    ws.ws_ypixel = clamp(size.height_px);
    // The kernel sends SIGWINCH to the terminal's foreground process group.
    if (::ioctl(pty_->native_handle(), TIOCSWINSZ, &ws) != 0) log_debug("TIOCSWINSZ: ", errno_text(errno));
}

}  // namespace twowayd
