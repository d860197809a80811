// Control and ending: WINDOW_CHANGE and SIGNAL (client -> server), EXIT_STATUS and EXIT_SIGNAL
// (server -> client), CLOSE (both).
#include "session/messages.hpp"

namespace twoway::session {

// WINDOW_CHANGE: u32 cols | u32 rows | u32 width_px | u32 height_px
Result<TermSize> parse_window_change(wire::Bytes body) {
    wire::Reader r(body);
    TermSize t;
    t.cols = r.u32();
    t.rows = r.u32();
    t.width_px = r.u32();
    t.height_px = r.u32();
    if (!r.expect_end()) return fail_from(r);
    return t;
}

void write_window_change(wire::Writer& out, const TermSize& t) {
    wire::Writer b;
    b.u32(t.cols).u32(t.rows).u32(t.width_px).u32(t.height_px);
    write_frame(out, MsgType::window_change, b.view());
}

// SIGNAL: string name   (1..32 of A-Z 0-9, without "SIG")
Result<std::string> parse_signal(wire::Bytes body) {
    wire::Reader r(body);
    std::string name(wire::as_text(r.string(max_signal_name)));
    if (!r.expect_end()) return fail_from(r);
    if (!valid_signal_name(name)) return fail(errc::malformed);
    return name;
}

void write_signal(wire::Writer& out, std::string_view name) {
    wire::Writer b;
    b.string(name);
    write_frame(out, MsgType::signal, b.view());
}

// EXIT_STATUS: u32 status
Result<std::uint32_t> parse_exit_status(wire::Bytes body) {
    wire::Reader r(body);
    const std::uint32_t status = r.u32();
    if (!r.expect_end()) return fail_from(r);
    return status;
}

void write_exit_status(wire::Writer& out, std::uint32_t status) {
    wire::Writer b;
    b.u32(status);
    write_frame(out, MsgType::exit_status, b.view());
}

// EXIT_SIGNAL: string name | u8 core_dumped (0 or 1) | string message
Result<ExitSignalMsg> parse_exit_signal(wire::Bytes body) {
    wire::Reader r(body);
    ExitSignalMsg m;
    m.name = std::string(wire::as_text(r.string(max_signal_name)));
    m.core_dumped = read_bool(r);
    m.message = std::string(wire::as_text(r.string(max_text)));
    if (!r.expect_end()) return fail_from(r);
    if (!valid_signal_name(m.name) || !valid_text(m.message)) return fail(errc::malformed);
    return m;
}

void write_exit_signal(wire::Writer& out, const ExitSignalMsg& m) {
    wire::Writer b;
    b.string(m.name).u8(m.core_dumped ? 1 : 0).string(m.message);
    write_frame(out, MsgType::exit_signal, b.view());
}

// CLOSE: empty body
Status parse_close(wire::Bytes body) {
    wire::Reader r(body);
    if (!r.expect_end()) return fail_from(r);
    return {};
}

void write_close(wire::Writer& out) { write_frame(out, MsgType::close, {}); }

}  // namespace twoway::session
