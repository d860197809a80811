/// @file
/// The server's stored state for password mode (OPAQUE, RFC 9807; issue 17), and local registration.
///
/// Two kinds of file, both formats byte for byte in docs/KEYS.md ("The OPAQUE key file", "OPAQUE
/// password records"):
///  - the OPAQUE key file (twowayd.conf `OpaqueKey`, default /etc/twoway/opaque_key): the OPRF seed
///    and the AKE key pair, armoured like a private key file but under a label of its own
///    ("TWOWAY OPAQUE KEY"), so that neither can ever be read as the other; 0600 and owned by the
///    reading user, else refused; created on first use.
///  - a password record per account (`OpaqueRecords`, default /etc/twoway/opaque/, the file named
///    after the account): one line holding the format version, the Argon2id parameters the client
///    must use, and RFC 9807's RegistrationRecord. It never holds the password nor a fast hash of it.
///
/// The codecs are pure; the load/save functions are the file edge, with the same rules as private key
/// files (<twoway/key_file.hpp>): size caps, permission and owner checks, atomic writes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/export.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway {

/// The default OPAQUE key file (twowayd.conf `OpaqueKey`), where twowayd and twoway-passwd look when
/// the configuration does not say.
inline constexpr std::string_view default_opaque_key_path = "/etc/twoway/opaque_key";
/// The default directory of password records (twowayd.conf `OpaqueRecords`).
inline constexpr std::string_view default_opaque_records_dir = "/etc/twoway/opaque/";

// ---- the server's OPAQUE key -----------------------------------------------------------------------
/// The server's long-term OPAQUE secrets: one OPRF seed for every account (RFC 9807's oprf_seed, Nh =
/// 64 bytes) and the AKE key pair (ristretto255: a reduced non-zero scalar and its public element).
struct OpaqueKey {
    SecretBytes<64> oprf_seed;            ///< the OPRF seed
    SecretBytes<32> private_key;          ///< the AKE private key (a ristretto255 scalar)
    std::array<std::byte, 32> public_key{};  ///< the AKE public key, derived from private_key
};

/// A new key: the seed and the key pair drawn from rng.
[[nodiscard]] TWOWAY_API OpaqueKey generate_opaque_key(Rng& rng);

/// The key as the key file's text (docs/KEYS.md). The text holds secrets: the caller wipes it.
[[nodiscard]] TWOWAY_API std::string encode_opaque_key(const OpaqueKey& key);

/// The key in a key file's text. Errors: bad_key_format (not this armour: a private key file, say),
/// malformed / short_input / trailing_data / length_too_large (a broken structure), corrupt_key_file
/// (the checksum), key_mismatch (the public key is not the private key's), invalid_argument (a private
/// key that is not a reduced non-zero scalar).
[[nodiscard]] TWOWAY_API Result<OpaqueKey> decode_opaque_key(std::string_view text);

/// Reads and decodes the key file: a regular file of at most 4 KiB, owned by the effective user and
/// granting group and others nothing, else insecure_permissions (no override: this key is only ever
/// the daemon's). Errors: insecure_permissions, read_file's (<twoway/file.hpp>: no_such_file_or_directory,
/// ...), decode_opaque_key's. The text is wiped.
[[nodiscard]] TWOWAY_API Result<OpaqueKey> load_opaque_key(const std::string& path);

/// load_opaque_key, or, when path does not exist, a new key written there with mode 0600 and then
/// loaded. The creation is atomic and never replaces a file: the new text goes to a temporary file
/// in the same directory, which is then hard-linked to path; when another process created path
/// meanwhile, its key is loaded instead, so two first uses can never end with two keys. The directory
/// must exist. `created` (if given) tells whether this call made the file.
[[nodiscard]] TWOWAY_API Result<OpaqueKey> load_or_create_opaque_key(const std::string& path, Rng& rng,
                                                                     bool* created = nullptr);

// ---- password records --------------------------------------------------------------------------------
/// RFC 9807's RegistrationRecord for ristretto255-SHA512: client_public_key (32) | masking_key (64) |
/// envelope (nonce 32 | auth_tag 64).
inline constexpr std::size_t opaque_registration_record_size = 192;

/// The key stretching function's cost, which the client pays at every login (the server never runs it).
/// Argon2id v1.3 with parallelism 1 (libsodium's), as libsodium's crypto_pwhash counts it.
struct PasswordKsf {
    std::uint64_t opslimit = 3;                  ///< passes (Argon2's t), 1..16
    std::uint64_t memlimit_kib = 256 * 1024;     ///< memory in KiB (Argon2's m), 8..1048576 (1 GiB)
};

/// The parameters new records get: opslimit 3, 256 MiB (libsodium's MODERATE).
[[nodiscard]] constexpr PasswordKsf default_password_ksf() noexcept { return PasswordKsf{3, 256 * 1024}; }

/// Whether the cost is within the bounds above (the bounds the parser holds a file to).
[[nodiscard]] TWOWAY_API bool valid_password_ksf(const PasswordKsf& ksf) noexcept;

