// Channel under attack: tampering, reordering, replay, dropping, truncation, bad lengths and types,
// data after close. Every failure must be the exact error, reported as early as possible, and sticky.
#include <catch2/catch.hpp>

#include <twoway/channel.hpp>

#include "channel_support.hpp"
#include "support/hex.hpp"

using namespace twoway;
using namespace twoway::test;
using Kind = Channel::Received::Kind;

namespace {

std::vector<std::byte> header(std::uint32_t len) {
    return {std::byte(len >> 24), std::byte(len >> 16), std::byte(len >> 8), std::byte(len)};
}

// Feeds everything one byte at a time, then signals end of input if nothing failed.
Outcome deliver_then_eof(Channel& rx, std::span<const std::byte> wire) {
    std::mt19937_64 rng(1);
    Outcome o = deliver(rx, wire, rng, 1);
    if (!o.ec) {
        if (Status st = rx.end_of_input(); !st) o.ec = st.error();
    }
    return o;
}

void require_sticky(Channel& c, std::error_code e) {
    REQUIRE(c.error() == e);
    auto r = c.read();
    REQUIRE(r.error() == e);
    REQUIRE(c.feed(bytes("x")).error() == e);
    REQUIRE(c.prepare().empty());
    std::vector<std::byte> out;
    REQUIRE(c.seal(bytes("y"), out).error() == e);
    REQUIRE(c.rekey(out).error() == e);
    REQUIRE(c.close(out).error() == e);
    REQUIRE(c.end_of_input().error() == e);
    REQUIRE(out.empty());
}

}  // namespace

TEST_CASE("channel tampering with any byte of a record is detected", "[channel]") {
    Pair p = make_pair();
    std::mt19937_64 rng(21);
    const auto msg = random_bytes(40, rng);
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(msg, wire));
    REQUIRE(wire.size() == 4 + 57);
    for (std::size_t i = 0; i < wire.size(); ++i) {
        for (unsigned mask : {0x01u, 0x80u, 0xffu}) {
            CAPTURE(i, mask);
            auto bad = wire;
            bad[i] ^= static_cast<std::byte>(mask);
            Channel rx = make_receiver();
            Outcome o = deliver_then_eof(rx, bad);
            REQUIRE(o.data.empty());
            REQUIRE_FALSE(o.closed);
            if (i >= 4) {
                REQUIRE(o.ec == ec(errc::decrypt_failed));
                require_sticky(rx, ec(errc::decrypt_failed));
                continue;
            }
            std::uint32_t len = 0;
            for (int k = 0; k < 4; ++k) len = (len << 8) | static_cast<std::uint32_t>(bad[k]);
            if (len > 65553) {
                REQUIRE(o.ec == ec(errc::record_too_large));
                REQUIRE(o.fed == 4);  // refused on the length bytes alone
            } else if (len < 17) {
                REQUIRE(o.ec == ec(errc::malformed));
                REQUIRE(o.fed == 4);
            } else if (len > 57) {
                REQUIRE(o.ec == ec(errc::truncated));  // waits for bytes that never come
            } else {
                REQUIRE(o.ec == ec(errc::decrypt_failed));  // the length is the AEAD's additional data
            }
            require_sticky(rx, o.ec);
        }
    }
}

TEST_CASE("channel decrypt failure is fatal: one guess per connection", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("secret"), wire));
    auto bad = wire;
    bad.back() ^= std::byte{1};
    std::mt19937_64 rng(1);
    REQUIRE(deliver(p.b, bad, rng, 100).ec == ec(errc::decrypt_failed));
    // The genuine record no longer helps.
    auto n = p.b.feed(wire);
    REQUIRE(n.error() == ec(errc::decrypt_failed));
    require_sticky(p.b, ec(errc::decrypt_failed));
}

TEST_CASE("channel reordered, replayed and dropped records fail", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> r0, r1, r2;
    REQUIRE(p.a.seal(bytes("zero"), r0));
    REQUIRE(p.a.seal(bytes("one"), r1));
    REQUIRE(p.a.seal(bytes("two"), r2));
    auto cat = [](std::initializer_list<const std::vector<std::byte>*> parts) {
        std::vector<std::byte> v;
        for (auto* x : parts) v.insert(v.end(), x->begin(), x->end());
        return v;
    };
    struct Case {
        const char* name;
        std::vector<std::byte> wire;
        std::vector<std::byte> delivered;  // what comes out before the failure
    };
    for (const Case& c : {Case{"reordered", cat({&r1, &r0}), {}},
                          Case{"swapped later", cat({&r0, &r2, &r1}), bytes("zero")},
                          Case{"replayed", cat({&r0, &r0}), bytes("zero")},
                          Case{"replayed later", cat({&r0, &r1, &r1}), bytes("zeroone")},
                          Case{"dropped", cat({&r0, &r2}), bytes("zero")},
                          Case{"dropped first", cat({&r1, &r2}), {}}}) {
        CAPTURE(c.name);
        Channel rx = make_receiver();
        std::mt19937_64 rng(3);
        Outcome o = deliver(rx, c.wire, rng, 9);
        REQUIRE(o.ec == ec(errc::decrypt_failed));
        REQUIRE(o.data == c.delivered);
    }
    // A record from the other direction (reflected) does not open either.
    std::vector<std::byte> back;
    REQUIRE(p.b.seal(bytes("reflect"), back));
    std::mt19937_64 rng(3);
    REQUIRE(deliver(p.b, back, rng, 9).ec == ec(errc::decrypt_failed));
}

