// Entry points for private key files: which format a text is in, and the rules both formats share.
#include <twoway/key_file.hpp>

#include "crypto/crypto.hpp"
#include "keys/armor.hpp"
#include "keys/private_key_formats.hpp"

namespace twoway {

KdfParams default_kdf_params() {
    const auto p = crypto::argon2id_default_params();
    return {p.opslimit, p.memlimit};
}

bool valid_key_comment(std::string_view comment) noexcept {
    if (comment.size() > max_key_comment) return false;
    for (char c : comment) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return false;
    }
    return true;
}

Result<DecodedPrivateKey> decode_private_key(std::string_view text, std::string_view passphrase,
                                             const KdfLimits& limits) {
    if (text.size() > keys::max_key_file_text) return fail(errc::length_too_large);
    if (keys::has_armor(text, keys::twoway_armor_label)) return keys::decode_twoway_key(text, passphrase, limits);
    if (keys::has_armor(text, keys::openssh_armor_label)) return keys::decode_openssh_key(text);
    return fail(errc::bad_key_format);
}

Result<KeyFileInfo> inspect_private_key(std::string_view text) {
    if (text.size() > keys::max_key_file_text) return fail(errc::length_too_large);
    if (keys::has_armor(text, keys::twoway_armor_label)) return keys::inspect_twoway_key(text);
    if (keys::has_armor(text, keys::openssh_armor_label)) return keys::inspect_openssh_key(text);
    return fail(errc::bad_key_format);
}

}  // namespace twoway
