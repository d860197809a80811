// Remote forwarding (docs/PROTOCOL.md 15, "Remote forwarding"): the listen address of a listen request,
// PermitListen entries, the pickup token, and the records a listen session's out stream carries.
#include "crypto/crypto.hpp"
#include "session/messages.hpp"

namespace twoway::session {

namespace {

bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

// "0".."65535" without a sign or leading zeros (a lone "0" is port 0).
std::optional<std::uint16_t> listen_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5 || (s[0] == '0' && s.size() > 1)) return std::nullopt;
    std::uint32_t n = 0;
    for (char c : s) {
        if (!digit(c)) return std::nullopt;
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (n > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(n);
}

// A host as a destination's (parse_destination's rules, brackets around IPv6), or "*"; brackets removed.
std::optional<std::string> listen_host(std::string_view s) {
    if (s == "*") return std::string(s);
    auto d = parse_destination(std::string(s) + ":1");
    if (!d) return std::nullopt;
    return std::move(d->host);
}

// The port part after the last ':' outside brackets, or the whole when there is no host part.
std::pair<std::string_view, std::string_view> split_host_port(std::string_view s) noexcept {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || (!s.empty() && s.back() == ']')) return {{}, s};
    return {s.substr(0, colon), s.substr(colon + 1)};
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

enum class RecordType : std::uint8_t { bound = 1, connection = 2 };

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view s) {
    const auto [host, port_text] = split_host_port(s);
    const auto port = listen_port(port_text);
    if (!port) return std::nullopt;
    if (port_text.size() == s.size()) return ListenAddress{{}, *port};
    auto h = listen_host(host);
    if (!h) return std::nullopt;
    return ListenAddress{std::move(*h), *port};
}

std::string listen_address_text(const ListenAddress& a) {
    if (a.host.empty()) return std::to_string(a.port);
    return destination_text(Destination{a.host, a.port});  // the same brackets around IPv6
}

bool valid_permit_listen(std::string_view entry) noexcept {
    try {
        const auto [host, port] = split_host_port(entry);
        if (port != "*" && !listen_port(port)) return false;
        return port.size() == entry.size() || listen_host(host).has_value();
    } catch (...) {
        return false;  // the host check builds a short string: only memory exhaustion throws
    }
}

bool permit_listen_matches(std::string_view entry, const ListenAddress& a) noexcept {
    try {
        if (!valid_permit_listen(entry)) return false;
        const auto [host, port] = split_host_port(entry);
        if (port != "*" && port != std::to_string(a.port)) return false;
        if (port.size() == entry.size() || host == "*") return true;
        return !a.host.empty() && iequal(*listen_host(host), a.host);
    } catch (...) {
        return false;
    }
}

std::string pickup_text(const PickupToken& t) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * t.size());
    for (auto b : t) {
        s.push_back(hex[b >> 4]);
        s.push_back(hex[b & 0xf]);
    }
    return s;
}

std::optional<PickupToken> parse_pickup(std::string_view s) {
    PickupToken t{};
    if (s.size() != 2 * t.size()) return std::nullopt;
    const auto nibble = [](char c) -> int {
        if (digit(c)) return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;  // upper case too: one spelling per token
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
        const int hi = nibble(s[2 * i]);
        const int lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        t[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return t;
}

bool same_pickup_token(const PickupToken& a, const PickupToken& b) noexcept {
    return crypto::ct_equal(std::as_bytes(std::span(a)), std::as_bytes(std::span(b)));
}

// bound:      u8 1 | u32 port (1..65535)
// connection: u8 2 | token[32] | string[64] originator (text)
Result<std::vector<std::byte>> encode_listen_record(const ListenRecord& r) {
    wire::Writer w;
    if (const auto* b = std::get_if<ListenBound>(&r)) {
        if (b->port == 0) return fail(errc::invalid_argument);
        w.u8(static_cast<std::uint8_t>(RecordType::bound)).u32(b->port);
    } else {
        const auto& c = std::get<ListenConnection>(r);
        if (c.originator.size() > max_originator || !valid_text(c.originator)) return fail(errc::invalid_argument);
        w.u8(static_cast<std::uint8_t>(RecordType::connection));
        for (auto b : c.token) w.u8(b);
        w.string(c.originator);
    }
    return w.take();
}

Result<ListenRecords> parse_listen_records(std::span<const std::byte> bytes, bool bound_seen) {
    ListenRecords out;
    for (;;) {
        wire::Reader r(bytes.subspan(out.consumed));
        if (r.empty()) return out;
        const auto type = static_cast<RecordType>(r.u8());
        if (type == RecordType::bound) {
            if (bound_seen) return fail(errc::unexpected_message);
            const std::uint32_t port = r.u32();
            if (!r.ok()) return out;  // incomplete
            if (port == 0 || port > 65535) return fail(errc::malformed);
            out.consumed += 1 + 4;
            out.records.emplace_back(ListenBound{static_cast<std::uint16_t>(port)});
            bound_seen = true;
        } else if (type == RecordType::connection) {
            if (!bound_seen) return fail(errc::unexpected_message);
            ListenConnection c;
            const auto token = r.bytes(c.token.size());
            // The originator's length is checked as soon as it is there, before its bytes are.
            wire::Reader len(r.rest());
            const std::uint32_t n = len.u32();
            if (len.ok() && n > max_originator) return fail(errc::length_too_large);
            if (!len.ok() || len.remaining() < n) return out;  // incomplete
            for (std::size_t i = 0; i < c.token.size(); ++i) c.token[i] = static_cast<std::uint8_t>(token[i]);
            c.originator = std::string(wire::as_text(len.bytes(n)));
            if (!valid_text(c.originator)) return fail(errc::malformed);
            out.consumed += 1 + c.token.size() + 4 + n;
            out.records.emplace_back(std::move(c));
        } else {
            return fail(errc::malformed);
        }
    }
}

}  // namespace twoway::session
