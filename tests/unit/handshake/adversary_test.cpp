// Active attacks and refusals: reflection, spliced signatures and Finished values, replay, weak key
// shares, version and suite games, the client's privacy before its verdict, and the generic denial.
#include <algorithm>

#include "reference.hpp"
#include "support/small_order.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

namespace {
using namespace handshake;

ByteVec client_hello_with(const std::function<void(ClientHello&)>& edit, const crypto::X25519Public& share) {
    ClientHello ch;
    ch.versions = {protocol_version_1};
    ch.suites = {0x0001};
    ch.random.fill(std::byte{0x42});
    ch.shares = {KeyShare{group_x25519, share}};
    edit(ch);
    return write_client_hello(ch);
}

crypto::X25519Public some_share() {
    std::array<std::byte, 32> sk{};
    sk.fill(std::byte{7});
    return crypto::x25519_public(sk);
}

struct Session {
    Endpoints e;
    DeterministicRng cr, sr;
    ClientHandshake client;
    ServerHandshake server;
    explicit Session(std::uint64_t seed, std::string account = "alice")
        : e(make_endpoints(seed)),
          cr(seed * 5 + 1),
          sr(seed * 5 + 2),
          client({.identity = e.client_key, .account = std::move(account)}, cr),
          server({.host_key = e.server_key}, sr) {}
};
}  // namespace

TEST_CASE("small-order X25519 shares are refused with weak_public_key", "[handshake]") {
    const auto points = twoway::test::x25519_small_order_points();
    REQUIRE(points.size() == 14);
    Endpoints e = make_endpoints(20);
    for (const ByteVec& p : points) {
        INFO(hex(p));
        // In client_hello, at the server.
        DeterministicRng r(1);
        ServerHandshake s({.host_key = e.server_key}, r);
        ClientHello ch;
        const ByteVec m1 = client_hello_with([&](ClientHello& c) { c.shares[0].data = p; }, some_share());
        REQUIRE(s.feed(m1).error() == errc::weak_public_key);
        REQUIRE(s.take_output().empty());

        // In server_hello, at the client (before anything is decrypted).
        DeterministicRng cr(2), sr(3);
        ClientHandshake c({.identity = e.client_key, .account = "a"}, cr);
        ServerHandshake s2({.host_key = e.server_key}, sr);
        REQUIRE(s2.feed(c.take_output()));
        ByteVec m2 = s2.take_output();
        std::copy(p.begin(), p.end(), m2.begin() + 42);  // server_hello's share
        REQUIRE(c.feed(m2).error() == errc::weak_public_key);
        REQUIRE(c.take_output().empty());
    }
}

TEST_CASE("versions and suites are negotiated, and unknown ones are never selected", "[handshake]") {
    Endpoints e = make_endpoints(21);
    const auto share = some_share();
    auto server_on = [&](const ByteVec& m1) {
        DeterministicRng r(5);
        ServerHandshake s({.host_key = e.server_key}, r);
        static_cast<void>(s.feed(m1));
        return std::pair{s.error(), s.take_output()};
    };
    auto chosen = [](const ByteVec& flight) {
        auto sh = parse_server_hello(wire::Bytes(flight).subspan(4, 70));
        REQUIRE(sh);
        return std::pair{sh->version, sh->suite};
    };

    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.versions = {0x0002}; }, share)).first ==
            errc::unsupported_version);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.versions = {0x0000}; }, share)).first ==
            errc::unsupported_version);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.suites = {0x0002}; }, share)).first ==
            errc::unsupported_suite);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.suites = {0x0101}; }, share)).first ==
            errc::unsupported_suite);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.shares[0].group = group_xwing; }, share)).first ==
            errc::unsupported_suite);

    // A later version or an unknown suite listed first is passed over, not an error.
    auto ok = server_on(client_hello_with(
        [](ClientHello& c) {
            c.versions = {0x0002, 0x0001};
            c.suites = {0x0101, 0x0002, 0x0001};
        },
        share));
    REQUIRE_FALSE(ok.first);
    REQUIRE(chosen(ok.second) == std::pair<std::uint16_t, std::uint16_t>{0x0001, 0x0001});
    // Unknown extensions and extra shares of unknown groups are ignored (but bound into the transcript).
    const ByteVec ext = bytes("future");
    const ByteVec other_share(1216, std::byte{9});
    ok = server_on(client_hello_with(
        [&](ClientHello& c) {
            c.extensions = {Extension{0x7777, ext}};
            c.shares.insert(c.shares.begin(), KeyShare{group_xwing, other_share});
        },
        share));
    REQUIRE_FALSE(ok.first);
    // Duplicates are malformed.
    REQUIRE(server_on(client_hello_with([&](ClientHello& c) { c.extensions = {{1, ext}, {1, ext}}; }, share)).first ==
            errc::malformed);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.suites = {1, 1}; }, share)).first == errc::malformed);
    REQUIRE(server_on(client_hello_with([](ClientHello& c) { c.versions = {1, 1}; }, share)).first == errc::malformed);

    // The client refuses a server_hello choosing what it did not offer.
    for (auto [offset, value, want] : {std::tuple{4, 0x0002, errc::unsupported_version},
                                       std::tuple{6, 0x0002, errc::unsupported_suite},
                                       std::tuple{6, 0x0101, errc::unsupported_suite}}) {
        Session s(22);
        REQUIRE(s.server.feed(s.client.take_output()));
        ByteVec m2 = s.server.take_output();
        m2[static_cast<std::size_t>(offset)] = static_cast<std::byte>(value >> 8);
        m2[static_cast<std::size_t>(offset) + 1] = static_cast<std::byte>(value & 0xff);
        REQUIRE(s.client.feed(m2).error() == want);
    }
}

