/// @file
/// Escaping untrusted text: what a peer sends (a server's refusal or exit signal text, an account name, a
/// service name) and what files hold, before it reaches a terminal, a log or a message. A peer that can
/// put raw bytes on a terminal can move the cursor, rewrite what the person reads, retitle the window or
/// forge a log line; these functions turn every such byte into a visible escape that cannot itself be
/// forged. They never fail and never throw anything but std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <twoway/export.hpp>

namespace twoway {

/// How much of Unicode a terminal is known to show as text: ascii (the C locale, or an encoding twoway
/// does not know) or utf8 (a UTF-8 locale).
enum class Charset { ascii, utf8 };

/// Untrusted text made safe to print on a terminal, in the spirit of ssh's strnvis: printable ASCII
/// passes, and with utf8 so does valid UTF-8, except control characters (C1, U+0080..U+009F, which
/// terminals obey as CSI, OSC ...), bidirectional formatting characters (U+061C, U+200E, U+200F,
/// U+202A..U+202E, U+2066..U+2069, which reorder what is shown) and the line and paragraph separators
/// U+2028 and U+2029. Everything else becomes a visible escape: a control byte or a byte that is not
/// part of valid UTF-8 (a raw 0x9b, an overlong encoding, a surrogate, a cut sequence) as `\x9b`, a
/// character as `\u202e` (`\U0001f600` past U+FFFF; with ascii, every non-ASCII character), and the
/// backslash itself as `\\`, so an escape can never be forged. The result holds no byte below 0x20 and no
/// 0x7f; with ascii, no byte above 0x7f either.
[[nodiscard]] TWOWAY_API std::string terminal_text(std::string_view s, Charset charset);

/// Text for a log line, as terminal_text(s, Charset::utf8) decides what is safe, in the form of sshd's
/// and twowayd's logs: every byte of an unsafe character or of invalid UTF-8 as `\xNN` (`\x0a`, `\xc2\x9b`,
/// `\xe2\x80\xae`), valid UTF-8 otherwise kept. The backslash is left alone, so a caller that must tell an
/// escape from a literal `"\x"` escapes backslashes first (twowayd does, for names). No byte below 0x20
/// nor 0x7f in the result.
[[nodiscard]] TWOWAY_API std::string log_text(std::string_view s);

/// Untrusted text for an error message: in double quotes, a double quote and a backslash escaped with a backslash, every
/// byte below 0x20 or from 0x7f up as `\xNN` (so also UTF-8, byte by byte), cut to max bytes of s followed
/// by "..." so that a hostile 8 KiB line cannot flood a log. The result is plain ASCII.
[[nodiscard]] TWOWAY_API std::string quoted(std::string_view s, std::size_t max = 64);

// ---- small text helpers for parsers (OpenSSH's file and config syntax) ---------------------------
// What the library's trust-file readers and the programs' config parsers (twowayd.conf,
// ~/.twoway/config) must agree on. All ASCII only: bytes from 0x80 up are never letters, blanks or
// digits. None allocate except ascii_lower(std::string_view), and none fail otherwise.

/// The ASCII lower case of c ('A'..'Z' to 'a'..'z'); every other byte unchanged.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
/// s with ASCII letters lowered, every other byte (UTF-8 included) unchanged.
[[nodiscard]] TWOWAY_API std::string ascii_lower(std::string_view s);
/// Whether a and b are equal but for ASCII case (as OpenSSH compares config keywords).
[[nodiscard]] TWOWAY_API bool iequals(std::string_view a, std::string_view b) noexcept;

/// A blank separates words in OpenSSH's files: space or tab.
[[nodiscard]] constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// A control byte other than tab: below 0x20, or 0x7f (a line holding one is binary junk, not text).
[[nodiscard]] constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}
/// Whether s holds a byte is_control accepts.
[[nodiscard]] TWOWAY_API bool has_control(std::string_view s) noexcept;

/// A decimal number 0..max: digits only (no sign, no blanks, not empty), refused rather than wrapped
/// past max. Nothing for anything else.
[[nodiscard]] TWOWAY_API std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept;

/// A TCP port 1..65535 in decimal: digits only, leading zeros allowed as OpenSSH's a2port() allows
/// them. Nothing for 0, anything out of range or anything but digits.
[[nodiscard]] TWOWAY_API std::optional<std::uint16_t> parse_port(std::string_view s) noexcept;

/// The parts split_host_port finds; both views point into its argument.
struct HostPortText {
    std::string_view host;               ///< without brackets; never empty
    std::optional<std::string_view> port;  ///< the text after the ':' (unchecked; may be empty)
    bool bracketed = false;              ///< the host was written in [brackets]
};
/// Splits "host", "host:port", "[host]" or "[host]:port" the way sshd's hpdelim() does; an unbracketed
/// text with two or more ':' is a bare IPv6 address without a port. Neither part is checked (a port
/// goes to parse_port, a host to valid_host_name in <twoway/trust.hpp>). Nothing for an empty host, an
/// unclosed '[' or anything but ":port" after ']'.
[[nodiscard]] TWOWAY_API std::optional<HostPortText> split_host_port(std::string_view s) noexcept;

}  // namespace twoway
