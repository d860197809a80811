// The two private key file formats behind twoway/key_file.hpp, each in its own file; private_key.cpp
// tells them apart by their armor.
#pragma once

#include <string_view>

#include <twoway/key_file.hpp>

#include "wire/reader.hpp"

namespace twoway::keys {

// Caps on what we read: whole files, and the binary inside the armor.
inline constexpr std::size_t max_key_file_text = 64 * 1024;
inline constexpr std::size_t max_key_file_binary = 16 * 1024;

// twoway_key_file.cpp: "-----BEGIN TWOWAY PRIVATE KEY-----".
[[nodiscard]] Result<KeyFileInfo> inspect_twoway_key(std::string_view text);
[[nodiscard]] Result<DecodedPrivateKey> decode_twoway_key(std::string_view text, std::string_view passphrase,
                                                          const KdfLimits& limits);

// openssh_key_file.cpp: "-----BEGIN OPENSSH PRIVATE KEY-----" (openssh-key-v1).
[[nodiscard]] Result<KeyFileInfo> inspect_openssh_key(std::string_view text);
[[nodiscard]] Result<DecodedPrivateKey> decode_openssh_key(std::string_view text);

}  // namespace twoway::keys