/// One account's record, as stored. The RegistrationRecord holds the masking key, which tells a real
/// login response from a fake one: it stays in secure memory.
struct PasswordRecord {
    PasswordKsf ksf;                                          ///< what the client runs on the password
    SecretBytes<opaque_registration_record_size> registration;  ///< RFC 9807's RegistrationRecord
};

/// The record's line: "twoway-opaque-v1 argon2id13 ops=N mem=N <base64 RegistrationRecord>\n"
/// (docs/KEYS.md). The text holds the masking key: the caller wipes it. Errors: invalid_argument (a
/// cost valid_password_ksf refuses).
[[nodiscard]] TWOWAY_API Result<std::string> format_password_record(const PasswordRecord& record);

/// The longest record file read (a record is about 300 bytes).
inline constexpr std::size_t max_password_record_file = 1024;

/// Parses a record's text: exactly the one line format_password_record writes (a final line break
/// optional, nothing else around it), each field checked (numbers in decimal without leading zeros,
/// within bounds; strict padded base64 of exactly 192 bytes; elements canonical and not the identity).
/// Errors: bad_key_format (another format or version, or a KSF this version does not know), malformed,
/// length_too_large (over max_password_record_file), weak_public_key (an identity element).
[[nodiscard]] TWOWAY_API Result<PasswordRecord> parse_password_record(std::string_view text);

/// Whether an account name may name a record file: 1 to 255 bytes, not "." nor "..", no '/', no NUL,
/// no control character (below 0x20, 0x7f), and not starting with '-' nor '.' (no hidden files, no
/// names a tool could take for an option or a temporary file).
[[nodiscard]] TWOWAY_API bool valid_password_account(std::string_view account) noexcept;

/// Runs both halves of OPAQUE registration in one process, for `twoway-passwd --local`:
/// CreateRegistrationRequest(password) -> CreateRegistrationResponse(key, credential_identifier =
/// account) -> FinalizeRegistrationRequest with client_identity = account, server_identity empty (the
/// server's public key stands in) and Argon2id at ksf. The password stays the caller's to wipe; the
/// export key is dropped. Errors: invalid_argument (an account valid_password_account refuses, an
/// empty password, a cost valid_password_ksf refuses), internal (Argon2id ran out of memory).
[[nodiscard]] TWOWAY_API Result<PasswordRecord> register_password(const OpaqueKey& key, std::string_view account,
                                                                  std::span<const std::byte> password,
                                                                  const PasswordKsf& ksf, Rng& rng);

// ---- registration over a session (twoway-passwd [user@]host) ---------------------------------------------
/// Remote registration (PROTOCOL.md 16): the client sends REGISTER (its blinded password), the server
/// answers RESPONSE (the account's name, the Argon2id cost of the new record, RFC 9807's
/// RegistrationResponse), the client runs Argon2id and sends RECORD, the server stores it and answers
/// DONE. REMOVE removes the record. The exchange runs inside a session the server has already
/// authenticated (a key or a password login), as the subsystem `twoway-passwd`: the channel authenticates
/// the server, and the server decides which account the record is for, never the client.

/// The subsystem's name (REQUEST kind 4) under which twowayd runs the exchange itself.
inline constexpr std::string_view password_subsystem = "twoway-passwd";

/// The first byte of each message.
enum class PasswordMessage : std::uint8_t {
    register_request = 0x01,  ///< client: type | RFC 9807 RegistrationRequest (32), 33 bytes
    remove = 0x02,            ///< client: type alone, 1 byte
    record = 0x03,            ///< client: type | RFC 9807 RegistrationRecord (192), 193 bytes
    response = 0x81,          ///< server: type | name length (1..255) | name | ops u32 | mem KiB u32 | RegistrationResponse (64)
    done = 0x82,              ///< server: type | PasswordDone, 2 bytes
    refused = 0x83,           ///< server: type | PasswordRefusal, 2 bytes
};
/// What DONE reports.
enum class PasswordDone : std::uint8_t { registered = 0, changed = 1, removed = 2 };
/// Why REFUSED: password mode is off for the account; the configuration does not permit it (root without
/// PermitRootLogin yes); REMOVE with no record; the server cannot read its key or its records.
enum class PasswordRefusal : std::uint8_t { mode_off = 1, not_permitted = 2, no_record = 3, server_failure = 4 };

/// REGISTER's size.
inline constexpr std::size_t password_register_message_size = 33;
/// REMOVE's size.
inline constexpr std::size_t password_remove_message_size = 1;
/// RECORD's size.
inline constexpr std::size_t password_record_message_size = 1 + opaque_registration_record_size;
/// RESPONSE without the name.
inline constexpr std::size_t password_response_fixed_size = 1 + 1 + 4 + 4 + 64;
/// RESPONSE with the longest name (255 bytes).
inline constexpr std::size_t password_response_max_size = password_response_fixed_size + 255;
/// DONE and REFUSED.
inline constexpr std::size_t password_outcome_message_size = 2;

