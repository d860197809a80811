// OPAQUE's messages (RFC 9807 sections 5.1, 6.1 and 6.3.1) for the ristretto255-SHA512 configuration:
// every field has a fixed size, so a message is its fields back to back. Each parser takes the exact
// bytes of one message through the bounded wire::Reader (nothing may be missing or left over) and
// refuses any element that is not a canonical ristretto255 encoding (errc::malformed) or is the
// identity (errc::weak_public_key): RFC 9807 10.7's input validation, done once, at the edge.
#pragma once

#include <array>
#include <cstddef>

#include "opaque/group.hpp"

namespace twoway::opaque {

inline constexpr std::size_t Nn = 32;     // nonces
inline constexpr std::size_t Npk = 32;    // public keys
inline constexpr std::size_t Nsk = 32;    // private keys
inline constexpr std::size_t Nh = 64;     // SHA-512
inline constexpr std::size_t Nm = 64;     // HMAC-SHA-512
inline constexpr std::size_t Nx = 64;     // HKDF-SHA-512
inline constexpr std::size_t Nok = 32;    // OPRF private key
inline constexpr std::size_t Nseed = 32;  // key pair seeds

using Nonce = std::array<std::byte, Nn>;
using MacTag = std::array<std::byte, Nm>;

struct Envelope {
    Nonce nonce;
    MacTag auth_tag;
};

struct RegistrationRequest {
    Element blinded_message;
};

struct RegistrationResponse {
    Element evaluated_message;
    Element server_public_key;
};

// What the server stores per account. The masking key is not the password's equivalent, but whoever
// holds it can tell a real response from a fake one: it stays in secure memory.
struct RegistrationRecord {
    Element client_public_key;
    SecretBytes<Nh> masking_key;
    Envelope envelope;
};

struct CredentialRequest {
    Element blinded_message;
};

inline constexpr std::size_t masked_response_size = Npk + Nn + Nm;

struct CredentialResponse {
    Element evaluated_message;
    Nonce masking_nonce;
    std::array<std::byte, masked_response_size> masked_response;
};

struct AuthRequest {
    Nonce client_nonce;
    Element client_public_keyshare;
};

struct KE1 {
    CredentialRequest credential_request;
    AuthRequest auth_request;
};

struct AuthResponse {
    Nonce server_nonce;
    Element server_public_keyshare;
    MacTag server_mac;
};

struct KE2 {
    CredentialResponse credential_response;
    AuthResponse auth_response;
};

struct KE3 {
    MacTag client_mac;
};

inline constexpr std::size_t registration_request_size = element_size;
inline constexpr std::size_t registration_response_size = element_size + Npk;
inline constexpr std::size_t registration_record_size = Npk + Nh + Nn + Nm;
inline constexpr std::size_t credential_response_size = element_size + Nn + masked_response_size;
inline constexpr std::size_t ke1_size = element_size + Nn + Npk;
inline constexpr std::size_t ke2_size = credential_response_size + Nn + Npk + Nm;
inline constexpr std::size_t ke3_size = Nm;

[[nodiscard]] std::array<std::byte, registration_request_size> encode(const RegistrationRequest& m);
[[nodiscard]] std::array<std::byte, registration_response_size> encode(const RegistrationResponse& m);
// The record carries the masking key: the caller keeps these bytes as a secret (wipe them).
[[nodiscard]] std::array<std::byte, registration_record_size> encode(const RegistrationRecord& m);
[[nodiscard]] std::array<std::byte, credential_response_size> encode(const CredentialResponse& m);
[[nodiscard]] std::array<std::byte, ke1_size> encode(const KE1& m);
[[nodiscard]] std::array<std::byte, ke2_size> encode(const KE2& m);
[[nodiscard]] std::array<std::byte, ke3_size> encode(const KE3& m);

// Exactly one message, nothing before or after it: short_input or trailing_data otherwise, malformed or
// weak_public_key for a bad element. The masked response is opaque here (the client checks the server
// key inside it once it has unmasked and authenticated it).
[[nodiscard]] Result<RegistrationRequest> parse_registration_request(Bytes in);
[[nodiscard]] Result<RegistrationResponse> parse_registration_response(Bytes in);
[[nodiscard]] Result<RegistrationRecord> parse_registration_record(Bytes in);
[[nodiscard]] Result<KE1> parse_ke1(Bytes in);
[[nodiscard]] Result<KE2> parse_ke2(Bytes in);
[[nodiscard]] Result<KE3> parse_ke3(Bytes in);

}  // namespace twoway::opaque
