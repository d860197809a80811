// twoway's private key file (docs/KEYS.md has the byte layout). Inside the armor:
//   byte[14] "twoway-key-v1\0" | string protection | string params | string public key blob |
//   string comment | string secret | byte[32] SHA-256 of everything before it
// The secret is `string "ssh-ed25519" | string seed[32]`, in the clear ("none") or sealed with
// XChaCha20-Poly1305 ("argon2id-xchacha20poly1305") under a key expanded from Argon2id(passphrase),
// with every byte before the secret as associated data. The checksum tells a damaged file from a wrong
// passphrase, and refuses a damaged file before any Argon2id work is spent on it.
#include <array>
#include <cstring>

#include "crypto/crypto.hpp"
#include "keys/armor.hpp"
#include "keys/private_key_formats.hpp"
#include "crypto/labels.hpp"
#include "wire/writer.hpp"

namespace twoway::keys {

namespace {
constexpr std::string_view magic{"twoway-key-v1\0", 14};
constexpr std::string_view protection_none = "none";
constexpr std::string_view protection_argon2id = "argon2id-xchacha20poly1305";
// The KDF output is expanded with this label ("twoway v1 key file") into the AEAD key, so the key
// used here can never equal one derived anywhere else in the protocol.
constexpr std::string_view aead_label = "key file";

constexpr std::size_t checksum_size = 32;
constexpr std::size_t nonce_size = crypto::xchacha_nonce_size;
constexpr std::size_t salt_size = crypto::argon2id_salt_size;
constexpr std::size_t params_size = 8 + 8 + salt_size + nonce_size;
constexpr std::size_t plain_size = 4 + ssh_ed25519_name.size() + 4 + 32;
constexpr std::size_t sealed_size = plain_size + crypto::aead_tag_size;

// A parsed file: views into the decoded bytes, nothing decrypted yet.
struct Parsed {
    bool encrypted = false;
    KdfParams kdf;
    std::array<std::byte, salt_size> salt{};
    std::array<std::byte, nonce_size> nonce{};
    PublicKey public_key;
    std::string comment;
    wire::Bytes secret;  // plaintext or ciphertext||tag
    wire::Bytes ad;      // every byte before the secret's contents
};

Result<Parsed> parse(wire::Bytes bin) {
    Parsed out;
    wire::Reader r(bin);
    if (wire::as_text(r.bytes(magic.size())) != magic) return fail(r.ok() ? errc::bad_key_format : r.error());
    const std::string_view protection = r.text(64);
    wire::Reader params = r.sub(params_size);
    const wire::Bytes blob = r.string(1024);
    const std::string_view comment = r.text(max_key_comment);
    const std::size_t secret_at = r.consumed() + 4;
    out.secret = r.string(sealed_size);
    (void)r.bytes(checksum_size);
    if (!r.expect_end()) return fail(r.error());

    if (protection == protection_none) {
        if (!params.expect_end() || out.secret.size() != plain_size) return fail(errc::malformed);
    } else if (protection == protection_argon2id) {
        out.encrypted = true;
        out.kdf.opslimit = params.u64();
        out.kdf.memlimit = params.u64();
        out.salt = params.array<salt_size>();
        out.nonce = params.array<nonce_size>();
        if (!params.expect_end() || out.secret.size() != sealed_size) return fail(errc::malformed);
    } else {
        return fail(errc::bad_key_format);  // a protection scheme this version does not know
    }

    auto key = PublicKey::from_blob(blob);
    if (!key) return fail(key.error());
    out.public_key = *key;
    out.comment = std::string(comment);
    out.ad = bin.first(secret_at);

    const wire::Bytes body = bin.first(bin.size() - checksum_size);
    const auto sum = crypto::sha256(body);
    if (!crypto::ct_equal(sum, bin.last(checksum_size))) return fail(errc::corrupt_key_file);
    return out;
}

Result<Parsed> parse_text(std::string_view text, SecretBuffer& holder) {
    auto bin = unarmor(text, twoway_armor_label, max_key_file_binary);
    if (!bin) return fail(bin.error());
    holder = std::move(*bin);
    return parse(holder.span());
}

// seed -> the plaintext secret: string "ssh-ed25519" | string seed.
SecretBuffer secret_plaintext(const PrivateKey& key) {
    wire::Writer w(plain_size);
    const auto seed = key.seed();
    w.string(ssh_ed25519_name).string(seed.span());
    auto v = w.take();
    SecretBuffer out(v);
    crypto::wipe(v);
    return out;
}

Result<PrivateKey> key_from_plaintext(wire::Bytes plain, const PublicKey& expected) {
    wire::Reader r(plain);
    const std::string_view type = wire::as_text(r.string(64));
    const wire::Bytes seed = r.string(32);
    if (!r.expect_end()) return fail(r.error());
    if (type != ssh_ed25519_name) return fail(errc::unsupported_key_type);
    if (seed.size() != 32) return fail(errc::malformed);
    auto key = PrivateKey::from_seed(seed.first<32>());
    if (key.public_key() != expected) return fail(errc::key_mismatch);
    return key;
}

SecretBytes<crypto::aead_key_size> derive_aead_key(const SecretBytes<64>& prk) {
    SecretBytes<crypto::aead_key_size> key;
    crypto::expand_label(prk.span(), aead_label, {}, key.span());
    return key;
}
}  // namespace

Result<KeyFileInfo> inspect_twoway_key(std::string_view text) {
    SecretBuffer holder;
    auto p = parse_text(text, holder);
    if (!p) return fail(p.error());
    KeyFileInfo info;
    info.format = KeyFileFormat::twoway;
    info.public_key = p->public_key;
    info.comment = p->comment;
    info.encrypted = p->encrypted;
    if (p->encrypted) info.kdf = p->kdf;
    return info;
}

Result<DecodedPrivateKey> decode_twoway_key(std::string_view text, std::string_view passphrase,
                                            const KdfLimits& limits) {
    SecretBuffer holder;
    auto p = parse_text(text, holder);
    if (!p) return fail(p.error());
    if (!p->encrypted) {
        auto key = key_from_plaintext(p->secret, p->public_key);
        if (!key) return fail(key.error());
        return DecodedPrivateKey{std::move(*key), p->comment, KeyFileFormat::twoway};
    }

    if (passphrase.empty()) return fail(errc::passphrase_required);
    const crypto::Argon2idParams params{p->kdf.opslimit, p->kdf.memlimit};
    if (!crypto::argon2id_params_acceptable(params) || params.opslimit > limits.max_opslimit ||
        params.memlimit > limits.max_memlimit) {
        return fail(errc::kdf_params_rejected);
    }
    SecretBytes<64> prk;
    if (auto st = crypto::argon2id(prk.span(), wire::as_bytes(passphrase), p->salt, params); !st) {
        return fail(st.error());
    }
    const auto aead_key = derive_aead_key(prk);
    SecretBuffer plain(plain_size);
    if (!crypto::xchacha20poly1305_open(plain.span(), p->secret, p->ad, p->nonce, aead_key.span())) {
        // The checksum held, so the file is as written: the passphrase is wrong (or someone who could
        // write the file forged it, which the AEAD catches all the same).
        return fail(errc::wrong_passphrase);
    }
    auto key = key_from_plaintext(plain.span(), p->public_key);
    if (!key) return fail(key.error());
    return DecodedPrivateKey{std::move(*key), p->comment, KeyFileFormat::twoway};
}

}  // namespace twoway::keys

