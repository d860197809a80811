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

// How much of Unicode a terminal is known to show as text: ascii (the C locale, or an encoding twoway
// does not know) or utf8 (a UTF-8 locale).
enum class Charset { ascii, utf8 };

// Untrusted text (a server's REJECT or EXIT_SIGNAL text, anything a peer sends) made safe to print on
// a terminal, in the spirit of ssh's strnvis: printable ASCII passes, and with utf8 so does valid UTF-8,
// except control characters (C1, U+0080..U+009F, which terminals obey as CSI, OSC ...), bidirectional
// formatting characters (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, which reorder what is
// shown) and the line and paragraph separators U+2028 and U+2029. Everything else becomes a visible
// escape: a control byte or a byte that is not part of valid UTF-8 (a raw 0x9b, an overlong encoding, a
// surrogate, a cut sequence) as \x9b, a character as \u202e (\U0001f600 past U+FFFF; with ascii, every
// non-ASCII character), and the backslash itself as \\, so an escape can never be forged. The result
// holds no byte below 0x20 and no 0x7f; with ascii, no byte above 0x7f either.
[[nodiscard]] std::string terminal_text(std::string_view s, Charset charset);

// Text for a log line, as terminal_text(s, Charset::utf8) decides what is safe, in the form of sshd's and
// twowayd's logs: every byte of an unsafe character or of invalid UTF-8 as \xNN (\x0a, \xc2\x9b,
// \xe2\x80\xae), valid UTF-8 otherwise kept, the backslash left alone (names that may hold one are
// escaped before, twowayd's log_safe). No byte below 0x20 nor 0x7f in the result.
[[nodiscard]] std::string log_text(std::string_view s);

// Untrusted text for a message: in double quotes, non-printable and non-ASCII bytes as \xNN, cut to
// max bytes with "..." so a hostile 8 KiB line cannot flood a log.
[[nodiscard]] std::string quoted(std::string_view s, std::size_t max = 64);

}  // namespace twoway::text