/// A RESPONSE, parsed: for whom and at what cost the client seals the envelope.
struct PasswordResponse {
    std::string account;                     ///< the account the server registers (valid_password_account)
    PasswordKsf ksf;                         ///< the new record's cost (valid_password_ksf)
    std::array<std::byte, 64> response{};    ///< RFC 9807 RegistrationResponse (evaluated element | server key)
};

/// Exactly one RESPONSE (nothing before or after it). Errors: unexpected_message (another type), short_input,
/// trailing_data, malformed (a name valid_password_account refuses, a cost valid_password_ksf refuses, an
/// element that is not canonical), weak_public_key (an identity element).
[[nodiscard]] TWOWAY_API Result<PasswordResponse> parse_password_response(std::span<const std::byte> message);

/// The client's half. start() blinds the password (kept in secure memory until finish()).
class TWOWAY_API PasswordRegistrationClient {
public:
    /// Errors: invalid_argument (an empty password).
    [[nodiscard]] static Result<PasswordRegistrationClient> start(std::span<const std::byte> password, Rng& rng);
    /// Moves the state (the moved-from object must not be used).
    PasswordRegistrationClient(PasswordRegistrationClient&&) noexcept;
    /// @copydoc PasswordRegistrationClient(PasswordRegistrationClient&&)
    PasswordRegistrationClient& operator=(PasswordRegistrationClient&&) noexcept;
    /// Wipes the password and the blind.
    ~PasswordRegistrationClient();

    /// REGISTER, to send first.
    [[nodiscard]] std::span<const std::byte, password_register_message_size> register_message() const noexcept;

    /// The server's RESPONSE in (parse_password_response's errors); runs Argon2id at the response's cost
    /// and seals the envelope for the response's account, with the server's public key standing in for
    /// its identity; returns RECORD, to send. RECORD holds the masking key: it stays in secure memory.
    /// Errors: parse_password_response's, unexpected_message (finish() called twice), internal (Argon2id
    /// ran out of memory).
    [[nodiscard]] Result<SecretBytes<password_record_message_size>> finish(const PasswordResponse& response, Rng& rng);

private:
    struct State;
    explicit PasswordRegistrationClient(std::unique_ptr<State> s) noexcept;
    std::unique_ptr<State> s_;
};

/// The server's first step: a REGISTER in (exactly one), RESPONSE out for `account` at cost `ksf`.
/// Errors: unexpected_message (another type), short_input, trailing_data, malformed / weak_public_key
/// (the element), invalid_argument (an account valid_password_account refuses, a cost valid_password_ksf
/// refuses).
[[nodiscard]] TWOWAY_API Result<std::vector<std::byte>> answer_password_register(const OpaqueKey& key,
                                                                                std::string_view account,
                                                                                const PasswordKsf& ksf,
                                                                                std::span<const std::byte> message);

/// The server's second step: a RECORD in (exactly one), the record to store, at the cost the RESPONSE
/// announced. Errors: unexpected_message, short_input, trailing_data, malformed / weak_public_key (an
/// element), invalid_argument (ksf).
[[nodiscard]] TWOWAY_API Result<PasswordRecord> password_record_from_message(const PasswordKsf& ksf,
                                                                            std::span<const std::byte> message);

/// DONE, saying what was done.
[[nodiscard]] TWOWAY_API std::array<std::byte, password_outcome_message_size> password_done_message(PasswordDone what) noexcept;
/// REFUSED, saying why.
[[nodiscard]] TWOWAY_API std::array<std::byte, password_outcome_message_size> password_refused_message(PasswordRefusal why) noexcept;

// ---- the records directory -----------------------------------------------------------------------------
/// Reads dir/account. The directory must be a directory owned by the effective user granting group and
/// others nothing, the file a regular file owned by the effective user with mode 0600 at most, else
/// insecure_permissions. A missing record is std::errc::no_such_file_or_directory ("no record") and
/// nothing else is: a record that exists but cannot be read or parsed fails with its own error, so a
/// caller can log the two apart and must refuse both. Errors: invalid_argument (an account
/// valid_password_account refuses), insecure_permissions, read_file's, parse_password_record's.
[[nodiscard]] TWOWAY_API Result<PasswordRecord> load_password_record(const std::string& dir, std::string_view account);

/// Writes dir/account atomically with mode 0600 (write_file_atomic), replacing a record there. A missing
/// dir is created with mode 0700 (its parent must exist); an existing one is held to load's rule.
/// Errors: invalid_argument, insecure_permissions, format_password_record's, the operating system's.
[[nodiscard]] TWOWAY_API Status save_password_record(const std::string& dir, std::string_view account,
                                                     const PasswordRecord& record);

/// Removes dir/account (and fsyncs dir). Errors: invalid_argument, insecure_permissions (the directory),
/// no_such_file_or_directory (no record), the operating system's.
[[nodiscard]] TWOWAY_API Status delete_password_record(const std::string& dir, std::string_view account);

}  // namespace twoway