namespace twoway {

Result<std::string> encode_private_key(const PrivateKey& key, std::string_view comment, std::string_view passphrase,
                                       const KdfParams& params, Rng& rng) {
    if (!valid_key_comment(comment)) return fail(errc::invalid_argument);
    using namespace keys;
    const bool encrypted = !passphrase.empty();
    const crypto::Argon2idParams kdf{params.opslimit, params.memlimit};
    if (encrypted && !crypto::argon2id_params_acceptable(kdf)) return fail(errc::invalid_argument);

    // Reserved up front so the buffer that will hold the seed is never reallocated (and a copy left behind).
    wire::Writer w(512 + comment.size());
    w.bytes(magic);
    std::array<std::byte, salt_size> salt{};
    std::array<std::byte, nonce_size> nonce{};
    if (encrypted) {
        rng.fill(salt);
        rng.fill(nonce);
        wire::Writer pw(params_size);
        pw.u64(params.opslimit).u64(params.memlimit).bytes(salt).bytes(nonce);
        w.string(protection_argon2id).string(pw.view());
    } else {
        w.string(protection_none).string(std::string_view{});
    }
    w.string(key.public_key().blob()).string(comment);

    const SecretBuffer plain = secret_plaintext(key);
    if (encrypted) {
        w.u32(static_cast<std::uint32_t>(sealed_size));
        SecretBytes<64> prk;
        if (auto st = crypto::argon2id(prk.span(), wire::as_bytes(passphrase), salt, kdf); !st) return fail(st.error());
        const auto aead_key = derive_aead_key(prk);
        std::array<std::byte, sealed_size> sealed{};
        crypto::xchacha20poly1305_seal(sealed, plain.span(), w.view(), nonce, aead_key.span());
        w.bytes(sealed);
    } else {
        w.string(plain.span());
    }
    const auto sum = crypto::sha256(w.view());
    w.bytes(sum);

    auto bin = w.take();
    std::string text = armor(bin, twoway_armor_label);
    crypto::wipe(bin);  // holds the seed when unencrypted
    return text;
}

}  // namespace twoway
