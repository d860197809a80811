// OPRF(ristretto255, SHA-512), mode OPRF: RFC 9497 Appendix A.1.1's two vectors, and the refusals.
#include <catch2/catch.hpp>

#include <array>

#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"
#include "opaque/oprf.hpp"

using namespace twoway;
using namespace twoway::opaque;
using twoway::test::hex;
using twoway::test::unhex;

namespace {

template <std::size_t N>
std::array<std::byte, N> arr(std::string_view h) {
    auto v = unhex(h);
    REQUIRE(v.size() == N);
    std::array<std::byte, N> a{};
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

Scalar scalar(std::string_view h) { return Scalar(std::span<const std::byte, 32>(arr<32>(h))); }

// RFC 9497 A.1.1 (ristretto255-SHA512, OPRF mode): the server key from Seed and KeyInfo.
constexpr std::string_view seed = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
constexpr std::string_view key_info = "74657374206b6579";
constexpr std::string_view sk_sm = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";
constexpr std::string_view blind_hex = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706";

struct Vector {
    std::string_view input, blinded_element, evaluation_element, output;
};
constexpr Vector vectors[] = {
    {"00", "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
     "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
     "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9"
     "ee8aa7d0b5e24bcf6"},
    {"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
     "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
     "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621"
     "306d18951e7cf2c73"},
};

}  // namespace

TEST_CASE("OPRF context string is RFC 9497's", "[opaque]") {
    CHECK(hex(std::span(reinterpret_cast<const std::byte*>(oprf::context_string.data()), oprf::context_string.size())) ==
          hex(twoway::test::bytes("OPRFV1-")) + "00" + hex(twoway::test::bytes("-ristretto255-SHA512")));
}

TEST_CASE("OPRF ristretto255-SHA512 matches RFC 9497 A.1.1 (DeriveKeyPair, both vectors)", "[opaque]") {
    auto kp = oprf::derive_key_pair(arr<32>(seed), unhex(key_info));
    REQUIRE(kp);
    CHECK(hex(kp->sk.span()) == sk_sm);

    for (const Vector& v : vectors) {
        INFO("input " << v.input);
        const auto input = unhex(v.input);
        const Scalar blind = scalar(blind_hex);
        auto blinded = oprf::blind(input, blind);
        REQUIRE(blinded);
        CHECK(hex(*blinded) == v.blinded_element);
        auto evaluated = oprf::blind_evaluate(kp->sk, *blinded);
        REQUIRE(evaluated);
        CHECK(hex(*evaluated) == v.evaluation_element);
        SecretBytes<64> out;
        REQUIRE(oprf::finalize(out.span(), input, blind, *evaluated));
        CHECK(hex(out.span()) == v.output);
    }
}

TEST_CASE("OPRF refuses bad elements, a zero blind and oversized inputs", "[opaque]") {
    auto kp = oprf::derive_key_pair(arr<32>(seed), unhex(key_info));
    REQUIRE(kp);
    const Element identity{};
    const auto negative = arr<32>("0100000000000000000000000000000000000000000000000000000000000000");
    CHECK(oprf::blind_evaluate(kp->sk, identity).error() == errc::weak_public_key);
    CHECK(oprf::blind_evaluate(kp->sk, negative).error() == errc::malformed);
    SecretBytes<64> out;
    const Scalar blind = scalar(blind_hex);
    CHECK(oprf::finalize(out.span(), unhex("00"), blind, identity).error() == errc::weak_public_key);
    CHECK(oprf::finalize(out.span(), unhex("00"), blind, negative).error() == errc::malformed);
    CHECK(oprf::blind(unhex("00"), Scalar()).error() == errc::invalid_argument);
    std::vector<std::byte> big(65536);
    CHECK(oprf::blind(big, blind).error() == errc::invalid_argument);
    big.pop_back();
    CHECK(oprf::blind(big, blind));
}
