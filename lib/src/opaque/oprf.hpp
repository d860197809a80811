// OPRF(ristretto255, SHA-512) in the base mode (modeOPRF = 0x00, not VOPRF or POPRF) of RFC 9497:
// Blind, BlindEvaluate, Finalize and DeriveKeyPair, which is what OPAQUE (RFC 9807) uses. The
// contextString, and with it every DST below, is RFC 9497's: these labels are the domain separation and
// must stay byte for byte as the RFC has them, or no other implementation (nor the RFC's vectors) agrees.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "opaque/group.hpp"

namespace twoway::opaque::oprf {

// contextString = "OPRFV1-" || I2OSP(modeOPRF, 1) || "-" || "ristretto255-SHA512" (RFC 9497 3.1).
inline constexpr std::string_view context_string{"OPRFV1-\0-ristretto255-SHA512", 28};

inline constexpr std::size_t output_size = 64;  // Nh, SHA-512
inline constexpr std::size_t seed_size = 32;    // Ns
inline constexpr std::size_t max_input_size = 65535;

struct KeyPair {
    Scalar sk;
    Element pk;
};

// RFC 9497 3.2.1 DeriveKeyPair(seed, info): sk = HashToScalar(seed || I2OSP(len(info), 2) || info ||
// I2OSP(counter, 1), DST = "DeriveKeyPair" || contextString), the first non-zero one. info is at most
// 65535 bytes (invalid_argument); errc::internal for the DeriveKeyPairError of 256 zero scalars in a row.
[[nodiscard]] Result<KeyPair> derive_key_pair(std::span<const std::byte, seed_size> seed, Bytes info);

// Blind with the blind given (RandomScalar's output: random_scalar(), or a test vector's): returns
// blindedElement = blind * HashToGroup(input). invalid_argument for an input above 65535 bytes, for a
// zero blind, and for the InvalidInputError of an input that hashes to the identity.
[[nodiscard]] Result<Element> blind(Bytes input, const Scalar& blind);

// BlindEvaluate: sk * blindedElement. The element is checked first (check_element's errors).
[[nodiscard]] Result<Element> blind_evaluate(const Scalar& sk, std::span<const std::byte, element_size> blinded);

// Finalize: Hash(I2OSP(len(input), 2) || input || I2OSP(32, 2) || (blind^-1 * evaluatedElement) ||
// "Finalize") into out (secret memory). The element is checked first (check_element's errors).
[[nodiscard]] Status finalize(std::span<std::byte, output_size> out, Bytes input, const Scalar& blind,
                              std::span<const std::byte, element_size> evaluated);

}  // namespace twoway::opaque::oprf
