// Opening a session: ENV* and REQUEST from the client, ACCEPT or REJECT from the server.
#include "session/messages.hpp"

namespace twoway::session {

namespace {
std::string to_string(wire::Bytes b) { return std::string(wire::as_text(b)); }
}  // namespace

// ENV: string name | string value
Result<EnvVar> parse_env(wire::Bytes body) {
    wire::Reader r(body);
    EnvVar v;
    v.name = to_string(r.string(max_env_name));
    v.value = to_string(r.string(max_env_value));
    if (!r.expect_end()) return fail_from(r);
    if (!valid_env_name(v.name) || !valid_env_value(v.value)) return fail(errc::malformed);
    return v;
}

void write_env(wire::Writer& out, const EnvVar& v) {
    wire::Writer b;
    b.string(v.name).string(v.value);
    write_frame(out, MsgType::env, b.view());
}

// REQUEST: u32 window | u8 kind | string command | u8 has_pty
//          [| string term | u32 cols | u32 rows | u32 width_px | u32 height_px]   (if has_pty = 1)
Result<RequestMsg> parse_request(wire::Bytes body) {
    wire::Reader r(body);
    RequestMsg m;
    m.window = r.u32();
    const std::uint8_t kind = r.u8();
    m.request.command = to_string(r.string(max_command));
    if (read_bool(r)) {
        Pty p;
        p.term = to_string(r.string(max_term));
        p.size.cols = r.u32();
        p.size.rows = r.u32();
        p.size.width_px = r.u32();
        p.size.height_px = r.u32();
        m.request.pty = std::move(p);
    }
    if (!r.expect_end()) return fail_from(r);
    if (kind < static_cast<std::uint8_t>(RequestKind::shell) || kind > static_cast<std::uint8_t>(RequestKind::pickup)) {
        return fail(errc::malformed);
    }
    m.request.kind = static_cast<RequestKind>(kind);
    if (!valid_request(m.request)) return fail(errc::malformed);
    return m;
}

void write_request(wire::Writer& out, const RequestMsg& m) {
    wire::Writer b;
    b.u32(m.window).u8(static_cast<std::uint8_t>(m.request.kind)).string(m.request.command);
    if (m.request.pty) {
        const Pty& p = *m.request.pty;
        b.u8(1).string(p.term).u32(p.size.cols).u32(p.size.rows).u32(p.size.width_px).u32(p.size.height_px);
    } else {
        b.u8(0);
    }
    write_frame(out, MsgType::request, b.view());
}

// ACCEPT: u32 window
Result<AcceptMsg> parse_accept(wire::Bytes body) {
    wire::Reader r(body);
    AcceptMsg m;
    m.window = r.u32();
    if (!r.expect_end()) return fail_from(r);
    return m;
}

void write_accept(wire::Writer& out, const AcceptMsg& m) {
    wire::Writer b;
    b.u32(m.window);
    write_frame(out, MsgType::accept, b.view());
}

// REJECT: u32 code (>= 1) | string text
Result<RejectMsg> parse_reject(wire::Bytes body) {
    wire::Reader r(body);
    RejectMsg m;
    m.code = r.u32();
    m.text = to_string(r.string(max_text));
    if (!r.expect_end()) return fail_from(r);
    if (m.code == 0 || !valid_text(m.text)) return fail(errc::malformed);
    return m;
}

void write_reject(wire::Writer& out, const RejectMsg& m) {
    wire::Writer b;
    b.u32(m.code).string(m.text);
    write_frame(out, MsgType::reject, b.view());
}

}  // namespace twoway::session
