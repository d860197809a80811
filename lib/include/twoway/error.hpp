/// @file
/// One error enum for the whole library, grouped by who is to blame, with a std::error_category so
/// results compose with std::error_code and Asio.
///
/// Errors the operating system reports (file and socket operations) are not turned into these: they come
/// back as std::generic_category() or std::system_category() codes (compare with std::errc values),
/// transport errors from Asio as Asio reports them.
#pragma once

#include <string>
#include <system_error>

#include <twoway/export.hpp>

namespace twoway {

/// The library's errors. Compare a std::error_code with them directly (`ec == twoway::errc::auth_denied`);
/// message() gives a short English text. The values are grouped by who is to blame (the ranges below).
enum class errc {
    // 1..99: malformed or truncated input (from a peer or from a file)
    short_input = 1,         ///< a read ran past the end of the input
    trailing_data,           ///< bytes left after a complete structure
    length_too_large,        ///< a length field exceeds the cap for that field
    malformed,               ///< structurally invalid (bad tag, bad encoding, bad base64 ...)
    bad_key_format,          ///< not a key file / key line this library understands
    unsupported_key_type,    ///< a key type other than ssh-ed25519
    encrypted_openssh_key,   ///< an OpenSSH private key protected by a passphrase
    key_mismatch,            ///< private and public halves of a key file disagree
    corrupt_key_file,        ///< a key file's checksum does not match: the file was damaged
    kdf_params_rejected,     ///< a key file asks for Argon2id parameters outside the accepted limits

    // 100..199: the peer misbehaved or failed to authenticate
    unexpected_message = 100, ///< a message the current state does not accept
    unsupported_version,      ///< no protocol version in common
    unsupported_suite,        ///< no cipher suite in common
    weak_public_key,          ///< X25519 share of small order / all-zero shared secret
    reflected_message,        ///< our own message came back to us
    bad_signature,            ///< a signature did not verify
    bad_finished,             ///< a Finished MAC did not verify
    decrypt_failed,           ///< an AEAD record or message failed authentication
    record_too_large,         ///< a record length above the maximum
    truncated,                ///< the stream ended without an authenticated close
    host_key_rejected,        ///< the caller's verdict on the server identity was "no"
    auth_denied,              ///< the server refused the client (generic, by design)
    peer_closed,              ///< the peer sent an authenticated close
    counter_exhausted,        ///< a record counter would wrap: the session must end
    window_exceeded,          ///< the peer sent beyond its flow-control window (or overflowed it)
    host_key_mac_invalid,     ///< stealth mode: client_hello without a valid host_key_mac (PROTOCOL.md 4.1.1)
    preauth_limit,            ///< the peer sent more than the pre-authentication byte cap before the handshake ended
    wrong_certificate_type,   ///< a certificate of the other role's type (a user certificate as a server's identity, a host certificate as a client's)

    // 200..299: local configuration or usage
    invalid_argument = 200,   ///< an argument or configuration the library cannot honour
    wrong_passphrase,         ///< a passphrase did not open a key file
    passphrase_required,      ///< the key file is encrypted and no passphrase was given
    insecure_permissions,     ///< a private key file readable by group or others
    io_error,                 ///< a file or socket operation failed (see errno where relevant)
    not_found,                ///< a file or entry does not exist
    bad_state,                ///< an API called in a state that does not allow it
    internal,                 ///< a bug or a failed invariant: should never be seen
};

/// The category of twoway::errc codes (name "twoway"). One object for the process, thread-safe.
TWOWAY_API const std::error_category& twoway_category() noexcept;

/// The std::error_code for e, in twoway_category() (found by argument-dependent lookup, so
/// `std::error_code ec = errc::truncated;` works).
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), twoway_category()};
}

}  // namespace twoway

namespace std {
template <>
struct is_error_code_enum<twoway::errc> : true_type {};
}  // namespace std
