// HOSTKEYS (PROTOCOL.md 6.5 and 15, "Host key rotation"): the server proves every host key it holds,
// bound to this session; the client accepts the message only when it announced host_keys, only right
// after ACCEPT, only once; a proof for another session, a flipped byte, a malformed or oversized message
// are refused.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "../../support/deterministic_rng.hpp"
#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"
#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using namespace twoway::session::test;
using twoway_test::DeterministicRng;
using twoway::test::hex;

namespace {
struct Keys {
    DeterministicRng rng{1616};
    PrivateKey old_key = PrivateKey::generate(rng);
    PrivateKey new_key = PrivateKey::generate(rng);
    std::array<std::byte, 32> sid{};
    std::array<std::byte, 32> other_sid{};
    Keys() {
        rng.fill(sid);
        rng.fill(other_sid);
    }
    std::vector<const PrivateKey*> both() const { return {&old_key, &new_key}; }
};

std::vector<std::byte> hostkeys_frame(const HostKeysAnnounced& m) {
    wire::Writer w;
    write_hostkeys(w, m);
    return w.take();
}

// A client past ACCEPT (with allow_host_keys() when asked), and the server's bytes after its ACCEPT.
SessionClient accepted_client(bool allow) {
    auto c = SessionClient::start(exec_request("true"));
    REQUIRE(c.has_value());
    if (allow) REQUIRE(c->allow_host_keys().has_value());
    wire::Writer w;
    write_accept(w, AcceptMsg{default_window});
    auto ev = c->feed(w.view());
    REQUIRE(ev.has_value());
    REQUIRE(c->accepted());
    return std::move(*c);
}
}  // namespace

TEST_CASE("the host key proof payload: context, separator, SHA-512 over session id and key blob", "[session][hostkeys]") {
    Keys k;
    const auto payload = host_key_proof_payload(k.sid, k.old_key.public_key());
    REQUIRE(payload.size() == 89);
    const std::string context = "twoway v1 host key proof";
    CHECK(std::string(reinterpret_cast<const char*>(payload.data()), context.size()) == context);
    CHECK(payload[context.size()] == std::byte{0});
    wire::Writer bound;
    bound.bytes(k.sid).string(k.old_key.public_key().blob());
    const auto h = crypto::sha512(bound.view());
    CHECK(hex(std::span(payload).subspan(25)) == hex(h));
    // Another session or another key: another payload.
    CHECK(host_key_proof_payload(k.other_sid, k.old_key.public_key()) != payload);
    CHECK(host_key_proof_payload(k.sid, k.new_key.public_key()) != payload);
}

TEST_CASE("proofs verify for their session and for no other", "[session][hostkeys]") {
    Keys k;
    HostKeysAnnounced m{{prove_host_key(k.old_key, k.sid), prove_host_key(k.new_key, k.sid)}};
    auto keys = verify_host_keys(m, k.sid);
    REQUIRE(keys.has_value());
    CHECK(*keys == std::vector<PublicKey>{k.old_key.public_key(), k.new_key.public_key()});
    // Replayed into another session: refused as a whole.
    CHECK(verify_host_keys(m, k.other_sid).error() == errc::bad_signature);
    // One proof made for another session among good ones voids the message.
    HostKeysAnnounced mixed{{prove_host_key(k.old_key, k.sid), prove_host_key(k.new_key, k.other_sid)}};
    CHECK(verify_host_keys(mixed, k.sid).error() == errc::bad_signature);
    // A key's proof presented for another key.
    HostKeysAnnounced swapped = m;
    std::swap(swapped.keys[0].signature, swapped.keys[1].signature);
    CHECK(verify_host_keys(swapped, k.sid).error() == errc::bad_signature);
    // One flipped signature byte.
    HostKeysAnnounced flipped = m;
    flipped.keys[1].signature.back() ^= std::byte{1};
    CHECK(verify_host_keys(flipped, k.sid).error() == errc::bad_signature);
    // Bounds and shapes, for a caller that builds the message itself.
    CHECK(verify_host_keys(HostKeysAnnounced{}, k.sid).error() == errc::malformed);
    HostKeysAnnounced dup{{m.keys[0], m.keys[0]}};
    CHECK(verify_host_keys(dup, k.sid).error() == errc::malformed);
}

