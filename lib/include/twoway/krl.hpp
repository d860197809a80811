/// @file
/// OpenSSH key revocation lists (KRLs): the binary files `ssh-keygen -k` writes and sshd's RevokedKeys
/// reads, as OpenSSH's PROTOCOL.krl describes them. A KRL revokes certificates by CA and serial number
/// (lists, ranges, bitmaps) or key id, and plain keys by their blob or by the SHA-1 or SHA-256 hash of
/// their blob.
///
/// parse_krl reads a KRL the way OpenSSH's sshd does, and refuses what sshd refuses: an unknown section,
/// a section with bytes left over, a serial of 0, a bitmap over 16384 bits. What twoway decides on its own:
/// - a signed KRL (KRL_SECTION_SIGNATURE) is refused: twoway does not check KRL signatures, and OpenSSH
///   9.4 and later refuse signed KRLs too (sign the file with `ssh-keygen -Y sign` instead);
/// - extension sections (KRL_SECTION_EXTENSION, KRL_SECTION_CERT_EXTENSION, in PROTOCOL.krl since OpenSSH
///   9.4) are read as there: a non-critical one is skipped, a critical one refuses the KRL.
/// A KRL that does not parse must not be skipped by the caller: an unusable revocation list refuses every
/// key (sshd does the same).
///
/// write_krl writes what `ssh-keygen -k` writes for the same revocations, byte for byte, with one
/// exception: where ssh-keygen would write a serial bitmap over 16384 bits (which OpenSSH itself then
/// cannot read: "bignum is too large"), a new section starts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/result.hpp>

namespace twoway {

/// The first 8 bytes of every KRL ("SSHKRL\n\0").
inline constexpr std::string_view krl_magic{"SSHKRL\n\0", 8};
/// The largest KRL parse_krl reads (length_too_large beyond).
inline constexpr std::size_t max_krl_size = std::size_t{32} << 20;
/// The most revocations one KRL may hold (serial ranges, key ids, keys, hashes, counted as read, before
/// duplicates merge), so that memory stays proportional to the file (length_too_large beyond).
inline constexpr std::size_t max_krl_entries = std::size_t{1} << 21;

/// Certificate serial numbers first..last, both included (first >= 1: serial 0 means "none").
struct KrlSerialRange {
    std::uint64_t first = 0;  ///< the lowest revoked serial
    std::uint64_t last = 0;   ///< the highest revoked serial
    /// Equal when both ends are.
    friend bool operator==(const KrlSerialRange&, const KrlSerialRange&) = default;
};

/// The certificates a KRL revokes for one CA (a KRL_SECTION_CERTIFICATES section, merged with any
/// other for the same CA key).
struct KrlCertificates {
    /// The CA key's SSH wire blob; empty: certificates of any CA (`ssh-keygen -k -s none`). A CA key of
    /// another type than Ed25519 is kept as read; it matches no certificate twoway accepts.
    std::vector<std::byte> ca_key;
    /// Revoked serials, sorted, disjoint and not adjacent (overlapping and touching ranges merged).
    std::vector<KrlSerialRange> serials;
    /// Revoked key ids, in byte order, each once.
    std::vector<std::string> key_ids;
};

/// A SHA-1 hash of a key blob (KRL_SECTION_FINGERPRINT_SHA1).
using KrlSha1 = std::array<std::byte, 20>;
/// A SHA-256 hash of a key blob (KRL_SECTION_FINGERPRINT_SHA256): what `SHA256:` fingerprints encode.
using KrlSha256 = std::array<std::byte, 32>;

/// A key revocation list. parse_krl returns it with every list in the order documented at its member,
/// and the revoke_ functions keep that order (the lookups rely on it); code that edits the vectors
/// itself calls normalize() afterwards.
struct Krl {
    std::uint64_t version = 0;         ///< krl_version: grows with every change (`ssh-keygen -k -z`)
    std::uint64_t generated_date = 0;  ///< seconds since the epoch when the KRL was written
    std::uint64_t flags = 0;           ///< none are defined; kept as read
    std::string comment;               ///< free text (no NUL)
    /// Certificate revocations, one entry per CA key (or any CA), in order of first appearance.
    std::vector<KrlCertificates> certificates;
    /// Explicitly revoked plain key blobs (any key type), in byte order, each once.
    std::vector<std::vector<std::byte>> keys;
    /// Revoked SHA-1 hashes of key blobs, in byte order, each once.
    std::vector<KrlSha1> sha1;
    /// Revoked SHA-256 hashes of key blobs, in byte order, each once.
    std::vector<KrlSha256> sha256;

