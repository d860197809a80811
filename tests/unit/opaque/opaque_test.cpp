// OPAQUE-3DH (RFC 9807), ristretto255-SHA512: Appendix C's real vectors 1 and 2 and fake vector 1 with
// every intermediate value they list, then what must be refused.
#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "../../support/deterministic_rng.hpp"
#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"
#include "opaque/opaque.hpp"
#include "rfc9807_vectors.inc"

using namespace twoway;
using namespace twoway::opaque;
using twoway::test::bytes;
using twoway::test::hex;
using twoway::test::unhex;
using twoway_test::DeterministicRng;

namespace {

using Vector = std::map<std::string, std::string>;

std::vector<std::byte> get(const Vector& v, const std::string& k) {
    auto it = v.find(k);
    REQUIRE(it != v.end());
    return unhex(it->second);
}

std::vector<std::byte> opt(const Vector& v, const std::string& k) {
    auto it = v.find(k);
    return it == v.end() ? std::vector<std::byte>{} : unhex(it->second);
}

template <std::size_t N>
std::array<std::byte, N> arr(const Vector& v, const std::string& k) {
    auto b = get(v, k);
    REQUIRE(b.size() == N);
    std::array<std::byte, N> a{};
    std::copy(b.begin(), b.end(), a.begin());
    return a;
}

template <std::size_t N>
SecretBytes<N> secret(const Vector& v, const std::string& k) {
    return SecretBytes<N>(std::span<const std::byte, N>(arr<N>(v, k)));
}

const std::string& str(const Vector& v, const std::string& k) { return v.at(k); }

ServerKeys keys_of(const Vector& v) {
    auto k = server_keys(arr<Nh>(v, "oprf_seed"), arr<Nsk>(v, "server_private_key"));
    REQUIRE(k);
    CHECK(hex(k->public_key) == str(v, "server_public_key"));
    return std::move(*k);
}

ClientLoginRandom client_random_of(const Vector& v) {
    return ClientLoginRandom{secret<32>(v, "blind_login"), arr<Nn>(v, "client_nonce"),
                             secret<Nseed>(v, "client_keyshare_seed")};
}

ServerLoginRandom server_random_of(const Vector& v) {
    return ServerLoginRandom{arr<Nn>(v, "masking_nonce"), arr<Nn>(v, "server_nonce"),
                             secret<Nseed>(v, "server_keyshare_seed")};
}

// One whole real vector: registration, login, and every intermediate value the RFC lists.
void check_real_vector(const Vector& v) {
    const auto password = get(v, "password");
    const auto cred_id = get(v, "credential_identifier");
    const auto context = get(v, "Context");
    const auto client_identity = opt(v, "client_identity");
    const auto server_identity = opt(v, "server_identity");
    const Identities ids{client_identity, server_identity};
    const ServerKeys keys = keys_of(v);

    // OPRF key.
    auto oprf_key = derive_oprf_key(keys.oprf_seed, cred_id);
    REQUIRE(oprf_key);
    CHECK(hex(oprf_key->sk.span()) == str(v, "oprf_key"));

    // Registration.
    auto start = create_registration_request(password, secret<32>(v, "blind_registration"));
    REQUIRE(start);
    CHECK(hex(encode(start->request)) == str(v, "registration_request"));
    auto request = parse_registration_request(encode(start->request));
    REQUIRE(request);
    auto response = create_registration_response(*request, keys, cred_id);
    REQUIRE(response);
    CHECK(hex(encode(*response)) == str(v, "registration_response"));
    auto parsed_response = parse_registration_response(encode(*response));
    REQUIRE(parsed_response);
    auto reg = finalize_registration_request(start->state, *parsed_response, ids, identity_ksf(),
                                             arr<Nn>(v, "envelope_nonce"));
    REQUIRE(reg);
    const auto upload = encode(reg->record);
    CHECK(hex(upload) == str(v, "registration_upload"));
    CHECK(hex(reg->record.client_public_key) == str(v, "client_public_key"));
    CHECK(hex(reg->record.envelope.nonce) + hex(reg->record.envelope.auth_tag) == str(v, "envelope"));
    CHECK(hex(reg->export_key.span()) == str(v, "export_key"));

    // randomized_password and auth_key, from the OPRF output of the registration.
    SecretBytes<64> oprf_output;
    REQUIRE(oprf::finalize(oprf_output.span(), password, start->state.blind, response->evaluated_message));
    SecretBytes<Nh> rpw;
    REQUIRE(randomized_password(rpw.span(), oprf_output.span(), identity_ksf()));
    CHECK(hex(rpw.span()) == str(v, "randomized_password"));
    SecretBytes<Nh> auth_key;
    envelope_key(auth_key.span(), rpw.span(), reg->record.envelope.nonce, "AuthKey");
    CHECK(hex(auth_key.span()) == str(v, "auth_key"));

    // The server keeps the record as bytes and reads it back.
    auto record = parse_registration_record(upload);
    REQUIRE(record);

    // Login.
    auto login = client_init(password, client_random_of(v));
    REQUIRE(login);
    CHECK(hex(encode(login->ke1)) == str(v, "KE1"));
    auto ke1 = parse_ke1(encode(login->ke1));
    REQUIRE(ke1);
    auto server = server_init(keys, *record, cred_id, *ke1, ids, context, server_random_of(v));
    REQUIRE(server);
    CHECK(hex(encode(server->ke2)) == str(v, "KE2"));
    auto ke2 = parse_ke2(encode(server->ke2));
    REQUIRE(ke2);
    auto client = client_finish(login->state, *ke2, ids, context, identity_ksf());
    REQUIRE(client);
    CHECK(hex(encode(client->ke3)) == str(v, "KE3"));
    CHECK(hex(client->session_key.span()) == str(v, "session_key"));
    CHECK(hex(client->export_key.span()) == str(v, "export_key"));
    CHECK(hex(client->server_public_key) == str(v, "server_public_key"));
    auto ke3 = parse_ke3(encode(client->ke3));
    REQUIRE(ke3);
    auto server_key = server_finish(server->state, *ke3);
    REQUIRE(server_key);
    CHECK(hex(server_key->span()) == str(v, "session_key"));

    // handshake_secret, Km2 and Km3 from the preamble and the 3DH of the vector's key shares.
    auto server_share = derive_dh_key_pair(arr<Nseed>(v, "server_keyshare_seed"));
    REQUIRE(server_share);
    SecretBytes<96> ikm;
    const Element& client_share = ke1->auth_request.client_public_keyshare;
    REQUIRE(crypto::ristretto255_scalarmult(std::span<std::byte, 32>(ikm.data(), 32), server_share->sk.span(),
                                            client_share));
    REQUIRE(crypto::ristretto255_scalarmult(std::span<std::byte, 32>(ikm.data() + 32, 32), keys.private_key.span(),
                                            client_share));
    REQUIRE(crypto::ristretto255_scalarmult(std::span<std::byte, 32>(ikm.data() + 64, 32), server_share->sk.span(),
                                            record->client_public_key));
    const Bytes cid = client_identity.empty() ? Bytes(record->client_public_key) : Bytes(client_identity);
    const Bytes sid = server_identity.empty() ? Bytes(keys.public_key) : Bytes(server_identity);
    const auto pre = preamble(context, cid, *ke1, sid, ke2->credential_response, ke2->auth_response.server_nonce,
                              ke2->auth_response.server_public_keyshare);
    const DerivedKeys dk = derive_keys(ikm.span(), pre);
    CHECK(hex(dk.handshake_secret.span()) == str(v, "handshake_secret"));
    CHECK(hex(dk.km2.span()) == str(v, "server_mac_key"));
    CHECK(hex(dk.km3.span()) == str(v, "client_mac_key"));
    CHECK(hex(dk.session_key.span()) == str(v, "session_key"));
}

// A registered account with small Argon2id parameters (fast enough for a unit test).
const KsfParams small_argon2id = argon2id_ksf(crypto::Argon2idParams{1, 64 * 1024});

struct Account {
    ServerKeys keys;
    RegistrationRecord record;
};

Account register_account(Rng& rng, Bytes password, Bytes cred_id, const KsfParams& ksf) {
    ServerKeys keys = generate_server_keys(rng);
    auto start = create_registration_request(password, random_scalar(rng));
    REQUIRE(start);
    auto response = create_registration_response(start->request, keys, cred_id);
    REQUIRE(response);
    auto reg = finalize_registration_request(start->state, *response, Identities{}, ksf,
                                             crypto::random_array<Nn>(rng));
    REQUIRE(reg);
    return Account{std::move(keys), std::move(reg->record)};
}

}  // namespace

