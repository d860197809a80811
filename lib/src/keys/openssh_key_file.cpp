// OpenSSH's "openssh-key-v1" private key files (PROTOCOL.key in OpenSSH), Ed25519 and unencrypted only.
// Inside the "OPENSSH PRIVATE KEY" armor:
//   byte[15] "openssh-key-v1\0" | string ciphername | string kdfname | string kdfoptions | u32 nkeys |
//   string public key blob | string private section
// and the private section (a multiple of the cipher's block size, 8 for "none"):
//   u32 check | u32 check | string "ssh-ed25519" | string pk[32] | string sk[64] = seed||pk |
//   string comment | padding 1, 2, 3, ... (fewer than 8 bytes)
// Every field is checked, so that what we accept is exactly what ssh-keygen writes.
#include <algorithm>
#include <array>

#include "crypto/crypto.hpp"
#include "keys/armor.hpp"
#include "keys/private_key_formats.hpp"
#include "wire/writer.hpp"

namespace twoway::keys {

namespace {
constexpr std::string_view magic{"openssh-key-v1\0", 15};
constexpr std::string_view none = "none";
constexpr std::size_t block_size = 8;  // cipher "none" pads to 8 bytes

struct Parsed {
    PublicKey public_key;
    bool encrypted = false;
    wire::Bytes private_section;  // the clear private section (only when not encrypted)
};

Result<Parsed> parse(wire::Bytes bin) {
    wire::Reader r(bin);
    if (wire::as_text(r.bytes(magic.size())) != magic) return fail(r.ok() ? errc::bad_key_format : r.error());
    const std::string_view cipher = r.text(64);
    const std::string_view kdf = r.text(64);
    const wire::Bytes kdf_options = r.string(1024);
    const std::uint32_t nkeys = r.u32();
    if (r.ok() && nkeys != 1) return fail(errc::malformed);  // OpenSSH itself only ever writes one key
    const wire::Bytes blob = r.string(1024);
    Parsed out;
    out.private_section = r.string(max_key_file_binary);
    if (!r.expect_end()) return fail(r.error());

    auto key = PublicKey::from_blob(blob);
    if (!key) return fail(key.error());  // an RSA or ECDSA key: unsupported_key_type
    out.public_key = *key;
    if (cipher != none) {
        out.encrypted = true;
        out.private_section = {};
        return out;
    }
    if (kdf != none || !kdf_options.empty()) return fail(errc::malformed);
    if (out.private_section.empty() || out.private_section.size() % block_size != 0) return fail(errc::malformed);
    return out;
}

struct PrivatePart {
    wire::Bytes seed;
    std::string_view comment;
};

Result<PrivatePart> parse_private_section(wire::Bytes section, const PublicKey& public_key) {
    wire::Reader r(section);
    const std::uint32_t check1 = r.u32();
    const std::uint32_t check2 = r.u32();
    const std::string_view type = wire::as_text(r.string(64));
    const wire::Bytes pk = r.string(32);
    const wire::Bytes sk = r.string(64);
    const std::string_view comment = r.text(max_key_comment);
    const wire::Bytes padding = r.rest();
    if (!r.ok()) return fail(r.error());
    // With a cipher the check ints tell a wrong passphrase; in the clear, unequal ones mean damage.
    if (check1 != check2) return fail(errc::corrupt_key_file);
    if (type != ssh_ed25519_name) return fail(errc::unsupported_key_type);
    if (pk.size() != 32 || sk.size() != 64) return fail(errc::malformed);
    if (padding.size() >= block_size) return fail(errc::malformed);
    for (std::size_t i = 0; i < padding.size(); ++i) {
        if (padding[i] != static_cast<std::byte>(i + 1)) return fail(errc::malformed);
    }
    // The public key appears three times (header blob, pk, second half of sk): all must agree, and
    // with the key the seed actually makes.
    if (!crypto::ct_equal(pk, public_key.raw()) || !crypto::ct_equal(sk.subspan(32), public_key.raw())) {
        return fail(errc::key_mismatch);
    }
    return PrivatePart{sk.first(32), comment};
}

Result<Parsed> parse_text(std::string_view text, SecretBuffer& holder) {
    auto bin = unarmor(text, openssh_armor_label, max_key_file_binary);
    if (!bin) return fail(bin.error());
    holder = std::move(*bin);
    return parse(holder.span());
}
}  // namespace

Result<KeyFileInfo> inspect_openssh_key(std::string_view text) {
    SecretBuffer holder;
    auto p = parse_text(text, holder);
    if (!p) return fail(p.error());
    KeyFileInfo info;
    info.format = KeyFileFormat::openssh;
    info.public_key = p->public_key;
    info.encrypted = p->encrypted;
    if (!p->encrypted) {
        auto part = parse_private_section(p->private_section, p->public_key);
        if (!part) return fail(part.error());
        info.comment = std::string(part->comment);
    }
    return info;
}

Result<DecodedPrivateKey> decode_openssh_key(std::string_view text) {
    SecretBuffer holder;
    auto p = parse_text(text, holder);
    if (!p) return fail(p.error());
    if (p->encrypted) return fail(errc::encrypted_openssh_key);
    auto part = parse_private_section(p->private_section, p->public_key);
    if (!part) return fail(part.error());
    auto key = PrivateKey::from_seed(part->seed.first<32>());
    if (key.public_key() != p->public_key) return fail(errc::key_mismatch);
    return DecodedPrivateKey{std::move(key), std::string(part->comment), KeyFileFormat::openssh};
}

}  // namespace twoway::keys

namespace twoway {

Result<std::string> encode_openssh_private_key(const PrivateKey& key, std::string_view comment, Rng& rng) {
    if (!valid_key_comment(comment)) return fail(errc::invalid_argument);
    using namespace keys;
    std::array<std::byte, 4> check_bytes{};
    rng.fill(check_bytes);
    const std::uint32_t check = (static_cast<std::uint32_t>(check_bytes[0]) << 24) |
                                (static_cast<std::uint32_t>(check_bytes[1]) << 16) |
                                (static_cast<std::uint32_t>(check_bytes[2]) << 8) |
                                static_cast<std::uint32_t>(check_bytes[3]);
    const auto& pk = key.public_key().raw();

    // The private section, built in a buffer reserved up front so the seed is never left behind by a
    // reallocation.
    const std::size_t unpadded = 8 + 4 + ssh_ed25519_name.size() + 4 + 32 + 4 + 64 + 4 + comment.size();
    const std::size_t pad = (block_size - unpadded % block_size) % block_size;
    wire::Writer priv(unpadded + pad);
    {
        const auto seed = key.seed();
        SecretBytes<64> sk;
        std::copy(seed.span().begin(), seed.span().end(), sk.data());
        std::copy(pk.begin(), pk.end(), sk.data() + 32);
        priv.u32(check).u32(check).string(ssh_ed25519_name).string(pk).string(sk.span()).string(comment);
    }
    for (std::size_t i = 1; i <= pad; ++i) priv.u8(static_cast<std::uint8_t>(i));

    const auto blob = key.public_key().blob();
    wire::Writer w(magic.size() + 64 + blob.size() + priv.size());
    w.bytes(magic).string(none).string(none).string(std::string_view{}).u32(1).string(blob).string(priv.view());

    auto priv_bytes = priv.take();
    auto bin = w.take();
    std::string text = armor(bin, openssh_armor_label);
    crypto::wipe(priv_bytes);
    crypto::wipe(bin);
    return text;
}

}  // namespace twoway
