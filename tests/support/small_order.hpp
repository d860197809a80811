// Test helper: the X25519 public values libsodium refuses (crypto_scalarmult/curve25519/ref10/
// x25519_ref10.c): 0, 1, the two points of order 8, p-1, p and p+1. X25519 ignores the top bit, so each
// also comes with it set: 14 encodings. Shared by the unit tests and the hostile-peer suite.
#pragma once

#include <cstddef>
#include <vector>

#include "hex.hpp"

namespace twoway::test {

inline std::vector<std::vector<std::byte>> x25519_small_order_points() {
    const char* const base[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    std::vector<std::vector<std::byte>> out;
    for (const char* h : base) {
        std::vector<std::byte> p = unhex(h);
        out.push_back(p);
        p[31] ^= std::byte{0x80};
        out.push_back(p);
    }
    return out;
}

}  // namespace twoway::test
