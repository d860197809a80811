// The prime-order group of OPAQUE's ristretto255-SHA512 configuration, as RFC 9497 (OPRF) section 4.1
// defines it: elements are ristretto255 encodings (RFC 9496), HashToGroup and HashToScalar go through
// RFC 9380's expand_message_xmd with SHA-512. Every primitive is libsodium's (crypto/crypto.hpp); this
// file only composes them as the RFCs say.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway::opaque {

using Bytes = std::span<const std::byte>;

inline constexpr std::size_t element_size = 32;  // Noe = Npk = 32
inline constexpr std::size_t scalar_size = 32;   // Ns = Nsk = 32
using Element = std::array<std::byte, element_size>;
using Scalar = SecretBytes<scalar_size>;  // every scalar of the protocol is a secret

// RFC 9380 5.3.1 expand_message_xmd with H = SHA-512 (b_in_bytes 64, s_in_bytes 128): out.size() is
// len_in_bytes (1..255*64, and at most 65535), dst is 1..255 bytes. Sizes are the caller's choice, not
// input: a wrong one aborts. msg may be a secret (the password): the intermediate blocks live in secure
// memory and are wiped.
void expand_message_xmd_sha512(std::span<std::byte> out, Bytes msg, Bytes dst);

// RFC 9497 4.1 (ristretto255-SHA512): HashToGroup is hash_to_ristretto255 (64 bytes of
// expand_message_xmd mapped by crypto_core_ristretto255_from_hash); HashToScalar reduces 64 bytes of
// expand_message_xmd modulo the group order. The DST is the caller's ("HashToGroup-" || contextString ...).
void hash_to_group(std::span<std::byte, element_size> out, Bytes msg, Bytes dst);
void hash_to_scalar(std::span<std::byte, scalar_size> out, Bytes msg, Bytes dst);

// RFC 9497 DeserializeElement's checks on an element received from a peer (or read from a file): a
// canonical ristretto255 encoding (errc::malformed otherwise) and not the identity
// (errc::weak_public_key).
[[nodiscard]] Status check_element(std::span<const std::byte, element_size> e) noexcept;

// RandomScalar: 64 bytes from rng reduced modulo the order (bias below 2^-250), never zero.
[[nodiscard]] Scalar random_scalar(Rng& rng);

// True when the scalar is zero (constant time).
[[nodiscard]] bool is_zero_scalar(const Scalar& s) noexcept;

}  // namespace twoway::opaque