TEST_CASE("messages reflected back to their sender are refused", "[handshake]") {
    {  // client_hello back to the client
        Session s(23);
        const ByteVec m1 = s.client.take_output();
        REQUIRE(s.client.feed(m1).error() == errc::reflected_message);
    }
    {  // the server's flight back to a server, fresh or waiting for client_auth
        Session s(24);
        const ByteVec m1 = s.client.take_output();
        REQUIRE(s.server.feed(m1));
        const ByteVec m2 = s.server.take_output();
        DeterministicRng r(1);
        ServerHandshake other({.host_key = s.e.server_key}, r);
        REQUIRE(other.feed(m2).error() == errc::reflected_message);
        REQUIRE(s.server.feed(m2).error() == errc::reflected_message);
        REQUIRE(s.server.take_output().size() == 21);  // denial: server_auth was already sent
        // server_auth alone (a server's encrypted message in the slot of client_auth).
        Session t(24);
        REQUIRE(t.server.feed(t.client.take_output()));
        const auto parts = split_messages(t.server.take_output());
        REQUIRE(t.server.feed(parts[1]).error() == errc::reflected_message);
    }
    {  // client_auth back to the client
        Session s(25);
        REQUIRE(s.server.feed(s.client.take_output()));
        REQUIRE(s.client.feed(s.server.take_output()));
        REQUIRE(s.client.accept_server());
        const ByteVec m3 = s.client.take_output();
        REQUIRE(s.client.feed(m3).error() == errc::reflected_message);
    }
    {  // a server_hello that mirrors the client's own share or random
        for (int field : {0, 1}) {
            Session s(26);
            const ByteVec m1 = s.client.take_output();
            auto ch = parse_client_hello(wire::Bytes(m1).subspan(4));
            REQUIRE(ch);
            ServerHello sh{protocol_version_1, 0x0001, {}, {}};
            sh.random.fill(std::byte{1});
            const auto other = some_share();
            sh.share = other;
            if (field == 0) sh.share = ch->shares[0].data;
            if (field == 1) sh.random = ch->random;
            REQUIRE(s.client.feed(write_server_hello(sh)).error() == errc::reflected_message);
        }
    }
}

TEST_CASE("a reference peer written from the spec interoperates", "[handshake]") {
    Endpoints e = make_endpoints(27);
    {
        DeterministicRng r(1);
        ClientHandshake c({.identity = e.client_key, .account = "alice"}, r);
        ReferenceServer ref(e.server_key, 99);
        const ByteVec m1 = c.take_output();
        REQUIRE(c.feed(ref.build(m1)));
        REQUIRE(std::get<NeedServerVerdict>(c.event()).server_key == e.server_key.public_key());
        REQUIRE(c.accept_server());
        static_cast<void>(c.take_output());
        const std::byte accepted{0};
        REQUIRE(c.feed(ref.verdict(std::span(&accepted, 1))));
        REQUIRE(c.complete());
    }
    {
        DeterministicRng r(2);
        ServerHandshake s({.host_key = e.server_key}, r);
        ReferenceClient ref(e.client_key, 98);
        REQUIRE(s.feed(ref.hello()));
        REQUIRE(s.feed(ref.auth(s.take_output(), "alice")));
        const auto ev = s.event();
        REQUIRE(std::get<NeedClientVerdict>(ev).client_key == e.client_key.public_key());
        REQUIRE(std::get<NeedClientVerdict>(ev).account == "alice");
        REQUIRE(s.authorize());
        auto v = ref.open_verdict(s.take_output());
        REQUIRE(v);
        REQUIRE(*v == ByteVec{std::byte{0}});
    }
}

