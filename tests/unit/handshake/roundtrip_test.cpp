// Both roles against each other in one process: many key pairs, results that agree, pipelined bytes.
#include "support.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

TEST_CASE("client and server agree for 200 random key pairs", "[handshake]") {
    for (std::uint64_t i = 0; i < 200; ++i) {
        Endpoints e = make_endpoints(i);
        DeterministicRng crng(i * 7 + 1), srng(i * 7 + 2);
        ClientHandshake client({.identity = e.client_key, .account = "user" + std::to_string(i)}, crng);
        ServerHandshake server({.host_key = e.server_key}, srng);
        Run run = run_handshake(client, server);
        HandshakeResult& c = *run.client_result;
        HandshakeResult& s = *run.server_result;

        REQUIRE(c.peer == e.server_key.public_key());
        REQUIRE(s.peer == e.client_key.public_key());
        REQUIRE(c.account == "user" + std::to_string(i));
        REQUIRE(s.account == c.account);
        REQUIRE(c.suite == Suite::x25519_ed25519_chacha20poly1305);
        REQUIRE(s.suite == c.suite);
        REQUIRE(c.session_id == s.session_id);
        REQUIRE(c.send_secret == s.recv_secret);
        REQUIRE(c.recv_secret == s.send_secret);
        REQUIRE_FALSE(c.send_secret == c.recv_secret);
        REQUIRE(c.leftover.empty());
        REQUIRE(s.leftover.empty());

        auto xc = c.exporter("test binding", bytes("ctx"), 48);
        auto xs = s.exporter("test binding", bytes("ctx"), 48);
        REQUIRE(xc);
        REQUIRE(xs);
        REQUIRE(crypto::ct_equal(xc->span(), xs->span()));

        // The clear messages have the sizes PROTOCOL.md gives for one suite and host_key_mac.
        REQUIRE(run.m1.size() == 101);
        REQUIRE(run.m2.size() == 74 + 4 + (55 + 4 + 87 + 64) + 16);
        REQUIRE(run.m3.size() == 4 + (4 + c.account.size() + 55 + 87 + 64) + 16);
        REQUIRE(run.m4.size() == 21);
    }
}

TEST_CASE("session ids and secrets differ between sessions with the same keys", "[handshake]") {
    Endpoints e = make_endpoints(1);
    DeterministicRng r1(11), r2(12), r3(13), r4(14);
    ClientHandshake c1({.identity = e.client_key, .account = "a"}, r1);
    ServerHandshake s1({.host_key = e.server_key}, r2);
    ClientHandshake c2({.identity = e.client_key, .account = "a"}, r3);
    ServerHandshake s2({.host_key = e.server_key}, r4);
    Run a = run_handshake(c1, s1);
    Run b = run_handshake(c2, s2);
    REQUIRE(a.client_result->session_id != b.client_result->session_id);
    REQUIRE_FALSE(a.client_result->send_secret == b.client_result->send_secret);
}

TEST_CASE("exporter outputs depend on label, context and length and reject bad arguments", "[handshake]") {
    Endpoints e = make_endpoints(2);
    DeterministicRng r1(21), r2(22);
    ClientHandshake c({.identity = e.client_key, .account = "a"}, r1);
    ServerHandshake s({.host_key = e.server_key}, r2);
    Run run = run_handshake(c, s);
    const HandshakeResult& r = *run.client_result;
    auto a = r.exporter("label", bytes("x"), 32);
    auto b = r.exporter("label", bytes("y"), 32);
    auto d = r.exporter("other", bytes("x"), 32);
    auto l = r.exporter("label", bytes("x"), 64);
    REQUIRE((a && b && d && l));
    REQUIRE_FALSE(crypto::ct_equal(a->span(), b->span()));
    REQUIRE_FALSE(crypto::ct_equal(a->span(), d->span()));
    // Length is bound into the derivation (it is part of the HKDF label), so a longer output is not
    // an extension of a shorter one.
    REQUIRE_FALSE(crypto::ct_equal(a->span(), l->span().first(32)));

    REQUIRE(r.exporter("", bytes("x"), 32).error() == errc::invalid_argument);
    REQUIRE(r.exporter(std::string(246, 'a'), bytes("x"), 32).error() == errc::invalid_argument);
    REQUIRE(r.exporter(std::string(245, 'a'), bytes("x"), 32));
    REQUIRE(r.exporter("label", bytes("x"), 0).error() == errc::invalid_argument);
    REQUIRE(r.exporter("label", bytes("x"), 255 * 64 + 1).error() == errc::invalid_argument);
    REQUIRE(r.exporter("label", bytes("x"), 255 * 64));
}

