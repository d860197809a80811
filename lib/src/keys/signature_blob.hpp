// SSH signature blobs for Ed25519 (RFC 8709): string "ssh-ed25519" | string sig[64]. Used by the
// handshake (PROTOCOL.md 4.7) and by certificates (the CA's signature).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <twoway/result.hpp>

#include "wire/reader.hpp"

namespace twoway::keys {

// The blob for a raw signature.
[[nodiscard]] std::vector<std::byte> ed25519_signature_blob(std::span<const std::byte, 64> sig);
// The raw signature from such a blob; anything else is malformed.
[[nodiscard]] Result<std::array<std::byte, 64>> parse_ed25519_signature_blob(wire::Bytes blob);

}  // namespace twoway::keys
