/// @file
/// Long-term identity keys and their public text forms. Ed25519 only (for now). PublicKey is a value
/// type; PrivateKey keeps its secret half in secure memory and only ever signs (and answers the stealth
/// proof). The SSH wire form of a public key (string "ssh-ed25519" | string pk[32]) is the identity blob
/// used on the wire and in trust files. The text forms are OpenSSH's: public key lines
/// (`ssh-ed25519 <base64 blob> comment`, as in id_ed25519.pub, authorized_keys and known_hosts),
/// fingerprints and randomart, byte-identical to ssh-keygen's. Private key files: <twoway/key_file.hpp>.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/export.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway {

/// The key type name in SSH wire blobs and public key lines.
inline constexpr std::string_view ssh_ed25519_name = "ssh-ed25519";

/// An Ed25519 public key: 32 bytes, compared by value.
class TWOWAY_API PublicKey {
public:
    /// The raw Ed25519 public key (RFC 8032 encoding).
    using Raw = std::array<std::byte, 32>;

    /// All zero: never a valid identity (verify() rejects it).
    PublicKey() = default;
    /// The key with these raw bytes; not checked here (a bad point fails verify()).
    explicit PublicKey(const Raw& raw) : raw_(raw) {}

    /// The raw 32 bytes.
    [[nodiscard]] const Raw& raw() const noexcept { return raw_; }
    /// The SSH wire blob: string "ssh-ed25519" | string raw (51 bytes).
    [[nodiscard]] std::vector<std::byte> blob() const;
    /// Parses exactly one SSH wire blob of type ssh-ed25519, nothing trailing. Errors:
    /// unsupported_key_type (another key type), malformed (a key that is not 32 bytes), or the wire
    /// reader's short_input, length_too_large and trailing_data for a broken blob.
    [[nodiscard]] static Result<PublicKey> from_blob(std::span<const std::byte> blob);

    /// Whether sig is a valid Ed25519 signature over message by this key.
    [[nodiscard]] bool verify(std::span<const std::byte> message, std::span<const std::byte, 64> sig) const;

    /// Equal when the raw bytes are.
    friend bool operator==(const PublicKey&, const PublicKey&) = default;

private:
    Raw raw_{};
};

/// An Ed25519 private key. Move-only (clone() copies on purpose); the secret half lives in secret
/// memory (<twoway/secret.hpp>: locked, guarded, wiped when the object goes).
class TWOWAY_API PrivateKey {
public:
    /// A fresh key from rng (system_rng() in production).
    [[nodiscard]] static PrivateKey generate(Rng& rng);
    /// The key of a 32-byte Ed25519 seed (the RFC 8032 private key); the caller keeps its seed.
    [[nodiscard]] static PrivateKey from_seed(std::span<const std::byte, 32> seed);

    /// The public half.
    [[nodiscard]] const PublicKey& public_key() const noexcept { return public_; }
    /// The Ed25519 signature of message (deterministic: the same message gives the same signature).
    [[nodiscard]] std::array<std::byte, 64> sign(std::span<const std::byte> message) const;
    /// X25519 between this key's scalar and a peer's X25519 public value, into `shared` (caller-owned,
    /// preferably secret memory). A host key's only use besides signing: it answers the stealth proof
    /// (PROTOCOL.md 4.1.1), and PROTOCOL.md 10.14 argues why one scalar may serve both. Fails with
    /// weak_public_key when the result is all zero (a small-order peer value).
    [[nodiscard]] Status agree(std::span<std::byte, 32> shared, std::span<const std::byte, 32> peer) const;
    /// The seed, in secure memory, for writing key files. Handle with care: it is the whole key.
    [[nodiscard]] SecretBytes<32> seed() const;
    /// An independent copy (its own secure memory).
    [[nodiscard]] PrivateKey clone() const;

private:
    PrivateKey(PublicKey pub, SecretBytes<64> sk) : public_(pub), secret_(std::move(sk)) {}
    PublicKey public_;
    SecretBytes<64> secret_;  // libsodium layout: seed || public key
};

// ---- public text forms ---------------------------------------------------------------------------
/// One public key line, parsed.
struct PublicKeyLine {
    PublicKey key;        ///< the key the line holds
    std::string comment;  ///< the rest of the line after the key; may be empty, may contain spaces
};

/// Parses one public key line: optional leading blanks, the key type, blanks, the base64 SSH wire blob,
/// then optionally blanks and a comment running to the end of the line. One trailing "\n" or "\r\n" is
/// allowed. The type word must match the type inside the blob. Errors: bad_key_format (not a key line),
/// unsupported_key_type (a well-formed line of another key type), malformed (bad base64 or blob).
[[nodiscard]] TWOWAY_API Result<PublicKeyLine> parse_public_key_line(std::string_view line);

/// Formats a key line exactly as ssh-keygen writes a .pub file (no trailing newline).
[[nodiscard]] TWOWAY_API std::string format_public_key_line(const PublicKey& key, std::string_view comment = {});

/// The key's fingerprint as OpenSSH prints it: "SHA256:" then the unpadded base64 of SHA-256 over the
/// SSH wire blob.
[[nodiscard]] TWOWAY_API std::string fingerprint_sha256(const PublicKey& key);

/// OpenSSH's randomart picture ("drunken bishop" walk over the SHA-256 digest), byte-identical to the
/// one `ssh-keygen -lv` prints: 11 lines of 19 characters joined by "\n", no trailing newline.
[[nodiscard]] TWOWAY_API std::string randomart(const PublicKey& key);

/// One line as `ssh-keygen -l` prints it: "256 SHA256:... comment (ED25519)", with "no comment" in place
/// of an empty comment (no trailing newline).
[[nodiscard]] TWOWAY_API std::string fingerprint_line(const PublicKey& key, std::string_view comment);

}  // namespace twoway
