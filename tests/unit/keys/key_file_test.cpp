// twoway's private key file format. Encrypted files here use tiny Argon2id costs (libsodium's minimum
// memory, one or two passes) so the suite stays fast under the sanitizers; the format is the same.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <twoway/key_file.hpp>

#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"
#include "key_test_support.hpp"
#include "crypto/labels.hpp"
#include "wire/writer.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

using namespace twoway;
using twoway::test::bytes;
using twoway::test::hex;
using twoway::test::unhex;

namespace {
constexpr KdfParams tiny{1, 8192};
constexpr KdfParams small{2, 8 << 20};
// What the tests let a (damaged) file ask of Argon2id, so no flipped bit can make a test slow.
constexpr KdfLimits test_limits{4, 1 << 20};

PrivateKey rfc8032_key() {
    const auto seed = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    return PrivateKey::from_seed(std::span<const std::byte, 32>(seed.data(), 32));
}

std::string encode(const PrivateKey& k, std::string_view comment, std::string_view pass, KdfParams p = tiny) {
    DeterministicRng rng(7);
    auto r = encode_private_key(k, comment, pass, p, rng);
    REQUIRE(r);
    return *r;
}

// The file as docs/KEYS.md describes it, built field by field here (not by the encoder), with the
// secret holding `seed` while the clear public key says `pub`.
std::vector<std::byte> spec_file(std::span<const std::byte, 32> seed, const PublicKey& pub, std::string_view comment,
                                 std::string_view pass, KdfParams p, std::span<const std::byte, 16> salt,
                                 std::span<const std::byte, 24> nonce, std::string_view inner_type = "ssh-ed25519") {
    wire::Writer w;
    w.bytes(std::string_view("twoway-key-v1\0", 14));
    if (pass.empty()) {
        w.string(std::string_view("none")).string(std::string_view(""));
    } else {
        wire::Writer params;
        params.u64(p.opslimit).u64(p.memlimit).bytes(salt).bytes(nonce);
        w.string(std::string_view("argon2id-xchacha20poly1305")).string(params.view());
    }
    w.string(pub.blob()).string(comment);
    wire::Writer plain;
    plain.string(inner_type).string(seed);
    if (pass.empty()) {
        w.string(plain.view());
    } else {
        w.u32(static_cast<std::uint32_t>(plain.size() + 16));
        SecretBytes<64> prk;
        REQUIRE(crypto::argon2id(prk.span(), bytes(pass), salt, {p.opslimit, p.memlimit}));
        std::array<std::byte, 32> key{};
        crypto::expand_label(prk.span(), "key file", {}, key);
        std::vector<std::byte> sealed(plain.size() + 16);
        crypto::xchacha20poly1305_seal(sealed, plain.view(), w.view(), nonce, key);
        w.bytes(sealed);
    }
    const auto sum = crypto::sha256(w.view());
    w.bytes(sum);
    return w.take();
}

const std::set<errc> structural_errors = {errc::bad_key_format, errc::short_input,     errc::trailing_data,
                                          errc::length_too_large, errc::malformed,     errc::corrupt_key_file,
                                          errc::unsupported_key_type};

bool is_one_of(std::error_code ec, const std::set<errc>& allowed) {
    return ec.category() == twoway_category() && allowed.count(static_cast<errc>(ec.value())) == 1;
}
}  // namespace

TEST_CASE("unencrypted key files round trip with their comment", "[keys]") {
    const auto key = rfc8032_key();
    const std::string text = encode(key, "user@host with spaces", "");
    CHECK(text.starts_with("-----BEGIN TWOWAY PRIVATE KEY-----\n"));
    CHECK(text.ends_with("\n-----END TWOWAY PRIVATE KEY-----\n"));
    auto d = decode_private_key(text, "");
    REQUIRE(d);
    CHECK(d->key.public_key() == key.public_key());
    CHECK(d->key.seed() == key.seed());
    CHECK(d->comment == "user@host with spaces");
    CHECK(d->format == KeyFileFormat::twoway);
    // A passphrase given for an unencrypted file is not needed and not an error (as with ssh).
    CHECK(decode_private_key(text, "anything"));
    auto info = inspect_private_key(text);
    REQUIRE(info);
    CHECK_FALSE(info->encrypted);
    CHECK_FALSE(info->kdf.has_value());
    CHECK(info->public_key == key.public_key());
}

