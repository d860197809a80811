// The byte pumps between the session protocol and the child (PTY or pipes) or the service connection,
// with flow control in both directions, and the events that concern the child: its exit, signals from
// the client, window changes.
#include <sys/ioctl.h>

#include <algorithm>
#include <csignal>

#include "child.hpp"
#include "log.hpp"
#include "passwd_serve.hpp"
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

// The pumps hold references into backend_: it is set once per session and outlives them (run() waits).
void Session::run_process_pumps() {
    auto& io = process()->io;
    if (auto* t = std::get_if<Terminal>(&io)) {
        end_output(Stream::err);  // a terminal has no separate error stream
        spawn(pump_out(t->master, Stream::out));
        spawn(pump_in(t->master));
        return;
    }
    auto& pipes = std::get<Pipes>(io);
    spawn(pump_out(pipes.out, Stream::out));
    spawn(pump_out(pipes.err, Stream::err));
    spawn(pump_in(pipes.in));
}

void Session::run_service_pumps() {
    end_output(Stream::err);  // a service has one stream back
    auto& svc = *service();
    spawn(pump_out(svc.socket, Stream::out));
    spawn(pump_in(svc.socket));
}

template <class Source>
awaitable<void> Session::pump_out(Source& from, Stream to) {
    // The read buffer exists only while data flows: an idle session (most forwarded connections, most
    // of the time) waits for readability without one, which keeps its memory to a few KiB.
    std::vector<std::byte> buf;
    // A terminal's output: its read state tells the drain timer (arm_drain_timer) when a read may be cut.
    Terminal* const term = terminal();
    for (;;) {
        // Read only what the client can take now and what our buffers may hold: while either is full,
        // the child blocks on a full pipe or terminal (the service on its TCP window), which is the
        // back-pressure we want.
        while (!output_over() && output_room(to) == 0) co_await changed_.wait();
        if (output_over()) break;
        if (term != nullptr) {
            term->read = Terminal::Read::waiting;
            if (process()->exit_status) arm_drain_timer();
        }
        if (buf.empty()) {
            // A failed wait (cancelled, closed) falls through: the read below reports it.
            (void)co_await from.async_wait(Source::wait_read, use_nothrow_awaitable);
            // Cut after the shell exited: the read would only wait again (the terminal is still open).
            if (term != nullptr && term->read == Terminal::Read::cut) break;
        }
        // The room may have changed while we waited for readability. The buffer grows only to what is
        // read (resize() writes every byte of it: a large buffer for small reads would cost its pages).
        const std::size_t want = std::min(read_chunk, std::max<std::size_t>(output_room(to), 1));
        if (buf.size() < want) buf.resize(want);
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf.data(), want), use_nothrow_awaitable);
        if (term != nullptr) {
            term->read = Terminal::Read::idle;
            term->drain.cancel();
        }
        // Hand over everything that was read; the window may have shrunk meanwhile (the other stream
        // used the shared output allowance), so wait for room as needed.
        std::size_t done = 0;
        bool broken = false;
        while (done < n && !output_over()) {
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
    end_output(to);
    progress();
}

template <class Sink>
awaitable<void> Session::pump_in(Sink& to) {
    for (;;) {
        while (!stopped() && !input_.dead() && input_.empty() && !input_.eof() &&
               !(input_.owed() > 0 && server_.buffer_room())) {
            co_await changed_.wait();
        }
        if (stopped() || input_.dead()) break;
        if (input_.owed() > 0) {
            pay_owed_input();
            progress();  // the WINDOW_ADJUST goes out
        }
        if (input_.empty() && !input_.eof()) continue;
        if (input_.empty()) {
            end_input(to);  // the client's EOF, after everything before it was written
            break;
        }
        const auto front = input_.front();
        auto [ec, n] = co_await to.async_write_some(asio::buffer(front.data(), front.size()), use_nothrow_awaitable);
        if (stopped() || input_.dead()) break;  // the input may have been discarded meanwhile
        if (ec) {
            // The child closed its input (or exited): the rest can never be delivered. Keep granting
            // window so the client is not stalled, and drop what it sends.
            log_debug("input for ", account_.name, "'s session no longer read: ", ec.message());
            discard_input();
            break;
        }
        // Credit goes back to the client only for bytes that really left our buffer.
        input_written(n);
        progress();
    }
    progress();
}

void Session::end_input(Descriptor& to) {
    // A PTY gets nothing: like sshd, the client's EOF is not turned into VEOF (the terminal is in the
    // client's raw mode, where ^D travels as a byte). Pipes: the child reads end of file.
    if (terminal() != nullptr) return;
    std::error_code ec;
    (void)to.close(ec);
}