    /// Revokes the certificates of CA `ca_key` (a key blob; empty: of any CA) with serials first..last.
    /// Errors: invalid_argument when first is 0 or above last (ssh-keygen refuses them too).
    [[nodiscard]] TWOWAY_API Status revoke_serials(std::span<const std::byte> ca_key, std::uint64_t first,
                                                   std::uint64_t last);
    /// Revokes the certificates of CA `ca_key` (empty: of any CA) with this key id.
    TWOWAY_API void revoke_key_id(std::span<const std::byte> ca_key, std::string_view key_id);
    /// Revokes a plain key by its blob (a `key:` line of a KRL spec).
    TWOWAY_API void revoke_key(const PublicKey& key);
    /// Revokes a key blob (any key type) as it is.
    TWOWAY_API void revoke_key_blob(std::span<const std::byte> blob);
    /// Revokes keys by the SHA-1 hash of their blob (a `sha1:` line).
    TWOWAY_API void revoke_sha1(const KrlSha1& hash);
    /// Revokes keys by the SHA-256 hash of their blob (a `sha256:` or `hash: SHA256:` line).
    TWOWAY_API void revoke_sha256(const KrlSha256& hash);
    /// Revokes a certificate as `ssh-keygen -k` does a certificate line: by its CA and serial, or by its
    /// CA and key id when its serial is 0.
    TWOWAY_API void revoke_certificate(const Certificate& certificate);
    /// Revokes a key by the SHA-1 hash of its blob (a `sha1:` line).
    TWOWAY_API void revoke_key_sha1(const PublicKey& key);
    /// Revokes a key by the SHA-256 hash of its blob (a `sha256:` line).
    TWOWAY_API void revoke_key_sha256(const PublicKey& key);
    /// Restores the documented order of every list (sorts, merges, removes repeats).
    TWOWAY_API void normalize();
};

/// The hash a `SHA256:` fingerprint encodes (ssh-keygen -l's form, as on a KRL spec's `hash:` line):
/// "SHA256:" then base64, its '=' padding optional. Errors: bad_key_format (no "SHA256:" prefix),
/// malformed (bad base64, or not 32 bytes).
[[nodiscard]] TWOWAY_API Result<KrlSha256> parse_sha256_fingerprint(std::string_view text);

/// Whether `data` starts like a KRL (the magic), as opposed to a text list of keys.
[[nodiscard]] TWOWAY_API bool is_krl(std::span<const std::byte> data) noexcept;

/// Parses a KRL. Errors: bad_key_format (no KRL magic), malformed (a format version other than 1, an
/// unknown or signature section, a critical extension, a serial of 0 or a reversed range, a bitmap that
/// is negative, over 16384 bits or past the last serial, a hash of the wrong size, a CA key that is not
/// a key blob, a NUL in the comment or a key id, bytes left in a section), length_too_large (over
/// max_krl_size or max_krl_entries), short_input. `why`, when given, gets a one-line reason for the log.
[[nodiscard]] TWOWAY_API Result<Krl> parse_krl(std::span<const std::byte> data, std::string* why = nullptr);

/// Writes `krl` as `ssh-keygen -k` does (see the file comment); its lists need not be in order.
[[nodiscard]] TWOWAY_API std::vector<std::byte> write_krl(const Krl& krl);

/// How a KRL revokes a key.
enum class KrlMatchKind {
    key,     ///< the key's blob is listed (KRL_SECTION_EXPLICIT_KEY)
    sha1,    ///< the SHA-1 hash of the key's blob is listed
    sha256,  ///< the SHA-256 hash of the key's blob is listed
    serial,  ///< the certificate's serial is revoked for its CA (or any CA)
    key_id,  ///< the certificate's key id is revoked for its CA (or any CA)
    ca_key,  ///< the certificate's CA key is itself revoked as a plain key
};

/// A revocation found: how, and a one-line description for the log (which serial, key id or hash).
struct KrlMatch {
    KrlMatchKind kind = KrlMatchKind::key;  ///< how the KRL revokes it
    std::string detail;                     ///< e.g. `serial 42 (CA SHA256:...)`, `key id "alice"`
};

/// The revocation of a plain key, if the KRL holds one: its blob, or the SHA-1 or SHA-256 hash of it.
[[nodiscard]] TWOWAY_API std::optional<KrlMatch> krl_match(const Krl& krl, const PublicKey& key);
/// The revocation of a certificate, checked as sshd does: the certified key as a plain key, then the
/// serial (when not 0) and key id under the certificate's CA and under "any CA", then the CA key as a
/// plain key.
[[nodiscard]] TWOWAY_API std::optional<KrlMatch> krl_match(const Krl& krl, const Certificate& certificate);
/// Whether the KRL revokes this plain key (krl_match has a value).
[[nodiscard]] TWOWAY_API bool krl_revokes(const Krl& krl, const PublicKey& key);
/// Whether the KRL revokes this certificate (krl_match has a value).
[[nodiscard]] TWOWAY_API bool krl_revokes(const Krl& krl, const Certificate& certificate);

}  // namespace twoway
