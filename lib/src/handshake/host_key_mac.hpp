// Stealth mode's proof in client_hello (PROTOCOL.md 4.1.1): the extension host_key_mac, a MAC over the
// message under a key that only the client (from its ephemeral X25519 secret and the server's public
// key) and the server (from its private key and the client's share) can compute. A server in stealth
// mode answers nothing without it; a passive observer, even one holding every candidate host key, cannot
// check it. A client that knows no key for the server sends 16 random bytes instead, so that first
// contact and a known host look alike on the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <twoway/key.hpp>
#include <twoway/result.hpp>

#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"

namespace twoway::handshake {

inline constexpr std::uint16_t ext_host_key_mac = 0x0002;
// host_keys (PROTOCOL.md 4.1.2): empty; the client accepts the session's HOSTKEYS message. Before
// host_key_mac, which stays last.
inline constexpr std::uint16_t ext_host_keys = 0x0003;
inline constexpr std::size_t host_key_mac_size = 16;

using HostKeyMac = std::array<std::byte, host_key_mac_size>;

// The MAC from the ephemeral-static X25519 result in s.shared:
//   stealth_secret   = HKDF-Extract(64 zero bytes, shared)
//   host_key_mac_key = expand_label(stealth_secret, "host key mac", SHA-512(server identity blob), 32)
//   host_key_mac     = HMAC-SHA-512(host_key_mac_key, covered)[0..16]
// The intermediates pass through s.scratch and s.exporter (both unused at client_hello time); s.shared,
// s.scratch and s.exporter are wiped on return.
[[nodiscard]] HostKeyMac host_key_mac(Secrets& s, const PublicKey& server, std::span<const std::byte> covered);

// Client: fills the last host_key_mac_size bytes of `message` (a whole client_hello whose last extension
// is host_key_mac with placeholder bytes) with the proof for `server`, from the client's X25519 secret
// in s.ephemeral. Fails (message unchanged) when the server key has no usable X25519 form or the
// agreement is all zero: the caller then sends random bytes, as for an unknown host.
[[nodiscard]] Status seal_host_key_mac(std::span<std::byte> message, const PublicKey& server, Secrets& s);

// Server: true if `message` (a whole client_hello, parsed as `hello`) ends with a host_key_mac
// extension that is the last one, 16 bytes long, and whose MAC matches the one computed from the
// client's X25519 share and the host key (compared in constant time). Uses s as host_key_mac does.
[[nodiscard]] bool check_host_key_mac(std::span<const std::byte> message, const ClientHello& hello,
                                      const PrivateKey& host_key, Secrets& s);

}  // namespace twoway::handshake
