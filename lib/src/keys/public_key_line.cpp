#include <twoway/key.hpp>

#include "crypto/crypto.hpp"

namespace twoway {

namespace {
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The longest base64 we look at: an Ed25519 blob is 51 bytes (68 base64 characters); certificates
// (later) are a few hundred bytes. Anything far larger is refused before decoding.
constexpr std::size_t max_base64 = 8192;
}  // namespace

Result<PublicKeyLine> parse_public_key_line(std::string_view line) {
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    for (char c : line) {
        if (c == '\0' || c == '\n' || c == '\r') return fail(errc::bad_key_format);
    }
    std::size_t i = 0;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t type_end = i;
    while (type_end < line.size() && !is_blank(line[type_end])) ++type_end;
    std::string_view type = line.substr(i, type_end - i);
    i = type_end;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t b64_end = i;
    while (b64_end < line.size() && !is_blank(line[b64_end])) ++b64_end;
    std::string_view b64 = line.substr(i, b64_end - i);
    i = b64_end;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::string_view comment = line.substr(i);

    if (type.empty() || b64.empty()) return fail(errc::bad_key_format);
    if (type != ssh_ed25519_name) {
        // A key line of another type (ssh-rsa, ecdsa-...) is well formed but not ours to use.
        const bool looks_like_key = type.starts_with("ssh-") || type.starts_with("ecdsa-") ||
                                    type.starts_with("sk-") || type.find('@') != std::string_view::npos;
        return fail(looks_like_key ? errc::unsupported_key_type : errc::bad_key_format);
    }
    if (b64.size() > max_base64) return fail(errc::malformed);
    auto blob = crypto::base64_decode(b64);
    if (!blob) return fail(errc::malformed);
    auto key = PublicKey::from_blob(*blob);
    if (!key) return fail(errc::malformed);  // includes a blob whose type differs from the line's
    return PublicKeyLine{*key, std::string(comment)};
}

std::string format_public_key_line(const PublicKey& key, std::string_view comment) {
    std::string out(ssh_ed25519_name);
    out += ' ';
    out += crypto::base64_encode(key.blob());
    if (!comment.empty()) {
        out += ' ';
        out += comment;
    }
    return out;
}

}  // namespace twoway
