// Credit-based flow control, one window per data stream and direction (like SSH channel windows).
// The receiver of a stream announces an initial window (REQUEST / ACCEPT) and grants more with
// WINDOW_ADJUST as its application consumes; the sender never sends more than it was granted, and a
// receiver treats anything beyond its window as a protocol error. So the bytes a receiver may have to
// hold on a stream never exceed the window it chose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include <twoway/result.hpp>

namespace twoway::session {

// The sender's view: credit the peer has granted, and whether we sent EOF on the stream.
class SendWindow {
public:
    void open(std::uint32_t initial) noexcept { available_ = initial; }
    [[nodiscard]] std::uint32_t available() const noexcept { return available_; }
    [[nodiscard]] bool ended() const noexcept { return ended_; }
    void end() noexcept { ended_ = true; }

    // Only ever called with n <= available() (the sender clamps first).
    void spend(std::size_t n) noexcept { available_ -= static_cast<std::uint32_t>(n); }

    // A window above 2^32 - 1 cannot be expressed and would let the peer's accounting wrap: a peer that
    // grants that much is misbehaving.
    [[nodiscard]] Status grant(std::uint32_t increment) noexcept {
        if (increment > std::numeric_limits<std::uint32_t>::max() - available_) return fail(errc::window_exceeded);
        available_ += increment;
        return {};
    }

private:
    std::uint32_t available_ = 0;
    bool ended_ = false;
};

// The receiver's view. Invariant: available + unconsumed + pending == initial, so the window we grant
// never exceeds what we announced and a grant can never overflow.
class RecvWindow {
public:
    void open(std::uint32_t initial) noexcept {
        initial_ = initial;
        available_ = initial;
        unconsumed_ = 0;
        pending_ = 0;
    }
    [[nodiscard]] std::uint32_t available() const noexcept { return available_; }
    [[nodiscard]] std::uint32_t unconsumed() const noexcept { return unconsumed_; }
    [[nodiscard]] bool ended() const noexcept { return ended_; }
    void end() noexcept { ended_ = true; }

    // The peer sent n bytes.
    [[nodiscard]] Status receive(std::size_t n) noexcept {
        if (n > available_) return fail(errc::window_exceeded);
        available_ -= static_cast<std::uint32_t>(n);
        unconsumed_ += static_cast<std::uint32_t>(n);
        return {};
    }

    // The application disposed of n received bytes (more than it was given is a caller bug).
    [[nodiscard]] Status consume(std::size_t n) noexcept {
        if (n > unconsumed_) return fail(errc::invalid_argument);
        unconsumed_ -= static_cast<std::uint32_t>(n);
        pending_ += static_cast<std::uint32_t>(n);
        return {};
    }

    // The increment to grant now, or 0. Grants are batched until half the window is owed, so a
    // byte-at-a-time consumer does not cause a WINDOW_ADJUST per byte, while a sender that ran dry
    // (available == 0) is always re-opened once the application has consumed everything.
    [[nodiscard]] std::uint32_t take_grant() noexcept {
        const std::uint32_t threshold = initial_ / 2 + initial_ % 2;  // half, rounded up; >= 1 when initial >= 1
        if (pending_ == 0 || pending_ < threshold) return 0;
        const std::uint32_t g = pending_;
        pending_ = 0;
        available_ += g;
        return g;
    }

private:
    std::uint32_t initial_ = 0;
    std::uint32_t available_ = 0;
    std::uint32_t unconsumed_ = 0;
    std::uint32_t pending_ = 0;
    bool ended_ = false;
};

}  // namespace twoway::session
