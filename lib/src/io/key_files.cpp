// The file edge of twoway/key_file.hpp: reading private keys under ssh's permission rule, and writing
// key files atomically.
#include <twoway/file.hpp>
#include <twoway/key_file.hpp>

#include "crypto/crypto.hpp"
#include "keys/private_key_formats.hpp"

namespace twoway {

Result<std::string> read_private_key_file(const std::string& path, const KeyLoadOptions& options) {
    auto file = read_file(path, keys::max_key_file_text);
    if (!file) return fail(file.error());
    // As ssh: a private key that group or others may read, write or execute is not used. The key may
    // already have leaked, and going on would hide that from the user.
    if ((file->mode & 077U) != 0 && !options.allow_insecure_permissions) {
        crypto::wipe(std::as_writable_bytes(std::span(file->text)));
        return fail(errc::insecure_permissions);
    }
    return std::move(file->text);
}

Result<DecodedPrivateKey> load_private_key(const std::string& path, std::string_view passphrase,
                                           const KeyLoadOptions& options) {
    auto text = read_private_key_file(path, options);
    if (!text) return fail(text.error());
    auto key = decode_private_key(*text, passphrase, options.limits);
    crypto::wipe(std::as_writable_bytes(std::span(*text)));
    return key;
}

Status write_key_file(const std::string& path, std::string_view text, unsigned mode) {
    return write_file_atomic(path, text, mode);
}

}  // namespace twoway