TEST_CASE("bytes pipelined behind the last handshake message become leftover for the channel", "[handshake]") {
    Endpoints e = make_endpoints(3);
    DeterministicRng r1(31), r2(32);
    ClientHandshake client({.identity = e.client_key, .account = "bob"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    REQUIRE(server.feed(client.take_output()));
    REQUIRE(client.feed(server.take_output()));
    REQUIRE(client.accept_server());
    // The client may send records right behind client_auth, in the same write.
    const ByteVec early = bytes("\x00\x00\x00\x11 client records");
    REQUIRE(server.feed(concat({client.take_output(), early})));
    const auto ev = server.event();
    REQUIRE(std::holds_alternative<NeedClientVerdict>(ev));
    REQUIRE(std::get<NeedClientVerdict>(ev).account == "bob");
    REQUIRE(std::get<NeedClientVerdict>(ev).client_key == e.client_key.public_key());
    const ByteVec more = bytes("more");
    REQUIRE(server.feed(more));  // while the verdict is pending
    REQUIRE(server.authorize());
    REQUIRE(server.feed(bytes("!")));  // after completion, before the result is taken
    // The server's records may follow server_verdict in the same read, too, and bytes may arrive
    // split at any point.
    const ByteVec flight = concat({server.take_output(), bytes("server records")});
    REQUIRE(client.feed(std::span(flight).first(3)));
    REQUIRE_FALSE(client.complete());
    REQUIRE(client.feed(std::span(flight).subspan(3)));
    REQUIRE(client.complete());

    auto s = server.take_result();
    auto c = client.take_result();
    REQUIRE((s && c));
    REQUIRE(s->leftover == concat({early, more, bytes("!")}));
    REQUIRE(c->leftover == bytes("server records"));
    REQUIRE(c->account == "bob");
    // The result can be taken once.
    REQUIRE(server.take_result().error() == errc::bad_state);
    REQUIRE(client.feed(bytes("x")).error() == errc::bad_state);
    REQUIRE(client.end_of_input());  // a completed handshake is not truncated
}

TEST_CASE("a handshake fed one byte at a time completes", "[handshake]") {
    Endpoints e = make_endpoints(4);
    DeterministicRng r1(41), r2(42);
    ClientHandshake client({.identity = e.client_key, .account = "carol"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    auto trickle = [](auto& hs, const ByteVec& b) {
        for (std::byte x : b) REQUIRE(hs.feed(std::span(&x, 1)));
    };
    trickle(server, client.take_output());
    trickle(client, server.take_output());
    REQUIRE(client.accept_server());
    trickle(server, client.take_output());
    REQUIRE(server.authorize());
    trickle(client, server.take_output());
    REQUIRE(client.complete());
    REQUIRE(server.complete());
}

TEST_CASE("verdict calls are refused outside their state", "[handshake]") {
    Endpoints e = make_endpoints(5);
    DeterministicRng r1(51), r2(52);
    ClientHandshake client({.identity = e.client_key, .account = "dave"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    REQUIRE(client.accept_server().error() == errc::bad_state);
    REQUIRE(client.reject_server().error() == errc::bad_state);
    REQUIRE(server.authorize().error() == errc::bad_state);
    REQUIRE(server.deny("x").error() == errc::bad_state);
    REQUIRE(client.take_result().error() == errc::bad_state);
    // None of these misuses broke the handshake.
    Run run = run_handshake(client, server);
    REQUIRE(run.client_result->session_id == run.server_result->session_id);
}

TEST_CASE("configurations the library cannot honour fail at once with invalid_argument", "[handshake]") {
    Endpoints e = make_endpoints(6);
    DeterministicRng rng(61);
    const std::vector<ClientConfig> bad_clients = {
        {.identity = e.client_key, .account = ""},
        {.identity = e.client_key, .account = std::string(257, 'a')},
        {.identity = e.client_key, .account = "tab\there"},
        {.identity = e.client_key, .account = "a", .suites = {}},
        {.identity = e.client_key, .account = "a", .suites = {Suite::x25519_ed25519_aes256gcm}},
        {.identity = e.client_key, .account = "a", .suites = {Suite::xwing_ed25519_chacha20poly1305}},
        {.identity = e.client_key,
         .account = "a",
         .suites = {Suite::x25519_ed25519_chacha20poly1305, Suite::x25519_ed25519_chacha20poly1305}},
    };
    for (const ClientConfig& c : bad_clients) {
        ClientHandshake client(c, rng);
        REQUIRE(client.error() == errc::invalid_argument);
        REQUIRE(failure(client.event()) == errc::invalid_argument);
        REQUIRE(client.take_output().empty());
    }
    ServerHandshake server({.host_key = e.server_key, .suites = {Suite::xwing_ed25519_chacha20poly1305}}, rng);
    REQUIRE(server.error() == errc::invalid_argument);
    ClientHandshake ok({.identity = e.client_key, .account = std::string(256, 'a')}, rng);
    REQUIRE_FALSE(ok.error());
}

}  // namespace twoway::handshake_test
