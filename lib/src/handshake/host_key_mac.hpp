// Stealth mode's proof in client_hello (PROTOCOL.md 4.1.1): the extension host_key_mac, a MAC over the
// message keyed by the server's public key, which a server in stealth mode requires before it answers
// anything. It proves only that the client knows the public key (as WireGuard's mac1 does), so that a
// scanner that does not cannot tell the port runs twoway.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <twoway/key.hpp>

namespace twoway::handshake {

inline constexpr std::uint16_t ext_host_key_mac = 0x0002;
inline constexpr std::size_t host_key_mac_size = 16;

using HostKeyMacKey = std::array<std::byte, 32>;

// expand_label(SHA-512(identity blob), "host key mac", "", 32): public knowledge, not a secret.
[[nodiscard]] HostKeyMacKey host_key_mac_key(const PublicKey& server);

// Fills the last host_key_mac_size bytes of `message` (a whole client_hello whose last extension is
// host_key_mac with 16 placeholder bytes) with the MAC over everything before them.
void seal_host_key_mac(std::span<std::byte> message, const HostKeyMacKey& key);

// True if `message` (a whole, well-formed client_hello) ends with a host_key_mac extension that is the
// last one and whose MAC, computed with `key`, matches (compared in constant time).
[[nodiscard]] bool check_host_key_mac(std::span<const std::byte> message, const HostKeyMacKey& key);

}  // namespace twoway::handshake
