// Where a forward listens: "[bind_address:]port" (-D, DynamicForward), as ssh's parse_forward() reads a
// dynamic forward: one ':' outside brackets at most; the address "*", a name or an address, an IPv6 one
// in brackets.
#include "client_config.hpp"

#include <charconv>

#include <twoway/text.hpp>

namespace twoway_client {

std::optional<ForwardListen> parse_forward_listen(std::string_view text) {
    ForwardListen f;
    std::string_view port = text;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        f.bind_address = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        f.bind_address = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    if (f.bind_address) {
        const std::string& a = *f.bind_address;
        // A name or an address (no blanks, no control characters; a lookup decides the rest).
        if (a.empty() || a.size() > 255 || a.find_first_of(" \t[]/") != std::string::npos || twoway::has_control(a)) {
            return std::nullopt;
        }
        if (a.find(':') != std::string::npos && !text.starts_with('[')) return std::nullopt;
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || port.size() > 5 || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
        return std::nullopt;
    }
    f.port = static_cast<std::uint16_t>(value);
    return f;
}

std::string forward_listen_text(const ForwardListen& f) {
    if (!f.bind_address) return std::to_string(f.port);
    return "[" + *f.bind_address + "]:" + std::to_string(f.port);
}

}  // namespace twoway_client

namespace twoway_client {

namespace {

// One ':'-separated field of a forward, as ssh's parse_fwd_field() cuts it: "[...]" taken literally
// (it must be followed by ':' or the end), else up to the next ':'. `path`: it holds a '/', so ssh
// would read it as a Unix-domain socket.
struct Field {
    std::string text;
    bool bracketed = false;
    bool path = false;
};

std::optional<std::vector<Field>> forward_fields(std::string_view s) {
    std::vector<Field> out;
    while (true) {
        Field f;
        if (s.starts_with('[')) {
            const auto close = s.find(']');
            if (close == std::string_view::npos) return std::nullopt;
            f.text = std::string(s.substr(1, close - 1));
            f.bracketed = true;
            s.remove_prefix(close + 1);
            if (!s.empty() && s.front() != ':') return std::nullopt;
        } else {
            const auto colon = s.find(':');
            f.text = std::string(s.substr(0, colon));
            s.remove_prefix(colon == std::string_view::npos ? s.size() : colon);
        }
        f.path = f.text.find('/') != std::string::npos;
        out.push_back(std::move(f));
        if (s.empty()) return out;
        s.remove_prefix(1);  // the ':'
        if (out.size() > 4) return std::nullopt;
    }
}

// Decimal digits only (leading zeros allowed, as ssh's a2port), 0..65535.
std::optional<std::uint16_t> forward_port(std::string_view s) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string_view::npos ||
        ec != std::errc{} || end != s.data() + s.size() || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

}  // namespace

RemoteForwardParse parse_remote_forward(std::string_view text) {
    RemoteForwardParse out;
    const std::string quoted = twoway::quoted(text);
    auto fields = forward_fields(text);
    if (!fields || fields->size() > 4) {
        out.error = "Bad remote forwarding specification " + quoted;
        return out;
    }
    for (const auto& f : *fields) {
        if (f.path) {
            out.error = "Bad remote forwarding specification " + quoted +
                        ": twoway does not forward Unix-domain sockets";
            return out;
        }
    }
    if (fields->size() < 3) {
        // ssh's "-R [bind_address:]port": a SOCKS proxy on the server's side.
        out.error = "Bad remote forwarding specification " + quoted +
                    ": twoway has no remote dynamic (SOCKS) forwarding; give [bind_address:]port:host:hostport";
        return out;
    }
    RemoteForwardSpec r;
    r.spec = std::string(text);
    std::size_t i = 0;
    if (fields->size() == 4) r.bind_address = (*fields)[i++].text;
    const auto listen_port = forward_port((*fields)[i].text);
    const Field& host = (*fields)[i + 1];
    const auto host_port = forward_port((*fields)[i + 2].text);
    if (!listen_port) {
        out.error = "Bad remote forwarding specification " + quoted + ": bad listen port";
        return out;
    }
    if (!host_port || *host_port == 0) {
        out.error = "Bad remote forwarding specification " + quoted + ": bad port " +
                    twoway::quoted((*fields)[i + 2].text);
        return out;
    }
    r.listen.port = *listen_port;
    if (r.bind_address) {
        const std::string& b = *r.bind_address;
        r.listen.host = b.empty() || b == "*" ? std::string("*") : b;
        // The form the listen request carries must read back as the same address (a name or an address
        // the protocol takes).
        const auto check = twoway::session::parse_listen_address(twoway::session::listen_address_text(r.listen));
        if (!check || *check != r.listen) {
            out.error = "Bad remote forwarding specification " + quoted + ": bad bind address " + twoway::quoted(b);
            return out;
        }
    }
    const bool v6 = host.text.find(':') != std::string::npos;
    if (v6 && !host.bracketed) {
        out.error = "Bad remote forwarding specification " + quoted + ": an IPv6 address needs brackets";
        return out;
    }
    const auto dest = twoway::session::parse_destination((v6 ? "[" + host.text + "]" : host.text) + ":" +
                                                         std::to_string(*host_port));
    if (host.text.empty() || !dest) {
        out.error = "Bad remote forwarding specification " + quoted + ": bad host " + twoway::quoted(host.text);
        return out;
    }
    r.host = host.text;
    r.host_port = *host_port;
    out.forward = std::move(r);
    return out;
}

std::string remote_forward_text(const RemoteForwardSpec& f) {
    std::string out = f.bind_address ? "[" + *f.bind_address + "]:" + std::to_string(f.listen.port)
                                     : std::to_string(f.listen.port);
    return out + " [" + f.host + "]:" + std::to_string(f.host_port);
}

}  // namespace twoway_client
