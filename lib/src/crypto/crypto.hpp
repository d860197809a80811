// The library's only door to libsodium (the definitions live in crypto.cpp, the one TU that calls
// crypto_*). Shapes follow libsodium: fixed-size spans and arrays, outputs returned, secrets in
// SecretBytes. Nothing here does I/O or draws randomness except through an Rng it is handed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway::crypto {

using Bytes = std::span<const std::byte>;
template <std::size_t N>
using Fixed = std::span<const std::byte, N>;

// Call once before anything else (idempotent, thread-safe); every entry point below calls it too.
void init();

// ---- Ed25519 --------------------------------------------------------------------------------
inline constexpr std::size_t ed25519_public_size = 32;
inline constexpr std::size_t ed25519_seed_size = 32;
inline constexpr std::size_t ed25519_secret_size = 64;  // libsodium layout: seed || public key
inline constexpr std::size_t ed25519_signature_size = 64;

using Ed25519Public = std::array<std::byte, ed25519_public_size>;
using Ed25519Signature = std::array<std::byte, ed25519_signature_size>;

struct Ed25519KeyPair {
    Ed25519Public public_key;
    SecretBytes<ed25519_secret_size> secret_key;
};

[[nodiscard]] Ed25519KeyPair ed25519_from_seed(Fixed<ed25519_seed_size> seed);
[[nodiscard]] Ed25519KeyPair ed25519_generate(Rng& rng);
[[nodiscard]] Ed25519Signature ed25519_sign(const SecretBytes<ed25519_secret_size>& sk, Bytes message);
// Strict verification (PROTOCOL.md 7.3): libsodium's crypto_sign_verify_detached refuses S >= L, a
// small-order or non-canonical public key, a small-order R, and (by comparing R byte for byte with the
// recomputed one) a non-canonical R.
[[nodiscard]] bool ed25519_verify(Fixed<ed25519_public_size> pk, Bytes message,
                                  Fixed<ed25519_signature_size> sig);

// The X25519 form of an Ed25519 key (RFC 7748 section 4.1's birational map, libsodium's
// crypto_sign_ed25519_pk_to_curve25519): fails with weak_public_key for a small-order, non-canonical or
// otherwise unusable public key, which no honest key is.
[[nodiscard]] Result<std::array<std::byte, 32>> ed25519_public_to_x25519(Fixed<ed25519_public_size> pk);
// X25519 between the Ed25519 secret key's scalar (libsodium's crypto_sign_ed25519_sk_to_curve25519: the
// clamped first half of SHA-512(seed), the very scalar that signs) and a peer's X25519 public value. The
// converted scalar lives on the stack for the call and is wiped. weak_public_key for an all-zero result.
[[nodiscard]] Status ed25519_x25519(std::span<std::byte, 32> shared, const SecretBytes<ed25519_secret_size>& sk,
                                    Fixed<32> peer_public);

// ---- X25519 ---------------------------------------------------------------------------------
inline constexpr std::size_t x25519_size = 32;
using X25519Public = std::array<std::byte, x25519_size>;

struct X25519KeyPair {
    X25519Public public_key;
    SecretBytes<x25519_size> secret_key;
};

[[nodiscard]] X25519KeyPair x25519_generate(Rng& rng);
[[nodiscard]] X25519KeyPair x25519_from_secret(SecretBytes<x25519_size> sk);
// Fails with errc::weak_public_key when the shared secret is all zero (a small-order peer share).
[[nodiscard]] Result<SecretBytes<x25519_size>> x25519(const SecretBytes<x25519_size>& sk,
                                                      Fixed<x25519_size> peer_public);
// The same two operations writing into caller-owned secret memory, so that a protocol can keep all its
// intermediate secrets in one secure allocation (each SecretBytes is its own guarded, locked mapping).
[[nodiscard]] X25519Public x25519_public(Fixed<x25519_size> sk);
[[nodiscard]] Status x25519(std::span<std::byte, x25519_size> shared, Fixed<x25519_size> sk,
                            Fixed<x25519_size> peer_public);

// ---- Hashes, MACs, KDF ------------------------------------------------------------------------
using Sha256Digest = std::array<std::byte, 32>;
using Sha512Digest = std::array<std::byte, 64>;

