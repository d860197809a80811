// OPAQUE-3DH (RFC 9807) in the configuration ristretto255-SHA512: OPRF(ristretto255, SHA-512) of RFC
// 9497, HKDF-SHA-512, HMAC-SHA-512, SHA-512, 3DH over ristretto255, and a key stretching function
// (KSF) that is Argon2id (libsodium's crypto_pwhash, parallelism 1) or, for the RFC's test vectors
// only, the identity.
//
// Registration:  client create_registration_request -> server create_registration_response ->
//                client finalize_registration_request (the record the server stores, the export key)
// Login:         client client_init (KE1) -> server server_init (KE2) -> client client_finish (KE3,
//                session key, export key) -> server server_finish (session key)
//
// Sans-I/O like the rest of the core: no files, no clock. Randomness comes in explicitly (the *Random
// structs), drawn from an Rng by the *_random() helpers in production and fixed by the RFC's vectors
// in the tests, so that the vectors are reproduced byte for byte. Secrets (the password, blinds, OPRF
// outputs, the randomized password, private keys and seeds, session and export keys) live in
// SecretBytes / SecretBuffer and are wiped; MACs are compared in constant time.
//
// Domain separation: every derivation carries its RFC 9807 label ("MaskingKey", "AuthKey",
// "OPAQUE-HandshakeSecret", ...) and the preamble starts with "OPAQUEv1-"; those must stay as the RFC
// has them. twoway's own labels are added by the handshake that uses this module, in two places: the
// `context` of the preamble (twoway puts its transcript hash there) and the key schedule that takes
// session_key as input (crypto/labels.hpp's "twoway v1 " labels).
#pragma once

#include <cstddef>
#include <vector>

#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

#include "crypto/crypto.hpp"
#include "opaque/messages.hpp"
#include "opaque/oprf.hpp"

