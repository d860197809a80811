// The transcript hash and the key schedule (docs/PROTOCOL.md sections 5 and 6).
//
// All of one handshake's secrets live in one secure block (SecretBlock): every SecretBytes is its own
// guarded, locked mapping, which costs several system calls, so a handshake that gave each intermediate
// its own would spend more on mappings than on its public-key operations. Intermediates are wiped as
// soon as they have served; at the end only the exporter secret is left and the block moves into the
// HandshakeResult.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include <twoway/handshake.hpp>
#include <twoway/secret.hpp>

#include "crypto/crypto.hpp"
#include "handshake/framing.hpp"

namespace twoway::handshake {

using Hash = crypto::Sha512Digest;  // 64 bytes
inline constexpr std::size_t hash_size = 64;

// The running transcript: SHA-512 over the exact bytes PROTOCOL.md lists, digested at checkpoints.
class Transcript {
public:
    void absorb(wire::Bytes bytes) { h_.update(bytes); }
    [[nodiscard]] Hash digest() const { return h_.digest(); }

private:
    crypto::Sha512 h_;
};

// An AEAD key and IV derived from a traffic secret: key = expand_label(S, "key", "", 32),
// iv = expand_label(S, "iv", "", 12).
struct TrafficKey {
    std::array<std::byte, 32> key;
    std::array<std::byte, 12> iv;
};

struct Secrets {
    std::array<std::byte, 64> exporter;  // first: the part that outlives the handshake
    std::array<std::byte, 32> ephemeral;  // our X25519 secret
    std::array<std::byte, 32> shared;     // X25519(ephemeral, peer share)
    std::array<std::byte, 64> client_hs;  // client handshake traffic secret
    std::array<std::byte, 64> server_hs;  // server handshake traffic secret
    std::array<std::byte, 64> master;
    std::array<std::byte, 64> ms_salt;    // master_secret's salt, kept for password mode (6.2)
    std::array<std::byte, 64> scratch;    // short-lived values (handshake secret, finished keys)
    TrafficKey client_key;                // from client_hs
    TrafficKey server_key;                // from server_hs
};

class SecretBlock {
public:
    SecretBlock();
    [[nodiscard]] Secrets& get() noexcept { return *s_; }
    [[nodiscard]] const Secrets& get() const noexcept { return *s_; }
    // Wipes everything but the exporter secret and hands the memory over.
    [[nodiscard]] SecretBuffer release_exporter() &&;

private:
    SecretBuffer buf_;
    Secrets* s_;
};

// From s.shared and H(client_hello..server_hello): the handshake traffic secrets and keys, and the
// master secret. Wipes s.shared and the handshake secret.
void derive_handshake_secrets(Secrets& s, const Hash& h_hello);

// Password mode (PROTOCOL.md 6.2): master_secret = HKDF-Extract(ms_salt, opaque_session_key) in place
// of the key mode's HKDF-Extract(ms_salt, 0^64), so that the application secrets depend on both the
// X25519 exchange and OPAQUE.
void set_password_master(Secrets& s, std::span<const std::byte, 64> opaque_session_key);

// From s.master and H(..client finished): the application traffic secrets, the exporter secret (into
// s.exporter) and the session id. Wipes everything else in s but s.server_key (for server_verdict);
// with keep_for_retry (another client_auth may follow, PROTOCOL.md 4.1.3) it keeps, as well, what
// another client_auth needs (the client handshake secret and key, the master secret), until
// wipe_retry_secrets.
void derive_application_secrets(Secrets& s, const Hash& h_app, std::span<std::byte, 64> client_ap,
                                std::span<std::byte, 64> server_ap, SessionId& session_id, bool keep_for_retry = false);
// Wipes what derive_application_secrets kept for a retry (nothing else): at the final verdict.
void wipe_retry_secrets(Secrets& s);

// Finished MAC = HMAC-SHA-512(expand_label(hs_secret, "finished", "", 64), h). Uses s.scratch.
[[nodiscard]] std::array<std::byte, 64> finished_mac(Secrets& s, Role sender, const Hash& h);

// The signed bytes: "twoway v1 server sig" / "twoway v1 client sig", 0x00, h.
inline constexpr std::string_view server_sig_context = "twoway v1 server sig";
inline constexpr std::string_view client_sig_context = "twoway v1 client sig";
inline constexpr std::size_t sig_payload_size = 20 + 1 + hash_size;
[[nodiscard]] std::array<std::byte, sig_payload_size> signature_payload(Role signer, const Hash& h);

// expand_label(secret, label, "", 32/12) into k.
void derive_traffic_key(TrafficKey& k, std::span<const std::byte, 64> secret);

// Encrypted handshake messages: header | AEAD(key, nonce = iv XOR seq, ad = header, plaintext).
[[nodiscard]] std::vector<std::byte> seal_message(MsgType t, const TrafficKey& k, std::uint64_t seq,
                                                  wire::Bytes plaintext);
// Opens frame f; decrypt_failed when it does not authenticate.
[[nodiscard]] Result<std::vector<std::byte>> open_message(const Frame& f, const TrafficKey& k, std::uint64_t seq);

}  // namespace twoway::handshake
