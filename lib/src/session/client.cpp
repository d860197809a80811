// SessionClient: the client side of the session protocol (<twoway/session.hpp>). start() queues ENV* and
// REQUEST; feed() runs the server's frames through the receive state.
//
// Receive states, one type each; a state accepts exactly the frames listed, anything else fails with
// unexpected_message (and every failure is sticky):
//   ExpectResponse  ACCEPT -> ExpectOutput; REJECT -> Done
//   ExpectOutput    HOSTKEYS (once, as the first message after ACCEPT, only after allow_host_keys()),
//                   DATA/EOF on out and err, WINDOW_ADJUST(in), CLOSE -> Done;
//                   after EOF on both: ExpectExit (shell/exec) or ExpectClose (service)
//   ExpectExit      EXIT_STATUS / EXIT_SIGNAL -> ExpectClose, WINDOW_ADJUST(in), CLOSE -> Done
//   ExpectClose     WINDOW_ADJUST(in), CLOSE -> Done
//   Done            nothing
// PING and PONG are valid in every state but Done and change none (on_alive): a PING is answered
// (unless our CLOSE is sent), a PONG must answer one of our PINGs.
#include <twoway/session.hpp>

#include <utility>

#include "session/endpoint.hpp"
#include "session/messages.hpp"

namespace twoway::session {

// Behind a pointer so that the wire machinery (Endpoint, frames, windows) stays out of the public
// header and its layout out of the ABI. Hidden explicitly: a nested class takes the visibility of the
// exported class around it, and none of this is for export.
struct __attribute__((visibility("hidden"))) SessionClient::Impl {
public:
    Impl(const Request& request, const Options& options) : ep_(options), request_(request) {}

    [[nodiscard]] Result<Events> feed(wire::Bytes input);
    [[nodiscard]] Result<std::size_t> send_data(Stream s, wire::Bytes bytes);
    [[nodiscard]] Status send_eof(Stream s);
    [[nodiscard]] Status send_window_change(const TermSize& size);
    [[nodiscard]] Status send_signal(std::string_view name);
    [[nodiscard]] Status close();
    [[nodiscard]] Status send_ping();
    [[nodiscard]] Status consumed(Stream s, std::size_t n);
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;
    [[nodiscard]] bool finished() const noexcept {
        return std::holds_alternative<Done>(state_) && (close_sent_ || !accepted_);
    }

    Endpoint ep_;
    Request request_;
    bool accepted_ = false;
    // HOSTKEYS may come: allowed by the caller, and only until the first other message after ACCEPT.
    bool host_keys_open_ = false;

private:
    struct ExpectResponse {};
    struct ExpectOutput {};
    struct ExpectExit {};
    struct ExpectClose {};
    struct Done {};
    using State = std::variant<ExpectResponse, ExpectOutput, ExpectExit, ExpectClose, Done>;

    // One handler per state: returns the next state, or the peer's error.
    Result<State> on(ExpectResponse, const Frame& f, Events& ev);
    Result<State> on(ExpectOutput, const Frame& f, Events& ev);
    Result<State> on(ExpectExit, const Frame& f, Events& ev);
    Result<State> on(ExpectClose, const Frame& f, Events& ev);
    Result<State> on(Done, const Frame& f, Events& ev);
    // Frames valid in every state after ACCEPT: WINDOW_ADJUST and CLOSE.
    Result<State> on_common(State current, const Frame& f, Events& ev);
    State after_output() const;
    // PING and PONG, in any state before Done.
    [[nodiscard]] Status on_alive(const Frame& f);
    // Checks shared by the senders: usable, accepted, not closed.
    [[nodiscard]] Status can_send() const;

