// Test keys and key lines for the trust-file tests: real Ed25519 keys from fixed seeds.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include <twoway/key.hpp>
#include <twoway/keys.hpp>

namespace twoway::test {

inline PublicKey test_key(int n) {
    std::array<std::byte, 32> seed{};
    seed.fill(static_cast<std::byte>(n));
    return PrivateKey::from_seed(seed).public_key();
}

// "ssh-ed25519 AAAA... comment"
inline std::string key_text(int n, const std::string& comment = {}) {
    return format_public_key_line(test_key(n), comment);
}

}  // namespace twoway::test
