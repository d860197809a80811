// The five handshake messages (docs/PROTOCOL.md section 4): parsed from, and written to, their exact wire
// form. Parsers are total over untrusted bytes: any structural fault is errc::malformed, and parsed
// views point into the input. Semantic checks (versions, suites, keys, signatures) belong to the states.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <twoway/result.hpp>

#include "handshake/framing.hpp"
#include "keys/signature_blob.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway::handshake {

inline constexpr std::uint16_t group_x25519 = 0x0001;
inline constexpr std::uint16_t group_xwing = 0x0002;  // reserved
inline constexpr std::size_t random_size = 32;
inline constexpr std::size_t x25519_share_size = 32;

using Random = std::array<std::byte, random_size>;

// ---- client_hello (client_hello.cpp) ----------------------------------------------------------------
struct KeyShare {
    std::uint16_t group = 0;
    wire::Bytes data;
};
struct Extension {
    std::uint16_t type = 0;
    wire::Bytes data;
};
struct ClientHello {
    std::vector<std::uint16_t> versions;  // 1..16, distinct, client preference order
    std::vector<std::uint16_t> suites;    // 1..32, distinct, client preference order
    Random random{};
    std::vector<KeyShare> shares;         // 1..4, distinct groups; an X25519 share is 32 bytes
    std::vector<Extension> extensions;    // distinct types; none defined in v1
};
[[nodiscard]] Result<ClientHello> parse_client_hello(wire::Bytes body);
// The whole message, header included.
[[nodiscard]] std::vector<std::byte> write_client_hello(const ClientHello& m);

// ---- server_hello (server_hello.cpp) ----------------------------------------------------------------
struct ServerHello {
    std::uint16_t version = 0;
    std::uint16_t suite = 0;
    Random random{};
    wire::Bytes share;  // for the selected suite's key exchange
};
[[nodiscard]] Result<ServerHello> parse_server_hello(wire::Bytes body);
[[nodiscard]] std::vector<std::byte> write_server_hello(const ServerHello& m);

// ---- server_auth / client_auth plaintext (auth.cpp) -------------------------------------------------
//   server_auth: string identity | string banner | string signature | byte[64] finished
//   client_auth: string account | string identity | string signature | byte[64] finished
// The transcript absorbs the plaintext in three steps (through what the signature covers: the identity,
// and the banner or, first, the account; then through the signature; then the rest), so the parser
// reports where those steps end.
struct AuthMessage {
    std::string_view account;  // client_auth: 1..256 bytes, no control characters
    wire::Bytes identity;      // SSH public key or certificate blob
    wire::Bytes banner;        // server_auth: 0..8192 bytes, any
    wire::Bytes signature;     // SSH signature blob
    wire::Bytes finished;      // 64 bytes
    std::size_t signed_end = 0;     // offset just past the identity (server: the banner) string
    std::size_t signature_end = 0;  // offset just past the signature string
};
[[nodiscard]] Result<AuthMessage> parse_auth(wire::Bytes plaintext, Role sender);

// Writes the plaintext in the same three steps.
class AuthWriter {
public:
    // account is written only for the client, banner only for the server.
    AuthWriter(Role sender, std::string_view account, wire::Bytes identity, wire::Bytes banner);
    void signature(wire::Bytes blob);
    void finished(std::span<const std::byte, finished_size> mac);
    [[nodiscard]] wire::Bytes view() const noexcept { return w_.view(); }
    [[nodiscard]] std::vector<std::byte> take() noexcept { return w_.take(); }

private:
    wire::Writer w_;
};

// SSH signature blobs for Ed25519 (keys/signature_blob.hpp).
using keys::ed25519_signature_blob;
using keys::parse_ed25519_signature_blob;

// ---- server_verdict plaintext (auth.cpp) ------------------------------------------------------------
// retry (PROTOCOL.md 4.5): denied, and another client_auth may follow; only for a client that sent the
// auth_retry extension, in key mode. The callers judge that; the parser only reads the byte.
enum class Verdict : std::uint8_t { accepted = 0, denied = 1, retry = 2 };
// client_hello extension auth_retry (empty): the client may offer another identity after a denial.
inline constexpr std::uint16_t ext_auth_retry = 0x0005;
[[nodiscard]] Result<Verdict> parse_verdict(wire::Bytes plaintext);

// ---- password mode (password.cpp; PROTOCOL.md 4.8) -----------------------------------------------
// client_hello extension password (empty): the client answers server_auth with client_password.
inline constexpr std::uint16_t ext_password = 0x0004;
// server_password's KSF identifier: Argon2id v1.3 (libsodium crypto_pwhash); nothing else is defined.
inline constexpr std::uint8_t ksf_argon2id = 0x01;
// OPAQUE's context is this label, 0x00, then H_pw_context.
inline constexpr std::string_view opaque_context_label = "twoway v1 opaque";
// What a client accepts from a server (anything else is malformed, before the KSF runs): a hostile
// server must not make the client burn a GiB of memory or minutes of CPU.
inline constexpr std::uint32_t max_password_ops = 16;
inline constexpr std::uint32_t max_password_mem_kib = 1U << 20;  // 1 GiB

//   client_password:        string account | byte[96] KE1
//   server_password:        u8 ksf | u32 ops | u32 mem_kib | byte[320] KE2
//   client_password_finish: byte[64] KE3 | byte[64] finished
struct ClientPassword {
    std::string_view account;  // 1..256 bytes, no control characters
    wire::Bytes ke1;           // 96 bytes, not parsed here (opaque::parse_ke1 checks its elements)
    std::size_t account_end = 0;  // offset just past the account string (the H_pw_context checkpoint)
};
[[nodiscard]] Result<ClientPassword> parse_client_password(wire::Bytes plaintext);
[[nodiscard]] std::vector<std::byte> write_client_password(std::string_view account, wire::Bytes ke1);

struct ServerPassword {
    std::uint8_t ksf = 0;
    std::uint32_t ops = 0;
    std::uint32_t mem_kib = 0;
    wire::Bytes ke2;  // 320 bytes
};
// The structure and the KSF: ksf must be Argon2id and (ops, mem_kib) within libsodium's minimums and
// the limits above, or errc::malformed.
[[nodiscard]] Result<ServerPassword> parse_server_password(wire::Bytes plaintext);
[[nodiscard]] std::vector<std::byte> write_server_password(std::uint32_t ops, std::uint32_t mem_kib, wire::Bytes ke2);
// True when (ops, mem_kib) is within what parse_server_password accepts.
[[nodiscard]] bool password_ksf_acceptable(std::uint32_t ops, std::uint32_t mem_kib) noexcept;

struct ClientPasswordFinish {
    wire::Bytes ke3;       // 64 bytes
    wire::Bytes finished;  // 64 bytes
};
[[nodiscard]] Result<ClientPasswordFinish> parse_client_password_finish(wire::Bytes plaintext);

}  // namespace twoway::handshake
