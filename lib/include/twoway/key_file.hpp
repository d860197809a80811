/// @file
/// Private key files. twoway's own format ("-----BEGIN TWOWAY PRIVATE KEY-----", docs/KEYS.md gives it
/// byte for byte) holds the public key and comment in the clear, so fingerprints and `-y` work without
/// a passphrase, and the Ed25519 seed either in the clear or sealed with XChaCha20-Poly1305 under a key
/// derived from the passphrase with Argon2id. OpenSSH's unencrypted "openssh-key-v1" Ed25519 files are
/// read (import) and written (export) too.
///
/// The codecs are pure (no I/O; randomness only from the Rng they are handed). The load/save functions
/// at the end are the file edge: size caps, the 0600 permission rule, atomic writes. Keys, public key
/// lines and fingerprints: <twoway/key.hpp>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>

namespace twoway {

/// Argon2id's cost, as stored in an encrypted twoway key file.
struct KdfParams {
    std::uint64_t opslimit = 0;  ///< passes over memory
    std::uint64_t memlimit = 0;  ///< memory in bytes
};

/// The parameters new key files get (libsodium's "interactive" Argon2id level).
[[nodiscard]] TWOWAY_API KdfParams default_kdf_params();

/// What a file's parameters may ask of us at most. The defaults are the library's hard caps (64 passes,
/// 1 GiB); callers may lower them (fuzzers do), never raise them.
struct KdfLimits {
    std::uint64_t max_opslimit = 64;                      ///< most passes a file may ask for
    std::uint64_t max_memlimit = std::uint64_t{1} << 30;  ///< most memory (bytes) a file may ask for
};

/// The two private key file formats.
enum class KeyFileFormat {
    twoway,  ///< "-----BEGIN TWOWAY PRIVATE KEY-----" (docs/KEYS.md)
    openssh  ///< "-----BEGIN OPENSSH PRIVATE KEY-----" (openssh-key-v1), Ed25519 only
};

/// What a private key file tells without its passphrase.
struct KeyFileInfo {
    KeyFileFormat format = KeyFileFormat::twoway;  ///< which format the file is in
    PublicKey public_key;                          ///< the key's public half (always in the clear)
    std::string comment;     ///< twoway files always; OpenSSH files only when unencrypted (else empty)
    bool encrypted = false;  ///< the seed needs a passphrase
    std::optional<KdfParams> kdf;  ///< the Argon2id cost, for twoway files that are encrypted
};

/// A private key file, decoded.
struct DecodedPrivateKey {
    PrivateKey key;        ///< the key
    std::string comment;   ///< the file's comment (may be empty)
    KeyFileFormat format;  ///< which format the file was in
};

/// The longest comment a key file may carry.
inline constexpr std::size_t max_key_comment = 4096;

/// Whether both encoders take comment: at most max_key_comment bytes and no control characters (bytes
/// below 0x20, and 0x7f), since a comment is shown on terminals and written into .pub lines. Bytes from
/// 0x80 up are fine (UTF-8). For checking what a person typed before asking for a passphrase.
[[nodiscard]] TWOWAY_API bool valid_key_comment(std::string_view comment) noexcept;

// ---- twoway's format -----------------------------------------------------------------------------
/// key and comment as a twoway key file, the seed sealed under passphrase with Argon2id at params (salt
/// and nonce from rng); an empty passphrase writes an unencrypted file. Errors: invalid_argument (a
/// comment valid_key_comment refuses; params out of range).
[[nodiscard]] TWOWAY_API Result<std::string> encode_private_key(const PrivateKey& key, std::string_view comment,
                                                                std::string_view passphrase,
                                                                const KdfParams& params, Rng& rng);

/// The key in a private key file's text, either format, recognised by its armor; passphrase opens an
/// encrypted twoway file (ignored for unencrypted ones). Errors: bad_key_format (neither format), malformed /
/// short_input / trailing_data / length_too_large (a broken structure), corrupt_key_file (checksum),
/// unsupported_key_type, kdf_params_rejected (over limits), passphrase_required, wrong_passphrase,
/// key_mismatch (secret and public halves disagree), encrypted_openssh_key.
[[nodiscard]] TWOWAY_API Result<DecodedPrivateKey> decode_private_key(std::string_view text,
                                                                      std::string_view passphrase,
                                                                      const KdfLimits& limits = {});

/// The clear parts of either format; checks the whole structure (and the checksum) but decrypts nothing.
[[nodiscard]] TWOWAY_API Result<KeyFileInfo> inspect_private_key(std::string_view text);

// ---- OpenSSH's format ----------------------------------------------------------------------------
/// An unencrypted openssh-key-v1 file as `ssh-keygen -t ed25519 -N ''` writes it; the two check ints
/// are drawn from rng. Errors: invalid_argument (a comment valid_key_comment refuses).
[[nodiscard]] TWOWAY_API Result<std::string> encode_openssh_private_key(const PrivateKey& key,
                                                                        std::string_view comment, Rng& rng);

// ---- files -----------------------------------------------------------------------------------------
/// How load_private_key and read_private_key_file treat a file.
struct KeyLoadOptions {
    /// Accept a private key file that group or others may access (ssh refuses those; so do we).
    bool allow_insecure_permissions = false;
    KdfLimits limits;  ///< caps on the Argon2id cost an encrypted file may ask for
};

/// Reads a private key file's text: a regular file of at most 64 KiB whose mode grants group and others
/// nothing (else insecure_permissions, unless allowed). Errors: insecure_permissions, and read_file's
/// (<twoway/file.hpp>): the operating system's errno codes (no_such_file_or_directory, ...),
/// invalid_argument (not a regular file), length_too_large. The text of a refused file is wiped.
[[nodiscard]] TWOWAY_API Result<std::string> read_private_key_file(const std::string& path,
                                                                   const KeyLoadOptions& options = {});

/// read_private_key_file then decode_private_key (the text is wiped after decoding); their errors.
[[nodiscard]] TWOWAY_API Result<DecodedPrivateKey> load_private_key(const std::string& path,
                                                                    std::string_view passphrase,
                                                                    const KeyLoadOptions& options = {});

/// Writes text atomically (a temporary file in the same directory, fsync, rename, fsync of the
/// directory) with the given mode: 0600 for private keys, 0644 for public ones. write_file_atomic
/// (<twoway/file.hpp>) under a name that says what it is for; its errors.
[[nodiscard]] TWOWAY_API Status write_key_file(const std::string& path, std::string_view text, unsigned mode);

}  // namespace twoway