TEST_CASE("HOSTKEYS parses what it writes and refuses malformed bodies", "[session][hostkeys]") {
    Keys k;
    HostKeysAnnounced m{{prove_host_key(k.old_key, k.sid), prove_host_key(k.new_key, k.sid)}};
    const auto frame = hostkeys_frame(m);
    REQUIRE(frame.size() == 5 + 1 + 2 * (4 + 51 + 4 + 83));
    CHECK(frame[0] == std::byte{0x1a});
    const wire::Bytes body = wire::Bytes(frame).subspan(5);
    auto back = parse_hostkeys(body);
    REQUIRE(back.has_value());
    CHECK(*back == m);

    auto body_of = [](const std::vector<std::byte>& f) { return std::vector<std::byte>(f.begin() + 5, f.end()); };
    SECTION("count 0") {
        const std::vector<std::byte> zero{std::byte{0}};
        CHECK(parse_hostkeys(zero).error() == errc::malformed);
    }
    SECTION("count above 16") {
        HostKeysAnnounced many;
        DeterministicRng rng{7};
        std::vector<PrivateKey> keys;
        for (int i = 0; i < 17; ++i) keys.push_back(PrivateKey::generate(rng));
        for (const auto& key : keys) many.keys.push_back(prove_host_key(key, k.sid));
        CHECK(parse_hostkeys(body_of(hostkeys_frame(many))).error() == errc::malformed);
        many.keys.pop_back();
        auto sixteen = parse_hostkeys(body_of(hostkeys_frame(many)));
        REQUIRE(sixteen.has_value());
        CHECK(verify_host_keys(*sixteen, k.sid).has_value());
    }
    SECTION("the same key twice") {
        HostKeysAnnounced dup{{m.keys[0], m.keys[0]}};
        CHECK(parse_hostkeys(body_of(hostkeys_frame(dup))).error() == errc::malformed);
    }
    SECTION("a key that is not a plain Ed25519 blob") {
        HostKeysAnnounced bad = m;
        bad.keys[0].key = bytes_of("not a key blob");
        CHECK(parse_hostkeys(body_of(hostkeys_frame(bad))).error() == errc::malformed);
    }
    SECTION("a signature that is not an Ed25519 signature blob") {
        HostKeysAnnounced bad = m;
        bad.keys[1].signature.pop_back();
        CHECK(parse_hostkeys(body_of(hostkeys_frame(bad))).error() == errc::malformed);
    }
    SECTION("a field above 255 bytes") {
        HostKeysAnnounced bad = m;
        bad.keys[0].key.resize(256);
        CHECK(parse_hostkeys(body_of(hostkeys_frame(bad))).error() == errc::length_too_large);
    }
    SECTION("short and trailing") {
        auto b = std::vector<std::byte>(body.begin(), body.end());
        auto shorter = b;
        shorter.pop_back();
        CHECK(parse_hostkeys(shorter).error() == errc::short_input);
        b.push_back(std::byte{0});
        CHECK(parse_hostkeys(b).error() == errc::trailing_data);
    }
}

TEST_CASE("accept_with_host_keys: ACCEPT then HOSTKEYS, reported to a client that allowed it", "[session][hostkeys]") {
    Keys k;
    auto p = Pair::make(exec_request("true"));
    REQUIRE(p.client.allow_host_keys().has_value());
    p.pump();
    const auto keys = k.both();
    REQUIRE(p.server.accept_with_host_keys(keys, k.sid).has_value());
    p.pump();
    REQUIRE(p.client_log() == std::vector<std::string>{"accepted", "hostkeys 2"});
    const auto& announced = std::get<HostKeysAnnounced>(p.client_events[1]);
    auto verified = verify_host_keys(announced, k.sid);
    REQUIRE(verified.has_value());
    CHECK(*verified == std::vector<PublicKey>{k.old_key.public_key(), k.new_key.public_key()});
    CHECK(verify_host_keys(announced, k.other_sid).error() == errc::bad_signature);
    // The session goes on as usual.
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    REQUIRE(p.server.send_exit_status(0).has_value());
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.client.finished());
    CHECK_FALSE(p.client.error());
}

TEST_CASE("accept_with_host_keys refuses what it must not send", "[session][hostkeys]") {
    Keys k;
    auto p = Pair::make(exec_request("true"));
    p.pump();
    std::vector<const PrivateKey*> none;
    CHECK(p.server.accept_with_host_keys(none, k.sid).error() == errc::invalid_argument);
    std::vector<const PrivateKey*> twice{&k.old_key, &k.old_key};
    CHECK(p.server.accept_with_host_keys(twice, k.sid).error() == errc::invalid_argument);
    std::vector<const PrivateKey*> too_many(17, &k.old_key);
    CHECK(p.server.accept_with_host_keys(too_many, k.sid).error() == errc::invalid_argument);
    CHECK_FALSE(p.server.accepted());
    // Not before the request.
    auto early = SessionServer::create();
    REQUIRE(early.has_value());
    const auto keys = k.both();
    CHECK(early->accept_with_host_keys(keys, k.sid).error() == errc::bad_state);
}

TEST_CASE("HOSTKEYS to a client that did not allow it is unexpected, as for an older client", "[session][hostkeys]") {
    Keys k;
    auto c = accepted_client(false);
    const auto f = hostkeys_frame(HostKeysAnnounced{{prove_host_key(k.old_key, k.sid)}});
    CHECK(c.feed(f).error() == errc::unexpected_message);
}

TEST_CASE("HOSTKEYS only first after ACCEPT, and once", "[session][hostkeys]") {
    Keys k;
    const auto f = hostkeys_frame(HostKeysAnnounced{{prove_host_key(k.old_key, k.sid)}});
    SECTION("after DATA") {
        auto c = accepted_client(true);
        wire::Writer w;
        write_data(w, Stream::out, bytes_of("x"));
        REQUIRE(c.feed(w.view()).has_value());
        CHECK(c.feed(f).error() == errc::unexpected_message);
    }
    SECTION("twice") {
        auto c = accepted_client(true);
        auto ev = c.feed(f);
        REQUIRE(ev.has_value());
        CHECK(describe_all(*ev) == std::vector<std::string>{"hostkeys 1"});
        CHECK(c.feed(f).error() == errc::unexpected_message);
    }
    SECTION("before ACCEPT") {
        auto c = SessionClient::start(exec_request("true"));
        REQUIRE(c.has_value());
        REQUIRE(c->allow_host_keys().has_value());
        CHECK(c->feed(f).error() == errc::unexpected_message);
    }
    SECTION("allow_host_keys after ACCEPT is too late") {
        auto c = accepted_client(false);
        CHECK(c.allow_host_keys().error() == errc::bad_state);
    }
    SECTION("malformed HOSTKEYS fails the session") {
        auto c = accepted_client(true);
        const std::vector<std::byte> zero = frame(MsgType::hostkeys, {std::byte{0}});
        CHECK(c.feed(zero).error() == errc::malformed);
    }
}
