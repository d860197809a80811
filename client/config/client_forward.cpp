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
