// The keep-alive pair: PING asks the peer for a sign of life, PONG answers it (both directions).
#include "session/messages.hpp"

namespace twoway::session {

namespace {
Result<std::uint32_t> parse_cookie(wire::Bytes body) {
    wire::Reader r(body);
    const std::uint32_t cookie = r.u32();
    if (!r.expect_end()) return fail_from(r);
    return cookie;
}

// Straight into the output, with no body buffer: an owed PONG is written where nothing may allocate
// (Endpoint::flush_pong, into room reserved beforehand).
void write_cookie(wire::Writer& out, MsgType type, std::uint32_t cookie) {
    out.u8(static_cast<std::uint8_t>(type)).u32(4).u32(cookie);
}
}  // namespace

// PING: u32 cookie (the sender's choice; opaque to the receiver)
Result<std::uint32_t> parse_ping(wire::Bytes body) { return parse_cookie(body); }
void write_ping(wire::Writer& out, std::uint32_t cookie) { write_cookie(out, MsgType::ping, cookie); }

// PONG: u32 cookie (of the latest PING it answers)
Result<std::uint32_t> parse_pong(wire::Bytes body) { return parse_cookie(body); }
void write_pong(wire::Writer& out, std::uint32_t cookie) { write_cookie(out, MsgType::pong, cookie); }

}  // namespace twoway::session
