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
enum class Verdict : std::uint8_t { accepted = 0, denied = 1 };
[[nodiscard]] Result<Verdict> parse_verdict(wire::Bytes plaintext);

}  // namespace twoway::handshake
