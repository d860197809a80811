// The pure half of <twoway/password.hpp>: the OPAQUE key file's and the password record's codecs, and
// local registration. docs/KEYS.md has both formats byte for byte.
//
// Key file, inside the armour "TWOWAY OPAQUE KEY":
//   byte[21] "twoway-opaque-key-v1\0" | byte[64] oprf_seed | byte[32] private key | byte[32] public key |
//   byte[32] SHA-256 of everything before it
// The armour label differs from the private key files' ("TWOWAY PRIVATE KEY", "OPENSSH PRIVATE KEY"),
// and the magic inside from theirs, so one file can never be taken for the other.
#include <twoway/password.hpp>
#include <twoway/text.hpp>

#include <algorithm>
#include <optional>

#include "crypto/crypto.hpp"
#include "keys/armor.hpp"
#include "opaque/opaque.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway {

namespace {
constexpr std::string_view key_label = "TWOWAY OPAQUE KEY";
constexpr std::string_view key_magic{"twoway-opaque-key-v1\0", 21};
constexpr std::size_t checksum_size = 32;
constexpr std::size_t key_binary_size = key_magic.size() + 64 + 32 + 32 + checksum_size;

constexpr std::string_view record_version = "twoway-opaque-v1";
constexpr std::string_view record_ksf_argon2id = "argon2id13";  // Argon2id, version 0x13 (1.3)

constexpr std::uint64_t max_opslimit = 16;  // the handshake's client refuses more (PROTOCOL.md 4.8)
constexpr std::uint64_t min_memlimit_kib = 8;  // libsodium's crypto_pwhash_argon2id_MEMLIMIT_MIN, 8192 bytes
constexpr std::uint64_t max_memlimit_kib = 1024 * 1024;

static_assert(opaque_registration_record_size == opaque::registration_record_size);

// "name=digits" with no leading zero; nothing when the field is anything else.
std::optional<std::uint64_t> named_number(std::string_view field, std::string_view name, std::uint64_t max) {
    if (!field.starts_with(name) || field.size() <= name.size() || field[name.size()] != '=') return std::nullopt;
    const std::string_view digits = field.substr(name.size() + 1);
    if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // one spelling per value
    return parse_decimal(digits, max);
}
}  // namespace

OpaqueKey generate_opaque_key(Rng& rng) {
    auto k = opaque::generate_server_keys(rng);
    return OpaqueKey{std::move(k.oprf_seed), std::move(k.private_key), k.public_key};
}

std::string encode_opaque_key(const OpaqueKey& key) {
    wire::Writer w(key_binary_size);
    w.bytes(key_magic).bytes(key.oprf_seed.span()).bytes(key.private_key.span()).bytes(key.public_key);
    auto body = w.take();
    const auto sum = crypto::sha256(body);
    body.insert(body.end(), sum.begin(), sum.end());
    std::string text = keys::armor(body, key_label);
    crypto::wipe(body);
    return text;
}

Result<OpaqueKey> decode_opaque_key(std::string_view text) {
    auto bin = keys::unarmor(text, key_label, key_binary_size);
    if (!bin) return fail(bin.error());
    wire::Reader r(bin->span());
    const wire::Bytes magic = r.bytes(key_magic.size());
    const wire::Bytes seed = r.bytes(64);
    const wire::Bytes private_key = r.bytes(32);
    const auto public_key = r.array<32>();
    (void)r.bytes(checksum_size);
    if (!r.expect_end()) return fail(r.error());
    if (wire::as_text(magic) != key_magic) return fail(errc::bad_key_format);
    const wire::Bytes all = bin->span();
    const auto sum = crypto::sha256(all.first(all.size() - checksum_size));
    if (!crypto::ct_equal(sum, all.last(checksum_size))) return fail(errc::corrupt_key_file);

    auto keys = opaque::server_keys(seed.first<64>(), private_key.first<32>());
    if (!keys) return fail(keys.error());
    // The stored public key is redundant; a file whose public key is not its private key's was edited
    // or mixed up, and serving with either half would fail every login in a confusing way.
    if (!crypto::ct_equal(keys->public_key, public_key)) return fail(errc::key_mismatch);
    return OpaqueKey{std::move(keys->oprf_seed), std::move(keys->private_key), keys->public_key};
}

bool valid_password_ksf(const PasswordKsf& ksf) noexcept {
    return ksf.opslimit >= 1 && ksf.opslimit <= max_opslimit && ksf.memlimit_kib >= min_memlimit_kib &&
           ksf.memlimit_kib <= max_memlimit_kib;
}