[[nodiscard]] Sha256Digest sha256(Bytes message);
[[nodiscard]] Sha512Digest sha512(Bytes message);
// SHA-1, only for the formats that still name keys by it (OpenSSH KRLs): from Nettle (sha1.cpp), as
// libsodium has none. Never for anything that needs collision resistance.
using Sha1Digest = std::array<std::byte, 20>;
[[nodiscard]] Sha1Digest sha1(Bytes message);
// HMAC-SHA1 (RFC 2104), only for hashed known_hosts names (OpenSSH's `|1|salt|hash`: the salt is the key,
// the host name the message): from Nettle, as sha1.
[[nodiscard]] Sha1Digest hmac_sha1(Bytes key, Bytes message);

// Incremental SHA-512 whose state can be copied, for running transcript hashes: digest() finalises a
// copy, so the running hash can go on.
class Sha512 {
public:
    Sha512();
    void update(Bytes data);
    [[nodiscard]] Sha512Digest digest() const;

private:
    alignas(16) std::array<std::byte, 256> state_;  // holds crypto_hash_sha512_state (checked in .cpp)
};

[[nodiscard]] SecretBytes<64> hmac_sha512(Bytes key, Bytes message);
// HKDF (RFC 5869) with HMAC-SHA-512.
[[nodiscard]] SecretBytes<64> hkdf_sha512_extract(Bytes salt, Bytes ikm);
// Fills out (at most 255*64 bytes) from prk and info.
void hkdf_sha512_expand(Fixed<64> prk, Bytes info, std::span<std::byte> out);

// An HMAC-SHA-512 key with its padded inner and outer hash states computed once, for a secret that
// keys several HMACs in a row (a key schedule expands one secret into several outputs). Half of an
// HMAC of a short message is this key setup. The state is as secret as the key: it lives where the
// object lives (on the stack for the key schedule, like libsodium's own state) and is wiped when
// the object dies; it cannot be copied.
class HmacSha512Key {
public:
    explicit HmacSha512Key(Bytes key);
    ~HmacSha512Key();
    HmacSha512Key(const HmacSha512Key&) = delete;
    HmacSha512Key& operator=(const HmacSha512Key&) = delete;

    // HKDF-Expand (RFC 5869) with this key as the PRK; the same bytes as hkdf_sha512_expand above.
    void hkdf_expand(Bytes info, std::span<std::byte> out) const;

    // crypto_auth_hmacsha512_state (416 bytes), kept opaque so that sodium.h stays out of headers.
    static constexpr std::size_t state_size = 416;

private:
    alignas(16) unsigned char state_[state_size];
};
// Into caller-owned (secret) memory, for the same reason as x25519 above.
void hmac_sha512(std::span<std::byte, 64> out, Bytes key, Bytes message);
void hkdf_sha512_extract(std::span<std::byte, 64> prk, Bytes salt, Bytes ikm);

// HKDF (RFC 5869) with HMAC-SHA-256: the same code as the SHA-512 functions above (crypto.cpp writes
// HKDF once over the HMAC), here so that RFC 5869's vectors, which are for SHA-256, test that code.
void hkdf_sha256_extract(std::span<std::byte, 32> prk, Bytes salt, Bytes ikm);
void hkdf_sha256_expand(Fixed<32> prk, Bytes info, std::span<std::byte> out);

// SHA-512 of the concatenation of parts, into caller-owned (secret) memory; the hash state is wiped.
void sha512(std::span<std::byte, 64> out, std::initializer_list<Bytes> parts);

// Keyed or unkeyed BLAKE2b with an output of 16..64 bytes (key may be empty, at most 64 bytes).
void blake2b(std::span<std::byte> out, Bytes message, Bytes key = {});

// ---- ristretto255 (RFC 9496), for OPAQUE (lib/src/opaque) ----------------------------------------
inline constexpr std::size_t ristretto255_element_size = 32;
inline constexpr std::size_t ristretto255_scalar_size = 32;
inline constexpr std::size_t ristretto255_hash_size = 64;

// A canonical encoding of a group element (the identity's, 32 zero bytes, included: callers that
// must refuse the identity check for it).
[[nodiscard]] bool ristretto255_is_valid_point(Fixed<ristretto255_element_size> p) noexcept;
// RFC 9380's hash_to_ristretto255 map on 64 uniform bytes (libsodium's crypto_core_ristretto255_from_hash).
void ristretto255_from_hash(std::span<std::byte, ristretto255_element_size> p, Fixed<ristretto255_hash_size> h);
// A 64-byte little-endian integer reduced modulo the group order.
void ristretto255_scalar_reduce(std::span<std::byte, ristretto255_scalar_size> s, Fixed<ristretto255_hash_size> wide);
// invalid_argument for the zero scalar.
[[nodiscard]] Status ristretto255_scalar_invert(std::span<std::byte, ristretto255_scalar_size> r,
                                                Fixed<ristretto255_scalar_size> s);
