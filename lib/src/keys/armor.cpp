#include "keys/armor.hpp"

#include <vector>

#include "crypto/crypto.hpp"

namespace twoway::keys {

namespace {
constexpr std::size_t line_width = 70;  // ssh-keygen's width, so exported files look like its own

std::string begin_line(std::string_view label) { return "-----BEGIN " + std::string(label) + "-----"; }
std::string end_line(std::string_view label) { return "-----END " + std::string(label) + "-----"; }

// Splits off the next line (without its "\n" or "\r\n"); false when text has no more lines.
bool next_line(std::string_view& text, std::string_view& line) {
    if (text.empty()) return false;
    const std::size_t nl = text.find('\n');
    line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return true;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}
}  // namespace

bool has_armor(std::string_view text, std::string_view label) {
    const std::string begin = begin_line(label);
    if (!text.starts_with(begin)) return false;
    text.remove_prefix(begin.size());
    return text.starts_with('\n') || text.starts_with("\r\n");
}

Result<SecretBuffer> unarmor(std::string_view text, std::string_view label, std::size_t max_bytes) {
    if (!has_armor(text, label)) return fail(errc::bad_key_format);
    // Cap before collecting anything: base64 is 4 characters for 3 bytes, so a body longer than
    // this cannot decode to at most max_bytes.
    const std::size_t max_chars = (max_bytes + 2) / 3 * 4;
    const std::string end = end_line(label);

    std::string_view line;
    (void)next_line(text, line);  // the BEGIN line, checked above
    SecretBuffer body_chars(max_chars);
    std::size_t n = 0;
    bool ended = false;
    while (next_line(text, line)) {
        if (line == end) {
            ended = true;
            break;
        }
        if (line.empty()) return fail(errc::malformed);
        for (char c : line) {
            if (!is_base64_char(c)) return fail(errc::malformed);
            if (n == max_chars) return fail(errc::length_too_large);
            body_chars.data()[n++] = static_cast<std::byte>(c);
        }
    }
    if (!ended) return fail(errc::bad_key_format);
    for (char c : text) {
        if (c != '\n' && c != '\r') return fail(errc::trailing_data);
    }
    if (n == 0) return fail(errc::malformed);

    auto decoded = crypto::base64_decode(std::string_view(reinterpret_cast<const char*>(body_chars.data()), n));
    if (!decoded) return fail(decoded.error());
    SecretBuffer out(*decoded);
    crypto::wipe(*decoded);
    if (out.size() > max_bytes) return fail(errc::length_too_large);
    return out;
}

std::string armor(std::span<const std::byte> data, std::string_view label) {
    const std::string b64 = crypto::base64_encode(data);
    std::string out = begin_line(label) + '\n';
    for (std::size_t i = 0; i < b64.size(); i += line_width) {
        out += b64.substr(i, line_width);
        out += '\n';
    }
    out += end_line(label) + '\n';
    return out;
}

}  // namespace twoway::keys
