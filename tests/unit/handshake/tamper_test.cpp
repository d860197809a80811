// Every single-byte change and every truncation of every handshake message, each with the exact error
// PROTOCOL.md section 8 assigns to it; oversize length fields fail on the header alone.
#include <functional>

#include "support.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

namespace {

enum class Side { client, server };

struct Outcome {
    std::error_code client;
    std::error_code server;
    ByteVec denial;  // what the server sent after failing (its generic denial), if anything
};

// One handshake with message `which` (1..4) passed through `tamper` on its way.
Outcome run_tampered(int which, const std::function<void(ByteVec&)>& tamper, std::uint64_t seed = 7) {
    Endpoints e = make_endpoints(seed);
    DeterministicRng cr(seed * 3 + 1), sr(seed * 3 + 2);
    ClientHandshake c({.identity = e.client_key, .account = "alice"}, cr);
    ServerHandshake s({.host_key = e.server_key}, sr);
    Outcome out;
    auto server_failed = [&] {
        out.server = s.error();
        out.denial = s.take_output();
        if (!out.denial.empty()) {
            static_cast<void>(c.feed(out.denial));
            out.client = c.error();
        }
        return out;
    };

    ByteVec m1 = c.take_output();
    if (which == 1) tamper(m1);
    static_cast<void>(s.feed(m1));
    if (s.error()) return server_failed();
    ByteVec m2 = s.take_output();
    if (m2.empty()) {
        static_cast<void>(s.end_of_input());
        return server_failed();
    }
    if (which == 2) tamper(m2);
    static_cast<void>(c.feed(m2));
    if (!std::holds_alternative<NeedServerVerdict>(c.event())) {
        REQUIRE(c.take_output().empty());
        static_cast<void>(c.end_of_input());
        out.client = c.error();
        return out;
    }
    REQUIRE(c.accept_server());
    ByteVec m3 = c.take_output();
    if (which == 3) tamper(m3);
    static_cast<void>(s.feed(m3));
    if (!std::holds_alternative<NeedClientVerdict>(s.event())) {
        static_cast<void>(s.end_of_input());
        return server_failed();
    }
    REQUIRE(s.authorize());
    ByteVec m4 = s.take_output();
    if (which == 4) tamper(m4);
    static_cast<void>(c.feed(m4));
    if (!c.complete()) static_cast<void>(c.end_of_input());
    out.client = c.error();
    return out;
}

struct Expected {
    Side side;
    errc code;
};

std::size_t u24(const ByteVec& m, std::size_t at) {
    return (static_cast<std::size_t>(m[at + 1]) << 16) | (static_cast<std::size_t>(m[at + 2]) << 8) |
           static_cast<std::size_t>(m[at + 3]);
}

// The header rules (PROTOCOL.md 3): the type, then the length bounds, then whether the body fits in
// what was sent (a longer length waits for bytes that never come: truncated on end of input).
// Returns nullopt when the header is untouched.
std::optional<errc> header_outcome(const ByteVec& orig, const ByteVec& changed, std::size_t at,
                                   handshake::MsgType type, handshake::Role receiver, bool encrypted,
                                   std::size_t available) {
    using namespace handshake;
    const auto t = static_cast<std::uint8_t>(changed[at]);
    if (t != static_cast<std::uint8_t>(type)) return sent_by(t, receiver) ? errc::reflected_message : errc::unexpected_message;
    const std::size_t len = u24(changed, at);
    const std::size_t was = u24(orig, at);
    if (len == was) return std::nullopt;
    const BodyBounds b = body_bounds(type);
    if (len > b.max) return errc::length_too_large;
    if (len < b.min) return errc::malformed;
    if (len > available) return errc::truncated;
    return encrypted ? errc::decrypt_failed : errc::malformed;
}

// client_hello as the client writes it: 1 version, 1 suite, 1 X25519 share, host_key_mac (random bytes).
Expected expect_m1(const ByteVec& orig, const ByteVec& m, std::size_t pos) {
    using namespace handshake;
    if (pos < 4) {
        return {Side::server, *header_outcome(orig, m, 0, MsgType::client_hello, Role::server, false, orig.size() - 4)};
    }
    if (pos == 4 || pos == 7 || pos == 42 || pos == 45 || pos == 46 || pos == 79 || pos == 80 || pos == 83 ||
        pos == 84) {
        return {Side::server, errc::malformed};  // counts and lengths (83, 84: host_key_mac's length)
    }
    if (pos == 5 || pos == 6) return {Side::server, errc::unsupported_version};
    if (pos == 8 || pos == 9) return {Side::server, errc::unsupported_suite};
    if (pos == 43 || pos == 44) return {Side::server, errc::unsupported_suite};  // no X25519 share left
    // client_random, X25519 share, host_key_mac's type and bytes (a server not in stealth mode ignores
    // the extension): the server goes on, but the client's transcript (and, for the share, the DH
    // result) differ from the server's: server_auth does not open.
    return {Side::client, errc::decrypt_failed};
}

// server_hello | server_auth.
Expected expect_m2(const ByteVec& orig, const ByteVec& m, std::size_t pos) {
    using namespace handshake;
    const std::size_t sa = 74;  // server_auth starts here
    if (pos < 4) {
        return {Side::client, *header_outcome(orig, m, 0, MsgType::server_hello, Role::client, false, orig.size() - 4)};
    }
    if (pos == 4 || pos == 5) return {Side::client, errc::unsupported_version};
    if (pos == 6 || pos == 7) return {Side::client, errc::unsupported_suite};
    if (pos == 40 || pos == 41) return {Side::client, errc::malformed};
    if (pos < sa) return {Side::client, errc::decrypt_failed};  // server_random, share: keys differ
    if (pos < sa + 4) {
        return {Side::client,
                *header_outcome(orig, m, sa, MsgType::server_auth, Role::client, true, orig.size() - sa - 4)};
    }
    return {Side::client, errc::decrypt_failed};
}

Expected expect_encrypted(const ByteVec& orig, const ByteVec& m, std::size_t pos, handshake::MsgType type) {
    using namespace handshake;
    const bool to_server = type == MsgType::client_auth;
    const Side side = to_server ? Side::server : Side::client;
    if (pos < 4) {
        return {side, *header_outcome(orig, m, 0, type, to_server ? Role::server : Role::client, true, orig.size() - 4)};
    }
    return {side, errc::decrypt_failed};
}

void check_flip(int which, std::size_t pos, std::uint8_t mask, const ByteVec& orig) {
    ByteVec changed = orig;
    changed[pos] ^= std::byte{mask};
    Expected want = which == 1   ? expect_m1(orig, changed, pos)
                    : which == 2 ? expect_m2(orig, changed, pos)
                    : which == 3 ? expect_encrypted(orig, changed, pos, handshake::MsgType::client_auth)
                                 : expect_encrypted(orig, changed, pos, handshake::MsgType::server_verdict);
    Outcome got = run_tampered(which, [&](ByteVec& m) { m = changed; });
    INFO("message " << which << " byte " << pos << " ^ " << int(mask));
    if (want.side == Side::server) {
        REQUIRE(got.server == want.code);
        if (which == 3) {
            // After server_auth, every server failure is answered with the generic denial.
            REQUIRE(got.denial.size() == 21);
            REQUIRE(got.client == errc::auth_denied);
        } else {
            REQUIRE(got.denial.empty());
            REQUIRE_FALSE(got.client);
        }
    } else {
        REQUIRE(got.client == want.code);
        REQUIRE_FALSE(got.server);
    }
}

std::vector<ByteVec> reference_messages() {
    std::vector<ByteVec> msgs;
    for (int k = 1; k <= 4; ++k) {
        run_tampered(k, [&](ByteVec& m) { msgs.push_back(m); });
    }
    return msgs;
}

}  // namespace

