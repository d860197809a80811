// Strict Ed25519 verification (PROTOCOL.md 7.3): every edge case a lenient verifier accepts (small-order
// or non-canonical public keys and R values, S >= L) is refused in the handshake, by both roles, with the
// forgery built over the very payload the peer signs. docs/test-vectors/ed25519.json publishes the same
// cases over a fixed payload.
#include "reference.hpp"
#include "support/ed25519_edge.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

namespace {

// The edge case `name` for `signer`'s key over `payload`: its identity blob and signature blob.
struct Forged {
    ByteVec identity;
    ByteVec signature;
};
Forged forge(const PrivateKey& signer, wire::Bytes payload, const std::string& name) {
    const SecretBytes<32> seed = signer.seed();
    for (const test::Ed25519Case& c : test::ed25519_edge_cases(seed.span(), payload)) {
        if (c.name != name) continue;
        return {PublicKey(c.public_key).blob(), handshake::ed25519_signature_blob(c.signature)};
    }
    FAIL("no Ed25519 case " << name);
    return {};
}

const std::vector<std::string> edge_cases = {
    "small_order_public_key", "order_8_public_key", "small_order_public_key_honest_r", "order_8_public_key_honest_r",
    "small_order_r",          "non_canonical_r",    "non_canonical_public_key",        "s_not_reduced"};

}  // namespace

TEST_CASE("the client refuses every Ed25519 edge case in server_auth and reveals nothing", "[handshake]") {
    Endpoints e = make_endpoints(43);
    for (const std::string& name : [] {
             auto all = edge_cases;
             all.insert(all.begin(), "valid");
             return all;
         }()) {
        INFO(name);
        DeterministicRng r(431);
        ClientHandshake c({.identity = e.client_key, .account = "alice"}, r);
        ReferenceServer server(e.server_key, 432);
        // The identity is part of the signed transcript, so the forger must pick it before it sees the
        // payload: every case keeps the key it was made for, so compute it once for any payload.
        const ByteVec identity = forge(e.server_key, bytes("any"), name).identity;
        AuthOverrides o;
        o.identity = identity;
        o.forge = [&](wire::Bytes payload) { return forge(e.server_key, payload, name).signature; };
        static_cast<void>(c.feed(server.build(c.take_output(), o)));
        if (name == "valid") {
            REQUIRE(std::holds_alternative<NeedServerVerdict>(c.event()));
            continue;
        }
        REQUIRE(c.error() == errc::bad_signature);
        REQUIRE(c.take_output().empty());  // nothing about the client went out
    }
}

TEST_CASE("the server refuses every Ed25519 edge case in client_auth with the generic denial", "[handshake]") {
    Endpoints e = make_endpoints(44);
    for (const std::string& name : edge_cases) {
        INFO(name);
        DeterministicRng r(441);
        ServerHandshake s({.host_key = e.server_key}, r);
        ReferenceClient client(e.client_key, 442);
        REQUIRE(s.feed(client.hello()));
        AuthOverrides o;
        o.identity = forge(e.client_key, bytes("any"), name).identity;
        o.forge = [&](wire::Bytes payload) { return forge(e.client_key, payload, name).signature; };
        static_cast<void>(s.feed(client.auth(s.take_output(), "alice", o)));
        REQUIRE(s.error() == errc::bad_signature);
        auto v = client.open_verdict(s.take_output());
        REQUIRE(v);
        REQUIRE(*v == ByteVec{std::byte{1}});
    }
}

}  // namespace twoway::handshake_test
