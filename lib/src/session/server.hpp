// SessionServer: the daemon side of the session protocol, sans-I/O. feed() the channel's application
// bytes; once the client's ENV* + REQUEST are in, a RequestReceived event carries them and the caller
// decides: accept() (then start the shell/command/forward) or reject(code, text). Output is sent with
// send_data(out|err), which respects the client's window; the process's end is reported with send_eof
// on both streams, then one exit message, then close().
//
// Receive states, one type each; a state accepts exactly the frames listed, anything else fails with
// unexpected_message (and every failure is sticky):
//   ExpectRequest  ENV (at most 64), REQUEST -> AwaitDecision
//   AwaitDecision  nothing (the client may send nothing before our answer); accept() -> ExpectInput,
//                  reject() -> Done
//   ExpectInput    DATA/EOF on in, WINDOW_ADJUST(out|err), WINDOW_CHANGE (PTY only),
//                  SIGNAL (not for a service), CLOSE -> Done
//   Done           nothing
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <twoway/result.hpp>

#include "session/endpoint.hpp"
#include "session/session.hpp"

namespace twoway::session {

class SessionServer {
public:
    // Checks the options (invalid_argument); options.window is the window announced for `in`.
    [[nodiscard]] static Result<SessionServer> create(const Options& options = {});

    [[nodiscard]] Result<Events> feed(wire::Bytes input);

    // The answer to RequestReceived (bad_state in any other state).
    [[nodiscard]] Status accept();
    [[nodiscard]] Status reject(std::uint32_t code, std::string_view text);

    // Stream::out or Stream::err. Returns how many bytes were taken (0 when the window or output is full).
    [[nodiscard]] Result<std::size_t> send_data(Stream s, wire::Bytes bytes);
    [[nodiscard]] Status send_eof(Stream s);
    // Exactly one of these, for a shell or command, after EOF on out and err, before CLOSE.
    [[nodiscard]] Status send_exit_status(std::uint32_t status);
    [[nodiscard]] Status send_exit_signal(std::string_view name, bool core_dumped, std::string_view message = {});
    [[nodiscard]] Status close();
    // The application disposed of n bytes it received on `in`.
    [[nodiscard]] Status consumed(Stream s, std::size_t n);

    [[nodiscard]] std::vector<std::byte> take_output() { return ep_.take_output(); }
    void take_output(std::vector<std::byte>& batch) noexcept { ep_.take_output(batch); }  // reuses batch's storage
    [[nodiscard]] std::size_t pending_output() const noexcept { return ep_.pending_output(); }
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;

    [[nodiscard]] bool accepted() const noexcept { return accepted_; }
    // Nothing more will be sent or received: rejected, or CLOSE sent and received.
    [[nodiscard]] bool finished() const noexcept {
        return std::holds_alternative<Done>(state_) && (close_sent_ || !accepted_);
    }
    [[nodiscard]] std::error_code error() const noexcept { return ep_.error(); }
    [[nodiscard]] std::size_t buffered_input() const noexcept { return ep_.buffered_input(); }

private:
    struct ExpectRequest {
        std::vector<EnvVar> env;
    };
    struct AwaitDecision {};
    struct ExpectInput {};
    struct Done {};
    using State = std::variant<ExpectRequest, AwaitDecision, ExpectInput, Done>;

    explicit SessionServer(const Options& options) : ep_(options) {}

    // Each handler may update its state in place (ENV) or return the next one.
    Result<std::optional<State>> on(ExpectRequest& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(AwaitDecision& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(ExpectInput& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(Done& s, const Frame& f, Events& ev);
    [[nodiscard]] Status can_send() const;
    [[nodiscard]] bool is_output(Stream s) const noexcept { return s == Stream::out || s == Stream::err; }

    Endpoint ep_;
    State state_ = ExpectRequest{};
    RequestKind kind_ = RequestKind::shell;
    bool has_pty_ = false;
    bool accepted_ = false;
    bool exit_sent_ = false;
    bool close_sent_ = false;
};

}  // namespace twoway::session
