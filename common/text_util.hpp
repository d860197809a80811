// Text helpers of the programs' config parsers (twowayd.conf, ~/.twoway/config) and of config_syntax:
// ASCII case folding, blanks and control bytes, decimal numbers and ports, "host:port" splitting as
// sshd reads ListenAddress. The library has its own few of these for the trust files (lib/src/text);
// what both must agree on is public there instead: valid_host_name and match_pattern
// (<twoway/trust.hpp>), the escaping of untrusted text (<twoway/text.hpp>).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twoway_common::text {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] std::string ascii_lower(std::string_view s);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

[[nodiscard]] constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// A control byte other than tab (so a line holding one is binary junk, not text).
[[nodiscard]] constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}
[[nodiscard]] bool has_control(std::string_view s) noexcept;

// A decimal number 0..max, digits only (no sign, no blanks, no empty string).
[[nodiscard]] std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept;

// A decimal TCP port 1..65535: digits only, leading zeros allowed as in a2port().
[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view s) noexcept;

// Splits "host", "host:port", "[host]" or "[host]:port" the way sshd's hpdelim() does; an unbracketed
// text with two or more ':' is a bare IPv6 address without a port. The host comes back without brackets
// and neither part is checked. Nothing for an empty host, an unclosed '[' or junk after ']'.
struct HostPortText {
    std::string_view host;
    std::optional<std::string_view> port;
    bool bracketed = false;
};
[[nodiscard]] std::optional<HostPortText> split_host_port(std::string_view s) noexcept;

}  // namespace twoway_common::text
