// Stealth mode (PROTOCOL.md 4.1.1, 10.9, 10.13): host_key_mac is keyed by an X25519 agreement between
// the client's ephemeral secret and the server's identity, so only the server's private key checks it;
// a stealth server answers only a client_hello that proves knowledge of its key, and nothing else at
// all; and every client_hello carries the extension, so first contact looks like a known host.
#include "support.hpp"

#include "handshake/host_key_mac.hpp"
#include "crypto/labels.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

namespace {

ServerConfig stealthy(const PrivateKey& host) {
    ServerConfig c{.host_key = host};
    c.stealth = true;
    return c;
}

ClientConfig knowing(const PrivateKey& me, std::optional<PublicKey> server) {
    ClientConfig c{.identity = me, .account = "frank"};
    c.known_server_key = std::move(server);
    return c;
}

// Offsets in a v1 client_hello with one version, one suite and one X25519 share (PROTOCOL.md 4.1).
constexpr std::size_t random_at = 10, share_at = 47, ext_length_at = 79, mac_at = 85, hello_size = 101;

bool server_accepts(const PrivateKey& host, const ByteVec& hello) {
    auto ch = handshake::parse_client_hello(std::span(hello).subspan(handshake::header_size));
    if (!ch) return false;  // a stealth server parses first: what does not parse has no proof
    handshake::SecretBlock block;
    return handshake::check_host_key_mac(hello, *ch, host, block.get());
}

ByteVec seal_for(const PublicKey& server, ByteVec msg, std::span<const std::byte, 32> client_secret) {
    handshake::SecretBlock block;
    std::copy(client_secret.begin(), client_secret.end(), block.get().ephemeral.begin());
    REQUIRE(handshake::seal_host_key_mac(msg, server, block.get()));
    return msg;
}

}  // namespace

TEST_CASE("stealth: a client that knows the host key completes the handshake", "[handshake]") {
    Endpoints e = make_endpoints(31);
    DeterministicRng r1(311), r2(312);
    ClientHandshake client(knowing(e.client_key, e.server_key.public_key()), r1);
    ServerHandshake server(stealthy(e.server_key), r2);
    Run run = run_handshake(client, server);
    REQUIRE(run.client_result->session_id == run.server_result->session_id);
    // 81 bytes without extensions (4.1) plus the extension: u16 type, u16 length, 16 bytes of MAC.
    REQUIRE(run.m1.size() == 81 + 4 + handshake::host_key_mac_size);
    REQUIRE(hex(std::span(run.m1).subspan(ext_length_at, 6)) == "001400020010");
    REQUIRE(server_accepts(e.server_key, run.m1));
    REQUIRE_FALSE(server_accepts(make_endpoints(39).server_key, run.m1));
}

TEST_CASE("stealth: without the proof, with a proof for another key, or with any byte changed, nothing is sent",
          "[handshake]") {
    Endpoints e = make_endpoints(32);
    Endpoints other = make_endpoints(33);
    for (const std::optional<PublicKey>& known :
         {std::optional<PublicKey>{}, std::optional<PublicKey>{other.server_key.public_key()}}) {
        DeterministicRng r1(321), r2(322);
        ClientHandshake client(knowing(e.client_key, known), r1);
        ServerHandshake server(stealthy(e.server_key), r2);
        REQUIRE(server.feed(client.take_output()).error() == errc::host_key_mac_invalid);
        REQUIRE(server.take_output().empty());
    }

    DeterministicRng r1(323);
    ClientHandshake client(knowing(e.client_key, e.server_key.public_key()), r1);
    const ByteVec good = client.take_output();
    std::size_t silent = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        ByteVec bad = good;
        bad[i] ^= std::byte{0x01};
        DeterministicRng r2(324);
        ServerHandshake server(stealthy(e.server_key), r2);
        const Status st = server.feed(bad);
        // Header bytes may fail earlier (type, length) or leave the server waiting for more; a body that
        // still parses fails the MAC (a changed share changes the agreement, a changed byte the MAC
        // input). In no case does the server say anything.
        REQUIRE(server.take_output().empty());
        if (i >= 4) REQUIRE((st.error() == errc::host_key_mac_invalid || st.error() == errc::malformed));
        if (!st) ++silent;
    }
    REQUIRE(silent >= good.size() - 4);
    // Cut short by a byte, or a byte longer (its header's length too): refused just the same.
    ByteVec longer = concat({good, bytes("x")});
    longer[3] = static_cast<std::byte>(static_cast<unsigned>(longer[3]) + 1);
    for (const ByteVec& bad : {ByteVec(good.begin(), good.end() - 1), longer}) {
        DeterministicRng r2(325);
        ServerHandshake server(stealthy(e.server_key), r2);
        (void)server.feed(bad);
        (void)server.end_of_input();
        REQUIRE(server.take_output().empty());
        REQUIRE_FALSE(server.complete());
    }
}

