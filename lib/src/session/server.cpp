#include "session/server.hpp"

namespace twoway::session {

Result<SessionServer> SessionServer::create(const Options& options) {
    if (!Endpoint::valid_options(options)) return fail(errc::invalid_argument);
    return SessionServer(options);
}

Result<Events> SessionServer::feed(wire::Bytes input) {
    return ep_.feed(input, [this](const Frame& f, Events& ev) -> Status {
        auto next = std::visit([&](auto& s) { return on(s, f, ev); }, state_);
        if (!next) return fail(next.error());
        // Assigned only after the handler returned: it held a reference into state_.
        if (*next) state_ = std::move(**next);
        return {};
    });
}

Result<std::optional<SessionServer::State>> SessionServer::on(ExpectRequest& s, const Frame& f, Events& ev) {
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

Result<std::optional<SessionServer::State>> SessionServer::on(AwaitDecision&, const Frame&, Events&) {
    // The client learns our window only from ACCEPT, so it has nothing it may send yet.
    return fail(errc::unexpected_message);
}

Result<std::optional<SessionServer::State>> SessionServer::on(ExpectInput&, const Frame& f, Events& ev) {
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
            if (kind_ == RequestKind::service) return fail(errc::unexpected_message);
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

Result<std::optional<SessionServer::State>> SessionServer::on(Done&, const Frame&, Events&) {
    return fail(errc::unexpected_message);
}

Status SessionServer::accept() {
    if (auto st = ep_.usable(); !st) return st;
    if (!std::holds_alternative<AwaitDecision>(state_)) return fail(errc::bad_state);
    ep_.recv(Stream::in).open(ep_.options().window);
    write_accept(ep_.out(), AcceptMsg{ep_.options().window});
    accepted_ = true;
    state_ = ExpectInput{};
    return {};
}

Status SessionServer::reject(std::uint32_t code, std::string_view text) {
    if (code == 0 || !valid_text(text)) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    if (!std::holds_alternative<AwaitDecision>(state_)) return fail(errc::bad_state);
    write_reject(ep_.out(), RejectMsg{code, std::string(text)});
    state_ = Done{};
    return {};
}

Status SessionServer::can_send() const {
    if (auto st = ep_.usable(); !st) return st;
    if (!accepted_ || close_sent_) return fail(errc::bad_state);
    return {};
}

std::size_t SessionServer::send_capacity(Stream s) const noexcept {
    if (!is_output(s) || !can_send() || ep_.send(s).ended()) return 0;
    return ep_.send_capacity(s);
}

Result<std::size_t> SessionServer::send_data(Stream s, wire::Bytes bytes) {
    if (!is_output(s)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return fail(st.error());
    if (ep_.send(s).ended()) return fail(errc::bad_state);
    return ep_.write_data(s, bytes);
}

Status SessionServer::send_eof(Stream s) {
    if (!is_output(s)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (ep_.send(s).ended()) return fail(errc::bad_state);
    ep_.send(s).end();
    write_eof(ep_.out(), EofMsg{s});
    return {};
}

Status SessionServer::send_exit_status(std::uint32_t status) {
    if (auto st = can_send(); !st) return st;
    // The client reads the exit only after both EOFs, so it knows all output has arrived.
    if (kind_ == RequestKind::service || exit_sent_ || !ep_.send(Stream::out).ended() ||
        !ep_.send(Stream::err).ended()) {
        return fail(errc::bad_state);
    }
    write_exit_status(ep_.out(), status);
    exit_sent_ = true;
    return {};
}

Status SessionServer::send_exit_signal(std::string_view name, bool core_dumped, std::string_view message) {
    if (!valid_signal_name(name) || !valid_text(message)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (kind_ == RequestKind::service || exit_sent_ || !ep_.send(Stream::out).ended() ||
        !ep_.send(Stream::err).ended()) {
        return fail(errc::bad_state);
    }
    write_exit_signal(ep_.out(), ExitSignalMsg{std::string(name), core_dumped, std::string(message)});
    exit_sent_ = true;
    return {};
}

Status SessionServer::close() {
    if (auto st = can_send(); !st) return st;
    write_close(ep_.out());
    close_sent_ = true;
    return {};
}

Status SessionServer::consumed(Stream s, std::size_t n) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    return ep_.consumed(s, n, close_sent_);
}

}  // namespace twoway::session
