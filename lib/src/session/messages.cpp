// The frame header and the field validators shared by every session message.
#include "session/messages.hpp"

#include <cassert>

#include <twoway/channel.hpp>

namespace twoway::session {

// The public cap is the record layer's: one message always fits one channel record (PROTOCOL.md, Framing).
static_assert(max_frame_size == Channel::max_payload);

bool is_known_type(std::uint8_t t) noexcept {
    switch (static_cast<MsgType>(t)) {
        case MsgType::env:
        case MsgType::request:
        case MsgType::accept:
        case MsgType::reject:
        case MsgType::data:
        case MsgType::eof:
        case MsgType::window_adjust:
        case MsgType::window_change:
        case MsgType::signal:
        case MsgType::exit_status:
        case MsgType::exit_signal:
        case MsgType::close:
        case MsgType::ping:
        case MsgType::pong:
        case MsgType::hostkeys: return true;
    }
    return false;
}

Result<FrameHeader> parse_frame_header(wire::Bytes header) {
    wire::Reader r(header);
    const std::uint8_t type = r.u8();
    const std::uint32_t length = r.u32();
    if (!r.expect_end()) return fail_from(r);
    // Checked before a single body byte is buffered: the type first (a peer speaking something else
    // is told so), then the length cap that bounds every receive buffer.
    if (!is_known_type(type)) return fail(errc::unexpected_message);
    if (length > max_body_size) return fail(errc::length_too_large);
    return FrameHeader{static_cast<MsgType>(type), length};
}

void write_frame(wire::Writer& out, MsgType type, wire::Bytes body) {
    assert(body.size() <= max_body_size);
    out.u8(static_cast<std::uint8_t>(type)).u32(static_cast<std::uint32_t>(body.size())).bytes(body);
}

bool read_bool(wire::Reader& r) noexcept {
    const std::uint8_t v = r.u8();
    if (v > 1) r.fail(errc::malformed);
    return v == 1;
}

Stream read_stream(wire::Reader& r) noexcept {
    const std::uint8_t v = r.u8();
    if (v > static_cast<std::uint8_t>(Stream::err)) {
        r.fail(errc::malformed);
        return Stream::in;
    }
    return static_cast<Stream>(v);
}

namespace {
bool is_alpha(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool has_nul(std::string_view s) noexcept { return s.find('\0') != std::string_view::npos; }
}  // namespace

bool valid_env_name(std::string_view s) noexcept {
    // A portable shell identifier: what can be exported and matched by an AcceptEnv pattern.
    if (s.empty() || s.size() > max_env_name) return false;
    if (!is_alpha(s[0]) && s[0] != '_') return false;
    for (char c : s) {
        if (!is_alpha(c) && !is_digit(c) && c != '_') return false;
    }
    return true;
}

bool valid_env_value(std::string_view s) noexcept {
    // Any bytes an environment can hold: everything but NUL.
    return s.size() <= max_env_value && !has_nul(s);
}

namespace {
struct DestinationParts {
    std::string_view host;
    std::uint16_t port = 0;
};

// "host:port" or "[v6]:port", without allocating (valid_command is noexcept).
std::optional<DestinationParts> split_destination(std::string_view s) noexcept {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = s.substr(0, colon);
    const std::string_view port = s.substr(colon + 1);
    // The port: 1..65535 in decimal, no sign, no leading zero.
    if (port.empty() || port.size() > 5 || port[0] == '0') return std::nullopt;
    std::uint32_t n = 0;
    for (char c : port) {
        if (!is_digit(c)) return std::nullopt;
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (n == 0 || n > 65535) return std::nullopt;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        // An IPv6 address (not checked further here: the server's resolver is the judge), at least one
        // ':' so that a name in brackets is not taken for one.
        host = host.substr(1, host.size() - 2);
        if (host.empty() || host.size() > 45 || host.find(':') == std::string_view::npos) return std::nullopt;
        for (char c : host) {
            if (!is_digit(c) && !((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) && c != ':' && c != '.') {
                return std::nullopt;
            }
        }
        return DestinationParts{host, static_cast<std::uint16_t>(n)};
    }
    // A host name or an IPv4 address: nothing a resolver, a log line or a shell would read otherwise.
    if (host.empty() || host.size() > max_destination_host || host[0] == '-' || host[0] == '.') return std::nullopt;
    for (char c : host) {
        if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != '_') return std::nullopt;
    }
    return DestinationParts{host, static_cast<std::uint16_t>(n)};
}
}  // namespace

bool valid_command(RequestKind kind, std::string_view s) noexcept {
    switch (kind) {
        case RequestKind::shell: return s.empty();
        case RequestKind::exec:
            // Passed to the shell as one argv element: any bytes but NUL (newlines are legitimate).
            return !s.empty() && s.size() <= max_command && !has_nul(s);
        case RequestKind::service: {
            // A name from the daemon's configuration; a narrow charset keeps it safe to log and match.
            if (s.empty() || s.size() > max_service_name) return false;
            if (!is_alpha(s[0]) && !is_digit(s[0])) return false;
            for (char c : s) {
                if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-') return false;
            }
            return true;
        }
        case RequestKind::direct: return split_destination(s).has_value();
        case RequestKind::listen:
            try {
                return parse_listen_address(s).has_value();
            } catch (...) {
                return false;  // the check builds a short string: only memory exhaustion throws
            }
        case RequestKind::pickup:
            try {
                return parse_pickup(s).has_value();
            } catch (...) {
                return false;
            }
        case RequestKind::subsystem:
            // SSH's names are printable US-ASCII without blanks (RFC 4250 4.6.1 allows '@' in local
            // extensions): nothing a terminal or a log line would interpret, nothing a config line splits.
            if (s.empty() || s.size() > max_subsystem_name) return false;
            for (char c : s) {
                if (c < 0x21 || c > 0x7e) return false;
            }
            return true;
    }
    return false;
}

bool valid_term(std::string_view s) noexcept {
    if (s.size() > max_term) return false;
    for (char c : s) {
        if (c < 0x21 || c > 0x7e) return false;  // visible ASCII only: it becomes TERM and a terminfo path
    }
    return true;
}

bool valid_signal_name(std::string_view s) noexcept {
    // SSH's form: the name without "SIG", upper case ("INT", "USR1").
    if (s.empty() || s.size() > max_signal_name) return false;
    for (char c : s) {
        if (!(c >= 'A' && c <= 'Z') && !is_digit(c)) return false;
    }
    return true;
}

bool valid_text(std::string_view s) noexcept {
    // Shown to a user: no control characters (no terminal escapes); bytes >= 0x80 pass, for UTF-8.
    if (s.size() > max_text) return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return false;
    }
    return true;
}

std::optional<Destination> parse_destination(std::string_view s) {
    const auto parts = split_destination(s);
    if (!parts) return std::nullopt;
    return Destination{std::string(parts->host), parts->port};
}

namespace {
// An entry's host and port parts, brackets removed, each possibly "*"; nothing if malformed.
std::optional<std::pair<std::string_view, std::string_view>> split_permit_open(std::string_view entry,
                                                                               bool host_wildcard) noexcept {
    const auto colon = entry.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = entry.substr(0, colon);
    const std::string_view port = entry.substr(colon + 1);
    // Check the parts with parse_destination's rules, a stand-in for a '*'.
    if (port != "*" && !split_destination(std::string("x:") + std::string(port))) return std::nullopt;
    if (host == "*") {
        if (!host_wildcard) return std::nullopt;
    } else if (!split_destination(std::string(host) + ":1")) {
        return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    return std::pair{host, port};
}
}  // namespace

bool valid_permit_open(std::string_view entry, bool host_wildcard) noexcept {
    try {
        return split_permit_open(entry, host_wildcard).has_value();
    } catch (...) {
        return false;  // the checks build short strings: only memory exhaustion throws
    }
}

bool permit_open_matches(std::string_view entry, const Destination& d) noexcept {
    try {
        const auto parts = split_permit_open(entry, true);
        if (!parts) return false;
        if (parts->first != "*" && parts->first != d.host) return false;
        return parts->second == "*" || parts->second == std::to_string(d.port);
    } catch (...) {
        return false;
    }
}

std::string destination_text(const Destination& d) {
    const bool v6 = d.host.find(':') != std::string::npos;
    return (v6 ? "[" + d.host + "]" : d.host) + ":" + std::to_string(d.port);
}

bool valid_request(const Request& r) noexcept {
    if (static_cast<std::uint8_t>(r.kind) < static_cast<std::uint8_t>(RequestKind::shell) ||
        static_cast<std::uint8_t>(r.kind) > static_cast<std::uint8_t>(RequestKind::pickup)) {
        return false;
    }
    if (!valid_command(r.kind, r.command)) return false;
    if (r.pty) {
        if (is_connection(r.kind)) return false;  // a TCP stream has no terminal
        if (!valid_term(r.pty->term)) return false;
    }
    if (r.env.size() > max_env_count) return false;
    for (const auto& v : r.env) {
        if (!valid_env_name(v.name) || !valid_env_value(v.value)) return false;
    }
    return true;
}

}  // namespace twoway::session