namespace twoway::opaque {

// ---- Configuration ---------------------------------------------------------------------------------
enum class KsfKind {
    identity,  // Stretch(msg) = msg: RFC 9807's test vectors only, never for a real password
    argon2id,  // Argon2id v1.3, salt 16 zero bytes, output Nh, parallelism 1 (libsodium), t and m given
};

struct KsfParams {
    KsfKind kind;
    crypto::Argon2idParams argon2id;  // used when kind is argon2id
};

inline KsfParams identity_ksf() { return KsfParams{KsfKind::identity, crypto::Argon2idParams{0, 0}}; }
inline KsfParams argon2id_ksf(crypto::Argon2idParams p) { return KsfParams{KsfKind::argon2id, p}; }

// Optional identities (RFC 9807 4): an empty span is "not given", and the party's public key stands in
// for it. At most 65535 bytes each (invalid_argument).
struct Identities {
    Bytes client;
    Bytes server;
};

inline constexpr std::size_t max_context_size = 65535;

// The server's long-term secrets: the OPRF seed (one for all accounts, so that an unknown account's
// OPRF key is as deterministic as a real one's) and the AKE key pair.
struct ServerKeys {
    SecretBytes<Nh> oprf_seed;
    Scalar private_key;
    Element public_key;
};
[[nodiscard]] ServerKeys generate_server_keys(Rng& rng);
// The same from given secrets (a key file, or a test vector): the public key is derived.
[[nodiscard]] Result<ServerKeys> server_keys(std::span<const std::byte, Nh> oprf_seed,
                                             std::span<const std::byte, Nsk> private_key);

// ---- Building blocks (RFC 9807's named functions; the protocol below is made of them) -----------
// DeriveDiffieHellmanKeyPair (6.4.1): oprf::derive_key_pair(seed, "OPAQUE-DeriveDiffieHellmanKeyPair").
[[nodiscard]] Result<oprf::KeyPair> derive_dh_key_pair(std::span<const std::byte, Nseed> seed);
// The account's OPRF key: DeriveKeyPair(Expand(oprf_seed, credential_identifier || "OprfKey", Nok),
// "OPAQUE-DeriveKeyPair") (5.2.2). credential_identifier: at most 65535 bytes.
[[nodiscard]] Result<oprf::KeyPair> derive_oprf_key(const SecretBytes<Nh>& oprf_seed, Bytes credential_identifier);
// randomized_password = Extract("", oprf_output || Stretch(oprf_output)) (5.2.3).
[[nodiscard]] Status randomized_password(std::span<std::byte, Nh> out, std::span<const std::byte, Nh> oprf_output,
                                         const KsfParams& ksf);
// Expand(randomized_password, envelope_nonce || label, out.size()): "AuthKey", "ExportKey", "PrivateKey".
void envelope_key(std::span<std::byte> out, std::span<const std::byte, Nh> randomized_password, const Nonce& nonce,
                  std::string_view label);
// The 3DH preamble (6.4.2.1): "OPAQUEv1-" || len16 context || context || len16 client_identity ||
// client_identity || KE1 || len16 server_identity || server_identity || credential_response ||
// server_nonce || server_public_keyshare. Identities here are the effective ones (never empty).
[[nodiscard]] std::vector<std::byte> preamble(Bytes context, Bytes client_identity, const KE1& ke1,
                                              Bytes server_identity, const CredentialResponse& credential_response,
                                              const Nonce& server_nonce, const Element& server_public_keyshare);
// DeriveKeys (6.4.2.2) with handshake_secret kept for the vectors: prk = Extract("", ikm),
// Derive-Secret(prk, "HandshakeSecret" / "SessionKey", Hash(preamble)), Km2 / Km3 =
// Derive-Secret(handshake_secret, "ServerMAC" / "ClientMAC", "").
struct DerivedKeys {
    SecretBytes<Nx> handshake_secret;
    SecretBytes<Nx> km2;
    SecretBytes<Nx> km3;
    SecretBytes<Nx> session_key;
};
[[nodiscard]] DerivedKeys derive_keys(Bytes ikm, Bytes preamble);

// ---- Registration --------------------------------------------------------------------------------
struct ClientRegistrationState {
    SecretBuffer password;
    Scalar blind;
};
struct RegistrationStart {
    ClientRegistrationState state;
    RegistrationRequest request;
};
// CreateRegistrationRequest with the blind given (random_scalar(rng) in production).
[[nodiscard]] Result<RegistrationStart> create_registration_request(Bytes password, Scalar blind);

// CreateRegistrationResponse. The request's element is checked (check_element's errors).
[[nodiscard]] Result<RegistrationResponse> create_registration_response(const RegistrationRequest& request,
                                                                        const ServerKeys& keys,
                                                                        Bytes credential_identifier);

struct RegistrationResult {
    RegistrationRecord record;
    SecretBytes<Nh> export_key;
};
// FinalizeRegistrationRequest (Store inside) with the envelope nonce given (random in production).
// The response's elements are checked.
[[nodiscard]] Result<RegistrationResult> finalize_registration_request(const ClientRegistrationState& state,
                                                                       const RegistrationResponse& response,
                                                                       const Identities& ids, const KsfParams& ksf,
                                                                       const Nonce& envelope_nonce);

// ---- Login ---------------------------------------------------------------------------------------
struct ClientLoginRandom {
    Scalar blind;
    Nonce client_nonce;
    SecretBytes<Nseed> keyshare_seed;
};
[[nodiscard]] ClientLoginRandom client_login_random(Rng& rng);

struct ClientLoginState {
    SecretBuffer password;
    Scalar blind;
    Scalar client_secret;  // the ephemeral keyshare's private key
    KE1 ke1;
};
struct LoginStart {
    ClientLoginState state;
    KE1 ke1;
};
// GenerateKE1 (CreateCredentialRequest + AuthClientStart).
[[nodiscard]] Result<LoginStart> client_init(Bytes password, ClientLoginRandom random);

struct ServerLoginRandom {
    Nonce masking_nonce;
    Nonce server_nonce;
    SecretBytes<Nseed> keyshare_seed;
};
[[nodiscard]] ServerLoginRandom server_login_random(Rng& rng);

struct ServerLoginState {
    SecretBytes<Nm> expected_client_mac;
    SecretBytes<Nx> session_key;
};
struct ServerInitResult {
    ServerLoginState state;
    KE2 ke2;
};
// GenerateKE2 (CreateCredentialResponse + AuthServerRespond). For an account without a record, pass
// a fake_record(): the same code then runs on it, so that the KE2 of an unknown account looks like a
// real one and takes as long (RFC 9807 6.3.2.2 and 10.9). KE1's elements are checked.
[[nodiscard]] Result<ServerInitResult> server_init(const ServerKeys& keys, const RegistrationRecord& record,
                                                   Bytes credential_identifier, const KE1& ke1,
                                                   const Identities& ids, Bytes context,
                                                   const ServerLoginRandom& random);

struct ClientFinishResult {
    KE3 ke3;
    SecretBytes<Nx> session_key;
    SecretBytes<Nh> export_key;
    Element server_public_key;  // as recovered from the envelope, authenticated by the server's MAC
};
// GenerateKE3 (RecoverCredentials + AuthClientFinalize). errc::auth_denied when the envelope does not
// open (a wrong password, or an account the server does not have: the client cannot tell them apart,
// by design), errc::bad_finished when the server's MAC does not verify; KE2's elements are checked.
[[nodiscard]] Result<ClientFinishResult> client_finish(const ClientLoginState& state, const KE2& ke2,
                                                       const Identities& ids, Bytes context, const KsfParams& ksf);

// ServerFinish: the session key, or errc::bad_finished when the client's MAC does not verify (the
// handshake answers that with its generic denial).
[[nodiscard]] Result<SecretBytes<Nx>> server_finish(const ServerLoginState& state, const KE3& ke3);

// The fake record for an unknown account (RFC 9807 6.3.2.2): a random client public key, a random
// masking key, an all-zero envelope. Make it once and keep it, so that fetching it costs what fetching
// a real one costs.
[[nodiscard]] RegistrationRecord fake_record(Rng& rng);
// The same from given values (the RFC's fake vector).
[[nodiscard]] Result<RegistrationRecord> fake_record(const Element& client_public_key,
                                                     std::span<const std::byte, Nh> masking_key);

}  // namespace twoway::opaque