TEST_CASE("OPAQUE-3DH matches RFC 9807 real test vector 1 (no identities)", "[opaque]") {
    REQUIRE(real1.count("client_identity") == 0);
    check_real_vector(real1);
}

TEST_CASE("OPAQUE-3DH matches RFC 9807 real test vector 2 (client and server identities)", "[opaque]") {
    REQUIRE(real2.count("client_identity") == 1);
    check_real_vector(real2);
}

TEST_CASE("OPAQUE-3DH fake KE2 matches RFC 9807 fake test vector 1", "[opaque]") {
    const Vector& v = fake1;
    const ServerKeys keys = keys_of(v);
    const auto client_identity = get(v, "client_identity");
    const auto server_identity = get(v, "server_identity");
    const Identities ids{client_identity, server_identity};
    // The fake record: the vector's client key pair and masking key, an all-zero envelope.
    auto client_kp_pk = arr<32>(v, "client_public_key");
    {
        // client_public_key is client_private_key's public key.
        std::array<std::byte, 32> pk{};
        REQUIRE(crypto::ristretto255_scalarmult_base(pk, arr<32>(v, "client_private_key")));
        CHECK(hex(pk) == str(v, "client_public_key"));
    }
    auto record = fake_record(client_kp_pk, arr<Nh>(v, "masking_key"));
    REQUIRE(record);
    auto ke1 = parse_ke1(get(v, "KE1"));
    REQUIRE(ke1);
    ServerLoginRandom random{arr<Nn>(v, "masking_nonce"), Nonce{}, secret<Nseed>(v, "server_keyshare_seed")};
    random.server_nonce = arr<Nn>(v, "server_nonce");
    auto server = server_init(keys, *record, get(v, "credential_identifier"), *ke1, ids, get(v, "Context"), random);
    REQUIRE(server);
    CHECK(hex(encode(server->ke2)) == str(v, "KE2"));
}

