// Small text helpers of the library's trust-file readers: ASCII case folding, words, control bytes, host
// names and ports as OpenSSH writes them. Internal; not part of the public API. What the public API
// offers of the same kind: the escaping of untrusted text (quoted, terminal_text, log_text) in
// <twoway/text.hpp>, and the known_hosts host name rules (valid_host_name, match_pattern) in
// <twoway/trust.hpp>. (The programs keep their own small copies of the generic ones in common/.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace twoway::text {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] std::string ascii_lower(std::string_view s);

[[nodiscard]] constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// The next blank-separated word of s (empty at the end), which is advanced past it.
[[nodiscard]] std::string_view next_word(std::string_view& s) noexcept;

// A control byte other than tab (so a line holding one is binary junk, not text).
[[nodiscard]] constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}
[[nodiscard]] bool has_control(std::string_view s) noexcept;

// A character valid_host_name (<twoway/trust.hpp>) accepts: letters, digits, '.', '-', '_', ':' and '%'.
[[nodiscard]] constexpr bool is_host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == ':' || c == '%';
}

// A decimal TCP port 1..65535: digits only (no sign, no blanks), leading zeros allowed as in a2port().
[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view s) noexcept;

// A decimal number 0..max, digits only.
[[nodiscard]] std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept;

// Splits "host", "host:port", "[host]" or "[host]:port" the way sshd's hpdelim() does; an unbracketed
// text with two or more ':' is a bare IPv6 address without a port. The host comes back without brackets
// and neither part is checked. Nothing for an empty host, an unclosed '[' or junk after ']'.
struct HostPortText {
    std::string_view host;
    std::optional<std::string_view> port;
    bool bracketed = false;
};
[[nodiscard]] std::optional<HostPortText> split_host_port(std::string_view s) noexcept;

}  // namespace twoway::text