TEST_CASE("encrypted key files round trip and tell their public half without the passphrase", "[keys]") {
    const auto key = PrivateKey::generate(system_rng());
    const std::string text = encode(key, "c", "correct horse", small);
    auto info = inspect_private_key(text);
    REQUIRE(info);
    CHECK(info->encrypted);
    CHECK(info->public_key == key.public_key());
    CHECK(info->comment == "c");
    REQUIRE(info->kdf.has_value());
    CHECK(info->kdf->opslimit == small.opslimit);
    CHECK(info->kdf->memlimit == small.memlimit);

    auto d = decode_private_key(text, "correct horse");
    REQUIRE(d);
    CHECK(d->key.seed() == key.seed());
    CHECK(d->comment == "c");
    CHECK(decode_private_key(text, "correct horsE").error() == errc::wrong_passphrase);
    CHECK(decode_private_key(text, "").error() == errc::passphrase_required);
}

TEST_CASE("two encodings of one key differ (fresh salt and nonce) and both decode", "[keys]") {
    const auto key = rfc8032_key();
    auto a = encode_private_key(key, "", "pw", tiny, system_rng());
    auto b = encode_private_key(key, "", "pw", tiny, system_rng());
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a != *b);
    CHECK(decode_private_key(*a, "pw"));
    CHECK(decode_private_key(*b, "pw"));
}

TEST_CASE("the encoder writes exactly the layout docs/KEYS.md specifies", "[keys]") {
    const auto key = rfc8032_key();
    const auto seed = key.seed();
    std::vector<std::byte> script(40);
    for (std::size_t i = 0; i < script.size(); ++i) script[i] = static_cast<std::byte>(0xa0 + i);
    const std::span<const std::byte, 16> salt(script.data(), 16);
    const std::span<const std::byte, 24> nonce(script.data() + 16, 24);

    test::ScriptedRng rng(script);
    auto enc = encode_private_key(key, "doc test", "pass phrase", tiny, rng);
    REQUIRE(enc);
    CHECK(rng.used() == 40);  // the salt, then the nonce
    CHECK(test::unarmor_bytes(*enc, keys::twoway_armor_label) ==
          spec_file(seed.span(), key.public_key(), "doc test", "pass phrase", tiny, salt, nonce));

    test::ScriptedRng none_rng({});
    auto plain = encode_private_key(key, "doc test", "", tiny, none_rng);
    REQUIRE(plain);
    CHECK(none_rng.used() == 0);  // nothing random in an unencrypted file
    const auto bin = test::unarmor_bytes(*plain, keys::twoway_armor_label);
    CHECK(bin == spec_file(seed.span(), key.public_key(), "doc test", "", tiny, salt, nonce));
    // The start of the layout, spelled out: magic, "none", empty params, the blob's length.
    CHECK(hex(std::span(bin).first(14 + 8 + 4 + 4)) ==
          "74776f7761792d6b65792d763100"  // "twoway-key-v1\0"
          "000000046e6f6e65"              // string "none"
          "00000000"                      // string params: empty
          "00000033");                    // string public key blob: 51 bytes follow
    // Lines of 70 base64 characters, like ssh-keygen's.
    CHECK(plain->substr(35, 71) == crypto::base64_encode(bin).substr(0, 70) + "\n");
}

TEST_CASE("a file whose secret does not match its public key is refused", "[keys]") {
    const auto key = rfc8032_key();
    const auto other = PrivateKey::generate(system_rng());
    std::array<std::byte, 16> salt{};
    std::array<std::byte, 24> nonce{};
    const auto seed = key.seed();
    for (std::string_view pass : {std::string_view(""), std::string_view("pw")}) {
        const auto bin = spec_file(seed.span(), other.public_key(), "x", pass, tiny, salt, nonce);
        CHECK(decode_private_key(test::rearmor_twoway(bin), pass).error() == errc::key_mismatch);
        // inspect does not open the secret, so it cannot tell; it reports what the file claims.
        CHECK(inspect_private_key(test::rearmor_twoway(bin)));
        // Another key type inside: the secret has a fixed size, so a shorter name is malformed, one of
        // the same length an unsupported type.
        const auto rsa = spec_file(seed.span(), key.public_key(), "x", pass, tiny, salt, nonce, "ssh-rsa");
        CHECK(decode_private_key(test::rearmor_twoway(rsa), pass).error() == errc::malformed);
        const auto other_type = spec_file(seed.span(), key.public_key(), "x", pass, tiny, salt, nonce, "ssh-ed25518");
        CHECK(decode_private_key(test::rearmor_twoway(other_type), pass).error() == errc::unsupported_key_type);
    }
}