TEST_CASE("OPAQUE: an unknown account's fake KE2 leads to the same denial as a wrong password", "[opaque]") {
    DeterministicRng rng(17);
    const auto cred_id = bytes("alice");
    Account acct = register_account(rng, bytes("right password"), cred_id, identity_ksf());
    const RegistrationRecord fake = fake_record(rng);
    CHECK(check_element(fake.client_public_key));
    CHECK(crypto::is_zero(fake.envelope.nonce));
    CHECK(crypto::is_zero(fake.envelope.auth_tag));

    auto run = [&](Bytes password, const RegistrationRecord& record, Bytes id) {
        auto login = client_init(password, client_login_random(rng));
        REQUIRE(login);
        auto server = server_init(acct.keys, record, id, login->ke1, Identities{}, bytes("ctx"), server_login_random(rng));
        REQUIRE(server);
        const auto wire = encode(server->ke2);
        CHECK(wire.size() == ke2_size);
        auto ke2 = parse_ke2(wire);
        REQUIRE(ke2);  // a fake KE2 parses like a real one
        return client_finish(login->state, *ke2, Identities{}, bytes("ctx"), identity_ksf()).error();
    };
    CHECK(run(bytes("right password"), acct.record, cred_id) == std::error_code{});
    CHECK(run(bytes("wrong password"), acct.record, cred_id) == errc::auth_denied);
    CHECK(run(bytes("right password"), fake, bytes("mallory")) == errc::auth_denied);
}

