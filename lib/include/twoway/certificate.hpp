/// @file
/// OpenSSH certificates for Ed25519 keys (`ssh-ed25519-cert-v01@openssh.com`, OpenSSH's
/// PROTOCOL.certkeys): a key, who it is for (principals), when (valid after / before), with which
/// restrictions (critical options) and permissions (extensions), signed by a certificate authority.
/// The blob is OpenSSH's wire and file form, byte for byte, so that certificates from ssh-keygen (and
/// smallstep, Teleport, Vault, ...) are read and certificates written here are read by OpenSSH.
///
/// What a certificate says is trusted only after its signature is: parse_certificate checks the
/// signature with the CA key the certificate names before it returns anything. Whether that CA is
/// trusted, and whether the certificate fits its use (type, principal, time, options), is the trust
/// decision's job (<twoway/trust.hpp>), not the parser's.
///
/// The CA key must be an Ed25519 key (as every key twoway signs or verifies with); a certificate
/// whose CA key is of another type, or is itself a certificate (OpenSSH refuses such "chained"
/// certificates too), is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>

namespace twoway {

/// The key type name of an Ed25519 certificate, in blobs and public key lines.
inline constexpr std::string_view ssh_ed25519_cert_name = "ssh-ed25519-cert-v01@openssh.com";

/// SSH_CERT_TYPE_USER and SSH_CERT_TYPE_HOST.
enum class CertificateType : std::uint32_t { user = 1, host = 2 };

/// valid_before meaning "forever" (ssh-keygen prints it as "forever").
inline constexpr std::uint64_t certificate_forever = std::numeric_limits<std::uint64_t>::max();

/// The most principals a certificate may list (OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS).
inline constexpr std::size_t max_certificate_principals = 256;
/// The largest certificate blob read or written: the identity blob's cap in the handshake.
inline constexpr std::size_t max_certificate_size = 8192;

/// One critical option or extension: its name and its data field as encoded. For OpenSSH's
/// force-command and source-address the data holds one string (text() reads it); for flag
/// extensions (permit-pty, ...) it is empty.
struct CertificateOption {
    std::string name;             ///< "force-command", "permit-pty", "name@domain" ...
    std::vector<std::byte> data;  ///< the data field's contents

    /// A flag: empty data.
    [[nodiscard]] TWOWAY_API static CertificateOption flag(std::string_view name);
    /// Data holding one string, as force-command and source-address are encoded.
    [[nodiscard]] TWOWAY_API static CertificateOption text(std::string_view name, std::string_view value);
    /// The one string the data holds; nothing when the data is not exactly one string.
    [[nodiscard]] TWOWAY_API std::optional<std::string> text_value() const;
};

/// What a CA signs: every field of the certificate but the CA key and the signature.
struct CertificateFields {
    std::vector<std::byte> nonce;  ///< the CA's random bytes; sign_certificate draws 32 when empty
    PublicKey key;                 ///< the certified key
    std::uint64_t serial = 0;  ///< the CA's number for it (0: none); what KRLs revoke by
    CertificateType type = CertificateType::user;  ///< user or host: a certificate serves one role only
    std::string key_id;                   ///< free text naming the holder, for logs
    std::vector<std::string> principals;  ///< user names or host names; empty: OpenSSH's "any" (twoway refuses it in trust decisions)
    std::uint64_t valid_after = 0;        ///< seconds since the epoch; valid when valid_after <= now < valid_before
    std::uint64_t valid_before = certificate_forever;  ///< certificate_forever: no end
    /// As in the certificate. PROTOCOL.certkeys asks for name order and each name once; as OpenSSH,
    /// the parser takes any order, and refuses only a critical option named twice.
    std::vector<CertificateOption> critical_options;  ///< restrictions (force-command, source-address)
    std::vector<CertificateOption> extensions;        ///< permissions (permit-pty, permit-port-forwarding, ...)
    std::vector<std::byte> reserved;                  ///< unused by OpenSSH; kept as read
};

/// A certificate whose signature verified.
struct Certificate : CertificateFields {
    PublicKey signature_key;      ///< the CA key that signed it
    std::vector<std::byte> blob;  ///< the whole certificate, as read or written
};

/// Parses a certificate blob (string "ssh-ed25519-cert-v01@openssh.com" | nonce | ...), checks its
/// signature with the CA key it names and returns it. Errors: unsupported_key_type (not an Ed25519
/// certificate, a CA key of another type or one that is a certificate, a signature of another type),
/// malformed (a field that breaks the format: an unknown certificate type, more than 256 principals, a
/// NUL in a text field, an option list that is not a list of name/data pairs, a critical option named
/// twice), length_too_large (a blob over max_certificate_size), bad_signature, and the reader's
/// short_input and trailing_data. `why`, when given, gets a one-line reason for the log.
[[nodiscard]] TWOWAY_API Result<Certificate> parse_certificate(std::span<const std::byte> blob,
                                                               std::string* why = nullptr);

/// Signs `fields` with `ca` (ssh-keygen -s): the options are sorted by name (a repeated name is
/// invalid_argument), an empty nonce becomes 32 bytes from rng. The result reads back with
/// parse_certificate. Errors: invalid_argument (a repeated option name, more than 256 principals, a NUL
/// in a text field, a blob over max_certificate_size).
[[nodiscard]] TWOWAY_API Result<Certificate> sign_certificate(CertificateFields fields, const PrivateKey& ca,
                                                              Rng& rng);

/// One certificate line, as in a `-cert.pub` file: `ssh-ed25519-cert-v01@openssh.com <base64> [comment]`.
struct CertificateLine {
    Certificate certificate;  ///< the certificate, its signature checked
    std::string comment;      ///< what follows the base64, possibly empty
};

/// Parses a certificate line (the blob as parse_certificate does). Errors: bad_key_format (not such a
/// line), the errors of parse_certificate; `why` as there.
[[nodiscard]] TWOWAY_API Result<CertificateLine> parse_certificate_line(std::string_view line,
                                                                        std::string* why = nullptr);
/// The line as ssh-keygen writes a `-cert.pub` file (no trailing newline).
[[nodiscard]] TWOWAY_API std::string format_certificate_line(const Certificate& certificate,
                                                             std::string_view comment = {});

/// "user" or "host".
[[nodiscard]] TWOWAY_API std::string_view certificate_type_name(CertificateType type) noexcept;

}  // namespace twoway
