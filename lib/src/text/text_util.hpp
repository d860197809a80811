// The library's own text helpers for its trust-file readers, beside the public ones in <twoway/text.hpp>
// (ascii_lower, is_blank, is_control, has_control, parse_decimal, parse_port, split_host_port, which the
// programs' config parsers use too) and the known_hosts host name rules in <twoway/trust.hpp>
// (valid_host_name). Internal; not part of the public API.
#pragma once

#include <string_view>

#include <twoway/text.hpp>

namespace twoway::text {

// The next blank-separated word of s (empty at the end), which is advanced past it.
[[nodiscard]] std::string_view next_word(std::string_view& s) noexcept;

// A character valid_host_name (<twoway/trust.hpp>) accepts: letters, digits, '.', '-', '_', ':' and '%'.
[[nodiscard]] constexpr bool is_host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == ':' || c == '%';
}

}  // namespace twoway::text