TEST_CASE("OPAQUE: wrong password, flipped MACs and a flipped masked response are refused", "[opaque]") {
    DeterministicRng rng(1);
    const auto cred_id = bytes("bob");
    const auto pw = bytes("correct horse");
    Account acct = register_account(rng, pw, cred_id, identity_ksf());
    const auto ctx = bytes("twoway test context");

    auto login = client_init(pw, client_login_random(rng));
    REQUIRE(login);
    auto server = server_init(acct.keys, acct.record, cred_id, login->ke1, Identities{}, ctx, server_login_random(rng));
    REQUIRE(server);
    const auto ke2_bytes = encode(server->ke2);

    SECTION("the honest run agrees on the session key") {
        auto client = client_finish(login->state, server->ke2, Identities{}, ctx, identity_ksf());
        REQUIRE(client);
        auto key = server_finish(server->state, client->ke3);
        REQUIRE(key);
        CHECK(*key == client->session_key);
    }
    SECTION("a wrong password") {
        auto wrong = client_init(bytes("correct horsf"), client_login_random(rng));
        REQUIRE(wrong);
        auto s2 = server_init(acct.keys, acct.record, cred_id, wrong->ke1, Identities{}, ctx, server_login_random(rng));
        REQUIRE(s2);
        CHECK(client_finish(wrong->state, s2->ke2, Identities{}, ctx, identity_ksf()).error() == errc::auth_denied);
    }
    SECTION("another context on the client's side") {
        CHECK(client_finish(login->state, server->ke2, Identities{}, bytes("other"), identity_ksf()).error() ==
              errc::bad_finished);
    }
    SECTION("identities the server did not use") {
        const auto alice = bytes("alice");
        CHECK(client_finish(login->state, server->ke2, Identities{alice, {}}, ctx, identity_ksf()).error() ==
              errc::auth_denied);
    }
    SECTION("one flipped bit anywhere in the server MAC") {
        for (std::size_t i = 0; i < Nm; i += 7) {
            auto bad = ke2_bytes;
            bad[ke2_size - Nm + i] ^= std::byte{0x01};
            auto ke2 = parse_ke2(bad);
            REQUIRE(ke2);
            CHECK(client_finish(login->state, *ke2, Identities{}, ctx, identity_ksf()).error() == errc::bad_finished);
        }
    }
    SECTION("one flipped byte in the masked response or the masking nonce") {
        const std::size_t from = element_size;  // masking_nonce, then masked_response
        for (std::size_t i = from; i < credential_response_size; i += 5) {
            auto bad = ke2_bytes;
            bad[i] ^= std::byte{0x80};
            auto ke2 = parse_ke2(bad);
            REQUIRE(ke2);
            auto r = client_finish(login->state, *ke2, Identities{}, ctx, identity_ksf());
            INFO("byte " << i);
            CHECK(r.error() == errc::auth_denied);
        }
    }
    SECTION("the server nonce or key share changed") {
        auto bad = ke2_bytes;
        bad[credential_response_size] ^= std::byte{1};  // server_nonce
        auto ke2 = parse_ke2(bad);
        REQUIRE(ke2);
        CHECK(client_finish(login->state, *ke2, Identities{}, ctx, identity_ksf()).error() == errc::bad_finished);
    }
    SECTION("one flipped bit in KE3's MAC") {
        auto client = client_finish(login->state, server->ke2, Identities{}, ctx, identity_ksf());
        REQUIRE(client);
        for (std::size_t i = 0; i < Nm; i += 9) {
            auto bad = encode(client->ke3);
            bad[i] ^= std::byte{0x04};
            auto ke3 = parse_ke3(bad);
            REQUIRE(ke3);
            CHECK(server_finish(server->state, *ke3).error() == errc::bad_finished);
        }
        auto ok = server_finish(server->state, client->ke3);
        CHECK(ok);
    }
    SECTION("the evaluated element replaced by another valid element") {
        auto ke2 = server->ke2;
        ke2.credential_response.evaluated_message = acct.keys.public_key;
        CHECK(client_finish(login->state, ke2, Identities{}, ctx, identity_ksf()).error() == errc::auth_denied);
    }
}