    State state_ = ExpectResponse{};
    bool close_sent_ = false;

public:
    bool host_keys_allowed_ = false;  // allow_host_keys(): our client_hello carried host_keys
};

Result<SessionClient> SessionClient::start(const Request& request, const Options& options) {
    if (!valid_request(request) || !Endpoint::valid_options(options)) return fail(errc::invalid_argument);
    auto c = std::make_unique<Impl>(request, options);
    // Our receive windows are announced in REQUEST; the server may send nothing before it, and we
    // may send no data before ACCEPT tells us the server's window for `in`.
    c->ep_.recv(Stream::out).open(options.window);
    c->ep_.recv(Stream::err).open(options.window);
    for (const EnvVar& v : request.env) write_env(c->ep_.out(), v);
    RequestMsg m{options.window, request};
    m.request.env.clear();
    write_request(c->ep_.out(), m);
    return SessionClient(std::move(c));
}

Result<Events> SessionClient::Impl::feed(wire::Bytes input) {
    return ep_.feed(input, [this](const Frame& f, Events& ev) -> Status {
        if ((f.type == MsgType::ping || f.type == MsgType::pong) && !std::holds_alternative<Done>(state_)) {
            return on_alive(f);
        }
        // The handler gets a copy of the (empty) state tag, so assigning state_ afterwards is safe.
        auto next = std::visit([&](auto s) { return on(s, f, ev); }, state_);
        if (!next) return fail(next.error());
        state_ = *next;
        return {};
    });
}

Status SessionClient::Impl::on_alive(const Frame& f) {
    if (f.type == MsgType::ping) {
        auto cookie = parse_ping(f.body);
        if (!cookie) return fail(cookie.error());
        // After our CLOSE we send nothing more: the CLOSE itself is the sign of life.
        if (!close_sent_) ep_.owe_pong(*cookie);
        return {};
    }
    auto cookie = parse_pong(f.body);
    if (!cookie) return fail(cookie.error());
    return ep_.on_pong(*cookie);
}

Result<SessionClient::Impl::State> SessionClient::Impl::on(ExpectResponse, const Frame& f, Events& ev) {
    switch (f.type) {
        case MsgType::accept: {
            auto m = parse_accept(f.body);
            if (!m) return fail(m.error());
            ep_.send(Stream::in).open(m->window);
            accepted_ = true;
            host_keys_open_ = host_keys_allowed_;
            ev.emplace_back(std::in_place_type<Accepted>, Accepted{});
            return State{ExpectOutput{}};
        }
        case MsgType::reject: {
            auto m = parse_reject(f.body);
            if (!m) return fail(m.error());
            ep_.forget_pong();  // a PING that came with the REJECT: the session is over, no answer
            ev.emplace_back(std::in_place_type<Rejected>, Rejected{m->code, std::move(m->text)});
            return State{Done{}};
        }
        default: return fail(errc::unexpected_message);
    }
}

Result<SessionClient::Impl::State> SessionClient::Impl::on(ExpectOutput, const Frame& f, Events& ev) {
    // HOSTKEYS is the server's first message after ACCEPT or not at all (PROTOCOL.md 15).
    const bool host_keys_open = std::exchange(host_keys_open_, false);
    switch (f.type) {
        case MsgType::hostkeys: {
            if (!host_keys_open) return fail(errc::unexpected_message);
            auto m = parse_hostkeys(f.body);
            if (!m) return fail(m.error());
            ev.emplace_back(std::in_place_type<HostKeysAnnounced>, std::move(*m));
            return State{ExpectOutput{}};
        }
        case MsgType::data: {
            auto m = parse_data(f.body);
            if (!m) return fail(m.error());
            if (m->stream == Stream::in || ep_.recv(m->stream).ended()) return fail(errc::unexpected_message);
            if (auto s = ep_.on_data(*m, ev); !s) return fail(s.error());
            return State{ExpectOutput{}};
        }
        case MsgType::eof: {
            auto m = parse_eof(f.body);
            if (!m) return fail(m.error());
            if (m->stream == Stream::in || ep_.recv(m->stream).ended()) return fail(errc::unexpected_message);
            ep_.recv(m->stream).end();
            ev.emplace_back(std::in_place_type<Eof>, Eof{m->stream});
            return after_output();
        }
        default: return on_common(ExpectOutput{}, f, ev);
    }
}

SessionClient::Impl::State SessionClient::Impl::after_output() const {
    if (!ep_.recv(Stream::out).ended() || !ep_.recv(Stream::err).ended()) return ExpectOutput{};
    // A service has no process, hence no exit message: the server's next word is CLOSE.
    if (is_connection(request_.kind)) return ExpectClose{};
    return ExpectExit{};
}

Result<SessionClient::Impl::State> SessionClient::Impl::on(ExpectExit, const Frame& f, Events& ev) {
    switch (f.type) {
        case MsgType::exit_status: {
            auto m = parse_exit_status(f.body);
            if (!m) return fail(m.error());
            ev.emplace_back(std::in_place_type<ExitStatus>, ExitStatus{*m});
            return State{ExpectClose{}};
        }
        case MsgType::exit_signal: {
            auto m = parse_exit_signal(f.body);
            if (!m) return fail(m.error());
            ev.emplace_back(std::in_place_type<ExitSignal>, ExitSignal{std::move(m->name), m->core_dumped, std::move(m->message)});
            return State{ExpectClose{}};
        }
        default: return on_common(ExpectExit{}, f, ev);
    }
}

Result<SessionClient::Impl::State> SessionClient::Impl::on(ExpectClose, const Frame& f, Events& ev) {
    return on_common(ExpectClose{}, f, ev);
}

Result<SessionClient::Impl::State> SessionClient::Impl::on(Done, const Frame&, Events&) {
    return fail(errc::unexpected_message);
}

Result<SessionClient::Impl::State> SessionClient::Impl::on_common(State current, const Frame& f, Events& ev) {
    switch (f.type) {
        case MsgType::window_adjust: {
            // Valid even after our EOF or CLOSE: the grant may have crossed them in flight.
            auto m = parse_window_adjust(f.body);
            if (!m) return fail(m.error());
            if (m->stream != Stream::in) return fail(errc::unexpected_message);
            if (auto s = ep_.on_window_adjust(*m, ev); !s) return fail(s.error());
            return current;
        }
        case MsgType::close: {
            if (auto s = parse_close(f.body); !s) return fail(s.error());
            // CLOSE is answered with CLOSE and nothing else, so the reply needs no decision.
            if (!close_sent_) {
                write_close(ep_.out());
                close_sent_ = true;
            }
            ev.emplace_back(std::in_place_type<Closed>, Closed{});
            return State{Done{}};
        }
        default: return fail(errc::unexpected_message);
    }
}

Status SessionClient::Impl::can_send() const {
    if (auto s = ep_.usable(); !s) return s;
    if (!accepted_ || close_sent_) return fail(errc::bad_state);
    return {};
}

std::size_t SessionClient::Impl::send_capacity(Stream s) const noexcept {
    if (s != Stream::in || !can_send() || ep_.send(Stream::in).ended()) return 0;
    return ep_.send_capacity(Stream::in);
}

Result<std::size_t> SessionClient::Impl::send_data(Stream s, wire::Bytes bytes) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return fail(st.error());
    if (ep_.send(Stream::in).ended()) return fail(errc::bad_state);
    return ep_.write_data(Stream::in, bytes);
}