TEST_CASE("hostile Argon2id parameters are refused before any work", "[keys]") {
    const auto key = rfc8032_key();
    std::array<std::byte, 16> salt{};
    std::array<std::byte, 24> nonce{};
    // Parameters our encoder refuses to write, forged into files: each must be refused on reading.
    const KdfParams hostile[] = {{1, std::uint64_t{64} << 30}, {1ULL << 40, 8192}, {0, 8192}, {1, 1024},
                                 {65, 8192}, {1, (std::uint64_t{1} << 30) + 1}};
    for (const auto& p : hostile) {
        wire::Writer w;
        // spec_file runs Argon2id to seal; build these by hand with a garbage secret instead.
        wire::Writer params;
        params.u64(p.opslimit).u64(p.memlimit).bytes(salt).bytes(nonce);
        w.bytes(std::string_view("twoway-key-v1\0", 14))
            .string(std::string_view("argon2id-xchacha20poly1305"))
            .string(params.view())
            .string(key.public_key().blob())
            .string(std::string_view(""))
            .string(std::vector<std::byte>(51 + 16));
        w.bytes(crypto::sha256(w.view()));
        const std::string text = test::rearmor_twoway(w.view());
        CHECK(decode_private_key(text, "pw").error() == errc::kdf_params_rejected);
        CHECK(inspect_private_key(text));
    }
    // A caller's own limits are honoured too (this file asks for 8 MiB).
    const std::string text = encode(key, "", "pw", small);
    CHECK(decode_private_key(text, "pw", KdfLimits{4, 1 << 20}).error() == errc::kdf_params_rejected);
    CHECK(decode_private_key(text, "pw", KdfLimits{1, 64 << 20}).error() == errc::kdf_params_rejected);
}

TEST_CASE("the encoder refuses bad comments and bad parameters", "[keys]") {
    const auto key = rfc8032_key();
    DeterministicRng rng(1);
    CHECK(encode_private_key(key, "a\nb", "", tiny, rng).error() == errc::invalid_argument);
    CHECK(encode_private_key(key, "a\x1b[31m", "", tiny, rng).error() == errc::invalid_argument);
    CHECK(encode_private_key(key, std::string(max_key_comment + 1, 'x'), "", tiny, rng).error() ==
          errc::invalid_argument);
    CHECK(encode_private_key(key, std::string(max_key_comment, 'x'), "", tiny, rng));
    CHECK(encode_private_key(key, "caf\xc3\xa9", "", tiny, rng));  // UTF-8 is fine
    CHECK(encode_private_key(key, "", "pw", KdfParams{0, 8192}, rng).error() == errc::invalid_argument);
    CHECK(encode_private_key(key, "", "pw", KdfParams{1, 1024}, rng).error() == errc::invalid_argument);
    // Without a passphrase the parameters are not used.
    CHECK(encode_private_key(key, "", "", KdfParams{0, 0}, rng));
}

TEST_CASE("valid_key_comment says what the encoders take", "[keys]") {
    const auto key = rfc8032_key();
    DeterministicRng rng(1);
    const std::string longest(max_key_comment, 'x');
    for (std::string_view good : {std::string_view(""), std::string_view("user@host with spaces"),
                                  std::string_view("caf\xc3\xa9"), std::string_view("\xff\x80 not UTF-8, still fine"),
                                  std::string_view(longest)}) {
        CHECK(valid_key_comment(good));
        CHECK(encode_private_key(key, good, "", tiny, rng));
        CHECK(encode_openssh_private_key(key, good, rng));
    }
    const std::string too_long(max_key_comment + 1, 'x');
    for (std::string_view bad : {std::string_view("a\nb"), std::string_view("a\tb"), std::string_view("a\x1b[31m"),
                                 std::string_view("del\x7f"), std::string_view("nul\0inside", 11),
                                 std::string_view(too_long)}) {
        CHECK_FALSE(valid_key_comment(bad));
        CHECK(encode_private_key(key, bad, "", tiny, rng).error() == errc::invalid_argument);
        CHECK(encode_openssh_private_key(key, bad, rng).error() == errc::invalid_argument);
    }
}