TEST_CASE("stealth: host_key_mac must be the last extension", "[handshake]") {
    Endpoints e = make_endpoints(34);
    const PublicKey server = e.server_key.public_key();
    handshake::ClientHello ch;
    ch.versions = {protocol_version_1};
    ch.suites = {0x0001};
    const std::array<std::byte, 32> secret{std::byte{7}};
    const auto share = crypto::x25519_public(secret);
    ch.shares = {handshake::KeyShare{handshake::group_x25519, share}};
    const std::array<std::byte, handshake::host_key_mac_size> zero{};
    const ByteVec tail = bytes("tail");
    ch.extensions = {handshake::Extension{handshake::ext_host_key_mac, zero}, handshake::Extension{0x7777, tail}};
    // Even a MAC over everything before the 16 bytes it occupies is refused when it is not last.
    ByteVec msg = seal_for(server, handshake::write_client_hello(ch), secret);
    REQUIRE_FALSE(server_accepts(e.server_key, msg));
    ch.extensions = {handshake::Extension{0x7777, tail}, handshake::Extension{handshake::ext_host_key_mac, zero}};
    msg = seal_for(server, handshake::write_client_hello(ch), secret);
    REQUIRE(server_accepts(e.server_key, msg));
    REQUIRE_FALSE(server_accepts(make_endpoints(35).server_key, msg));
    // The proof is bound to the share it was made with: another share (and its own secret) is needed.
    const std::array<std::byte, 32> other_secret{std::byte{8}};
    const auto other_share = crypto::x25519_public(other_secret);  // the KeyShare only views it
    ch.shares = {handshake::KeyShare{handshake::group_x25519, other_share}};
    ByteVec swapped = handshake::write_client_hello(ch);
    std::copy(msg.end() - 16, msg.end(), swapped.end() - 16);
    REQUIRE_FALSE(server_accepts(e.server_key, swapped));
}

TEST_CASE("stealth: a server not in stealth mode ignores host_key_mac, right or wrong", "[handshake]") {
    Endpoints e = make_endpoints(36);
    Endpoints other = make_endpoints(37);
    for (const std::optional<PublicKey>& known :
         {std::optional<PublicKey>{e.server_key.public_key()}, std::optional<PublicKey>{other.server_key.public_key()},
          std::optional<PublicKey>{}}) {
        DeterministicRng r1(361), r2(362);
        ClientHandshake client(knowing(e.client_key, known), r1);
        ServerHandshake server({.host_key = e.server_key}, r2);
        Run run = run_handshake(client, server);
        REQUIRE(run.client_result->session_id == run.server_result->session_id);
    }
}

TEST_CASE("stealth: a replayed client_hello is answered (the documented limit of the proof)", "[handshake]") {
    // host_key_mac proves knowledge of the server's key, not freshness: whoever has seen a real
    // client_hello can replay it to the same server and learn that a twoway server listens there,
    // though it cannot go on (it lacks the client's X25519 secret). PROTOCOL.md 10.9 says so.
    Endpoints e = make_endpoints(38);
    DeterministicRng r1(381), r2(382), r3(383);
    ClientHandshake client(knowing(e.client_key, e.server_key.public_key()), r1);
    const ByteVec hello = client.take_output();
    ServerHandshake first(stealthy(e.server_key), r2);
    REQUIRE(first.feed(hello));
    ServerHandshake replayed(stealthy(e.server_key), r3);
    REQUIRE(replayed.feed(hello));
    REQUIRE_FALSE(replayed.take_output().empty());
}

TEST_CASE("stealth: a passive observer holding 10,000 candidate host keys cannot tell which one the client expects",
          "[handshake]") {
    // The observer has the recorded client_hello and every candidate's public key, the right one among
    // them. Under the first draft of v1 the MAC key was a function of the public key alone, and testing
    // each candidate named the expected server at once. Now the key comes from X25519(client ephemeral
    // secret, server key): every computation the observer can make from public values matches no
    // candidate, while the expected server's private key (and no other) verifies the proof.
    constexpr std::size_t candidates = 10'000;
    constexpr std::size_t expected = 6'173;
    DeterministicRng keys(2026);
    std::vector<PrivateKey> servers;
    servers.reserve(candidates);
    for (std::size_t i = 0; i < candidates; ++i) servers.push_back(PrivateKey::generate(keys));

    Endpoints e = make_endpoints(40);
    DeterministicRng r1(401);
    ClientHandshake client(knowing(e.client_key, servers[expected].public_key()), r1);
    const ByteVec hello = client.take_output();
    const std::span<const std::byte> covered = std::span(hello).first(mac_at);
    const std::span<const std::byte> mac = std::span(hello).subspan(mac_at);
    const std::span<const std::byte> client_share = std::span(hello).subspan(share_at, 32);

    std::size_t public_matches = 0;
    for (const PrivateKey& candidate : servers) {
        const PublicKey pub = candidate.public_key();
        // The draft's key: expand_label(SHA-512(identity blob), "host key mac", "", 32).
        std::array<std::byte, 32> draft_key{};
        crypto::expand_label(crypto::sha512(pub.blob()), "host key mac", {}, draft_key);
        const auto draft = crypto::hmac_sha512(draft_key, covered);
        // The new derivation with what an observer could put in place of the secret agreement: the
        // candidate's X25519 form, or the client's public share.
        handshake::SecretBlock block;
        auto& s = block.get();
        auto x = crypto::ed25519_public_to_x25519(pub.raw());
        REQUIRE(x);
        std::copy(x->begin(), x->end(), s.shared.begin());
        const auto with_key = handshake::host_key_mac(s, pub, covered);
        std::copy(client_share.begin(), client_share.end(), s.shared.begin());
        const auto with_share = handshake::host_key_mac(s, pub, covered);
        for (std::span<const std::byte> guess :
             {std::span<const std::byte>(draft.data(), 16), std::span<const std::byte>(with_key),
              std::span<const std::byte>(with_share)}) {
            if (crypto::ct_equal(guess, mac)) ++public_matches;
        }
    }
    REQUIRE(public_matches == 0);

    // Only the expected server's private key verifies it; the 1,000 keys around it do not.
    std::size_t private_matches = 0;
    for (std::size_t i = expected - 500; i < expected + 500; ++i) private_matches += server_accepts(servers[i], hello);
    REQUIRE(private_matches == 1);
    REQUIRE(server_accepts(servers[expected], hello));
}

