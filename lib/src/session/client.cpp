#include "session/client.hpp"

namespace twoway::session {

Result<SessionClient> SessionClient::start(const Request& request, const Options& options) {
    if (!valid_request(request) || !Endpoint::valid_options(options)) return fail(errc::invalid_argument);
    SessionClient c(request, options);
    // Our receive windows are announced in REQUEST; the server may send nothing before it, and we
    // may send no data before ACCEPT tells us the server's window for `in`.
    c.ep_.recv(Stream::out).open(options.window);
    c.ep_.recv(Stream::err).open(options.window);
    for (const EnvVar& v : request.env) write_env(c.ep_.out(), v);
    RequestMsg m{options.window, request};
    m.request.env.clear();
    write_request(c.ep_.out(), m);
    return c;
}

Result<Events> SessionClient::feed(wire::Bytes input) {
    return ep_.feed(input, [this](const Frame& f, Events& ev) -> Status {
        // The handler gets a copy of the (empty) state tag, so assigning state_ afterwards is safe.
        auto next = std::visit([&](auto s) { return on(s, f, ev); }, state_);
        if (!next) return fail(next.error());
        state_ = *next;
        return {};
    });
}

Result<SessionClient::State> SessionClient::on(ExpectResponse, const Frame& f, Events& ev) {
    switch (f.type) {
        case MsgType::accept: {
            auto m = parse_accept(f.body);
            if (!m) return fail(m.error());
            ep_.send(Stream::in).open(m->window);
            accepted_ = true;
            ev.emplace_back(std::in_place_type<Accepted>, Accepted{});
            return State{ExpectOutput{}};
        }
        case MsgType::reject: {
            auto m = parse_reject(f.body);
            if (!m) return fail(m.error());
            ev.emplace_back(std::in_place_type<Rejected>, Rejected{m->code, std::move(m->text)});
            return State{Done{}};
        }
        default: return fail(errc::unexpected_message);
    }
}

Result<SessionClient::State> SessionClient::on(ExpectOutput, const Frame& f, Events& ev) {
    switch (f.type) {
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

SessionClient::State SessionClient::after_output() const {
    if (!ep_.recv(Stream::out).ended() || !ep_.recv(Stream::err).ended()) return ExpectOutput{};
    // A service has no process, hence no exit message: the server's next word is CLOSE.
    if (request_.kind == RequestKind::service) return ExpectClose{};
    return ExpectExit{};
}

Result<SessionClient::State> SessionClient::on(ExpectExit, const Frame& f, Events& ev) {
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

Result<SessionClient::State> SessionClient::on(ExpectClose, const Frame& f, Events& ev) {
    return on_common(ExpectClose{}, f, ev);
}

Result<SessionClient::State> SessionClient::on(Done, const Frame&, Events&) {
    return fail(errc::unexpected_message);
}

Result<SessionClient::State> SessionClient::on_common(State current, const Frame& f, Events& ev) {
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

Status SessionClient::can_send() const {
    if (auto s = ep_.usable(); !s) return s;
    if (!accepted_ || close_sent_) return fail(errc::bad_state);
    return {};
}

std::size_t SessionClient::send_capacity(Stream s) const noexcept {
    if (s != Stream::in || !can_send() || ep_.send(Stream::in).ended()) return 0;
    return ep_.send_capacity(Stream::in);
}

Result<std::size_t> SessionClient::send_data(Stream s, wire::Bytes bytes) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return fail(st.error());
    if (ep_.send(Stream::in).ended()) return fail(errc::bad_state);
    return ep_.write_data(Stream::in, bytes);
}

Status SessionClient::send_eof(Stream s) {
    if (s != Stream::in) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (ep_.send(Stream::in).ended()) return fail(errc::bad_state);
    ep_.send(Stream::in).end();
    write_eof(ep_.out(), EofMsg{Stream::in});
    return {};
}

Status SessionClient::send_window_change(const TermSize& size) {
    if (auto st = can_send(); !st) return st;
    if (!request_.pty) return fail(errc::bad_state);
    write_window_change(ep_.out(), size);
    return {};
}

Status SessionClient::send_signal(std::string_view name) {
    if (!valid_signal_name(name)) return fail(errc::invalid_argument);
    if (auto st = can_send(); !st) return st;
    if (request_.kind == RequestKind::service) return fail(errc::bad_state);
    write_signal(ep_.out(), name);
    return {};
}

Status SessionClient::close() {
    if (auto st = can_send(); !st) return st;
    write_close(ep_.out());
    close_sent_ = true;
    return {};
}

Status SessionClient::consumed(Stream s, std::size_t n) {
    if (s == Stream::in) return fail(errc::invalid_argument);
    if (auto st = ep_.usable(); !st) return st;
    return ep_.consumed(s, n, close_sent_);
}

}  // namespace twoway::session
