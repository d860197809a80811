#include <twoway/error.hpp>

#include "error_text.hpp"

namespace twoway {

const char* errc_text(int v) noexcept {
    switch (static_cast<errc>(v)) {
        case errc::short_input: return "input ends too soon";
        case errc::trailing_data: return "unexpected bytes after the end of the input";
        case errc::length_too_large: return "a length field is larger than allowed";
        case errc::malformed: return "malformed input";
        case errc::bad_key_format: return "not a key in a format twoway understands";
        case errc::unsupported_key_type: return "unsupported key type (only ssh-ed25519 is supported)";
        case errc::encrypted_openssh_key:
            return "OpenSSH key is passphrase-protected; decrypt a copy with 'ssh-keygen -p -N \"\" -f COPY' "
                   "and import that";
        case errc::key_mismatch: return "private and public parts of the key do not match";
        case errc::corrupt_key_file: return "key file is damaged (checksum mismatch)";
        case errc::kdf_params_rejected:
            return "key file asks for passphrase hashing (Argon2id) parameters outside the accepted limits";
        case errc::unexpected_message: return "unexpected message";
        case errc::unsupported_version: return "no protocol version in common";
        case errc::unsupported_suite: return "no cipher suite in common";
        case errc::weak_public_key: return "peer sent a weak (small-order) key share";
        case errc::reflected_message: return "peer reflected our own message";
        case errc::bad_signature: return "signature verification failed";
        case errc::bad_finished: return "handshake Finished value did not verify";
        case errc::decrypt_failed: return "message authentication failed";
        case errc::record_too_large: return "record larger than the maximum";
        case errc::truncated: return "connection ended without an authenticated close";
        case errc::host_key_rejected: return "host key rejected";
        case errc::auth_denied: return "permission denied";
        case errc::peer_closed: return "peer closed the session";
        case errc::counter_exhausted: return "record counter exhausted";
        case errc::window_exceeded: return "peer violated session flow control (sent beyond its window)";
        case errc::host_key_mac_invalid: return "client_hello does not prove knowledge of the host key (stealth mode)";
        case errc::preauth_limit: return "pre-authentication byte limit exceeded";
        case errc::wrong_certificate_type: return "certificate of the wrong type for its role";
        case errc::invalid_argument: return "invalid argument";
        case errc::wrong_passphrase: return "incorrect passphrase supplied to decrypt private key";
        case errc::passphrase_required: return "private key is encrypted and no passphrase was given";
        case errc::insecure_permissions:
            return "private key file is accessible by others (permissions must be 0600 or stricter)";
        case errc::io_error: return "input/output error";
        case errc::not_found: return "not found";
        case errc::bad_state: return "operation not allowed in the current state";
        case errc::internal: return "internal error";
    }
    return nullptr;
}

namespace {
class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "twoway"; }

    std::string message(int v) const override {
        const char* text = errc_text(v);
        return text != nullptr ? text : "unknown twoway error";
    }
};
}  // namespace

const std::error_category& twoway_category() noexcept {
    static const Category c;
    return c;
}

}  // namespace twoway