TEST_CASE("server signatures and Finished values spliced from another session are refused", "[handshake]") {
    Endpoints e = make_endpoints(28);
    const PrivateKey other = make_endpoints(29).server_key;
    // Session A's values, by the genuine host key.
    DeterministicRng ra(1);
    ClientHandshake ca({.identity = e.client_key, .account = "alice"}, ra);
    ReferenceServer a(e.server_key, 50);
    static_cast<void>(a.build(ca.take_output()));
    const AuthParts from_a = a.parts();

    auto client_against = [&](const AuthOverrides& o) {
        DeterministicRng rb(2);
        ClientHandshake c({.identity = e.client_key, .account = "alice"}, rb);
        ReferenceServer b(e.server_key, 51);
        static_cast<void>(c.feed(b.build(c.take_output(), o)));
        REQUIRE(c.take_output().empty());  // nothing about the client went out
        return c.error();
    };
    REQUIRE(client_against({.signature_blob = from_a.signature_blob}) == errc::bad_signature);
    REQUIRE(client_against({.finished = from_a.finished}) == errc::bad_finished);
    // The identity of another key with a signature by the real one, and the reverse.
    REQUIRE(client_against({.identity = other.public_key().blob()}) == errc::bad_signature);
    REQUIRE(client_against({.signer = &other}) == errc::bad_signature);
    // Blobs that do not parse, or of another key type.
    REQUIRE(client_against({.signature_blob = bytes("garbage")}) == errc::malformed);
    wire::Writer rsa;
    rsa.string("ssh-rsa").string(bytes("e")).string(bytes("n"));
    REQUIRE(client_against({.identity = rsa.take()}) == errc::unsupported_key_type);
    wire::Writer rsasig;
    rsasig.string("rsa-sha2-256").string(ByteVec(64));
    REQUIRE(client_against({.signature_blob = rsasig.take()}) == errc::malformed);
}

TEST_CASE("client signatures and Finished values spliced from another session are refused", "[handshake]") {
    Endpoints e = make_endpoints(30);
    const PrivateKey other = make_endpoints(31).client_key;
    DeterministicRng ra(1);
    ServerHandshake sa({.host_key = e.server_key}, ra);
    ReferenceClient a(e.client_key, 60);
    REQUIRE(sa.feed(a.hello()));
    static_cast<void>(a.auth(sa.take_output(), "alice"));
    const AuthParts from_a = a.parts();

    auto server_against = [&](const AuthOverrides& o) {
        DeterministicRng rb(2);
        ServerHandshake s({.host_key = e.server_key}, rb);
        ReferenceClient b(e.client_key, 61);
        REQUIRE(s.feed(b.hello()));
        static_cast<void>(s.feed(b.auth(s.take_output(), "alice", o)));
        // Whatever the fault, the client gets the one generic denial.
        const ByteVec denial = s.take_output();
        auto v = b.open_verdict(denial);
        REQUIRE(v);
        REQUIRE(*v == ByteVec{std::byte{1}});
        REQUIRE_FALSE(s.denial_reason().empty());
        return s.error();
    };
    REQUIRE(server_against({.signature_blob = from_a.signature_blob}) == errc::bad_signature);
    REQUIRE(server_against({.finished = from_a.finished}) == errc::bad_finished);
    REQUIRE(server_against({.identity = other.public_key().blob()}) == errc::bad_signature);
    REQUIRE(server_against({.signer = &other}) == errc::bad_signature);
    wire::Writer empty_account, control, long_account;
    empty_account.string(bytes(""));
    control.string(bytes("al\nice"));
    long_account.string(std::string(257, 'a'));
    REQUIRE(server_against({.account_field = empty_account.take()}) == errc::malformed);
    REQUIRE(server_against({.account_field = control.take()}) == errc::malformed);
    REQUIRE(server_against({.account_field = long_account.take()}) == errc::malformed);
}

TEST_CASE("a client_auth replayed into a new session is refused", "[handshake]") {
    Session a(32);
    Run run = run_handshake(a.client, a.server);
    // The same client_hello replayed to a fresh server yields fresh server randomness and keys, so
    // the recorded client_auth does not open.
    for (bool replay_hello : {true, false}) {
        DeterministicRng r(3), rc(4);
        ServerHandshake s({.host_key = a.e.server_key}, r);
        ClientHandshake c({.identity = a.e.client_key, .account = "alice"}, rc);
        REQUIRE(s.feed(replay_hello ? run.m1 : c.take_output()));
        REQUIRE(s.take_output() != run.m2);
        REQUIRE(s.feed(run.m3).error() == errc::decrypt_failed);
        REQUIRE(s.take_output().size() == 21);
    }
    // A server_verdict replayed into a new session does not open either.
    Session b(32);
    b.cr = DeterministicRng(77);
    DeterministicRng rc(5), rs(6);
    ClientHandshake c({.identity = a.e.client_key, .account = "alice"}, rc);
    ServerHandshake s({.host_key = a.e.server_key}, rs);
    REQUIRE(s.feed(c.take_output()));
    REQUIRE(c.feed(s.take_output()));
    REQUIRE(c.accept_server());
    REQUIRE(c.feed(run.m4).error() == errc::decrypt_failed);
}