TEST_CASE("every single-byte change of every handshake message fails with its specified error", "[handshake]") {
    const std::vector<ByteVec> msgs = reference_messages();
    REQUIRE(msgs.size() == 4);
    REQUIRE(msgs[0].size() == 101);
    REQUIRE(msgs[3].size() == 21);
    for (int which = 1; which <= 4; ++which) {
        const ByteVec& orig = msgs[static_cast<std::size_t>(which - 1)];
        for (std::size_t pos = 0; pos < orig.size(); ++pos) {
            for (std::uint8_t mask : {0x01, 0x80, 0xff}) check_flip(which, pos, mask, orig);
        }
        // Every other value of the type byte, reflected types included.
        for (unsigned v = 0; v < 256; ++v) {
            if (v != static_cast<unsigned>(orig[0])) check_flip(which, 0, static_cast<std::uint8_t>(v ^ static_cast<unsigned>(orig[0])), orig);
        }
    }
}

TEST_CASE("a message cut at any offset waits, then fails as truncated at end of input", "[handshake]") {
    const std::vector<ByteVec> msgs = reference_messages();
    for (int which = 1; which <= 4; ++which) {
        const ByteVec& full = msgs[static_cast<std::size_t>(which - 1)];
        for (std::size_t cut = 0; cut < full.size(); ++cut) {
            INFO("message " << which << " cut at " << cut);
            Outcome got = run_tampered(which, [&](ByteVec& m) { m.resize(cut); });
            if (which == 1 || which == 3) {
                REQUIRE(got.server == errc::truncated);
                REQUIRE(got.denial.size() == (which == 3 ? 21u : 0u));
            } else {
                REQUIRE(got.client == errc::truncated);
                REQUIRE_FALSE(got.server);
            }
        }
    }
}

