#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

using namespace twoway;
using namespace twoway::crypto;
using twoway::test::bytes;
using twoway::test::hex;
using twoway::test::unhex;

template <std::size_t N>
static std::array<std::byte, N> arr(std::string_view h) {
    auto v = unhex(h);
    REQUIRE(v.size() == N);
    std::array<std::byte, N> a{};
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

TEST_CASE("Ed25519 matches RFC 8032 test 1", "[crypto]") {
    auto seed = arr<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    auto kp = ed25519_from_seed(seed);
    CHECK(hex(kp.public_key) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    auto sig = ed25519_sign(kp.secret_key, {});
    CHECK(hex(sig) ==
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595"
          "bbe24655141438e7a100b");
    CHECK(ed25519_verify(kp.public_key, {}, sig));
    auto msg = bytes("x");
    CHECK_FALSE(ed25519_verify(kp.public_key, msg, sig));
    sig[0] ^= std::byte{1};
    CHECK_FALSE(ed25519_verify(kp.public_key, {}, sig));
}

TEST_CASE("X25519 matches RFC 7748 section 6.1 and refuses the all-zero result", "[crypto]") {
    auto a = x25519_from_secret(SecretBytes<32>(
        std::span<const std::byte, 32>(arr<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))));
    auto b = x25519_from_secret(SecretBytes<32>(
        std::span<const std::byte, 32>(arr<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))));
    CHECK(hex(a.public_key) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    CHECK(hex(b.public_key) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    auto s1 = x25519(a.secret_key, b.public_key);
    auto s2 = x25519(b.secret_key, a.public_key);
    REQUIRE(s1);
    REQUIRE(s2);
    CHECK(hex(s1->span()) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    CHECK(*s1 == *s2);

    std::array<std::byte, 32> zero{};
    auto weak = x25519(a.secret_key, zero);
    REQUIRE_FALSE(weak);
    CHECK(weak.error() == errc::weak_public_key);
}

TEST_CASE("HMAC-SHA-512 matches RFC 4231 test case 2; HKDF matches an independent computation", "[crypto]") {
    auto mac = hmac_sha512(bytes("Jefe"), bytes("what do ya want for nothing?"));
    CHECK(hex(mac.span()) ==
          "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b"
          "636e070a38bce737");

    // Expected values computed with Python's hmac/hashlib (an implementation independent of libsodium).
    auto prk = hkdf_sha512_extract(bytes("salt"), bytes("input key material"));
    CHECK(hex(prk.span()) ==
          "eb21b2c6b482ecc6346d064dc40ee40f96e8ef106d511617ab01ef74154438823d40e47ab56d99cedfc803b14d398541fdf15a103fbb7270"
          "7cc449a1c88b1cdb");
    std::array<std::byte, 100> okm{};
    hkdf_sha512_expand(prk.span(), bytes("info"), okm);
    CHECK(hex(okm) ==
          "57026b6a13014b870f39e8b46105c12f296eb0515a81afd6fb419b0e63c5b5777501cb46175423ba1b9ff4c7fbea2e47ab9c84a306b35cd7"
          "1156af466f323976f97de335286e7e24b90560302fa9504c30674b9d9ae6841177732471ee4bc8d1f166d911");
}

TEST_CASE("HKDF matches RFC 5869 test cases 1-3 (SHA-256, through the same HKDF code as SHA-512)", "[crypto]") {
    // RFC 5869 Appendix A.1-A.3. Its vectors are for HMAC-SHA-256 (and SHA-1); the library writes HKDF
    // once over the HMAC (crypto.cpp), so these run the very Extract and Expand that HKDF-SHA-512 uses.
    struct Case {
        std::string ikm, salt, info;
        std::size_t length;
        std::string_view prk, okm;
    };
    std::string seq_00_4f, seq_60_af, seq_b0_ff;
    for (int i = 0; i < 80; ++i) {
        seq_00_4f += hex(std::array<std::byte, 1>{std::byte(i)});
        seq_60_af += hex(std::array<std::byte, 1>{std::byte(0x60 + i)});
        seq_b0_ff += hex(std::array<std::byte, 1>{std::byte(0xb0 + i)});
    }
    const Case cases[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {seq_00_4f, seq_60_af, seq_b0_ff, 82, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8"
         "367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    };
    CHECK(seq_60_af.substr(0, 8) == "60616263");
    for (const Case& c : cases) {
        INFO("L = " << c.length);
        std::array<std::byte, 32> prk{};
        hkdf_sha256_extract(prk, unhex(c.salt), unhex(c.ikm));
        CHECK(hex(prk) == c.prk);
        std::vector<std::byte> okm(c.length);
        hkdf_sha256_expand(prk, unhex(c.info), okm);
        CHECK(hex(okm) == c.okm);
    }
}

TEST_CASE("a precomputed HMAC key gives the same HKDF output every time it is used", "[crypto]") {
    auto prk = hkdf_sha512_extract(bytes("salt"), bytes("input key material"));
    const HmacSha512Key key(prk.span());
    // Several expansions from one keyed state, interleaved lengths: each equals a fresh computation,
    // so using the state never changes it.
    for (const std::size_t n : {std::size_t{100}, std::size_t{1}, std::size_t{64}, std::size_t{65}, std::size_t{100}}) {
        std::vector<std::byte> reused(n), fresh(n);
        key.hkdf_expand(bytes("info"), reused);
        hkdf_sha512_expand(prk.span(), bytes("info"), fresh);
        CHECK(reused == fresh);
    }
    std::array<std::byte, 100> okm{};
    key.hkdf_expand(bytes("info"), okm);  // the Python-computed value of the test above
    CHECK(hex(okm).substr(0, 32) == "57026b6a13014b870f39e8b46105c12f");
    std::array<std::byte, 32> other{};
    key.hkdf_expand(bytes("other info"), other);
    CHECK(hex(other) != hex(std::span(okm).first(32)));
}

TEST_CASE("keyed BLAKE2b matches Python's hashlib", "[crypto]") {
    std::array<std::byte, 32> out{};
    blake2b(out, bytes("abc"), bytes("k"));
    CHECK(hex(out) == "12f0b4a482a321476483eac3387d86e810573152916fb35bf7a6b9951f221db3");
}

TEST_CASE("incremental SHA-512 equals one-shot and can continue after digest", "[crypto]") {
    Sha512 h;
    h.update(bytes("ab"));
    auto mid = h.digest();
    CHECK(mid == sha512(bytes("ab")));
    h.update(bytes("c"));
    CHECK(h.digest() == sha512(bytes("abc")));
    CHECK(hex(sha256(bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("ChaCha20-Poly1305 and XChaCha20-Poly1305 seal, open, and reject tampering", "[crypto]") {
    std::array<std::byte, 32> key{};
    key[0] = std::byte{7};
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 24> xnonce{};
    auto pt = bytes("attack at dawn");
    auto ad = bytes("hdr");

    std::vector<std::byte> ct(pt.size() + 16);
    chacha20poly1305_seal(ct, pt, ad, nonce, key);
    std::vector<std::byte> back(pt.size());
    CHECK(chacha20poly1305_open(back, ct, ad, nonce, key));
    CHECK(back == pt);

    for (std::size_t i = 0; i < ct.size(); ++i) {
        auto bad = ct;
        bad[i] ^= std::byte{0x80};
        CHECK_FALSE(chacha20poly1305_open(back, bad, ad, nonce, key));
    }
    auto other_ad = bytes("hdR");
    CHECK_FALSE(chacha20poly1305_open(back, ct, other_ad, nonce, key));
    nonce[11] = std::byte{1};
    CHECK_FALSE(chacha20poly1305_open(back, ct, ad, nonce, key));

    std::vector<std::byte> xct(pt.size() + 16);
    xchacha20poly1305_seal(xct, pt, ad, xnonce, key);
    CHECK(xchacha20poly1305_open(back, xct, ad, xnonce, key));
    CHECK(back == pt);
    xct.back() ^= std::byte{1};
    CHECK_FALSE(xchacha20poly1305_open(back, xct, ad, xnonce, key));

    if (aes256gcm_available()) {
        std::vector<std::byte> gct(pt.size() + 16);
        aes256gcm_seal(gct, pt, ad, nonce, key);
        CHECK(aes256gcm_open(back, gct, ad, nonce, key));
        CHECK(back == pt);
        gct[0] ^= std::byte{1};
        CHECK_FALSE(aes256gcm_open(back, gct, ad, nonce, key));
    }
}

TEST_CASE("base64 is strict", "[crypto]") {
    auto data = bytes("any carnal pleas");
    CHECK(base64_encode(data) == "YW55IGNhcm5hbCBwbGVhcw==");
    CHECK(base64_encode(data, false) == "YW55IGNhcm5hbCBwbGVhcw");
    auto ok = base64_decode("YW55IGNhcm5hbCBwbGVhcw==");
    REQUIRE(ok);
    CHECK(*ok == data);
    CHECK_FALSE(base64_decode("YW55IGNhcm5hbCBwbGVhcw"));        // padding missing
    CHECK_FALSE(base64_decode("YW55IGNhcm5hbCBwbGVhcw=="
                              " "));                            // trailing space
    CHECK_FALSE(base64_decode("YW55IGNhcm5hbCBwbGVhcx=="));      // non-canonical final bits
    CHECK_FALSE(base64_decode("YW55IGNhcm5h*CBwbGVhcw=="));      // outside the alphabet
    CHECK(base64_decode("YW55IGNhcm5hbCBwbGVhcw", false));
}

TEST_CASE("Argon2id derives deterministically and bounds its parameters", "[crypto]") {
    std::array<std::byte, 16> salt{};
    Argon2idParams p{crypto::argon2id_default_params().opslimit, 8 * 1024 * 1024};
    std::array<std::byte, 32> k1{}, k2{}, k3{};
    REQUIRE(argon2id(k1, bytes("pw"), salt, p));
    REQUIRE(argon2id(k2, bytes("pw"), salt, p));
    REQUIRE(argon2id(k3, bytes("pX"), salt, p));
    CHECK(k1 == k2);
    CHECK(k1 != k3);
    Argon2idParams huge{p.opslimit, 1ULL << 40};
    CHECK(argon2id(k1, bytes("pw"), salt, huge).error() == errc::invalid_argument);
    Argon2idParams slow{1000000, p.memlimit};
    CHECK(argon2id(k1, bytes("pw"), salt, slow).error() == errc::invalid_argument);
}

TEST_CASE("secrets wipe, move and compare in constant time", "[crypto]") {
    SecretBytes<32> a;
    CHECK(is_zero(a.span()));
    a.data()[0] = std::byte{1};
    SecretBytes<32> b = a.clone();
    CHECK(a == b);
    b.data()[31] = std::byte{2};
    CHECK_FALSE(a == b);
    SecretBytes<32> c = std::move(a);
    CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(c.data()[0] == std::byte{1});

    SecretBuffer buf(bytes("passphrase"));
    CHECK(buf.size() == 10);
    SecretBuffer moved = std::move(buf);
    CHECK(buf.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(moved.size() == 10);

    CHECK(ct_equal(bytes("abc"), bytes("abc")));
    CHECK_FALSE(ct_equal(bytes("abc"), bytes("abd")));
    CHECK_FALSE(ct_equal(bytes("abc"), bytes("ab")));
}

TEST_CASE("deterministic rng is reproducible and distinct per seed", "[crypto]") {
    DeterministicRng r1(42), r2(42), r3(43);
    std::array<std::byte, 40> a{}, b{}, c{};
    r1.fill(a);
    r2.fill(b);
    r3.fill(c);
    CHECK(a == b);
    CHECK(a != c);
    r1.fill(a);
    CHECK(a != b);  // the stream moves on
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        auto kp = ed25519_generate(system_rng());
        seen.insert(hex(kp.public_key));
    }
    CHECK(seen.size() == 100);
}
