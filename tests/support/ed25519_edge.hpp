// Test helper: Ed25519 signatures that a lenient verifier accepts and a strict one (PROTOCOL.md 7.3,
// libsodium's crypto_sign_verify_detached) refuses: the edge cases of "Taming the many EdDSAs"
// (Chalkias, Garillot, Nikolaenko, 2020) that matter for an authentication protocol. Each forgery is
// built for a given message, so the handshake tests can put one into a real transcript. Test code only:
// it calls libsodium's scalar and point operations directly to build the bad values.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace twoway::test {

struct Ed25519Case {
    std::string name;
    std::string why;  // why a lenient verifier accepts it
    std::array<std::byte, 32> public_key{};
    std::array<std::byte, 64> signature{};
};

namespace ed25519_edge {

using B32 = std::array<unsigned char, 32>;

// Encodings (little-endian y, sign bit on top): the identity (y = 1), the same point written as
// y = p + 1 (non-canonical), and a point of order 8 (libsodium's small-order list).
inline B32 identity() { return B32{1}; }
inline B32 identity_non_canonical() {
    B32 e{};
    e.fill(0xff);
    e[0] = 0xee;
    e[31] = 0x7f;
    return e;
}
inline B32 order_8() {
    const unsigned char p[32] = {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
                                 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
                                 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};
    B32 e{};
    std::memcpy(e.data(), p, 32);
    return e;
}
// L, the order of the prime-order subgroup, little-endian.
inline B32 group_order() {
    const unsigned char l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
    B32 e{};
    std::memcpy(e.data(), l, 32);
    return e;
}

// k = SHA-512(R | A | M) mod L, as every verifier computes it.
inline B32 challenge(const B32& r, const B32& a, std::span<const std::byte> m) {
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, r.data(), 32);
    crypto_hash_sha512_update(&st, a.data(), 32);
    crypto_hash_sha512_update(&st, reinterpret_cast<const unsigned char*>(m.data()), m.size());
    unsigned char h[64];
    crypto_hash_sha512_final(&st, h);
    B32 k{};
    crypto_core_ed25519_scalar_reduce(k.data(), h);
    return k;
}

// The signing scalar a of a seed (the clamped first half of SHA-512(seed)), reduced mod L, and A.
struct KeyParts {
    B32 a{};
    B32 pub{};
};
inline KeyParts key_parts(std::span<const std::byte, 32> seed) {
    KeyParts k;
    unsigned char sk[64];
    crypto_sign_seed_keypair(k.pub.data(), sk, reinterpret_cast<const unsigned char*>(seed.data()));
    unsigned char h[64];
    crypto_hash_sha512(h, reinterpret_cast<const unsigned char*>(seed.data()), 32);
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    unsigned char wide[64] = {};
    std::memcpy(wide, h, 32);
    crypto_core_ed25519_scalar_reduce(k.a.data(), wide);
    sodium_memzero(h, sizeof h);
    sodium_memzero(sk, sizeof sk);
    return k;
}

inline Ed25519Case make(std::string name, std::string why, const B32& pub, const B32& r, const B32& s) {
    Ed25519Case c{std::move(name), std::move(why), {}, {}};
    std::memcpy(c.public_key.data(), pub.data(), 32);
    std::memcpy(c.signature.data(), r.data(), 32);
    std::memcpy(c.signature.data() + 32, s.data(), 32);
    return c;
}

// S = k * a mod L for the given R: with R of order 1, [S]B = [k]A = R + [k]A, so the cofactorless
// equation holds. Checked here with libsodium's point operations, so a case that does not hold the
// equation can never be published as one that does.
inline B32 s_for_identity_r(const KeyParts& key, const B32& r, std::span<const std::byte> m) {
    const B32 k = challenge(r, key.pub, m);
    B32 s{};
    crypto_core_ed25519_scalar_mul(s.data(), k.data(), key.a.data());
    B32 sb{}, ka{};
    if (crypto_scalarmult_ed25519_base_noclamp(sb.data(), s.data()) != 0 ||
        crypto_scalarmult_ed25519_noclamp(ka.data(), k.data(), key.pub.data()) != 0 || sb != ka) {
        throw std::runtime_error("ed25519 edge case: [S]B != [k]A");
    }
    return s;
}

