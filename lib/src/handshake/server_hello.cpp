// server_hello (PROTOCOL.md 4.2): the server's choices and its key share, in the clear.
#include "handshake/messages.hpp"

namespace twoway::handshake {

Result<ServerHello> parse_server_hello(wire::Bytes body) {
    wire::Reader r(body);
    ServerHello m;
    m.version = r.u16();
    m.suite = r.u16();
    m.random = r.array<random_size>();
    const std::size_t len = r.u16();
    if (!r.ok() || len > max_share_size) return fail(errc::malformed);
    m.share = r.bytes(len);
    if (!r.expect_end()) return fail(errc::malformed);
    return m;
}

std::vector<std::byte> write_server_hello(const ServerHello& m) {
    const std::size_t body_size = 2 + 2 + random_size + 2 + m.share.size();
    wire::Writer w(header_size + body_size);
    w.bytes(make_header(MsgType::server_hello, body_size))
        .u16(m.version)
        .u16(m.suite)
        .bytes(m.random)
        .u16(static_cast<std::uint16_t>(m.share.size()))
        .bytes(m.share);
    return w.take();
}

}  // namespace twoway::handshake