TEST_CASE("channel end of input without close is truncation", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("partial story"), wire));
    SECTION("nothing at all") {
        Channel rx = make_receiver();
        REQUIRE(rx.end_of_input().error() == ec(errc::truncated));
        require_sticky(rx, ec(errc::truncated));
    }
    SECTION("whole records but no close") {
        Outcome o = deliver_then_eof(p.b, wire);
        REQUIRE(o.data == bytes("partial story"));
        REQUIRE(o.ec == ec(errc::truncated));
        require_sticky(p.b, ec(errc::truncated));
    }
    SECTION("cut inside a record, also inside the close record") {
        REQUIRE(p.a.close(wire));
        for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{4}, wire.size() - 22, wire.size() - 1}) {
            CAPTURE(cut);
            Channel rx = make_receiver();
            Outcome o = deliver_then_eof(rx, std::span<const std::byte>(wire).first(cut));
            REQUIRE(o.ec == ec(errc::truncated));
            REQUIRE_FALSE(o.closed);
        }
    }
    SECTION("records still buffered at end of input are delivered, then the verdict") {
        REQUIRE(p.b.feed(wire));
        REQUIRE(p.b.end_of_input());  // a complete record is pending: not decided yet
        auto r = p.b.read();
        REQUIRE(r);
        REQUIRE(r->kind == Kind::data);
        REQUIRE(p.b.read().error() == ec(errc::truncated));
    }
    SECTION("unread plaintext at end of input is delivered, then the verdict") {
        REQUIRE(p.b.feed(wire));
        auto r = p.b.read(4);
        REQUIRE(r);
        REQUIRE(std::vector<std::byte>(r->data.begin(), r->data.end()) == bytes("part"));
        REQUIRE(p.b.end_of_input());
        r = p.b.read();
        REQUIRE(r);
        REQUIRE(std::vector<std::byte>(r->data.begin(), r->data.end()) == bytes("ial story"));
        REQUIRE(p.b.read().error() == ec(errc::truncated));
    }
    SECTION("with the close buffered, end of input is clean") {
        REQUIRE(p.a.close(wire));
        REQUIRE(p.b.feed(wire));
        REQUIRE(p.b.end_of_input());
        auto r = p.b.read();
        REQUIRE(r);
        REQUIRE(r->kind == Kind::data);
        REQUIRE(std::vector<std::byte>(r->data.begin(), r->data.end()) == bytes("partial story"));
        r = p.b.read();
        REQUIRE(r);
        REQUIRE(r->kind == Kind::closed);
        REQUIRE(p.b.end_of_input());
    }
}

TEST_CASE("channel nothing may follow a close", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("bye"), wire));
    REQUIRE(p.a.close(wire));
    SECTION("sender side") {
        REQUIRE(p.a.close_sent());
        std::vector<std::byte> more;
        REQUIRE(p.a.seal(bytes("more"), more).error() == ec(errc::bad_state));
        REQUIRE(p.a.rekey(more).error() == ec(errc::bad_state));
        REQUIRE(p.a.close(more).error() == ec(errc::bad_state));
        REQUIRE(more.empty());
        REQUIRE_FALSE(p.a.error());  // misuse, not a failure of the session
    }
    // Records the sender cannot make any more: forged at the next sequence numbers.
    const auto data_after = forge_record(pattern_secret(0x00), 2, 1, bytes("more"));
    const auto close_after = forge_record(pattern_secret(0x00), 2, 2, {});
    SECTION("data arriving after the close was read") {
        std::mt19937_64 rng(1);
        Outcome o = deliver(p.b, wire, rng, 1000);
        REQUIRE(o.closed);
        REQUIRE(p.b.feed(data_after).error() == ec(errc::unexpected_message));
        require_sticky(p.b, ec(errc::unexpected_message));
    }
    SECTION("a second close, or a single stray byte") {
        for (const auto& extra : {close_after, bytes("!")}) {
            Channel rx = make_receiver();
            std::mt19937_64 rng(1);
            REQUIRE(deliver(rx, wire, rng, 1000).closed);
            REQUIRE(rx.feed(extra).error() == ec(errc::unexpected_message));
        }
    }
    SECTION("data in the same read as the close") {
        auto both = wire;
        both.insert(both.end(), data_after.begin(), data_after.end());
        std::mt19937_64 rng(1);
        Outcome o = deliver(p.b, both, rng, both.size());
        REQUIRE(o.data == bytes("bye"));
        REQUIRE(o.ec == ec(errc::unexpected_message));
    }
    SECTION("the receiver may still send after the peer's close") {
        std::mt19937_64 rng(1);
        REQUIRE(deliver(p.b, wire, rng, 1000).closed);
        std::vector<std::byte> reply;
        REQUIRE(p.b.seal(bytes("late reply"), reply));
        REQUIRE(p.b.close(reply));
        Outcome o = deliver(p.a, reply, rng, 7);
        REQUIRE(o.data == bytes("late reply"));
        REQUIRE(o.closed);
    }
}

