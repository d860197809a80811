// SessionServer: the daemon side of the session protocol (<twoway/session.hpp>). feed() runs the client's
// frames through the receive state; accept()/reject() answer the request.
//
// Receive states, one type each; a state accepts exactly the frames listed, anything else fails with
// unexpected_message (and every failure is sticky):
//   ExpectRequest  ENV (at most 64), REQUEST -> AwaitDecision
//   AwaitDecision  nothing but PING and PONG (the client may send no more before our answer);
//                  accept() -> ExpectInput, reject() -> Rejected
//   ExpectInput    DATA/EOF on in, WINDOW_ADJUST(out|err), WINDOW_CHANGE (PTY only),
//                  SIGNAL (not for a service), CLOSE -> Done
//   Rejected       nothing but PING and PONG (sent before the client saw our REJECT)
//   Done           nothing
// PING and PONG are valid in every state but Done and change none (on_alive): a PING is answered
// (unless our CLOSE or REJECT is sent), a PONG must answer one of our PINGs.
#include <twoway/session.hpp>

#include <optional>
#include <utility>

#include "session/endpoint.hpp"
#include "session/messages.hpp"

namespace twoway::session {

// Behind a pointer so that the wire machinery (Endpoint, frames, windows) stays out of the public
// header and its layout out of the ABI. Hidden explicitly: a nested class takes the visibility of the
// exported class around it, and none of this is for export.
struct __attribute__((visibility("hidden"))) SessionServer::Impl {
public:
    explicit Impl(const Options& options) : ep_(options) {}

    [[nodiscard]] Result<Events> feed(wire::Bytes input);
    [[nodiscard]] Status accept();
    [[nodiscard]] Status accept_with_host_keys(std::span<const PrivateKey* const> keys,
                                               std::span<const std::byte, 32> session_id);
    [[nodiscard]] Status reject(std::uint32_t code, std::string_view text);
    [[nodiscard]] Result<std::size_t> send_data(Stream s, wire::Bytes bytes);
    [[nodiscard]] Status send_eof(Stream s);
    [[nodiscard]] Status send_exit_status(std::uint32_t status);
    [[nodiscard]] Status send_exit_signal(std::string_view name, bool core_dumped, std::string_view message);
    [[nodiscard]] Status close();
    [[nodiscard]] Status send_ping();
    [[nodiscard]] Status consumed(Stream s, std::size_t n);
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;
    [[nodiscard]] bool finished() const noexcept {
        return std::holds_alternative<Rejected>(state_) || (std::holds_alternative<Done>(state_) && close_sent_);
    }

    Endpoint ep_;
    bool accepted_ = false;

private:
    struct ExpectRequest {
        std::vector<EnvVar> env;
    };
    struct AwaitDecision {};
    struct ExpectInput {};
    struct Rejected {};
    struct Done {};
    using State = std::variant<ExpectRequest, AwaitDecision, ExpectInput, Rejected, Done>;

