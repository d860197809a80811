#include "opaque/oprf.hpp"

#include <array>
#include <string>

#include "crypto/crypto.hpp"
#include "wire/reader.hpp"

namespace twoway::opaque::oprf {

namespace {

std::string dst(std::string_view prefix) {
    std::string d(prefix);
    d.append(context_string);
    return d;
}

std::array<std::byte, 2> be16(std::size_t n) { return {std::byte((n >> 8) & 0xff), std::byte(n & 0xff)}; }

}  // namespace

Result<KeyPair> derive_key_pair(std::span<const std::byte, seed_size> seed, Bytes info) {
    if (info.size() > max_input_size) return errc::invalid_argument;
    static const std::string derive_dst = dst("DeriveKeyPair");
    // deriveInput || I2OSP(counter, 1), in secure memory: the seed is the key.
    SecretBuffer input(seed.size() + 2 + info.size() + 1);
    std::byte* p = input.data();
    for (std::byte b : seed) *p++ = b;
    for (std::byte b : be16(info.size())) *p++ = b;
    for (std::byte b : info) *p++ = b;
    KeyPair kp{Scalar(), Element{}};
    for (unsigned counter = 0; counter <= 255; ++counter) {
        *p = std::byte(counter);
        hash_to_scalar(kp.sk.span(), input.span(), wire::as_bytes(derive_dst));
        if (!is_zero_scalar(kp.sk)) {
            if (auto s = crypto::ristretto255_scalarmult_base(kp.pk, kp.sk.span()); !s) return fail(s.error());
            return kp;
        }
    }
    return errc::internal;
}

Result<Element> blind(Bytes input, const Scalar& blind) {
    if (input.size() > max_input_size || is_zero_scalar(blind)) return errc::invalid_argument;
    static const std::string group_dst = dst("HashToGroup-");
    // HashToGroup(password) is as good as the password to an attacker who sees it: secure memory.
    SecretBytes<element_size> input_element;
    hash_to_group(input_element.span(), input, wire::as_bytes(group_dst));
    if (crypto::is_zero(input_element.span())) return errc::invalid_argument;  // InvalidInputError
    Element blinded{};
    if (auto s = crypto::ristretto255_scalarmult(blinded, blind.span(), input_element.span()); !s) {
        return errc::invalid_argument;
    }
    return blinded;
}

Result<Element> blind_evaluate(const Scalar& sk, std::span<const std::byte, element_size> blinded) {
    if (auto s = check_element(blinded); !s) return fail(s.error());
    Element evaluated{};
    if (auto s = crypto::ristretto255_scalarmult(evaluated, sk.span(), blinded); !s) return fail(s.error());
    return evaluated;
}

Status finalize(std::span<std::byte, output_size> out, Bytes input, const Scalar& blind,
                std::span<const std::byte, element_size> evaluated) {
    if (input.size() > max_input_size) return errc::invalid_argument;
    if (auto s = check_element(evaluated); !s) return s;
    Scalar inverse;
    if (auto s = crypto::ristretto255_scalar_invert(inverse.span(), blind.span()); !s) return s;
    SecretBytes<element_size> unblinded;
    if (auto s = crypto::ristretto255_scalarmult(unblinded.span(), inverse.span(), evaluated); !s) return s;
    static constexpr std::string_view finalize_label = "Finalize";
    crypto::sha512(out, {be16(input.size()), input, be16(element_size), unblinded.span(),
                         wire::as_bytes(finalize_label)});
    return {};
}

}  // namespace twoway::opaque::oprf