void Session::end_input(tcp::socket& to) {
    std::error_code ec;
    (void)to.shutdown(tcp::socket::shutdown_send, ec);
    service()->input_shut = true;
}

void Session::on_input(std::vector<std::byte> bytes) {
    if (bytes.empty()) return;
    // A listener reads nothing from the client: what comes is dropped (and granted back) at once.
    if (input_.dead() || std::holds_alternative<std::monostate>(backend_) || listener() != nullptr) {
        (void)proto_.consumed(Stream::in, bytes.size());
        return;
    }
    input_.push(std::move(bytes));
}

void Session::discard_input() {
    // Dropped, not held: the client gets its window back at once, owed credit included.
    if (const std::size_t n = input_.kill(); n > 0) (void)proto_.consumed(Stream::in, n);
}

void Session::InputQueue::push(std::vector<std::byte> bytes) {
    bytes_ += bytes.size();
    chunks_.push_back(std::move(bytes));
}

std::span<const std::byte> Session::InputQueue::front() const noexcept {
    return std::span<const std::byte>(chunks_.front()).subspan(offset_);
}

void Session::InputQueue::written(std::size_t n) noexcept {
    offset_ += n;
    bytes_ -= std::min(n, bytes_);
    owed_ += n;
    if (offset_ == chunks_.front().size()) {
        chunks_.pop_front();
        offset_ = 0;
    }
}

std::size_t Session::InputQueue::kill() noexcept {
    dead_ = true;
    const std::size_t n = bytes_ + std::exchange(owed_, 0);
    chunks_.clear();
    offset_ = 0;
    bytes_ = 0;
    return n;
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
    input_.written(n);
    pay_owed_input();
    if (input_.owed() > 0) server_.await_buffer_room(this);
}

void Session::pay_owed_input() {
    // Without the window back, the client can send only what it was already granted: while the sessions
    // together hold too much, this session grants back only what keeps it at its floor.
    if (input_.owed() == 0) return;
    if (!server_.buffer_room() && input_.bytes() + input_.owed() > session_buffer_floor) return;
    (void)proto_.consumed(Stream::in, input_.take_owed());
}

void Session::account() {
    const std::size_t now = queued_output() + input_.bytes();
    if (now == accounted_) return;
    server_.adjust_buffered(static_cast<std::int64_t>(now) - static_cast<std::int64_t>(accounted_));
    accounted_ = now;
}

void Session::on_child_exit(int status) {
    auto* p = process();
    if (p == nullptr) return;
    p->exit_status = status;
    if (p->passwd) log_info(passwd_serve_outcome(status, account_.name, peer_.text()));
    if (auto* t = terminal(); t != nullptr && t->read == Terminal::Read::waiting) arm_drain_timer();
    progress();
}

void Session::arm_drain_timer() {
    auto* t = terminal();
    if (t == nullptr) return;
    auto self = shared_from_this();
    t->drain.expires_after(pty_drain_pause);
    t->drain.async_wait([self](std::error_code ec) {
        auto* term = self->terminal();
        if (ec || term == nullptr || term->read != Terminal::Read::waiting) return;
        term->read = Terminal::Read::cut;
        std::error_code ignored;
        (void)term->master.cancel(ignored);
    });
}

void Session::send_signal(std::string_view name) {
    const auto sig = signal_from_name(name);
    if (!sig) {
        log_debug("ignoring signal ", log_safe(name), " from the client");
        return;
    }
    const auto* p = process();
    if (p == nullptr || p->pid <= 0 || p->exit_status) return;  // never signal a reaped (reusable) pid
    // With the account's rights, as sshd: the client can signal only what its account could.
    TemporaryIdentity as_user(account_);
    if (!as_user.ok()) return;
    if (::kill(-p->pid, *sig) != 0) log_debug("kill(-", p->pid, ", ", name, "): ", errno_text(errno));
}

void Session::resize(const twoway::session::TermSize& size) {
    auto* t = terminal();
    if (t == nullptr) return;
    struct winsize ws {};
    auto clamp = [](std::uint32_t v) { return static_cast<unsigned short>(std::min<std::uint32_t>(v, 0xffff)); };
    ws.ws_col = clamp(size.cols);
    ws.ws_row = clamp(size.rows);
    ws.ws_xpixel = clamp(size.width_px);
    ws.ws_ypixel = clamp(size.height_px);
    // The kernel sends SIGWINCH to the terminal's foreground process group.
    if (::ioctl(t->master.native_handle(), TIOCSWINSZ, &ws) != 0) log_debug("TIOCSWINSZ: ", errno_text(errno));
}

}  // namespace twowayd
