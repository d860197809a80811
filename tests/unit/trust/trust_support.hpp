// Test keys and key lines for the trust-file tests: real Ed25519 keys from fixed seeds.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <twoway/key.hpp>

#include "crypto/crypto.hpp"

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

// "ssh-ed25519-cert-v01@openssh.com AAAA... comment": an OpenSSH certificate for test key n, as far as
// the trust readers look into one (type, nonce, the certified key; the rest of the fields are filler,
// since no reader checks a certificate's signature yet). With truncated, the blob ends before the key.
inline std::string cert_text(int n, const std::string& comment = {}, bool truncated = false) {
    constexpr std::string_view type = "ssh-ed25519-cert-v01@openssh.com";
    std::vector<std::byte> blob;
    auto put_string = [&blob](std::span<const std::byte> s) {
        const auto len = static_cast<std::uint32_t>(s.size());
        for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<std::byte>(len >> shift));
        blob.insert(blob.end(), s.begin(), s.end());
    };
    put_string(std::as_bytes(std::span(type)));
    const std::array<std::byte, 32> nonce{std::byte{7}};
    put_string(nonce);
    if (!truncated) {
        put_string(test_key(n).raw());
        const std::array<std::byte, 8> serial{};
        put_string(serial);
    }
    return std::string(type) + " " + crypto::base64_encode(blob) + (comment.empty() ? "" : " " + comment);
}

}  // namespace twoway::test