TEST_CASE("a key file truncated at any length fails cleanly", "[keys]") {
    const auto key = rfc8032_key();
    for (std::string_view pass : {std::string_view(""), std::string_view("pw")}) {
        const std::string text = encode(key, "comment", pass);
        // As text: only the final newline may go.
        for (std::size_t n = 0; n + 1 < text.size(); ++n) {
            auto r = decode_private_key(text.substr(0, n), pass, test_limits);
            REQUIRE_FALSE(r);
            CHECK(is_one_of(r.error(), structural_errors));
        }
        CHECK(decode_private_key(text.substr(0, text.size() - 1), pass));
        // As bytes inside intact armor.
        const auto bin = test::unarmor_bytes(text, keys::twoway_armor_label);
        for (std::size_t n = 0; n < bin.size(); ++n) {
            auto r = decode_private_key(test::rearmor_twoway(std::span(bin).first(n)), pass, test_limits);
            REQUIRE_FALSE(r);
            CHECK(is_one_of(r.error(), structural_errors));
        }
    }
}

TEST_CASE("every flipped bit of a key file is detected", "[keys]") {
    const auto key = rfc8032_key();
    for (std::string_view pass : {std::string_view(""), std::string_view("pw")}) {
        const std::string text = encode(key, "comment", pass);
        const auto bin = test::unarmor_bytes(text, keys::twoway_armor_label);
        std::size_t corrupt = 0;
        for (std::size_t i = 0; i < bin.size(); ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                auto damaged = bin;
                damaged[i] ^= static_cast<std::byte>(1 << bit);
                auto r = decode_private_key(test::rearmor_twoway(damaged), pass, test_limits);
                REQUIRE_FALSE(r);
                CHECK(is_one_of(r.error(), structural_errors));
                corrupt += r.error() == errc::corrupt_key_file;
            }
        }
        // Most flips land in data the checksum covers and are reported as damage.
        CHECK(corrupt > bin.size() * 8 / 2);
        // Every flipped byte of the text itself, too (armor lines, base64, line breaks).
        for (std::size_t i = 0; i + 1 < text.size(); ++i) {
            std::string damaged = text;
            damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
            auto r = decode_private_key(damaged, pass, test_limits);
            REQUIRE_FALSE(r);
            CHECK(is_one_of(r.error(), structural_errors));
        }
    }
}

TEST_CASE("the AEAD binds every clear byte: tampering behind a fixed-up checksum still fails", "[keys]") {
    const auto key = rfc8032_key();
    const std::string text = encode(key, "comment", "pw");
    const auto bin = test::unarmor_bytes(text, keys::twoway_armor_label);
    std::set<errc> seen;
    for (std::size_t i = 0; i + 32 < bin.size(); ++i) {
        auto damaged = bin;
        damaged[i] ^= std::byte{0x01};
        auto r = decode_private_key(test::rearmor_twoway(test::with_fresh_checksum(damaged)), "pw", test_limits);
        REQUIRE_FALSE(r);
        const auto e = static_cast<errc>(r.error().value());
        CHECK(r.error().category() == twoway_category());
        CHECK(e != errc::corrupt_key_file);  // the checksum was fixed up, so something else caught it
        seen.insert(e);
    }
    // The public key, the comment, the salt, the nonce and the ciphertext are caught by the AEAD.
    CHECK(seen.count(errc::wrong_passphrase) == 1);
    // The parameters' high bytes by the limits.
    CHECK(seen.count(errc::kdf_params_rejected) == 1);
}

TEST_CASE("key files in other armor or none are not twoway keys", "[keys]") {
    CHECK(decode_private_key("", "").error() == errc::bad_key_format);
    CHECK(decode_private_key("hello\n", "").error() == errc::bad_key_format);
    CHECK(decode_private_key("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "").error() ==
          errc::bad_key_format);
    CHECK(decode_private_key(" -----BEGIN TWOWAY PRIVATE KEY-----\n", "").error() == errc::bad_key_format);
    CHECK(decode_private_key("-----BEGIN TWOWAY PRIVATE KEY-----\n-----END TWOWAY PRIVATE KEY-----\n", "").error() ==
          errc::malformed);
    CHECK(decode_private_key(std::string(70 * 1024, 'x'), "").error() == errc::length_too_large);
    // Line breaks may be CRLF; anything but line breaks after the END line is refused.
    const auto key = rfc8032_key();
    std::string text = encode(key, "x", "");
    std::string crlf;
    for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    CHECK(decode_private_key(crlf, ""));
    CHECK(decode_private_key(text + "\n\n", ""));
    CHECK(decode_private_key(text + "x", "").error() == errc::trailing_data);
    // A file with an unknown protection scheme is not one this version can read.
    auto bin = test::unarmor_bytes(text, keys::twoway_armor_label);
    bin[14 + 4] = static_cast<std::byte>('N');  // "none" -> "None"
    CHECK(decode_private_key(test::rearmor_twoway(test::with_fresh_checksum(bin)), "").error() ==
          errc::bad_key_format);
}
