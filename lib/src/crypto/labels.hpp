// Protocol-wide key derivation with domain separation, shared by the handshake and the record layer.
// expand_label is HKDF-Expand (SHA-512) over the info string
//   u16 out_len | u8 len | "twoway v1 " + label | u8 len | context
// (the TLS 1.3 HkdfLabel shape with our own prefix), so every derived key carries its own label and no
// two derivations in the protocol can share an input. docs/PROTOCOL.md specifies it byte for byte.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "crypto/crypto.hpp"

namespace twoway::crypto {

inline constexpr std::string_view label_prefix = "twoway v1 ";

// The signed contexts beside the handshake's ("twoway v1 server sig" / "client sig", key_schedule.hpp):
// each is followed by 0x00 and a SHA-512 output, so no payload of one is a payload of another
// (docs/PROTOCOL.md 6.5 and 11). The host key proof of the session's HOSTKEYS message (15):
inline constexpr std::string_view host_key_proof_context = "twoway v1 host key proof";

// secret: a 64-byte PRK; label: at most 245 bytes; context: at most 255 bytes; out: at most 255*64 bytes.
void expand_label(std::span<const std::byte, 64> secret, std::string_view label, std::span<const std::byte> context,
                  std::span<std::byte> out);

// expand_label for several outputs of one secret: the HMAC key setup is done once (byte-identical
// results; the keyed state is wiped with the object).
class LabelExpander {
public:
    explicit LabelExpander(std::span<const std::byte, 64> secret) : key_(secret) {}
    void operator()(std::string_view label, std::span<const std::byte> context, std::span<std::byte> out) const;

private:
    crypto::HmacSha512Key key_;
};

}  // namespace twoway::crypto