TEST_CASE("stealth: the client_hello of a first contact and of a known host have the same shape", "[handshake]") {
    Endpoints e = make_endpoints(41);
    // The same randomness for both, so every byte that is not random must match.
    DeterministicRng r1(411), r2(411);
    ClientHandshake first_contact(knowing(e.client_key, std::nullopt), r1);
    ClientHandshake known(knowing(e.client_key, e.server_key.public_key()), r2);
    const ByteVec a = first_contact.take_output();
    const ByteVec b = known.take_output();
    REQUIRE(a.size() == hello_size);
    REQUIRE(b.size() == hello_size);
    // Same header, offer, share, extension list and lengths; only the 16 bytes of the extension differ.
    REQUIRE(hex(std::span(a).first(mac_at)) == hex(std::span(b).first(mac_at)));
    REQUIRE(hex(std::span(a).subspan(mac_at)) != hex(std::span(b).subspan(mac_at)));
    auto pa = handshake::parse_client_hello(std::span(a).subspan(4));
    auto pb = handshake::parse_client_hello(std::span(b).subspan(4));
    REQUIRE((pa && pb));
    REQUIRE(pa->extensions.size() == 1);
    REQUIRE(pb->extensions.size() == 1);
    REQUIRE(pa->extensions[0].type == pb->extensions[0].type);
    // The stand-in is fresh randomness: another first contact sends other bytes, and it is no proof.
    DeterministicRng r3(412);
    ClientHandshake again(knowing(e.client_key, std::nullopt), r3);
    const ByteVec c = again.take_output();
    REQUIRE(hex(std::span(a).subspan(mac_at)) != hex(std::span(c).subspan(mac_at)));
    REQUIRE(hex(std::span(a).subspan(random_at, 32)) != hex(std::span(c).subspan(random_at, 32)));
    REQUIRE_FALSE(server_accepts(e.server_key, a));
    REQUIRE(server_accepts(e.server_key, b));
}

TEST_CASE("stealth: a known key with no X25519 form gets random bytes, not an error", "[handshake]") {
    // A small-order Ed25519 key (the identity point) has no usable X25519 form; no honest server has
    // one, and the client must not fail or leak: it sends what a first contact sends.
    Endpoints e = make_endpoints(42);
    PublicKey::Raw identity_point{};
    identity_point[0] = std::byte{1};
    DeterministicRng r1(421), r2(422);
    ClientHandshake client(knowing(e.client_key, PublicKey(identity_point)), r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    Run run = run_handshake(client, server);
    REQUIRE(run.m1.size() == hello_size);
    REQUIRE_FALSE(server_accepts(e.server_key, run.m1));
}

// host_keys (PROTOCOL.md 4.1.2): an empty extension before host_key_mac, which a stealth server still
// finds last and checks; the server reports it in its result, and only then.
TEST_CASE("host_keys: sent only when configured, before host_key_mac, and reported by the server", "[handshake]") {
    Endpoints e = make_endpoints(33);
    for (const bool stealth : {false, true}) {
        for (const bool announce : {false, true}) {
            INFO("stealth " << stealth << ", host_keys " << announce);
            DeterministicRng r1(331), r2(332);
            ClientConfig cc = knowing(e.client_key, e.server_key.public_key());
            cc.host_keys = announce;
            ServerConfig sc{.host_key = e.server_key};
            sc.stealth = stealth;
            ClientHandshake client(cc, r1);
            ServerHandshake server(sc, r2);
            Run run = run_handshake(client, server);
            CHECK(run.server_result->client_accepts_host_keys == announce);
            CHECK_FALSE(run.client_result->client_accepts_host_keys);
            if (announce) {
                REQUIRE(run.m1.size() == hello_size + 4);
                CHECK(hex(std::span(run.m1).subspan(ext_length_at, 10)) == "00180003000000020010");
            } else {
                REQUIRE(run.m1.size() == hello_size);
            }
            CHECK(server_accepts(e.server_key, run.m1));
        }
    }
}

}  // namespace twoway::handshake_test
