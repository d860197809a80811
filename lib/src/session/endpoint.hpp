// What SessionClient and SessionServer have in common: reassembling frames from arbitrarily chunked
// input, the sticky failure, the output buffer with its back-pressure cap, the per-stream windows, and
// the keep-alive bookkeeping (our PINGs not yet answered, the PONG we owe the peer).
// Each state machine owns one Endpoint and decides, per state, which frames are valid.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <twoway/result.hpp>
#include <twoway/session.hpp>

#include "session/flow.hpp"
#include "session/messages.hpp"

namespace twoway::session {

// Reassembles frames. Whole frames found in the input are handed out in place; only the tail of a
// frame that spans calls is copied, into a buffer that never exceeds one frame (max_frame_size),
// because the header (type and length cap) is checked as soon as its 5 bytes are in.
class FrameReader {
public:
    // Calls on_frame(const Frame&) -> Status for each complete frame, in order, and stops at the
    // first error, header or callback.
    template <class OnFrame>
    [[nodiscard]] Status feed(wire::Bytes in, OnFrame&& on_frame) {
        while (!in.empty()) {
            if (partial_.empty() && in.size() >= frame_header_size) {
                auto h = parse_frame_header(in.first(frame_header_size));
                if (!h) return fail(h.error());
                const std::size_t total = frame_header_size + h->length;
                if (in.size() >= total) {
                    if (auto s = on_frame(Frame{h->type, in.subspan(frame_header_size, h->length)}); !s) return s;
                    in = in.subspan(total);
                    continue;
                }
            }
            // Slow path: complete the header, then the body, in partial_.
            if (partial_.size() < frame_header_size) {
                const std::size_t take = std::min(frame_header_size - partial_.size(), in.size());
                partial_.insert(partial_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
                in = in.subspan(take);
                if (partial_.size() < frame_header_size) break;
            }
            auto h = parse_frame_header(wire::Bytes(partial_).first(frame_header_size));
            if (!h) return fail(h.error());
            const std::size_t total = frame_header_size + h->length;
            const std::size_t take = std::min(total - partial_.size(), in.size());
            partial_.insert(partial_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
            in = in.subspan(take);
            if (partial_.size() < total) break;
            Status s = on_frame(Frame{h->type, wire::Bytes(partial_).subspan(frame_header_size)});
            partial_.clear();
            if (!s) return s;
        }
        return {};
    }

    // Bytes of an incomplete frame held (for tests: never above max_frame_size).
    [[nodiscard]] std::size_t buffered() const noexcept { return partial_.size(); }

private:
    std::vector<std::byte> partial_;
};

// Upper bound of what take_output() reserves for the next batch: enough that a bulk batch grows in
// two steps, small enough that an idle session that once moved bulk data holds little (issue 6).
inline constexpr std::size_t max_output_reserve = 16 * 1024;

class Endpoint {
public:
    explicit Endpoint(const Options& options) : options_(options) {}

    [[nodiscard]] static bool valid_options(const Options& o) noexcept {
        return o.window >= 1 && o.max_pending_output >= max_frame_size;
    }
    [[nodiscard]] const Options& options() const noexcept { return options_; }

    // ---- failure: the first protocol error is kept and reported by every later call ----
    [[nodiscard]] bool failed() const noexcept { return static_cast<bool>(error_); }
    [[nodiscard]] std::error_code error() const noexcept { return error_; }
    [[nodiscard]] Status usable() const {
        if (error_) return fail(error_);
        return {};
    }

    // Runs every complete frame in `input` through on_frame(const Frame&, Events&) -> Status.
    template <class OnFrame>
    [[nodiscard]] Result<Events> feed(wire::Bytes input, OnFrame&& on_frame) {
        if (error_) return fail(error_);
        Events events;
        Status s = frames_.feed(input, [&](const Frame& f) { return on_frame(f, events); });
        if (!s) {
            error_ = s.error();
            return fail(error_);
        }
        return events;
    }
    [[nodiscard]] std::size_t buffered_input() const noexcept { return frames_.buffered(); }

    // ---- output ----
    // Every frame is written through out() (or write_data/consumed), which first writes the PONG we owe:
    // so the answer leaves no later than our next message, and never after our CLOSE or REJECT.
    [[nodiscard]] wire::Writer& out() {
        flush_pong();
        return out_;
    }
    [[nodiscard]] std::vector<std::byte> take_output() {
        flush_pong();
        std::vector<std::byte> v = out_.take();
        // The next batch is likely the size of this one: reserve it once instead of regrowing the
        // buffer from nothing (a 64 KiB batch would otherwise be reallocated and copied ~17 times), up to a bound.
        out_ = wire::Writer{std::min<std::size_t>(v.size(), max_output_reserve)};
        return v;
    }
    // The same bytes in `batch`, whose old storage becomes the next batch's: a caller that loops
    // take -> write -> take moves bulk data through two buffers that keep their size, instead of a
    // fresh allocation (page faults and regrowth copies included) per batch.
    void take_output(std::vector<std::byte>& batch) noexcept {
        flush_pong();  // into the room owe_pong() reserved: no allocation
        out_.take_into(batch);
    }
    [[nodiscard]] std::size_t pending_output() const noexcept {
        return out_.size() + (owed_pong_ ? ping_frame_size : 0);
    }

    // ---- keep-alive (PROTOCOL.md, "Keep-alive") ----
    // Our PINGs carry the numbers 0, 1, 2, ... (mod 2^32); the unanswered ones are the last
    // unanswered_pings() before next_ping_, so a PONG is checked with two counters and no list.
    [[nodiscard]] std::uint32_t unanswered_pings() const noexcept { return unanswered_; }
    // The caller checked that its state may send; bad_state once 2^32 - 1 are unanswered (a cookie
    // would repeat).
    [[nodiscard]] Status send_ping() {
        if (unanswered_ == std::numeric_limits<std::uint32_t>::max()) return fail(errc::bad_state);
        write_ping(out(), next_ping_++);
        ++unanswered_;
        return {};
    }
    // The peer's PONG answers the PING with its cookie and every earlier one; one that answers none of
    // ours (no PING unanswered, or a cookie we did not send or that was answered) is unexpected_message.
    [[nodiscard]] Status on_pong(std::uint32_t cookie) {
        const std::uint32_t oldest = next_ping_ - unanswered_;
        const std::uint32_t position = cookie - oldest;  // mod 2^32: 0 for the oldest unanswered PING
        if (position >= unanswered_) return fail(errc::unexpected_message);
        unanswered_ -= position + 1;
        return {};
    }
    // The peer's PING: a PONG is owed. One PONG answers every PING received before it is written, so
    // however many PINGs a peer sends while our output is not taken, we hold one cookie, not a queue.
    // The room for it is reserved now, so that take_output(batch), which must not fail, can write it.
    void owe_pong(std::uint32_t cookie) {
        out_.reserve_more(ping_frame_size);
        owed_pong_ = cookie;
    }
    // The session ended without our CLOSE (the peer's REJECT): nothing more is sent, a PONG included.
    void forget_pong() noexcept { owed_pong_.reset(); }

    // ---- windows ----
    SendWindow& send(Stream s) noexcept { return send_[index(s)]; }
    const SendWindow& send(Stream s) const noexcept { return send_[index(s)]; }
    RecvWindow& recv(Stream s) noexcept { return recv_[index(s)]; }
    const RecvWindow& recv(Stream s) const noexcept { return recv_[index(s)]; }

    // How many bytes send_data() would take on s now: the peer's credit, limited by the output cap.
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept {
        const std::size_t pending = out_.size();
        const std::size_t room = pending < options_.max_pending_output ? options_.max_pending_output - pending : 0;
        return std::min<std::size_t>(send_[index(s)].available(), room);
    }

    // Writes as much of `bytes` as the window and the output cap allow, in DATA frames.
    [[nodiscard]] std::size_t write_data(Stream s, wire::Bytes bytes);

    // The application consumed n bytes of s; grants credit back to the peer when enough is owed (not
    // after the peer's EOF on s, nor once we sent CLOSE: then nothing more will come).
    [[nodiscard]] Status consumed(Stream s, std::size_t n, bool close_sent);

    // Peer traffic on the stream windows (errors are the peer's fault).
    [[nodiscard]] Status on_data(const DataMsg& m, Events& events);
    [[nodiscard]] Status on_window_adjust(const WindowAdjustMsg& m, Events& events);

private:
    static std::size_t index(Stream s) noexcept { return static_cast<std::size_t>(s); }
    void flush_pong() noexcept {
        // No allocation: owe_pong() reserved the room, and every write since went through here first.
        if (owed_pong_) write_pong(out_, *std::exchange(owed_pong_, std::nullopt));
    }

    Options options_;
    FrameReader frames_;
    wire::Writer out_;
    std::array<SendWindow, 3> send_{};
    std::array<RecvWindow, 3> recv_{};
    std::error_code error_;
    std::uint32_t next_ping_ = 0;   // the cookie of our next PING
    std::uint32_t unanswered_ = 0;  // our PINGs not yet answered
    std::optional<std::uint32_t> owed_pong_;  // the latest PING of the peer's not yet answered
};

}  // namespace twoway::session
