// Escaping untrusted text for messages, terminals and logs (<twoway/text.hpp>).
#include <twoway/text.hpp>

#include <cstdint>

namespace twoway {

std::string quoted(std::string_view s, std::size_t max) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    const bool cut = s.size() > max;
    if (cut) s = s.substr(0, max);
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else {
                out += "\\x";
                out += digits[u >> 4];
                out += digits[u & 15];
            }
        } else {
            out += c;
        }
    }
    if (cut) out += "...";
    out += '"';
    return out;
}

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint32_t v, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += hex_digits[(v >> shift) & 15];
}

// The length of the valid UTF-8 sequence at the start of s and its code point, or 0 when s does not start
// with one (Unicode's table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF, no cut sequence).
std::size_t utf8_sequence(std::string_view s, std::uint32_t& cp) noexcept {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;  // the range of the second byte; later ones are always 80..bf
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fU;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fU;
        if (c == 0xe0) lo = 0xa0;  // overlong below
        if (c == 0xed) hi = 0x9f;  // surrogates above
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07U;
        if (c == 0xf0) lo = 0x90;  // overlong below
        if (c == 0xf4) hi = 0x8f;  // past U+10FFFF above
    } else {
        return 0;  // a continuation byte, C0/C1 (always overlong) or F5..FF
    }
    if (s.size() < len) return 0;
    for (std::size_t i = 1; i < len; ++i) {
        const unsigned char lo_i = i == 1 ? lo : 0x80;
        const unsigned char hi_i = i == 1 ? hi : 0xbf;
        if (b(i) < lo_i || b(i) > hi_i) return 0;
        cp = (cp << 6) | (b(i) & 0x3fU);
    }
    return len;
}

// Characters that must not reach a terminal as they are even when it takes UTF-8.
bool unsafe_code_point(std::uint32_t cp) noexcept {
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;  // C0, DEL, C1
    if (cp == 0x061c || cp == 0x200e || cp == 0x200f) return true;  // ALM, LRM, RLM
    if (cp >= 0x202a && cp <= 0x202e) return true;                 // LRE RLE PDF LRO RLO
    if (cp >= 0x2066 && cp <= 0x2069) return true;                 // LRI RLI FSI PDI
    return cp == 0x2028 || cp == 0x2029;                           // line and paragraph separators
}

}  // namespace

std::string terminal_text(std::string_view s, Charset charset) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        std::uint32_t cp = 0;
        const std::size_t len = utf8_sequence(s.substr(i), cp);
        if (len == 0 || (len == 1 && unsafe_code_point(cp))) {
            out += "\\x";  // a byte: invalid UTF-8, or an ASCII control
            append_hex(out, static_cast<unsigned char>(s[i]), 2);
            i += 1;
            continue;
        }
        if (len == 1) {
            if (s[i] == '\\') out += '\\';
            out += s[i];
        } else if (charset == Charset::utf8 && !unsafe_code_point(cp)) {
            out.append(s.substr(i, len));
        } else if (cp > 0xffff) {
            out += "\\U";
            append_hex(out, cp, 8);
        } else {
            out += "\\u";
            append_hex(out, cp, 4);
        }
        i += len;
    }
    return out;
}

std::string log_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        std::uint32_t cp = 0;
        std::size_t len = utf8_sequence(s.substr(i), cp);
        const bool keep = len != 0 && !unsafe_code_point(cp);
        if (len == 0) len = 1;  // not UTF-8: one byte at a time
        if (keep) {
            out.append(s.substr(i, len));
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                out += "\\x";
                append_hex(out, static_cast<unsigned char>(s[i + k]), 2);
            }
        }
        i += len;
    }
    return out;
}

}  // namespace twoway
