// Handshake message framing (docs/PROTOCOL.md section 3): u8 type | u24 length | body. The Deframer
// buffers received bytes and yields one complete message at a time, judging the 4-byte header against
// what the current state expects (type, then the per-type length bounds) before it waits for a body,
// so an oversize length costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <twoway/result.hpp>

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway::handshake {

enum class Role { client, server };

enum class MsgType : std::uint8_t {
    client_hello = 1,    // C->S clear
    server_hello = 2,    // S->C clear
    server_auth = 3,     // S->C encrypted (server handshake key, seq 0)
    client_auth = 4,     // C->S encrypted (client handshake key, seq 0)
    server_verdict = 5,  // S->C encrypted (server handshake key, seq 1; seq 2 in password mode)
    // Password mode (PROTOCOL.md 4.8), in place of client_auth:
    client_password = 6,         // C->S encrypted (client handshake key, seq 0)
    server_password = 7,         // S->C encrypted (server handshake key, seq 1)
    client_password_finish = 8,  // C->S encrypted (client handshake key, seq 1)
};

inline constexpr std::size_t header_size = 4;
inline constexpr std::size_t aead_tag_size = 16;

// Field caps (plaintext), shared by the parsers and the length bounds below.
inline constexpr std::size_t max_versions = 16;
inline constexpr std::size_t max_suites = 32;
inline constexpr std::size_t max_shares = 4;
inline constexpr std::size_t max_share_size = 1216;  // room for an X-Wing encapsulation key
inline constexpr std::size_t max_extensions_size = 2048;
inline constexpr std::size_t max_identity_size = 8192;  // an OpenSSH certificate (max_certificate_size)
inline constexpr std::size_t max_signature_size = 1024;
inline constexpr std::size_t max_account_size = 256;
inline constexpr std::size_t finished_size = 64;
// Password mode's fixed parts (OPAQUE-3DH ristretto255-SHA512, RFC 9807): KE1 96, KE2 320, KE3 64 bytes,
// and server_password's KSF header (u8 ksf, u32 ops, u32 mem_kib).
inline constexpr std::size_t ke1_wire_size = 96;
inline constexpr std::size_t ke2_wire_size = 320;
inline constexpr std::size_t ke3_wire_size = 64;
inline constexpr std::size_t ksf_header_size = 9;

struct BodyBounds {
    std::size_t min;
    std::size_t max;
};
// Body length bounds per type; for encrypted messages the body is the AEAD ciphertext (tag included).
[[nodiscard]] BodyBounds body_bounds(MsgType t) noexcept;

// True when t is a message type that role `r` sends (so receiving it means it was reflected).
[[nodiscard]] bool sent_by(MsgType t, Role r) noexcept;
[[nodiscard]] bool sent_by(std::uint8_t type, Role r) noexcept;

// The 4 header bytes for a body of body_size bytes (which must be within the bounds).
[[nodiscard]] std::array<std::byte, header_size> make_header(MsgType t, std::size_t body_size);

struct Frame {
    wire::Bytes header;  // the 4 header bytes (AEAD additional data for encrypted messages)
    wire::Bytes body;
    wire::Bytes whole;   // header + body, as hashed into the transcript for clear messages
};

class Deframer {
public:
    void append(wire::Bytes bytes);
    // The next complete message if it is of type `expected`; nullopt while it is incomplete. A header
    // that is not acceptable fails at once: a wrong type byte as soon as it has arrived, alone,
    // with reflected_message (a type `self` sends) or unexpected_message (any other); then, once the
    // length is complete, length_too_large / malformed (length outside the bounds for the type).
    // The returned spans stay valid until consume() or append().
    [[nodiscard]] Result<std::optional<Frame>> next(MsgType expected, Role self) const;
    // Drops the message returned by next().
    void consume(const Frame& f);
    [[nodiscard]] bool empty() const noexcept { return pos_ == buf_.size(); }
    // The type byte of the next message, once it has arrived (a state that takes one of two types).
    [[nodiscard]] std::optional<std::uint8_t> peek_type() const noexcept {
        if (empty()) return std::nullopt;
        return static_cast<std::uint8_t>(buf_[pos_]);
    }
    // Everything not consumed yet (for the channel), leaving the deframer empty.
    [[nodiscard]] std::vector<std::byte> take_rest();

private:
    std::vector<std::byte> buf_;
    std::size_t pos_ = 0;
};

}  // namespace twoway::handshake
