// Small text helpers shared by the trust-file readers and the two configuration parsers (daemon and
// client): ASCII case folding, host names and ports as OpenSSH writes them, and quoting of untrusted
// text for diagnostics. Internal; not part of the public API.
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
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

[[nodiscard]] constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// The next blank-separated word of s (empty at the end), which is advanced past it.
[[nodiscard]] std::string_view next_word(std::string_view& s) noexcept;

// A control byte other than tab (so a line holding one is binary junk, not text).
[[nodiscard]] constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}
[[nodiscard]] bool has_control(std::string_view s) noexcept;

// A host name or address literal we accept anywhere (known_hosts, HostName, ListenAddress, Service):
// letters, digits, '.', '-', '_', ':' (IPv6) and '%' (IPv6 zone), at most 255 bytes, not starting with
// '-' (it could pass for a command-line option), and with no ':' or at least two (IPv6). No blanks,
// commas, brackets, wildcards or '!'.
[[nodiscard]] bool valid_host_name(std::string_view host) noexcept;

// A character valid_host_name accepts: letters, digits, '.', '-', '_', ':' and '%'.
[[nodiscard]] constexpr bool is_host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == ':' || c == '%';
}

// OpenSSH's patterns (ssh_config PATTERNS, known_hosts host lists): '*' matches any run of characters
// (also none), '?' exactly one; nothing else is special. Case-sensitive (callers lower-case both sides
// for host names). Greedy with one backtrack point, the last '*': linear in practice, at most
// pattern x text steps, never exponential, whatever a file holds.
[[nodiscard]] bool match_pattern(std::string_view pattern, std::string_view text) noexcept;

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

// Untrusted text for a message: in double quotes, non-printable and non-ASCII bytes as \xNN, cut to
// max bytes with "..." so a hostile 8 KiB line cannot flood a log.
[[nodiscard]] std::string quoted(std::string_view s, std::size_t max = 64);

}  // namespace twoway::text
