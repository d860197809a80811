// The data streams: DATA, EOF and the flow-control grant WINDOW_ADJUST.
#include "session/messages.hpp"

#include <cassert>

namespace twoway::session {

// DATA: u8 stream | bytes (the rest of the body, 1..max_data_size bytes)
Result<DataMsg> parse_data(wire::Bytes body) {
    wire::Reader r(body);
    DataMsg m;
    m.stream = read_stream(r);
    m.bytes = r.rest();
    if (!r.expect_end()) return fail_from(r);
    // An empty DATA carries nothing and costs the receiver a message: refuse it rather than define it.
    if (m.bytes.empty()) return fail(errc::malformed);
    return m;
}

void write_data(wire::Writer& out, Stream s, wire::Bytes bytes) {
    // Written straight into the output (no body copy): this is the bulk path.
    assert(!bytes.empty() && bytes.size() <= max_data_size);
    out.u8(static_cast<std::uint8_t>(MsgType::data))
        .u32(static_cast<std::uint32_t>(1 + bytes.size()))
        .u8(static_cast<std::uint8_t>(s))
        .bytes(bytes);
}

// EOF: u8 stream
Result<EofMsg> parse_eof(wire::Bytes body) {
    wire::Reader r(body);
    EofMsg m;
    m.stream = read_stream(r);
    if (!r.expect_end()) return fail_from(r);
    return m;
}

void write_eof(wire::Writer& out, const EofMsg& m) {
    const std::byte body[1] = {static_cast<std::byte>(m.stream)};
    write_frame(out, MsgType::eof, body);
}

// WINDOW_ADJUST: u8 stream | u32 increment (>= 1)
Result<WindowAdjustMsg> parse_window_adjust(wire::Bytes body) {
    wire::Reader r(body);
    WindowAdjustMsg m;
    m.stream = read_stream(r);
    m.increment = r.u32();
    if (!r.expect_end()) return fail_from(r);
    if (m.increment == 0) return fail(errc::malformed);
    return m;
}

void write_window_adjust(wire::Writer& out, const WindowAdjustMsg& m) {
    wire::Writer b;
    b.u8(static_cast<std::uint8_t>(m.stream)).u32(m.increment);
    write_frame(out, MsgType::window_adjust, b.view());
}

}  // namespace twoway::session