TEST_CASE("OPAQUE parsers: exact lengths, canonical non-identity elements", "[opaque]") {
    DeterministicRng rng(2);
    const auto pw = bytes("pw");
    Account acct = register_account(rng, pw, bytes("id"), identity_ksf());
    auto login = client_init(pw, client_login_random(rng));
    REQUIRE(login);
    auto server = server_init(acct.keys, acct.record, bytes("id"), login->ke1, Identities{}, {}, server_login_random(rng));
    REQUIRE(server);
    auto client = client_finish(login->state, server->ke2, Identities{}, {}, identity_ksf());
    REQUIRE(client);
    auto start = create_registration_request(pw, random_scalar(rng));
    REQUIRE(start);
    auto response = create_registration_response(start->request, acct.keys, bytes("id"));
    REQUIRE(response);

    const auto ke1 = encode(login->ke1);
    const auto ke2 = encode(server->ke2);
    const auto ke3 = encode(client->ke3);
    const auto req = encode(start->request);
    const auto resp = encode(*response);
    const auto rec = encode(acct.record);

    using Parser = std::error_code (*)(Bytes);
    struct Case {
        const char* name;
        std::vector<std::byte> good;
        Parser parse;
        std::vector<std::size_t> element_offsets;
    };
    const std::vector<Case> cases = {
        {"KE1", {ke1.begin(), ke1.end()}, [](Bytes b) { return parse_ke1(b).error(); }, {0, 64}},
        {"KE2", {ke2.begin(), ke2.end()}, [](Bytes b) { return parse_ke2(b).error(); }, {0, 224}},
        {"KE3", {ke3.begin(), ke3.end()}, [](Bytes b) { return parse_ke3(b).error(); }, {}},
        {"RegistrationRequest", {req.begin(), req.end()},
         [](Bytes b) { return parse_registration_request(b).error(); }, {0}},
        {"RegistrationResponse", {resp.begin(), resp.end()},
         [](Bytes b) { return parse_registration_response(b).error(); }, {0, 32}},
        {"RegistrationRecord", {rec.begin(), rec.end()},
         [](Bytes b) { return parse_registration_record(b).error(); }, {0}},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        CHECK(c.parse(c.good) == std::error_code{});
        auto shorter = c.good;
        shorter.pop_back();
        CHECK(c.parse(shorter) == errc::short_input);
        auto longer = c.good;
        longer.push_back(std::byte{0});
        CHECK(c.parse(longer) == errc::trailing_data);
        CHECK(c.parse({}) == errc::short_input);
        for (std::size_t at : c.element_offsets) {
            INFO("element at " << at);
            auto identity = c.good;
            std::fill_n(identity.begin() + static_cast<std::ptrdiff_t>(at), 32, std::byte{0});
            CHECK(c.parse(identity) == errc::weak_public_key);
            auto noncanonical = c.good;
            std::fill_n(noncanonical.begin() + static_cast<std::ptrdiff_t>(at), 32, std::byte{0xff});
            CHECK(c.parse(noncanonical) == errc::malformed);
            auto negative = c.good;
            std::fill_n(negative.begin() + static_cast<std::ptrdiff_t>(at), 32, std::byte{0});
            negative[at] = std::byte{1};
            CHECK(c.parse(negative) == errc::malformed);
        }
    }
}

