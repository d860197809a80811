// Stealth mode (PROTOCOL.md 4.1.1): a server that requires host_key_mac answers only a client_hello
// that proves knowledge of its public key, and answers nothing else at all.
#include "support.hpp"

#include "handshake/host_key_mac.hpp"

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
    REQUIRE(hex(std::span(run.m1).subspan(79, 6)) == "001400020010");
    REQUIRE(handshake::check_host_key_mac(run.m1, handshake::host_key_mac_key(e.server_key.public_key())));
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
        // Header bytes may fail earlier (type, length) or leave the server waiting for more; the body
        // always fails the MAC. In no case does the server say anything.
        REQUIRE(server.take_output().empty());
        if (i >= 4) REQUIRE(st.error() == errc::host_key_mac_invalid);
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
    const auto key = handshake::host_key_mac_key(e.server_key.public_key());
    handshake::ClientHello ch;
    ch.versions = {protocol_version_1};
    ch.suites = {0x0001};
    const std::array<std::byte, 32> secret{std::byte{7}};
    const auto share = crypto::x25519_public(secret);
    ch.shares = {handshake::KeyShare{handshake::group_x25519, share}};
    const std::array<std::byte, handshake::host_key_mac_size> zero{};
    const ByteVec tail = bytes("tail");
    ch.extensions = {handshake::Extension{handshake::ext_host_key_mac, zero}, handshake::Extension{0x7777, tail}};
    ByteVec msg = handshake::write_client_hello(ch);
    // Even a MAC over everything before the 16 bytes it occupies is refused when it is not last.
    handshake::seal_host_key_mac(msg, key);
    REQUIRE_FALSE(handshake::check_host_key_mac(msg, key));
    ch.extensions = {handshake::Extension{0x7777, tail}, handshake::Extension{handshake::ext_host_key_mac, zero}};
    msg = handshake::write_client_hello(ch);
    handshake::seal_host_key_mac(msg, key);
    REQUIRE(handshake::check_host_key_mac(msg, key));
    REQUIRE_FALSE(handshake::check_host_key_mac(msg, handshake::host_key_mac_key(make_endpoints(35).server_key.public_key())));
}

TEST_CASE("stealth: a server not in stealth mode ignores host_key_mac, right or wrong", "[handshake]") {
    Endpoints e = make_endpoints(36);
    Endpoints other = make_endpoints(37);
    for (const PublicKey& known : {e.server_key.public_key(), other.server_key.public_key()}) {
        DeterministicRng r1(361), r2(362);
        ClientHandshake client(knowing(e.client_key, known), r1);
        ServerHandshake server({.host_key = e.server_key}, r2);
        Run run = run_handshake(client, server);
        REQUIRE(run.client_result->session_id == run.server_result->session_id);
    }
}

TEST_CASE("stealth: a replayed client_hello is answered (the documented limit of the proof)", "[handshake]") {
    // host_key_mac proves knowledge of a public key, not freshness: whoever has seen a real
    // client_hello can replay it and learn that a twoway server listens, though it cannot go on
    // (it lacks the client's X25519 secret). PROTOCOL.md 4.1.1 says so.
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

}  // namespace twoway::handshake_test