Result<std::string> format_password_record(const PasswordRecord& record) {
    if (!valid_password_ksf(record.ksf)) return fail(errc::invalid_argument);
    std::string line;
    line.reserve(320);
    line.append(record_version).append(" ").append(record_ksf_argon2id);
    line.append(" ops=").append(std::to_string(record.ksf.opslimit));
    line.append(" mem=").append(std::to_string(record.ksf.memlimit_kib));
    std::string b64 = crypto::base64_encode(record.registration.span());
    line.append(" ").append(b64).append("\n");
    crypto::wipe(std::as_writable_bytes(std::span(b64)));
    return line;
}

Result<PasswordRecord> parse_password_record(std::string_view text) {
    if (text.size() > max_password_record_file) return fail(errc::length_too_large);
    if (text.ends_with('\n')) text.remove_suffix(1);
    // One line, fields separated by exactly one space: any other byte (a second line, a tab, a CR, a
    // NUL) is not this format, and leaving no second spelling keeps the format's meaning single.
    std::array<std::string_view, 5> fields{};
    std::size_t n = 0;
    std::size_t at = 0;
    for (;;) {
        const std::size_t sp = text.find(' ', at);
        const std::string_view field = text.substr(at, sp == std::string_view::npos ? sp : sp - at);
        if (field.empty() || n == fields.size()) return fail(errc::malformed);
        fields[n++] = field;
        if (sp == std::string_view::npos) break;
        at = sp + 1;
    }
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) return fail(errc::malformed);
    }
    if (fields[0] != record_version) return fail(errc::bad_key_format);
    if (n != fields.size()) return fail(errc::malformed);
    if (fields[1] != record_ksf_argon2id) return fail(errc::bad_key_format);
    const auto ops = named_number(fields[2], "ops", max_opslimit);
    const auto mem = named_number(fields[3], "mem", max_memlimit_kib);
    if (!ops || !mem) return fail(errc::malformed);
    PasswordRecord out{PasswordKsf{*ops, *mem}, SecretBytes<opaque_registration_record_size>()};
    if (!valid_password_ksf(out.ksf)) return fail(errc::malformed);

    // 192 bytes are 256 base64 characters; anything longer is refused before decoding.
    if (fields[4].size() != (opaque_registration_record_size + 2) / 3 * 4) return fail(errc::malformed);
    auto bin = crypto::base64_decode(fields[4]);
    if (!bin) return fail(errc::malformed);
    if (bin->size() != opaque_registration_record_size) {
        crypto::wipe(*bin);
        return fail(errc::malformed);
    }
    // The record's elements are checked as a peer's would be: a record file is untrusted input too.
    auto rec = opaque::parse_registration_record(*bin);
    std::copy(bin->begin(), bin->end(), out.registration.data());
    crypto::wipe(*bin);
    if (!rec) return fail(rec.error());
    return out;
}

bool valid_password_account(std::string_view account) noexcept {
    if (account.empty() || account.size() > 255) return false;
    if (account.front() == '.' || account.front() == '-') return false;  // also ".", ".."
    return std::none_of(account.begin(), account.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return c == '/' || u < 0x20 || u == 0x7f;
    });
}

Result<PasswordRecord> register_password(const OpaqueKey& key, std::string_view account,
                                         std::span<const std::byte> password, const PasswordKsf& ksf, Rng& rng) {
    if (!valid_password_account(account) || password.empty() || !valid_password_ksf(ksf)) {
        return fail(errc::invalid_argument);
    }
    auto server = opaque::server_keys(key.oprf_seed.span(), key.private_key.span());
    if (!server) return fail(server.error());
    const wire::Bytes id = wire::as_bytes(account);

    // The client's half ...
    auto start = opaque::create_registration_request(password, opaque::random_scalar(rng));
    if (!start) return fail(start.error());
    // ... the server's, which sees only the blinded element ...
    auto response = opaque::create_registration_response(start->request, *server, id);
    if (!response) return fail(response.error());
    // ... and the client's again, which runs the KSF and seals the envelope.
    opaque::Nonce nonce{};
    rng.fill(nonce);
    const opaque::Identities ids{id, {}};
    const auto params = opaque::argon2id_ksf(crypto::Argon2idParams{ksf.opslimit, ksf.memlimit_kib * 1024});
    auto result = opaque::finalize_registration_request(start->state, *response, ids, params, nonce);
    if (!result) return fail(result.error());

    auto bytes = opaque::encode(result->record);
    PasswordRecord out{ksf, SecretBytes<opaque_registration_record_size>(bytes)};
    crypto::wipe(bytes);
    return out;
}

}  // namespace twoway
