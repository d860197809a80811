#include "opaque/group.hpp"

#include <algorithm>
#include <cstdlib>

#include "crypto/crypto.hpp"

namespace twoway::opaque {

void expand_message_xmd_sha512(std::span<std::byte> out, Bytes msg, Bytes dst) {
    constexpr std::size_t b_in_bytes = 64;   // SHA-512 output
    constexpr std::size_t s_in_bytes = 128;  // SHA-512 input block
    const std::size_t len = out.size();
    const std::size_t ell = (len + b_in_bytes - 1) / b_in_bytes;
    // RFC 9380 5.3.1 step 2's abort conditions, and a DST the caller must have hashed (5.3.3) if longer.
    if (len == 0 || ell > 255 || len > 65535 || dst.empty() || dst.size() > 255) std::abort();

    const std::array<std::byte, s_in_bytes> z_pad{};
    const std::array<std::byte, 2> l_i_b_str{std::byte(len >> 8), std::byte(len & 0xff)};
    const std::array<std::byte, 1> zero{std::byte{0}};
    const std::array<std::byte, 1> dst_len{std::byte(dst.size())};

    // b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime), DST_prime = DST || I2OSP(len(DST), 1)
    SecretBytes<b_in_bytes> b0;
    crypto::sha512(b0.span(), {z_pad, msg, l_i_b_str, zero, dst, dst_len});
    // b_1 = H(b_0 || I2OSP(1, 1) || DST_prime); b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime)
    SecretBytes<b_in_bytes> bi;
    SecretBytes<b_in_bytes> x;
    for (std::size_t i = 1; i <= ell; ++i) {
        const std::array<std::byte, 1> ctr{std::byte(i)};
        if (i == 1) {
            crypto::sha512(bi.span(), {b0.span(), ctr, dst, dst_len});
        } else {
            for (std::size_t j = 0; j < b_in_bytes; ++j) x.data()[j] = b0.data()[j] ^ bi.data()[j];
            crypto::sha512(bi.span(), {x.span(), ctr, dst, dst_len});
        }
        const std::size_t at = (i - 1) * b_in_bytes;
        const std::size_t n = std::min(b_in_bytes, len - at);
        for (std::size_t j = 0; j < n; ++j) out[at + j] = bi.data()[j];
    }
}

void hash_to_group(std::span<std::byte, element_size> out, Bytes msg, Bytes dst) {
    SecretBytes<crypto::ristretto255_hash_size> uniform;
    expand_message_xmd_sha512(uniform.span(), msg, dst);
    crypto::ristretto255_from_hash(out, uniform.span());
}

void hash_to_scalar(std::span<std::byte, scalar_size> out, Bytes msg, Bytes dst) {
    SecretBytes<crypto::ristretto255_hash_size> uniform;
    expand_message_xmd_sha512(uniform.span(), msg, dst);
    crypto::ristretto255_scalar_reduce(out, uniform.span());
}

Status check_element(std::span<const std::byte, element_size> e) noexcept {
    if (!crypto::ristretto255_is_valid_point(e)) return errc::malformed;
    // The identity's only canonical encoding is 32 zero bytes.
    if (crypto::is_zero(e)) return errc::weak_public_key;
    return {};
}

Scalar random_scalar(Rng& rng) {
    Scalar s;
    SecretBytes<crypto::ristretto255_hash_size> wide;
    do {
        rng.fill(wide.span());
        crypto::ristretto255_scalar_reduce(s.span(), wide.span());
    } while (is_zero_scalar(s));
    return s;
}

bool is_zero_scalar(const Scalar& s) noexcept { return crypto::is_zero(s.span()); }

}  // namespace twoway::opaque
