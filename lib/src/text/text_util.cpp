// The small public text helpers of <twoway/text.hpp> (ascii_lower ... split_host_port), the library's
// internal ones (text_util.hpp), and the two public ones that say what a known_hosts host name is
// (valid_host_name: <twoway/trust.hpp>).
#include "text/text_util.hpp"

#include <algorithm>

#include <twoway/trust.hpp>

namespace twoway::text {

std::string_view next_word(std::string_view& s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && is_blank(s[i])) ++i;
    std::size_t end = i;
    while (end < s.size() && !is_blank(s[end])) ++end;
    const std::string_view word = s.substr(i, end - i);
    s.remove_prefix(end);
    return word;
}

}  // namespace twoway::text

namespace twoway {

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool has_control(std::string_view s) noexcept {
    for (char c : s) {
        if (is_control(c)) return true;
    }
    return false;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (d > max || v > (max - d) / 10) return std::nullopt;  // v * 10 + d would exceed max
        v = v * 10 + d;
    }
    return v;
}

std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
    auto v = parse_decimal(s, 65535);
    if (!v || *v == 0) return std::nullopt;
    return static_cast<std::uint16_t>(*v);
}

std::optional<HostPortText> split_host_port(std::string_view s) noexcept {
    HostPortText out;
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = s.substr(1, close - 1);
        out.bracketed = true;
        std::string_view after = s.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            out.port = after.substr(1);
        }
    } else {
        const auto colon = s.find(':');
        if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
            out.host = s.substr(0, colon);
            out.port = s.substr(colon + 1);
        } else {
            out.host = s;  // no colon, or a bare IPv6 address
        }
    }
    if (out.host.empty()) return std::nullopt;
    return out;
}

bool valid_host_name(std::string_view host) noexcept {
    if (host.empty() || host.size() > 255 || host.front() == '-') return false;
    // ':' belongs to IPv6 addresses, which have at least two; one ':' is a host:port written bare.
    const auto colon = host.find(':');
    if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) return false;
    return std::all_of(host.begin(), host.end(), text::is_host_char);
}

}  // namespace twoway