Status SessionClient::Impl::send_eof(Stream s) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (ep_.send(Stream::in).ended()) return fail(errc::bad_state);
    ep_.send(Stream::in).end();
    write_eof(ep_.out(), EofMsg{Stream::in});
    return {};
}

Status SessionClient::Impl::send_window_change(const TermSize& size) {
    if (auto st = can_send(); !st) return st;
    if (!request_.pty) return fail(errc::bad_state);
    write_window_change(ep_.out(), size);
    return {};
}

Status SessionClient::Impl::send_signal(std::string_view name) {
    if (!valid_signal_name(name)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (is_connection(request_.kind)) return fail(errc::bad_state);
    write_signal(ep_.out(), name);
    return {};
}

Status SessionClient::Impl::close() {
    if (auto st = can_send(); !st) return st;
    write_close(ep_.out());
    close_sent_ = true;
    return {};
}

Status SessionClient::Impl::send_ping() {
    // Before ACCEPT too (the server may take its time deciding), until our CLOSE or the end.
    if (auto st = ep_.usable(); !st) return st;
    if (close_sent_ || std::holds_alternative<Done>(state_)) return fail(errc::bad_state);
    return ep_.send_ping();
}

Status SessionClient::Impl::consumed(Stream s, std::size_t n) {
    if (s == Stream::in) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    return ep_.consumed(s, n, close_sent_);
}

// ---- the public side: forwards to the state machine ----

SessionClient::SessionClient(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
SessionClient::SessionClient(SessionClient&&) noexcept = default;
SessionClient& SessionClient::operator=(SessionClient&&) noexcept = default;
SessionClient::~SessionClient() = default;

Result<Events> SessionClient::feed(std::span<const std::byte> input) { return impl_->feed(input); }
Result<std::size_t> SessionClient::send_data(Stream s, std::span<const std::byte> bytes) {
    return impl_->send_data(s, bytes);
}
Status SessionClient::send_eof(Stream s) { return impl_->send_eof(s); }
Status SessionClient::send_window_change(const TermSize& size) { return impl_->send_window_change(size); }
Status SessionClient::send_signal(std::string_view name) { return impl_->send_signal(name); }
Status SessionClient::close() { return impl_->close(); }
Status SessionClient::send_ping() { return impl_->send_ping(); }
std::uint32_t SessionClient::unanswered_pings() const noexcept { return impl_->ep_.unanswered_pings(); }
Status SessionClient::consumed(Stream s, std::size_t n) { return impl_->consumed(s, n); }
std::vector<std::byte> SessionClient::take_output() { return impl_->ep_.take_output(); }
void SessionClient::take_output(std::vector<std::byte>& batch) noexcept { impl_->ep_.take_output(batch); }
std::size_t SessionClient::pending_output() const noexcept { return impl_->ep_.pending_output(); }
std::size_t SessionClient::send_capacity(Stream s) const noexcept { return impl_->send_capacity(s); }
bool SessionClient::accepted() const noexcept { return impl_->accepted_; }
bool SessionClient::finished() const noexcept { return impl_->finished(); }
std::error_code SessionClient::error() const noexcept { return impl_->ep_.error(); }
const Request& SessionClient::request() const noexcept { return impl_->request_; }
Status SessionClient::allow_host_keys() {
    if (impl_->accepted_) return fail(errc::bad_state);
    impl_->host_keys_allowed_ = true;
    return {};
}

}  // namespace twoway::session