TEST_CASE("channel record length bounds are checked on the 4 length bytes", "[channel]") {
    struct Case {
        std::uint32_t len;
        std::error_code expect;  // empty: accepted, waiting for the body
    };
    for (const Case& c : {Case{0, ec(errc::malformed)}, Case{16, ec(errc::malformed)}, Case{17, {}},
                          Case{65553, {}}, Case{65554, ec(errc::record_too_large)},
                          Case{0x7fffffff, ec(errc::record_too_large)}, Case{0xffffffff, ec(errc::record_too_large)}}) {
        CAPTURE(c.len);
        Channel rx = make_receiver();
        const auto h = header(c.len);
        // Three bytes decide nothing; the fourth decides at once, before any body byte arrives.
        REQUIRE(rx.feed(std::span<const std::byte>(h).first(3)));
        REQUIRE_FALSE(rx.error());
        auto room = rx.prepare();
        REQUIRE(room.size() == Channel::receive_buffer_size - 3);  // the fixed buffer, nothing sized by L
        room[0] = h[3];
        Status st = rx.commit(1);
        REQUIRE(st.error() == c.expect);
        if (c.expect) {
            require_sticky(rx, c.expect);
        } else {
            auto r = rx.read();
            REQUIRE(r);
            REQUIRE(r->kind == Kind::need_more);
        }
    }
    // Also when the bad length follows a good record in the same chunk.
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("ok"), wire));
    const auto h = header(0x01000000);
    wire.insert(wire.end(), h.begin(), h.end());
    REQUIRE(p.b.feed(wire).error() == ec(errc::record_too_large));
}

TEST_CASE("channel record types and control payloads", "[channel]") {
    const auto secret = pattern_secret(0x00);
    SECTION("unknown types") {
        for (std::uint8_t type : {0x00, 0x04, 0x17, 0x80, 0xff}) {
            CAPTURE(type);
            Channel rx = make_receiver();
            Outcome o = deliver_then_eof(rx, forge_record(secret, 0, type, bytes("payload")));
            REQUIRE(o.ec == ec(errc::unexpected_message));
            require_sticky(rx, ec(errc::unexpected_message));
        }
    }
    SECTION("close and key_update must be empty") {
        for (std::uint8_t type : {0x02, 0x03}) {
            CAPTURE(type);
            Channel rx = make_receiver();
            Outcome o = deliver_then_eof(rx, forge_record(secret, 0, type, bytes("x")));
            REQUIRE(o.ec == ec(errc::malformed));
            REQUIRE_FALSE(o.closed);
        }
    }
    SECTION("an empty data record is accepted and yields nothing") {
        Channel rx = make_receiver();
        auto wire = forge_record(secret, 0, 1, {});
        REQUIRE(wire.size() == 21);
        auto more = forge_record(secret, 1, 1, bytes("next"));
        wire.insert(wire.end(), more.begin(), more.end());
        auto close = forge_record(secret, 2, 2, {});
        wire.insert(wire.end(), close.begin(), close.end());
        Outcome o = deliver_then_eof(rx, wire);
        REQUIRE_FALSE(o.ec);
        REQUIRE(o.closed);
        REQUIRE(o.data == bytes("next"));
    }
    SECTION("forged records match what the channel seals") {
        Pair p = make_pair();
        std::vector<std::byte> wire;
        REQUIRE(p.a.seal(bytes("same"), wire));
        REQUIRE(wire == forge_record(secret, 0, 1, bytes("same")));
    }
}

TEST_CASE("channel misuse of the receive API", "[channel]") {
    Channel rx = make_receiver();
    REQUIRE(rx.commit(1).error() == ec(errc::invalid_argument));  // nothing prepared
    auto room = rx.prepare();
    REQUIRE(rx.commit(room.size() + 1).error() == ec(errc::invalid_argument));
    REQUIRE(rx.read(0).error() == ec(errc::invalid_argument));
    REQUIRE_FALSE(rx.error());
    auto r = rx.read();
    REQUIRE(r);
    REQUIRE(r->kind == Kind::need_more);
}
