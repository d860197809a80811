// SessionClient: the client side of the session protocol, sans-I/O. start() queues ENV* and REQUEST;
// the caller moves take_output() into the channel and the channel's application bytes into feed(),
// which reports events. Sending respects the server's window: send_data() returns how much it took.
// Received data is credited back to the server only as the caller reports it consumed(), so a slow
// consumer (a blocked terminal) stops the server instead of filling memory here.
//
// Receive states, one type each; a state accepts exactly the frames listed, anything else fails with
// unexpected_message (and every failure is sticky):
//   ExpectResponse  ACCEPT -> ExpectOutput; REJECT -> Done
//   ExpectOutput    DATA/EOF on out and err, WINDOW_ADJUST(in), CLOSE -> Done;
//                   after EOF on both: ExpectExit (shell/exec) or ExpectClose (service)
//   ExpectExit      EXIT_STATUS / EXIT_SIGNAL -> ExpectClose, WINDOW_ADJUST(in), CLOSE -> Done
//   ExpectClose     WINDOW_ADJUST(in), CLOSE -> Done
//   Done            nothing
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include <twoway/result.hpp>

#include "session/endpoint.hpp"
#include "session/session.hpp"

namespace twoway::session {

class SessionClient {
public:
    // Validates the request (invalid_argument) and options, and queues the opening messages.
    [[nodiscard]] static Result<SessionClient> start(const Request& request, const Options& options = {});

    // Application bytes from the channel, in any chunking.
    [[nodiscard]] Result<Events> feed(wire::Bytes input);

    // Stream::in only. Returns how many bytes were taken (0 when the window or the output is full).
    [[nodiscard]] Result<std::size_t> send_data(Stream s, wire::Bytes bytes);
    [[nodiscard]] Status send_eof(Stream s);
    [[nodiscard]] Status send_window_change(const TermSize& size);  // only with a PTY
    [[nodiscard]] Status send_signal(std::string_view name);        // not for a service
    // Ends the session from this side (e.g. the user aborted, or after the server's CLOSE, which
    // feed() already answers by itself).
    [[nodiscard]] Status close();
    // The application disposed of n bytes it received on out or err.
    [[nodiscard]] Status consumed(Stream s, std::size_t n);

    [[nodiscard]] std::vector<std::byte> take_output() { return ep_.take_output(); }
    void take_output(std::vector<std::byte>& batch) noexcept { ep_.take_output(batch); }  // reuses batch's storage
    [[nodiscard]] std::size_t pending_output() const noexcept { return ep_.pending_output(); }
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;

    [[nodiscard]] bool accepted() const noexcept { return accepted_; }
    // Nothing more will be sent or received: rejected, or CLOSE sent and received.
    [[nodiscard]] bool finished() const noexcept { return std::holds_alternative<Done>(state_) && (close_sent_ || !accepted_); }
    [[nodiscard]] std::error_code error() const noexcept { return ep_.error(); }
    [[nodiscard]] const Request& request() const noexcept { return request_; }

private:
    struct ExpectResponse {};
    struct ExpectOutput {};
    struct ExpectExit {};
    struct ExpectClose {};
    struct Done {};
    using State = std::variant<ExpectResponse, ExpectOutput, ExpectExit, ExpectClose, Done>;

    SessionClient(const Request& request, const Options& options) : ep_(options), request_(request) {}

    // One handler per state: returns the next state, or the peer's error.
    Result<State> on(ExpectResponse, const Frame& f, Events& ev);
    Result<State> on(ExpectOutput, const Frame& f, Events& ev);
    Result<State> on(ExpectExit, const Frame& f, Events& ev);
    Result<State> on(ExpectClose, const Frame& f, Events& ev);
    Result<State> on(Done, const Frame& f, Events& ev);
    // Frames valid in every state after ACCEPT: WINDOW_ADJUST and CLOSE.
    Result<State> on_common(State current, const Frame& f, Events& ev);
    State after_output() const;
    // Checks shared by the senders: usable, accepted, not closed.
    [[nodiscard]] Status can_send() const;

    Endpoint ep_;
    Request request_;
    State state_ = ExpectResponse{};
    bool accepted_ = false;
    bool close_sent_ = false;
};

}  // namespace twoway::session
