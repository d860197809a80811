#include "opaque/opaque.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "wire/writer.hpp"

namespace twoway::opaque {

namespace {

constexpr std::array<std::byte, 16> zero_salt{};  // Argon2id's salt: RFC 9807 7's S = zeroes(16)

// Expand(prk, a || b, out.size()), with a and b public (nonces, identifiers, labels).
void expand(std::span<std::byte> out, std::span<const std::byte, Nh> prk, Bytes a, std::string_view label) {
    wire::Writer info(a.size() + label.size());
    info.bytes(a).bytes(label);
    crypto::hkdf_sha512_expand(prk, info.view(), out);
}

// Expand-Label(secret, label, context, length) (6.4.2.1): info is the TLS 1.3 HkdfLabel shape
// I2OSP(length, 2) || len8 ("OPAQUE-" || label) || len8 context || context.
void expand_label(std::span<std::byte> out, std::span<const std::byte, Nx> secret, std::string_view label,
                  Bytes context) {
    static constexpr std::string_view prefix = "OPAQUE-";
    wire::Writer info(4 + prefix.size() + label.size() + context.size());
    info.u16(static_cast<std::uint16_t>(out.size()))
        .u8(static_cast<std::uint8_t>(prefix.size() + label.size()))
        .bytes(prefix)
        .bytes(label)
        .u8(static_cast<std::uint8_t>(context.size()))
        .bytes(context);
    crypto::hkdf_sha512_expand(secret, info.view(), out);
}

bool identity_ok(Bytes id) { return id.size() <= 65535; }

// The effective identity: the given one, or the public key (CreateCleartextCredentials).
Bytes effective(Bytes given, const Element& public_key) { return given.empty() ? Bytes(public_key) : given; }

// auth_tag's message: envelope_nonce || CleartextCredentials (server_public_key || len16 server_identity
// || server_identity || len16 client_identity || client_identity).
void envelope_mac(std::span<std::byte, Nm> out, std::span<const std::byte, Nh> auth_key, const Nonce& nonce,
                  const Element& server_public_key, Bytes server_identity, Bytes client_identity) {
    wire::Writer m(Nn + Npk + 4 + server_identity.size() + client_identity.size());
    m.bytes(nonce)
        .bytes(server_public_key)
        .u16(static_cast<std::uint16_t>(server_identity.size()))
        .bytes(server_identity)
        .u16(static_cast<std::uint16_t>(client_identity.size()))
        .bytes(client_identity);
    crypto::hmac_sha512(out, auth_key, m.view());
}

// The credential response pad: Expand(masking_key, masking_nonce || "CredentialResponsePad", Npk + Nn + Nm).
void response_pad(std::span<std::byte, masked_response_size> pad, std::span<const std::byte, Nh> masking_key,
                  const Nonce& masking_nonce) {
    expand(pad, masking_key, masking_nonce, "CredentialResponsePad");
}

// The OPRF output and randomized password for a password, its blind and the server's evaluation.
Status recover_randomized_password(std::span<std::byte, Nh> rpw, const SecretBuffer& password, const Scalar& blind,
                                   const Element& evaluated, const KsfParams& ksf) {
    SecretBytes<oprf::output_size> oprf_output;
    if (auto s = oprf::finalize(oprf_output.span(), password.span(), blind, evaluated); !s) return s;
    return randomized_password(rpw, oprf_output.span(), ksf);
}

// The 3DH output of one side: ikm = dh1 || dh2 || dh3, each a scalar multiplication (errors if a
// point is not valid or a result is the identity).
Status three_dh(SecretBytes<3 * element_size>& ikm, const Scalar& a, const Element& pa, const Scalar& b,
                const Element& pb, const Scalar& c, const Element& pc) {
    auto part = [&](std::size_t i) { return std::span<std::byte, element_size>(ikm.data() + i * element_size, element_size); };
    if (auto s = crypto::ristretto255_scalarmult(part(0), a.span(), pa); !s) return s;
    if (auto s = crypto::ristretto255_scalarmult(part(1), b.span(), pb); !s) return s;
    if (auto s = crypto::ristretto255_scalarmult(part(2), c.span(), pc); !s) return s;
    return {};
}

// server_mac = MAC(Km2, Hash(preamble)); client_mac = MAC(Km3, Hash(preamble || server_mac)).
void transcript_macs(std::span<std::byte, Nm> server_mac, std::span<std::byte, Nm> client_mac,
                     const DerivedKeys& keys, Bytes preamble_bytes) {
    const auto h = crypto::sha512(preamble_bytes);
    crypto::hmac_sha512(server_mac, keys.km2.span(), h);
    crypto::Sha512 h2;
    h2.update(preamble_bytes);
    h2.update(server_mac);
    crypto::hmac_sha512(client_mac, keys.km3.span(), h2.digest());
}

}  // namespace

// ---- keys and building blocks ---------------------------------------------------------------------
Result<oprf::KeyPair> derive_dh_key_pair(std::span<const std::byte, Nseed> seed) {
    static constexpr std::string_view info = "OPAQUE-DeriveDiffieHellmanKeyPair";
    return oprf::derive_key_pair(seed, wire::as_bytes(info));
}

Result<oprf::KeyPair> derive_oprf_key(const SecretBytes<Nh>& oprf_seed, Bytes credential_identifier) {
    if (!identity_ok(credential_identifier)) return errc::invalid_argument;
    SecretBytes<Nok> seed;
    expand(seed.span(), oprf_seed.span(), credential_identifier, "OprfKey");
    static constexpr std::string_view info = "OPAQUE-DeriveKeyPair";
    return oprf::derive_key_pair(seed.span(), wire::as_bytes(info));
}

Status randomized_password(std::span<std::byte, Nh> out, std::span<const std::byte, Nh> oprf_output,
                           const KsfParams& ksf) {
    SecretBytes<2 * Nh> ikm;  // oprf_output || stretched_oprf_output
    std::copy(oprf_output.begin(), oprf_output.end(), ikm.data());
    const std::span<std::byte, Nh> stretched(ikm.data() + Nh, Nh);
    switch (ksf.kind) {
    case KsfKind::identity:
        std::copy(oprf_output.begin(), oprf_output.end(), stretched.begin());
        break;
    case KsfKind::argon2id:
        if (auto s = crypto::argon2id(stretched, oprf_output, zero_salt, ksf.argon2id); !s) return s;
        break;
    default:
        return errc::invalid_argument;
    }
    crypto::hkdf_sha512_extract(out, {}, ikm.span());
    return {};
}

void envelope_key(std::span<std::byte> out, std::span<const std::byte, Nh> rpw, const Nonce& nonce,
                  std::string_view label) {
    expand(out, rpw, nonce, label);
}

std::vector<std::byte> preamble(Bytes context, Bytes client_identity, const KE1& ke1, Bytes server_identity,
                                const CredentialResponse& credential_response, const Nonce& server_nonce,
                                const Element& server_public_keyshare) {
    static constexpr std::string_view prefix = "OPAQUEv1-";
    wire::Writer p(prefix.size() + 6 + context.size() + client_identity.size() + ke1_size + server_identity.size() +
                   credential_response_size + Nn + Npk);
    p.bytes(prefix)
        .u16(static_cast<std::uint16_t>(context.size()))
        .bytes(context)
        .u16(static_cast<std::uint16_t>(client_identity.size()))
        .bytes(client_identity)
        .bytes(encode(ke1))
        .u16(static_cast<std::uint16_t>(server_identity.size()))
        .bytes(server_identity)
        .bytes(encode(credential_response))
        .bytes(server_nonce)
        .bytes(server_public_keyshare);
    return p.take();
}

DerivedKeys derive_keys(Bytes ikm, Bytes preamble_bytes) {
    DerivedKeys k{SecretBytes<Nx>(), SecretBytes<Nx>(), SecretBytes<Nx>(), SecretBytes<Nx>()};
    SecretBytes<Nx> prk;
    crypto::hkdf_sha512_extract(prk.span(), {}, ikm);
    const auto h = crypto::sha512(preamble_bytes);
    expand_label(k.handshake_secret.span(), prk.span(), "HandshakeSecret", h);
    expand_label(k.session_key.span(), prk.span(), "SessionKey", h);
    expand_label(k.km2.span(), k.handshake_secret.span(), "ServerMAC", {});
    expand_label(k.km3.span(), k.handshake_secret.span(), "ClientMAC", {});
    return k;
}

ServerKeys generate_server_keys(Rng& rng) {
    for (;;) {
        SecretBytes<Nh> oprf_seed;
        SecretBytes<Nsk> seed;
        rng.fill(oprf_seed.span());
        rng.fill(seed.span());
        auto kp = derive_dh_key_pair(seed.span());
        if (kp) return ServerKeys{std::move(oprf_seed), std::move(kp->sk), kp->pk};
        // DeriveKeyPairError: 256 zero scalars in a row, never seen; draw again.
    }
}

Result<ServerKeys> server_keys(std::span<const std::byte, Nh> oprf_seed, std::span<const std::byte, Nsk> private_key) {
    ServerKeys k{SecretBytes<Nh>(oprf_seed), Scalar(private_key), Element{}};
    // A private key must be a reduced, non-zero scalar (RFC 9497's DeserializeScalar), as DeriveKeyPair
    // makes them: reducing it must not change it.
    std::array<std::byte, 64> wide{};
    std::copy(private_key.begin(), private_key.end(), wide.begin());
    Scalar reduced;
    crypto::ristretto255_scalar_reduce(reduced.span(), wide);
    crypto::wipe(wide);
    if (!(reduced == k.private_key) || is_zero_scalar(k.private_key)) return errc::invalid_argument;
    if (auto s = crypto::ristretto255_scalarmult_base(k.public_key, k.private_key.span()); !s) return fail(s.error());
    return k;
}

// ---- registration ---------------------------------------------------------------------------------
Result<RegistrationStart> create_registration_request(Bytes password, Scalar blind) {
    auto blinded = oprf::blind(password, blind);
    if (!blinded) return fail(blinded.error());
    return RegistrationStart{ClientRegistrationState{SecretBuffer(password), std::move(blind)},
                             RegistrationRequest{*blinded}};
}

Result<RegistrationResponse> create_registration_response(const RegistrationRequest& request, const ServerKeys& keys,
                                                          Bytes credential_identifier) {
    auto oprf_key = derive_oprf_key(keys.oprf_seed, credential_identifier);
    if (!oprf_key) return fail(oprf_key.error());
    auto evaluated = oprf::blind_evaluate(oprf_key->sk, request.blinded_message);
    if (!evaluated) return fail(evaluated.error());
    return RegistrationResponse{*evaluated, keys.public_key};
}

Result<RegistrationResult> finalize_registration_request(const ClientRegistrationState& state,
                                                         const RegistrationResponse& response, const Identities& ids,
                                                         const KsfParams& ksf, const Nonce& envelope_nonce) {
    if (!identity_ok(ids.client) || !identity_ok(ids.server)) return errc::invalid_argument;
    if (auto s = check_element(response.server_public_key); !s) return fail(s.error());
    SecretBytes<Nh> rpw;
    if (auto s = recover_randomized_password(rpw.span(), state.password, state.blind, response.evaluated_message, ksf);
        !s) {
        return fail(s.error());
    }
    // Store (4.1.2).
    RegistrationResult r{RegistrationRecord{Element{}, SecretBytes<Nh>(), Envelope{envelope_nonce, MacTag{}}},
                         SecretBytes<Nh>()};
    expand(r.record.masking_key.span(), rpw.span(), {}, "MaskingKey");
    SecretBytes<Nh> auth_key;
    envelope_key(auth_key.span(), rpw.span(), envelope_nonce, "AuthKey");
    envelope_key(r.export_key.span(), rpw.span(), envelope_nonce, "ExportKey");
    SecretBytes<Nseed> seed;
    envelope_key(seed.span(), rpw.span(), envelope_nonce, "PrivateKey");
    auto client_kp = derive_dh_key_pair(seed.span());
    if (!client_kp) return fail(client_kp.error());
    r.record.client_public_key = client_kp->pk;
    envelope_mac(r.record.envelope.auth_tag, auth_key.span(), envelope_nonce, response.server_public_key,
                 effective(ids.server, response.server_public_key), effective(ids.client, client_kp->pk));
    return r;
}

// ---- login ----------------------------------------------------------------------------------------
ClientLoginRandom client_login_random(Rng& rng) {
    ClientLoginRandom r{random_scalar(rng), Nonce{}, SecretBytes<Nseed>()};
    rng.fill(r.client_nonce);
    rng.fill(r.keyshare_seed.span());
    return r;
}

ServerLoginRandom server_login_random(Rng& rng) {
    ServerLoginRandom r{Nonce{}, Nonce{}, SecretBytes<Nseed>()};
    rng.fill(r.masking_nonce);
    rng.fill(r.server_nonce);
    rng.fill(r.keyshare_seed.span());
    return r;
}

Result<LoginStart> client_init(Bytes password, ClientLoginRandom random) {
    auto blinded = oprf::blind(password, random.blind);
    if (!blinded) return fail(blinded.error());
    auto keyshare = derive_dh_key_pair(random.keyshare_seed.span());
    if (!keyshare) return fail(keyshare.error());
    const KE1 ke1{CredentialRequest{*blinded}, AuthRequest{random.client_nonce, keyshare->pk}};
    return LoginStart{ClientLoginState{SecretBuffer(password), std::move(random.blind), std::move(keyshare->sk), ke1},
                      ke1};
}

Result<ServerInitResult> server_init(const ServerKeys& keys, const RegistrationRecord& record,
                                     Bytes credential_identifier, const KE1& ke1, const Identities& ids, Bytes context,
                                     const ServerLoginRandom& random) {
    if (!identity_ok(ids.client) || !identity_ok(ids.server) || context.size() > max_context_size) {
        return errc::invalid_argument;
    }
    if (auto s = check_element(ke1.auth_request.client_public_keyshare); !s) return fail(s.error());

    // CreateCredentialResponse (6.3.2.2).
    auto oprf_key = derive_oprf_key(keys.oprf_seed, credential_identifier);
    if (!oprf_key) return fail(oprf_key.error());
    auto evaluated = oprf::blind_evaluate(oprf_key->sk, ke1.credential_request.blinded_message);
    if (!evaluated) return fail(evaluated.error());
    KE2 ke2{};
    ke2.credential_response.evaluated_message = *evaluated;
    ke2.credential_response.masking_nonce = random.masking_nonce;
    {
        SecretBytes<masked_response_size> pad;
        response_pad(pad.span(), record.masking_key.span(), random.masking_nonce);
        // masked_response = pad xor (server_public_key || envelope)
        auto& masked = ke2.credential_response.masked_response;
        std::copy(keys.public_key.begin(), keys.public_key.end(), masked.begin());
        std::copy(record.envelope.nonce.begin(), record.envelope.nonce.end(), masked.begin() + Npk);
        std::copy(record.envelope.auth_tag.begin(), record.envelope.auth_tag.end(), masked.begin() + Npk + Nn);
        for (std::size_t i = 0; i < masked_response_size; ++i) masked[i] ^= pad.data()[i];
    }

    // AuthServerRespond (6.4.4).
    auto keyshare = derive_dh_key_pair(random.keyshare_seed.span());
    if (!keyshare) return fail(keyshare.error());
    ke2.auth_response.server_nonce = random.server_nonce;
    ke2.auth_response.server_public_keyshare = keyshare->pk;
    const auto pre = preamble(context, effective(ids.client, record.client_public_key), ke1,
                              effective(ids.server, keys.public_key), ke2.credential_response, random.server_nonce,
                              keyshare->pk);
    SecretBytes<3 * element_size> ikm;
    if (auto s = three_dh(ikm, keyshare->sk, ke1.auth_request.client_public_keyshare, keys.private_key,
                          ke1.auth_request.client_public_keyshare, keyshare->sk, record.client_public_key);
        !s) {
        return fail(s.error());
    }
    const DerivedKeys dk = derive_keys(ikm.span(), pre);
    ServerInitResult r{ServerLoginState{SecretBytes<Nm>(), dk.session_key.clone()}, ke2};
    transcript_macs(r.ke2.auth_response.server_mac, r.state.expected_client_mac.span(), dk, pre);
    return r;
}

Result<ClientFinishResult> client_finish(const ClientLoginState& state, const KE2& ke2, const Identities& ids,
                                         Bytes context, const KsfParams& ksf) {
    if (!identity_ok(ids.client) || !identity_ok(ids.server) || context.size() > max_context_size) {
        return errc::invalid_argument;
    }
    if (auto s = check_element(ke2.auth_response.server_public_keyshare); !s) return fail(s.error());

    // RecoverCredentials (6.3.2.3).
    SecretBytes<Nh> rpw;
    if (auto s = recover_randomized_password(rpw.span(), state.password, state.blind,
                                             ke2.credential_response.evaluated_message, ksf);
        !s) {
        return fail(s.error());
    }
    SecretBytes<Nh> masking_key;
    expand(masking_key.span(), rpw.span(), {}, "MaskingKey");
    SecretBytes<masked_response_size> unmasked;  // server_public_key || envelope
    response_pad(unmasked.span(), masking_key.span(), ke2.credential_response.masking_nonce);
    for (std::size_t i = 0; i < masked_response_size; ++i) unmasked.data()[i] ^= ke2.credential_response.masked_response[i];
    Element server_public_key{};
    Nonce envelope_nonce{};
    std::copy_n(unmasked.data(), Npk, server_public_key.begin());
    std::copy_n(unmasked.data() + Npk, Nn, envelope_nonce.begin());
    const Bytes auth_tag(unmasked.data() + Npk + Nn, Nm);

    // Recover (4.1.3): the envelope's MAC first, so that a wrong password (whose unmasked bytes are
    // noise) is always the same auth_denied, whatever the noise looks like.
    SecretBytes<Nh> auth_key;
    envelope_key(auth_key.span(), rpw.span(), envelope_nonce, "AuthKey");
    SecretBytes<Nseed> seed;
    envelope_key(seed.span(), rpw.span(), envelope_nonce, "PrivateKey");
    auto client_kp = derive_dh_key_pair(seed.span());
    if (!client_kp) return fail(client_kp.error());
    const Bytes client_identity = effective(ids.client, client_kp->pk);
    const Bytes server_identity = effective(ids.server, server_public_key);
    SecretBytes<Nm> expected_tag;
    envelope_mac(expected_tag.span(), auth_key.span(), envelope_nonce, server_public_key, server_identity,
                 client_identity);
    if (!crypto::ct_equal(expected_tag.span(), auth_tag)) return errc::auth_denied;  // EnvelopeRecoveryError
    // Authenticated by the password now, but still the peer's key: validate it before use (10.7).
    if (auto s = check_element(server_public_key); !s) return fail(s.error());

    ClientFinishResult r{KE3{}, SecretBytes<Nx>(), SecretBytes<Nh>(), server_public_key};
    envelope_key(r.export_key.span(), rpw.span(), envelope_nonce, "ExportKey");

    // AuthClientFinalize (6.4.3).
    SecretBytes<3 * element_size> ikm;
    if (auto s = three_dh(ikm, state.client_secret, ke2.auth_response.server_public_keyshare, state.client_secret,
                          server_public_key, client_kp->sk, ke2.auth_response.server_public_keyshare);
        !s) {
        return fail(s.error());
    }
    const auto pre = preamble(context, client_identity, state.ke1, server_identity, ke2.credential_response,
                              ke2.auth_response.server_nonce, ke2.auth_response.server_public_keyshare);
    const DerivedKeys dk = derive_keys(ikm.span(), pre);
    SecretBytes<Nm> expected_server_mac;
    SecretBytes<Nm> client_mac;
    transcript_macs(expected_server_mac.span(), client_mac.span(), dk, pre);
    if (!crypto::ct_equal(expected_server_mac.span(), ke2.auth_response.server_mac)) return errc::bad_finished;
    std::copy_n(client_mac.data(), Nm, r.ke3.client_mac.begin());
    r.session_key = dk.session_key.clone();
    return r;
}

Result<SecretBytes<Nx>> server_finish(const ServerLoginState& state, const KE3& ke3) {
    if (!crypto::ct_equal(state.expected_client_mac.span(), ke3.client_mac)) return errc::bad_finished;
    return state.session_key.clone();
}

RegistrationRecord fake_record(Rng& rng) {
    for (;;) {
        SecretBytes<Nseed> seed;
        rng.fill(seed.span());
        auto kp = derive_dh_key_pair(seed.span());
        if (!kp) continue;
        RegistrationRecord r{kp->pk, SecretBytes<Nh>(), Envelope{}};
        rng.fill(r.masking_key.span());
        return r;
    }
}

Result<RegistrationRecord> fake_record(const Element& client_public_key, std::span<const std::byte, Nh> masking_key) {
    if (auto s = check_element(client_public_key); !s) return fail(s.error());
    return RegistrationRecord{client_public_key, SecretBytes<Nh>(masking_key), Envelope{}};
}

}  // namespace twoway::opaque
