#include <twoway/key.hpp>

#include "crypto/crypto.hpp"
#include "keys/key_line.hpp"

namespace twoway {

namespace {
// The longest base64 we look at: an Ed25519 blob is 51 bytes (68 base64 characters); certificates
// (later) are a few hundred bytes. Anything far larger is refused before decoding.
constexpr std::size_t max_base64 = 8192;
}  // namespace

Result<PublicKeyLine> parse_public_key_line(std::string_view line) {
    const auto parts = keys::split_key_line(line);
    if (!parts) return fail(errc::bad_key_format);
    const std::string_view type = parts->type, b64 = parts->base64, comment = parts->comment;
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