TEST_CASE("OPAQUE functions refuse bad elements handed to them directly", "[opaque]") {
    DeterministicRng rng(3);
    Account acct = register_account(rng, bytes("pw"), bytes("id"), identity_ksf());
    auto login = client_init(bytes("pw"), client_login_random(rng));
    REQUIRE(login);

    KE1 ke1 = login->ke1;
    ke1.auth_request.client_public_keyshare = Element{};
    CHECK(server_init(acct.keys, acct.record, bytes("id"), ke1, Identities{}, {}, server_login_random(rng)).error() ==
          errc::weak_public_key);
    ke1 = login->ke1;
    ke1.credential_request.blinded_message = Element{};
    CHECK(server_init(acct.keys, acct.record, bytes("id"), ke1, Identities{}, {}, server_login_random(rng)).error() ==
          errc::weak_public_key);

    auto server = server_init(acct.keys, acct.record, bytes("id"), login->ke1, Identities{}, {}, server_login_random(rng));
    REQUIRE(server);
    KE2 ke2 = server->ke2;
    ke2.auth_response.server_public_keyshare = Element{};
    CHECK(client_finish(login->state, ke2, Identities{}, {}, identity_ksf()).error() == errc::weak_public_key);
    ke2 = server->ke2;
    ke2.credential_response.evaluated_message.fill(std::byte{0xff});
    CHECK(client_finish(login->state, ke2, Identities{}, {}, identity_ksf()).error() == errc::malformed);

    RegistrationRequest req{Element{}};
    CHECK(create_registration_response(req, acct.keys, bytes("id")).error() == errc::weak_public_key);
    auto start = create_registration_request(bytes("pw"), random_scalar(rng));
    REQUIRE(start);
    auto response = create_registration_response(start->request, acct.keys, bytes("id"));
    REQUIRE(response);
    RegistrationResponse bad = *response;
    bad.server_public_key = Element{};
    CHECK(finalize_registration_request(start->state, bad, Identities{}, identity_ksf(), Nonce{}).error() ==
          errc::weak_public_key);
    bad = *response;
    bad.evaluated_message.fill(std::byte{0xff});
    CHECK(finalize_registration_request(start->state, bad, Identities{}, identity_ksf(), Nonce{}).error() ==
          errc::malformed);
    // A private key that is not a reduced scalar.
    std::array<std::byte, 32> big{};
    big.fill(std::byte{0xff});
    CHECK(server_keys(std::array<std::byte, 64>{}, big).error() == errc::invalid_argument);
    CHECK(server_keys(std::array<std::byte, 64>{}, std::array<std::byte, 32>{}).error() == errc::invalid_argument);
}

TEST_CASE("OPAQUE with Argon2id: register and log in; another password or other parameters fail", "[opaque]") {
    DeterministicRng rng(4);
    const auto pw = bytes("hunter2 but longer");
    Account acct = register_account(rng, pw, bytes("carol"), small_argon2id);

    auto attempt = [&](Bytes password, const KsfParams& ksf) -> std::error_code {
        auto login = client_init(password, client_login_random(rng));
        REQUIRE(login);
        auto server =
            server_init(acct.keys, acct.record, bytes("carol"), login->ke1, Identities{}, {}, server_login_random(rng));
        REQUIRE(server);
        auto client = client_finish(login->state, server->ke2, Identities{}, {}, ksf);
        if (!client) return client.error();
        auto key = server_finish(server->state, client->ke3);
        REQUIRE(key);
        CHECK(*key == client->session_key);
        return {};
    };
    CHECK(attempt(pw, small_argon2id) == std::error_code{});
    CHECK(attempt(bytes("hunter3 but longer"), small_argon2id) == errc::auth_denied);
    // The same password stretched with the identity, or with other Argon2id costs, is another key.
    CHECK(attempt(pw, identity_ksf()) == errc::auth_denied);
    CHECK(attempt(pw, argon2id_ksf(crypto::Argon2idParams{2, 64 * 1024})) == errc::auth_denied);
    // Parameters outside libsodium's (and the library's) bounds are refused, not run.
    CHECK(attempt(pw, argon2id_ksf(crypto::Argon2idParams{0, 64 * 1024})) == errc::invalid_argument);
}

TEST_CASE("OPAQUE: Argon2id stretching differs from the identity and is deterministic", "[opaque]") {
    std::array<std::byte, 64> oprf_output{};
    oprf_output[0] = std::byte{42};
    SecretBytes<Nh> a, b, c;
    REQUIRE(randomized_password(a.span(), oprf_output, small_argon2id));
    REQUIRE(randomized_password(b.span(), oprf_output, small_argon2id));
    REQUIRE(randomized_password(c.span(), oprf_output, identity_ksf()));
    CHECK(a == b);
    CHECK_FALSE(a == c);
}