// A small-order A with an honest-looking R: R = [r]B and S = r for the smallest r >= 1 with [k]A the
// identity (k a multiple of A's order), so [S]B = R + [k]A holds cofactorless. These catch a verifier
// that checks R for small order but not A.
inline std::pair<B32, B32> honest_r_for(const B32& a, std::span<const std::byte> m, unsigned order) {
    for (unsigned r = 1; r < 10000; ++r) {
        B32 scalar{};
        scalar[0] = static_cast<unsigned char>(r & 0xff);
        scalar[1] = static_cast<unsigned char>(r >> 8);
        B32 rp{};
        if (crypto_scalarmult_ed25519_base_noclamp(rp.data(), scalar.data()) != 0) continue;
        const B32 k = challenge(rp, a, m);
        if (k[0] % order == 0) return {rp, scalar};  // k mod order, order a power of two
    }
    throw std::runtime_error("ed25519 edge case: no r found");
}

}  // namespace ed25519_edge

// The valid signature (first) and every edge case, for `message` and the key of `seed`.
inline std::vector<Ed25519Case> ed25519_edge_cases(std::span<const std::byte, 32> seed,
                                                   std::span<const std::byte> message) {
    using namespace ed25519_edge;
    if (sodium_init() < 0) throw std::runtime_error("sodium_init");
    const KeyParts key = key_parts(seed);
    std::vector<Ed25519Case> out;

    unsigned char sig[64];
    unsigned char pk[32], sk[64];
    crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(), sk);
    sodium_memzero(sk, sizeof sk);
    B32 r{}, s{};
    std::memcpy(r.data(), sig, 32);
    std::memcpy(s.data(), sig + 32, 32);
    out.push_back(make("valid", "a correct signature (the control: every verifier accepts it)", key.pub, r, s));

    const B32 zero{};
    out.push_back(make("small_order_public_key",
                       "A and R are the identity and S = 0: [0]B = R + [k]A holds for every message",
                       identity(), identity(), zero));

    // A of order 8 with R the identity and S = 0 holds when k is a multiple of 8; such messages are
    // common (1 in 8), but this one need not be: the cofactored equation [8][S]B = [8]R + [8][k]A
    // holds for every message, and that is what a cofactored verifier checks.
    out.push_back(make("order_8_public_key",
                       "A has order 8, R is the identity, S = 0: the cofactored equation holds for every message",
                       order_8(), identity(), zero));

    {
        const auto [r1, s1] = honest_r_for(identity(), message, 1);
        out.push_back(make("small_order_public_key_honest_r",
                           "A is the identity, R = [r]B and S = r (r = 1): [S]B = R + [k]A holds for every "
                           "message, and R is not of small order",
                           identity(), r1, s1));
        const auto [r8, s8] = honest_r_for(order_8(), message, 8);
        out.push_back(make("order_8_public_key_honest_r",
                           "A has order 8, R = [r]B and S = r for the smallest r with k a multiple of 8: the "
                           "cofactorless equation holds, and R is not of small order",
                           order_8(), r8, s8));
    }

    out.push_back(make("small_order_r",
                       "the real key, R the identity, S = k * a mod L: [S]B = R + [k]A holds (cofactorless)",
                       key.pub, identity(), s_for_identity_r(key, identity(), message)));

    out.push_back(make("non_canonical_r",
                       "the real key, R the identity written as y = p + 1, S = k * a mod L with k over that R: a "
                       "verifier that decodes R and compares points accepts",
                       key.pub, identity_non_canonical(), s_for_identity_r(key, identity_non_canonical(), message)));

    out.push_back(make("non_canonical_public_key",
                       "A is the identity written as y = p + 1, R the identity, S = 0: a verifier that reduces y "
                       "mod p accepts",
                       identity_non_canonical(), identity(), zero));

    B32 s_plus_l{};
    {
        // S + L as an integer (S < L < 2^253, so no carry out of 256 bits): [S + L]B = [S]B.
        unsigned carry = 0;
        const B32 l = group_order();
        for (std::size_t i = 0; i < 32; ++i) {
            const unsigned v = unsigned(s[i]) + unsigned(l[i]) + carry;
            s_plus_l[i] = static_cast<unsigned char>(v & 0xff);
            carry = v >> 8;
        }
    }
    out.push_back(make("s_not_reduced",
                       "the valid signature with S + L in place of S: [S + L]B = [S]B, so a verifier that does not "
                       "require S < L accepts (signature malleability)",
                       key.pub, r, s_plus_l));
    return out;
}

}  // namespace twoway::test
