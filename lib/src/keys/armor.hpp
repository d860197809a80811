// PEM-like armor shared by twoway's and OpenSSH's private key files:
//   -----BEGIN <LABEL>-----\n  base64 lines  -----END <LABEL>-----\n
// The decoded bytes may hold a private key in the clear, so they come back in secure memory.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway::keys {

inline constexpr std::string_view twoway_armor_label = "TWOWAY PRIVATE KEY";
inline constexpr std::string_view openssh_armor_label = "OPENSSH PRIVATE KEY";

// True when text starts with the BEGIN line of label (the format test; nothing else is checked).
[[nodiscard]] bool has_armor(std::string_view text, std::string_view label);

// The bytes inside the armor. The BEGIN line must open the text; lines end in "\n" or "\r\n"; the
// body is non-empty lines of strict (padded) base64; after the END line only line breaks may follow.
// Errors: bad_key_format (no armor of that label), malformed (bad lines or base64), length_too_large
// (more than max_bytes would result).
[[nodiscard]] Result<SecretBuffer> unarmor(std::string_view text, std::string_view label, std::size_t max_bytes);

// Armors data in lines of 70 base64 characters, as ssh-keygen does; ends with a newline.
[[nodiscard]] std::string armor(std::span<const std::byte> data, std::string_view label);

}  // namespace twoway::keys