TEST_CASE("a cut message followed by other bytes never completes and never crashes", "[handshake]") {
    const std::vector<ByteVec> msgs = reference_messages();
    for (int which = 1; which <= 4; ++which) {
        const ByteVec& full = msgs[static_cast<std::size_t>(which - 1)];
        // The next message the receiver would see, from the same session.
        const ByteVec& later = msgs[static_cast<std::size_t>(which == 4 ? 1 : (which + 1) % 4)];
        for (std::size_t cut = 0; cut < full.size(); cut += 3) {
            INFO("message " << which << " cut at " << cut);
            Outcome got = run_tampered(which, [&](ByteVec& m) {
                m.resize(cut);
                m.insert(m.end(), later.begin(), later.end());
            });
            REQUIRE((got.client || got.server));
        }
    }
}

TEST_CASE("oversize length fields fail on the 4 header bytes alone", "[handshake]") {
    using namespace handshake;
    Endpoints e = make_endpoints(9);
    auto header = [](MsgType t, std::size_t len) {
        return ByteVec{static_cast<std::byte>(t), static_cast<std::byte>(len >> 16), static_cast<std::byte>(len >> 8),
                       static_cast<std::byte>(len)};
    };
    for (std::size_t len : {std::size_t{0xffffff}, std::size_t{4097}}) {
        DeterministicRng r(1);
        ServerHandshake s({.host_key = e.server_key}, r);
        REQUIRE(s.feed(header(MsgType::client_hello, len)).error() == errc::length_too_large);
    }
    {
        DeterministicRng r(1);
        ServerHandshake s({.host_key = e.server_key}, r);
        REQUIRE(s.feed(header(MsgType::client_hello, 4096)));  // at the cap: waits for the body
        REQUIRE(std::holds_alternative<WantInput>(s.event()));
    }
    // Client states: server_hello, server_auth, server_verdict.
    DeterministicRng cr(2), sr(3);
    ClientHandshake c({.identity = e.client_key, .account = "a"}, cr);
    ServerHandshake s({.host_key = e.server_key}, sr);
    REQUIRE(s.feed(c.take_output()));
    const ByteVec m2 = s.take_output();
    {
        DeterministicRng r(2);
        ClientHandshake c2({.identity = e.client_key, .account = "a"}, r);
        REQUIRE(c2.feed(header(MsgType::server_hello, 2049)).error() == errc::length_too_large);
    }
    {
        DeterministicRng r(2);
        ClientHandshake c2({.identity = e.client_key, .account = "a"}, r);
        const auto sh = split_messages(m2).at(0);
        REQUIRE(c2.feed(concat({sh, header(MsgType::server_auth, 0xffffff)})).error() == errc::length_too_large);
    }
    REQUIRE(c.feed(m2));
    REQUIRE(c.accept_server());
    const ByteVec m3 = c.take_output();
    REQUIRE(c.feed(header(MsgType::server_verdict, 18)).error() == errc::length_too_large);
    // The server, waiting for client_auth.
    REQUIRE(s.feed(header(MsgType::client_auth, 10241)).error() == errc::length_too_large);
    REQUIRE(s.take_output().size() == 21);  // the generic denial
}

TEST_CASE("a wrong type byte fails alone, before the length has arrived", "[handshake]") {
    // Garbage (an SSH banner, an HTTP request, zeros, a TLS record) is refused at its first byte.
    Endpoints e = make_endpoints(10);
    for (unsigned v = 0; v < 256; ++v) {
        if (v == 1) continue;
        DeterministicRng r(1);
        ServerHandshake s({.host_key = e.server_key}, r);
        const ByteVec one{static_cast<std::byte>(v)};
        const errc want = handshake::sent_by(static_cast<std::uint8_t>(v), handshake::Role::server)
                              ? errc::reflected_message
                              : errc::unexpected_message;
        REQUIRE(s.feed(one).error() == want);
        REQUIRE(s.take_output().empty());
    }
    // The right type byte alone waits for the rest of the header.
    DeterministicRng r(1);
    ServerHandshake s({.host_key = e.server_key}, r);
    REQUIRE(s.feed(ByteVec{std::byte{1}}));
    REQUIRE(std::holds_alternative<WantInput>(s.event()));
    // The client, waiting for server_hello, likewise.
    DeterministicRng cr(2);
    ClientHandshake c({.identity = e.client_key, .account = "a"}, cr);
    static_cast<void>(c.take_output());
    REQUIRE(c.feed(ByteVec{std::byte{'S'}}).error() == errc::unexpected_message);
}

}  // namespace twoway::handshake_test