TEST_CASE("a client that rejects the server key has revealed nothing about itself", "[handshake]") {
    Session s(33, "secret-account-name");
    const ByteVec m1 = s.client.take_output();
    REQUIRE(s.server.feed(m1));
    REQUIRE(s.client.feed(s.server.take_output()));
    REQUIRE(s.client.take_output().empty());
    REQUIRE(std::get<NeedServerVerdict>(s.client.event()).server_key == s.e.server_key.public_key());
    REQUIRE(s.client.reject_server());
    REQUIRE(s.client.error() == errc::host_key_rejected);
    REQUIRE(s.client.take_output().empty());
    REQUIRE(s.client.accept_server().error() == errc::bad_state);
    REQUIRE(s.client.take_output().empty());
    // Everything it ever sent is client_hello, which holds neither its key nor the account.
    const auto& pk = s.e.client_key.public_key().raw();
    REQUIRE(std::search(m1.begin(), m1.end(), pk.begin(), pk.end()) == m1.end());
    const ByteVec acct = bytes("secret-account-name");
    REQUIRE(std::search(m1.begin(), m1.end(), acct.begin(), acct.end()) == m1.end());
}

TEST_CASE("a refused client receives only the generic encrypted denial", "[handshake]") {
    std::vector<ByteVec> denials;
    for (const char* reason : {"key not in /home/alice/.twoway/authorized_keys", "account locked", "x"}) {
        Endpoints e = make_endpoints(34);
        ScriptedRng cr;
        const ByteVec ephemeral(32, std::byte{0x5a});
        cr.push(ByteVec(32, std::byte{0x11}));  // client_random
        cr.push(ephemeral);                      // X25519 secret
        DeterministicRng sr(35);
        ClientHandshake c({.identity = e.client_key, .account = "alice"}, cr);
        ServerHandshake s({.host_key = e.server_key}, sr);
        const ByteVec m1 = c.take_output();
        REQUIRE(s.feed(m1));
        const ByteVec m2 = s.take_output();
        REQUIRE(c.feed(m2));
        REQUIRE(c.accept_server());
        REQUIRE(s.feed(c.take_output()));
        REQUIRE(s.deny(reason));
        REQUIRE(s.error() == errc::auth_denied);
        REQUIRE(s.denial_reason() == reason);
        const ByteVec denial = s.take_output();
        REQUIRE(denial.size() == 21);
        // Decoded with the session's keys, it is the one-byte verdict "denied" and nothing else.
        auto keys = observe(std::span<const std::byte, 32>(ephemeral.data(), 32), m1, split_messages(m2).at(0));
        auto plain = open(denial, keys->block.get().server_key, 1);
        REQUIRE(plain);
        REQUIRE(*plain == ByteVec{std::byte{1}});
        const ByteVec r = bytes(reason);
        REQUIRE(std::search(denial.begin(), denial.end(), r.begin(), r.end()) == denial.end());
        REQUIRE(c.feed(denial).error() == errc::auth_denied);
        REQUIRE_FALSE(c.complete());
        REQUIRE(s.feed(bytes("more")).error() == errc::auth_denied);
        REQUIRE(s.take_output().empty());  // denied once, never again
        denials.push_back(denial);
    }
    // The same session inputs give byte-identical denials whatever the reason.
    REQUIRE(denials[0] == denials[1]);
    REQUIRE(denials[1] == denials[2]);
}

TEST_CASE("server_verdict plaintexts other than accept and deny are malformed", "[handshake]") {
    Endpoints e = make_endpoints(36);
    for (const ByteVec& plain : {ByteVec{std::byte{2}}, ByteVec{std::byte{0x80}}, ByteVec{std::byte{0xff}}}) {
        DeterministicRng r(1);
        ClientHandshake c({.identity = e.client_key, .account = "alice"}, r);
        ReferenceServer ref(e.server_key, 70);
        REQUIRE(c.feed(ref.build(c.take_output())));
        REQUIRE(c.accept_server());
        REQUIRE(c.feed(ref.verdict(plain)).error() == errc::malformed);
    }
}

}  // namespace twoway::handshake_test