    // Each handler may update its state in place (ENV) or return the next one.
    Result<std::optional<State>> on(ExpectRequest& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(AwaitDecision& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(ExpectInput& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(Rejected& s, const Frame& f, Events& ev);
    Result<std::optional<State>> on(Done& s, const Frame& f, Events& ev);
    // PING and PONG, in any state before Done.
    [[nodiscard]] Status on_alive(const Frame& f);
    [[nodiscard]] Status can_send() const;
    [[nodiscard]] static bool is_output(Stream s) noexcept { return s == Stream::out || s == Stream::err; }

    State state_ = ExpectRequest{};
    RequestKind kind_ = RequestKind::shell;
    bool has_pty_ = false;
    bool exit_sent_ = false;
    bool close_sent_ = false;
};

Result<SessionServer> SessionServer::create(const Options& options) {
    if (!Endpoint::valid_options(options)) return fail(errc::invalid_argument);
    return SessionServer(std::make_unique<Impl>(options));
}

Result<Events> SessionServer::Impl::feed(wire::Bytes input) {
    return ep_.feed(input, [this](const Frame& f, Events& ev) -> Status {
        if ((f.type == MsgType::ping || f.type == MsgType::pong) && !std::holds_alternative<Done>(state_)) {
            return on_alive(f);
        }
        auto next = std::visit([&](auto& s) { return on(s, f, ev); }, state_);
        if (!next) return fail(next.error());
        // Assigned only after the handler returned: it held a reference into state_.
        if (*next) state_ = std::move(**next);
        return {};
    });
}

Status SessionServer::Impl::on_alive(const Frame& f) {
    if (f.type == MsgType::ping) {
        auto cookie = parse_ping(f.body);
        if (!cookie) return fail(cookie.error());
        // After our CLOSE or REJECT we send nothing more; either is the sign of life the PING asked for.
        if (!close_sent_ && !std::holds_alternative<Rejected>(state_)) ep_.owe_pong(*cookie);
        return {};
    }
    auto cookie = parse_pong(f.body);
    if (!cookie) return fail(cookie.error());
    return ep_.on_pong(*cookie);
}

Result<std::optional<SessionServer::Impl::State>> SessionServer::Impl::on(ExpectRequest& s, const Frame& f, Events& ev) {
    switch (f.type) {
        case MsgType::env: {
            // The 65th variable is refused outright: the list is held until the request is complete.
            if (s.env.size() >= max_env_count) return fail(errc::unexpected_message);
            auto v = parse_env(f.body);
            if (!v) return fail(v.error());
            s.env.push_back(std::move(*v));
            return std::optional<State>{};
        }
        case MsgType::request: {
            auto m = parse_request(f.body);
            if (!m) return fail(m.error());
            kind_ = m->request.kind;
            has_pty_ = m->request.pty.has_value();
            ep_.send(Stream::out).open(m->window);
            ep_.send(Stream::err).open(m->window);
            m->request.env = std::move(s.env);
            ev.emplace_back(std::in_place_type<RequestReceived>, RequestReceived{std::move(m->request)});
            return std::optional<State>{AwaitDecision{}};
        }
        default: return fail(errc::unexpected_message);
    }
}

Result<std::optional<SessionServer::Impl::State>> SessionServer::Impl::on(AwaitDecision&, const Frame&, Events&) {
    // The client learns our window only from ACCEPT, so it has nothing it may send yet.
    return fail(errc::unexpected_message);
}

Result<std::optional<SessionServer::Impl::State>> SessionServer::Impl::on(ExpectInput&, const Frame& f, Events& ev) {
    const std::optional<State> stay;
    switch (f.type) {
        case MsgType::data: {
            auto m = parse_data(f.body);
            if (!m) return fail(m.error());
            if (m->stream != Stream::in || ep_.recv(Stream::in).ended()) return fail(errc::unexpected_message);
            if (auto st = ep_.on_data(*m, ev); !st) return fail(st.error());
            return stay;
        }
        case MsgType::eof: {
            auto m = parse_eof(f.body);
            if (!m) return fail(m.error());
            if (m->stream != Stream::in || ep_.recv(Stream::in).ended()) return fail(errc::unexpected_message);
            ep_.recv(Stream::in).end();
            ev.emplace_back(std::in_place_type<Eof>, Eof{Stream::in});
            return stay;
        }
        case MsgType::window_adjust: {
            // Valid even after our EOF, exit or CLOSE: the grant may have crossed them in flight.
            auto m = parse_window_adjust(f.body);
            if (!m) return fail(m.error());
            if (!is_output(m->stream)) return fail(errc::unexpected_message);
            if (auto st = ep_.on_window_adjust(*m, ev); !st) return fail(st.error());
            return stay;
        }
        case MsgType::window_change: {
            auto m = parse_window_change(f.body);
            if (!m) return fail(m.error());
            if (!has_pty_) return fail(errc::unexpected_message);
            ev.emplace_back(std::in_place_type<WindowChange>, WindowChange{*m});
            return stay;
        }
        case MsgType::signal: {
            auto m = parse_signal(f.body);
            if (!m) return fail(m.error());
            if (is_connection(kind_)) return fail(errc::unexpected_message);
            ev.emplace_back(std::in_place_type<Signal>, Signal{std::move(*m)});
            return stay;
        }
        case MsgType::close: {
            if (auto st = parse_close(f.body); !st) return fail(st.error());
            if (!close_sent_) {
                write_close(ep_.out());
                close_sent_ = true;
            }
            ev.emplace_back(std::in_place_type<Closed>, Closed{});
            return std::optional<State>{Done{}};
        }
        default: return fail(errc::unexpected_message);
    }
}

Result<std::optional<SessionServer::Impl::State>> SessionServer::Impl::on(Rejected&, const Frame&, Events&) {
    // The session is over; only PING and PONG (on_alive) may still have crossed the REJECT.
    return fail(errc::unexpected_message);
}

Result<std::optional<SessionServer::Impl::State>> SessionServer::Impl::on(Done&, const Frame&, Events&) {
    return fail(errc::unexpected_message);
}

Status SessionServer::Impl::accept() {
    if (auto st = ep_.usable(); !st) return st;
    if (!std::holds_alternative<AwaitDecision>(state_)) return fail(errc::bad_state);
    ep_.recv(Stream::in).open(ep_.options().window);
    write_accept(ep_.out(), AcceptMsg{ep_.options().window});
    accepted_ = true;
    state_ = ExpectInput{};
    return {};
}

Status SessionServer::Impl::accept_with_host_keys(std::span<const PrivateKey* const> keys,
                                                 std::span<const std::byte, 32> session_id) {
    if (keys.empty() || keys.size() > max_host_keys) return fail(errc::invalid_argument);
    HostKeysAnnounced m;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i] == nullptr) return fail(errc::invalid_argument);
        for (std::size_t j = 0; j < i; ++j) {
            if (keys[j]->public_key() == keys[i]->public_key()) return fail(errc::invalid_argument);
        }
    }
    if (auto st = ep_.usable(); !st) return st;
    if (!std::holds_alternative<AwaitDecision>(state_)) return fail(errc::bad_state);
    for (const PrivateKey* k : keys) m.keys.push_back(prove_host_key(*k, session_id));
    // ACCEPT and HOSTKEYS in one call: nothing (not even an owed PONG) can come between them.
    if (auto st = accept(); !st) return st;
    write_hostkeys(ep_.out(), m);
    return {};
}

Status SessionServer::Impl::reject(std::uint32_t code, std::string_view text) {
    if (code == 0 || !valid_text(text)) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    if (!std::holds_alternative<AwaitDecision>(state_)) return fail(errc::bad_state);
    write_reject(ep_.out(), RejectMsg{code, std::string(text)});
    state_ = Rejected{};
    return {};
}

Status SessionServer::Impl::can_send() const {
    if (auto st = ep_.usable(); !st) return st;
    if (!accepted_ || close_sent_) return fail(errc::bad_state);
    return {};
}

std::size_t SessionServer::Impl::send_capacity(Stream s) const noexcept {
    if (!is_output(s) || !can_send() || ep_.send(s).ended()) return 0;
    return ep_.send_capacity(s);
}

Result<std::size_t> SessionServer::Impl::send_data(Stream s, wire::Bytes bytes) {
    if (!is_output(s)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return fail(st.error());
    if (ep_.send(s).ended()) return fail(errc::bad_state);
    return ep_.write_data(s, bytes);
}

Status SessionServer::Impl::send_eof(Stream s) {
    if (!is_output(s)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (ep_.send(s).ended()) return fail(errc::bad_state);
    ep_.send(s).end();
    write_eof(ep_.out(), EofMsg{s});
    return {};
}

Status SessionServer::Impl::send_exit_status(std::uint32_t status) {
    if (auto st = can_send(); !st) return st;
    // The client reads the exit only after both EOFs, so it knows all output has arrived.
    if (is_connection(kind_) || exit_sent_ || !ep_.send(Stream::out).ended() ||
        !ep_.send(Stream::err).ended()) {
        return fail(errc::bad_state);
    }
    write_exit_status(ep_.out(), status);
    exit_sent_ = true;
    return {};
}

Status SessionServer::Impl::send_exit_signal(std::string_view name, bool core_dumped, std::string_view message) {
    if (!valid_signal_name(name) || !valid_text(message)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (is_connection(kind_) || exit_sent_ || !ep_.send(Stream::out).ended() ||
        !ep_.send(Stream::err).ended()) {
        return fail(errc::bad_state);
    }
    write_exit_signal(ep_.out(), ExitSignalMsg{std::string(name), core_dumped, std::string(message)});
    exit_sent_ = true;
    return {};
}

Status SessionServer::Impl::close() {
    if (auto st = can_send(); !st) return st;
    write_close(ep_.out());
    close_sent_ = true;
    return {};
}

Status SessionServer::Impl::send_ping() {
    // From the start (a client that sends no request is checked too) until our CLOSE or REJECT.
    if (auto st = ep_.usable(); !st) return st;
    if (close_sent_ || std::holds_alternative<Rejected>(state_) || std::holds_alternative<Done>(state_)) {
        return fail(errc::bad_state);
    }
    return ep_.send_ping();
}

Status SessionServer::Impl::consumed(Stream s, std::size_t n) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    return ep_.consumed(s, n, close_sent_);
}

// ---- the public side: forwards to the state machine ----

SessionServer::SessionServer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
SessionServer::SessionServer(SessionServer&&) noexcept = default;
SessionServer& SessionServer::operator=(SessionServer&&) noexcept = default;
SessionServer::~SessionServer() = default;

Result<Events> SessionServer::feed(std::span<const std::byte> input) { return impl_->feed(input); }
Status SessionServer::accept() { return impl_->accept(); }
Status SessionServer::reject(std::uint32_t code, std::string_view text) { return impl_->reject(code, text); }
Status SessionServer::accept_with_host_keys(std::span<const PrivateKey* const> host_keys,
                                            std::span<const std::byte, 32> session_id) {
    return impl_->accept_with_host_keys(host_keys, session_id);
}
Result<std::size_t> SessionServer::send_data(Stream s, std::span<const std::byte> bytes) {
    return impl_->send_data(s, bytes);
}
Status SessionServer::send_eof(Stream s) { return impl_->send_eof(s); }
Status SessionServer::send_exit_status(std::uint32_t status) { return impl_->send_exit_status(status); }
Status SessionServer::send_exit_signal(std::string_view name, bool core_dumped, std::string_view message) {
    return impl_->send_exit_signal(name, core_dumped, message);
}
Status SessionServer::close() { return impl_->close(); }
Status SessionServer::send_ping() { return impl_->send_ping(); }
std::uint32_t SessionServer::unanswered_pings() const noexcept { return impl_->ep_.unanswered_pings(); }
Status SessionServer::consumed(Stream s, std::size_t n) { return impl_->consumed(s, n); }
std::vector<std::byte> SessionServer::take_output() { return impl_->ep_.take_output(); }
void SessionServer::take_output(std::vector<std::byte>& batch) noexcept { impl_->ep_.take_output(batch); }
std::size_t SessionServer::pending_output() const noexcept { return impl_->ep_.pending_output(); }
std::size_t SessionServer::send_capacity(Stream s) const noexcept { return impl_->send_capacity(s); }
bool SessionServer::accepted() const noexcept { return impl_->accepted_; }
bool SessionServer::finished() const noexcept { return impl_->finished(); }
std::error_code SessionServer::error() const noexcept { return impl_->ep_.error(); }
std::size_t SessionServer::buffered_input() const noexcept { return impl_->ep_.buffered_input(); }

}  // namespace twoway::session