// q = n * p for a reduced scalar n. weak_public_key (q wiped) when p is not a valid encoding or the
// result is the identity (n = 0, or p the identity).
[[nodiscard]] Status ristretto255_scalarmult(std::span<std::byte, ristretto255_element_size> q,
                                             Fixed<ristretto255_scalar_size> n, Fixed<ristretto255_element_size> p);
// q = n * generator; invalid_argument for n = 0.
[[nodiscard]] Status ristretto255_scalarmult_base(std::span<std::byte, ristretto255_element_size> q,
                                                  Fixed<ristretto255_scalar_size> n);

// ---- AEAD -------------------------------------------------------------------------------------
inline constexpr std::size_t aead_key_size = 32;
inline constexpr std::size_t aead_tag_size = 16;
inline constexpr std::size_t chacha_nonce_size = 12;   // ChaCha20-Poly1305 (IETF)
inline constexpr std::size_t xchacha_nonce_size = 24;  // XChaCha20-Poly1305 (IETF)

// out.size() must be plaintext.size() + 16. out may alias plaintext exactly (in place).
void chacha20poly1305_seal(std::span<std::byte> out, Bytes plaintext, Bytes ad,
                           Fixed<chacha_nonce_size> nonce, Fixed<aead_key_size> key);
// out.size() must be ciphertext.size() - 16. Returns false (out wiped) when authentication fails.
[[nodiscard]] bool chacha20poly1305_open(std::span<std::byte> out, Bytes ciphertext, Bytes ad,
                                         Fixed<chacha_nonce_size> nonce, Fixed<aead_key_size> key);

void xchacha20poly1305_seal(std::span<std::byte> out, Bytes plaintext, Bytes ad,
                            Fixed<xchacha_nonce_size> nonce, Fixed<aead_key_size> key);
[[nodiscard]] bool xchacha20poly1305_open(std::span<std::byte> out, Bytes ciphertext, Bytes ad,
                                          Fixed<xchacha_nonce_size> nonce, Fixed<aead_key_size> key);

// AES-256-GCM, only where the CPU has AES-NI and PCLMUL (libsodium's own rule).
[[nodiscard]] bool aes256gcm_available();
void aes256gcm_seal(std::span<std::byte> out, Bytes plaintext, Bytes ad, Fixed<chacha_nonce_size> nonce,
                    Fixed<aead_key_size> key);
[[nodiscard]] bool aes256gcm_open(std::span<std::byte> out, Bytes ciphertext, Bytes ad,
                                  Fixed<chacha_nonce_size> nonce, Fixed<aead_key_size> key);

// ---- Password hashing -------------------------------------------------------------------------
inline constexpr std::size_t argon2id_salt_size = 16;
struct Argon2idParams {
    std::uint64_t opslimit;
    std::uint64_t memlimit;  // bytes
};
// libsodium's "moderate" interactive-ish defaults for key files.
[[nodiscard]] Argon2idParams argon2id_default_params();
[[nodiscard]] bool argon2id_params_acceptable(const Argon2idParams& p);  // within libsodium's bounds and our caps
// Fails with invalid_argument if the parameters are out of range, internal if libsodium runs out of memory.
[[nodiscard]] Status argon2id(std::span<std::byte> out, Bytes passphrase,
                              Fixed<argon2id_salt_size> salt, const Argon2idParams& params);

// ---- Encoding and comparison ------------------------------------------------------------------
[[nodiscard]] std::string base64_encode(Bytes data, bool padded = true);
// Strict: only the standard alphabet, padding exactly as requested, no whitespace, nothing trailing.
[[nodiscard]] Result<std::vector<std::byte>> base64_decode(std::string_view text, bool padded = true);
[[nodiscard]] std::string hex_encode(Bytes data);

// Constant time for equal sizes; different sizes compare unequal (sizes are not secret).
[[nodiscard]] bool ct_equal(Bytes a, Bytes b) noexcept;
[[nodiscard]] bool is_zero(Bytes a) noexcept;  // constant time
void wipe(std::span<std::byte> data) noexcept;

template <std::size_t N>
[[nodiscard]] std::array<std::byte, N> random_array(Rng& rng) {
    std::array<std::byte, N> a{};
    rng.fill(a);
    return a;
}

}  // namespace twoway::crypto
