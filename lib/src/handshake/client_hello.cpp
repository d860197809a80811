// client_hello (PROTOCOL.md 4.1). Its layout is frozen across protocol versions: a server of any version
// must be able to read it to negotiate.
#include <algorithm>

#include "handshake/messages.hpp"

namespace twoway::handshake {

namespace {
template <class T>
bool distinct(const std::vector<T>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
        for (std::size_t j = i + 1; j < v.size(); ++j) {
            if (v[i] == v[j]) return false;
        }
    }
    return true;
}

bool read_u16_list(wire::Reader& r, std::size_t max, std::vector<std::uint16_t>& out) {
    const std::size_t n = r.u8();
    if (!r.ok() || n == 0 || n > max) return false;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(r.u16());
    return r.ok() && distinct(out);
}
}  // namespace

Result<ClientHello> parse_client_hello(wire::Bytes body) {
    wire::Reader r(body);
    ClientHello m;
    if (!read_u16_list(r, max_versions, m.versions)) return fail(errc::malformed);
    if (!read_u16_list(r, max_suites, m.suites)) return fail(errc::malformed);
    m.random = r.array<random_size>();

    const std::size_t shares = r.u8();
    if (!r.ok() || shares == 0 || shares > max_shares) return fail(errc::malformed);
    std::vector<std::uint16_t> groups;
    for (std::size_t i = 0; i < shares; ++i) {
        KeyShare s;
        s.group = r.u16();
        const std::size_t len = r.u16();
        if (len > max_share_size) return fail(errc::malformed);
        s.data = r.bytes(len);
        if (!r.ok()) return fail(errc::malformed);
        if (s.group == group_x25519 && s.data.size() != x25519_share_size) return fail(errc::malformed);
        groups.push_back(s.group);
        m.shares.push_back(s);
    }
    if (!distinct(groups)) return fail(errc::malformed);

    const std::size_t ext_len = r.u16();
    if (!r.ok() || ext_len > max_extensions_size) return fail(errc::malformed);
    wire::Reader ext(r.bytes(ext_len));
    if (!r.ok()) return fail(errc::malformed);
    std::vector<std::uint16_t> types;
    while (ext.ok() && !ext.empty()) {
        Extension e;
        e.type = ext.u16();
        e.data = ext.bytes(ext.u16());
        types.push_back(e.type);
        m.extensions.push_back(e);
    }
    if (!ext.ok() || !distinct(types) || !r.expect_end()) return fail(errc::malformed);
    return m;
}

std::vector<std::byte> write_client_hello(const ClientHello& m) {
    wire::Writer body(128);
    body.u8(static_cast<std::uint8_t>(m.versions.size()));
    for (std::uint16_t v : m.versions) body.u16(v);
    body.u8(static_cast<std::uint8_t>(m.suites.size()));
    for (std::uint16_t s : m.suites) body.u16(s);
    body.bytes(m.random);
    body.u8(static_cast<std::uint8_t>(m.shares.size()));
    for (const KeyShare& s : m.shares) body.u16(s.group).u16(static_cast<std::uint16_t>(s.data.size())).bytes(s.data);
    std::size_t ext_len = 0;
    for (const Extension& e : m.extensions) ext_len += 4 + e.data.size();
    body.u16(static_cast<std::uint16_t>(ext_len));
    for (const Extension& e : m.extensions) body.u16(e.type).u16(static_cast<std::uint16_t>(e.data.size())).bytes(e.data);

    wire::Writer msg(header_size + body.size());
    msg.bytes(make_header(MsgType::client_hello, body.size())).bytes(body.view());
    return msg.take();
}

}  // namespace twoway::handshake
