// Channel: round trips, record sizes, key updates, counters and the known-answer records.
#include <catch2/catch.hpp>

#include <twoway/channel.hpp>

#include "channel/test_hook.hpp"
#include "channel_support.hpp"
#include "support/hex.hpp"

using namespace twoway;
using namespace twoway::test;
using Kind = Channel::Received::Kind;

namespace {

std::size_t record_bytes(std::size_t payload) { return 4 + 1 + payload + 16; }

// Lengths of the records in a sealed stream, walked by their headers.
std::vector<std::size_t> record_lengths(std::span<const std::byte> wire) {
    std::vector<std::size_t> lens;
    std::size_t pos = 0;
    while (pos + 4 <= wire.size()) {
        std::size_t len = 0;
        for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<std::size_t>(wire[pos + i]);
        lens.push_back(len);
        pos += 4 + len;
    }
    REQUIRE(pos == wire.size());
    return lens;
}

}  // namespace

TEST_CASE("channel round trip of many sizes in random chunks", "[channel]") {
    std::mt19937_64 rng(1);
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                          std::size_t{65537}, std::size_t{1} << 20}) {
        const auto msg = random_bytes(n, rng);
        // One byte at a time, small random chunks, and random chunks up to 200 KiB; whole records or
        // 1000-byte reads.
        for (std::size_t max_chunk : {std::size_t{1}, std::size_t{7}, std::size_t{200000}}) {
            for (std::size_t read_max : {SIZE_MAX, std::size_t{1000}}) {
                CAPTURE(n, max_chunk, read_max);
                Pair p = make_pair();
                std::vector<std::byte> wire;
                REQUIRE(p.a.sealed_size(n) ==
                        (n / 65536) * record_bytes(65536) + (n % 65536 ? record_bytes(n % 65536) : 0));
                REQUIRE(p.a.seal(msg, wire));
                REQUIRE(wire.size() == p.a.sealed_size(n));
                REQUIRE(p.a.close(wire));
                Outcome o = deliver(p.b, wire, rng, max_chunk, read_max);
                REQUIRE_FALSE(o.ec);
                REQUIRE(o.closed);
                REQUIRE(o.data == msg);
                REQUIRE(p.b.end_of_input());
                REQUIRE(p.b.close_received());
                // End of stream is reported again on every later read.
                auto again = p.b.read();
                REQUIRE(again);
                REQUIRE(again->kind == Kind::closed);
            }
        }
    }
}

TEST_CASE("channel splits at the maximum payload and never sends an empty record", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal({}, wire));
    REQUIRE(wire.empty());
    std::mt19937_64 rng(7);
    const auto msg = random_bytes(3 * 65536 + 5, rng);
    REQUIRE(p.a.seal(msg, wire));
    REQUIRE(record_lengths(wire) == std::vector<std::size_t>{65553, 65553, 65553, 22});
}

TEST_CASE("channel works in both directions at once", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> ab, ba;
    REQUIRE(p.a.seal(bytes("ping"), ab));
    REQUIRE(p.b.seal(bytes("pong"), ba));
    std::mt19937_64 rng(1);
    REQUIRE(deliver(p.b, ab, rng).data == bytes("ping"));
    REQUIRE(deliver(p.a, ba, rng).data == bytes("pong"));
}

TEST_CASE("channel zero-copy receive through prepare and commit", "[channel]") {
    Pair p = make_pair();
    std::mt19937_64 rng(5);
    const auto msg = random_bytes(300000, rng);
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(msg, wire));
    std::vector<std::byte> got;
    std::size_t pos = 0;
    const std::byte* buffer_start = nullptr;
    while (pos < wire.size()) {
        auto room = p.b.prepare();
        REQUIRE_FALSE(room.empty());
        REQUIRE(room.size() <= Channel::receive_buffer_size);
        // The buffer is one fixed allocation: its end never moves.
        if (buffer_start == nullptr) buffer_start = room.data() + room.size() - Channel::receive_buffer_size;
        REQUIRE(room.data() + room.size() == buffer_start + Channel::receive_buffer_size);
        const std::size_t n = std::min(room.size(), wire.size() - pos);
        std::copy_n(wire.begin() + static_cast<std::ptrdiff_t>(pos), n, room.begin());
        REQUIRE(p.b.commit(n));
        pos += n;
        for (;;) {
            auto r = p.b.read();
            REQUIRE(r);
            if (r->kind == Kind::need_more) break;
            // Plaintext is handed out from inside the receive buffer (decrypted in place).
            REQUIRE(r->data.data() >= buffer_start);
            REQUIRE(r->data.data() + r->data.size() <= buffer_start + Channel::receive_buffer_size);
            got.insert(got.end(), r->data.begin(), r->data.end());
        }
    }
    REQUIRE(got == msg);
}

TEST_CASE("channel feed takes only what fits and continues after reads", "[channel]") {
    Pair p = make_pair();
    std::mt19937_64 rng(9);
    const auto msg = random_bytes(6 * 65536, rng);
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(msg, wire));
    auto n = p.b.feed(wire);
    REQUIRE(n);
    REQUIRE(*n == Channel::receive_buffer_size);  // the buffer is full, nothing more fits
    auto none = p.b.feed(std::span<const std::byte>(wire).subspan(*n));
    REQUIRE(none);
    REQUIRE(*none == 0);
    std::vector<std::byte> got;
    std::size_t pos = *n;
    for (;;) {
        auto r = p.b.read();
        REQUIRE(r);
        if (r->kind == Kind::need_more) {
            if (pos == wire.size()) break;
            auto m = p.b.feed(std::span<const std::byte>(wire).subspan(pos));
            REQUIRE(m);
            REQUIRE(*m > 0);
            pos += *m;
            continue;
        }
        got.insert(got.end(), r->data.begin(), r->data.end());
    }
    REQUIRE(got == msg);
}

TEST_CASE("channel explicit rekey in both directions", "[channel]") {
    Pair p = make_pair();
    std::mt19937_64 rng(11);
    for (int round = 0; round < 3; ++round) {
        std::vector<std::byte> ab, ba;
        REQUIRE(p.a.seal(bytes("before"), ab));
        REQUIRE(p.a.rekey(ab));
        REQUIRE(p.a.seal(bytes("after"), ab));
        REQUIRE(record_lengths(ab) == std::vector<std::size_t>{23, 17, 22});
        REQUIRE(p.b.rekey(ba));
        REQUIRE(p.b.rekey(ba));
        REQUIRE(p.b.seal(bytes("back"), ba));
        REQUIRE(deliver(p.b, ab, rng, 3).data == bytes("beforeafter"));
        REQUIRE(deliver(p.a, ba, rng, 5).data == bytes("back"));
        // Every new key starts at sequence 0.
        REQUIRE(detail::ChannelTestHook::send_sequence(p.a) == 1);
        REQUIRE(detail::ChannelTestHook::recv_sequence(p.b) == 1);
        REQUIRE(detail::ChannelTestHook::send_sequence(p.b) == 1);
        REQUIRE(detail::ChannelTestHook::recv_sequence(p.a) == 1);
    }
}

TEST_CASE("channel rekey really changes the key", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("one"), wire));  // seq 0
    REQUIRE(p.a.rekey(wire));              // seq 1, then new key
    const std::size_t after_update = wire.size();
    REQUIRE(p.a.seal(bytes("two"), wire));  // seq 0 under the new key
    // A receiver that skips the key_update (still on the old key at seq 1, 0 or 2) cannot open it.
    for (std::uint64_t seq : {0u, 1u, 2u}) {
        Channel rx = make_receiver();
        detail::ChannelTestHook::set_recv_sequence(rx, seq);
        std::mt19937_64 rng(1);
        REQUIRE(deliver(rx, std::span<const std::byte>(wire).subspan(after_update), rng, 100).ec ==
                ec(errc::decrypt_failed));
    }
    // A record forged under S' = expand_label(S, "traffic upd") at seq 0 is what the receiver expects.
    SecretBytes<64> next;
    crypto::expand_label(pattern_secret(0x00).span(), "traffic upd", {}, next.span());
    REQUIRE(std::vector<std::byte>(wire.begin() + static_cast<std::ptrdiff_t>(after_update), wire.end()) ==
            forge_record(next, 0, 1, bytes("two")));
}

TEST_CASE("channel rekeys automatically at the payload threshold", "[channel]") {
    Channel::Options opts;
    opts.rekey_after_bytes = 1000;
    Pair p = make_pair(opts);
    std::mt19937_64 rng(13);
    const auto msg = random_bytes(5000, rng);
    std::vector<std::byte> wire;
    REQUIRE(p.a.sealed_size(5000) == 5 * record_bytes(1000) + 4 * 21);
    REQUIRE(p.a.seal(msg, wire));
    REQUIRE(record_lengths(wire) == std::vector<std::size_t>{1017, 17, 1017, 17, 1017, 17, 1017, 17, 1017});
    // Several seal() calls add up under one key: 600 + 600 crosses the threshold inside the second call.
    const auto more = random_bytes(1200, rng);
    std::vector<std::byte> wire2;
    REQUIRE(p.a.sealed_size(600) == 21 + record_bytes(600));
    REQUIRE(p.a.seal(std::span<const std::byte>(more).first(600), wire2));
    REQUIRE(p.a.sealed_size(600) == record_bytes(400) + 21 + record_bytes(200));
    REQUIRE(p.a.seal(std::span<const std::byte>(more).subspan(600), wire2));
    // The first call found the key at the threshold: a key_update leads.
    REQUIRE(record_lengths(wire2) == std::vector<std::size_t>{17, 617, 417, 17, 217});
    wire.insert(wire.end(), wire2.begin(), wire2.end());
    REQUIRE(p.a.close(wire));
    Channel rx = std::move(p.b);
    Outcome o = deliver(rx, wire, rng, 333);
    REQUIRE_FALSE(o.ec);
    REQUIRE(o.closed);
    std::vector<std::byte> all(msg.size() + more.size());
    std::copy(msg.begin(), msg.end(), all.begin());
    std::copy(more.begin(), more.end(), all.begin() + static_cast<std::ptrdiff_t>(msg.size()));
    REQUIRE(o.data == all);
}

TEST_CASE("channel default rekey threshold is 1 GiB", "[channel]") {
    Pair p = make_pair();
    const std::size_t gib = std::size_t{1} << 30;
    // sealed_size mirrors seal (checked above with a small threshold): 16384 full records, then a
    // key_update before the byte that would exceed 2^30 under the first key.
    REQUIRE(p.a.sealed_size(gib) == 16384 * record_bytes(65536));
    REQUIRE(p.a.sealed_size(gib + 1) == 16384 * record_bytes(65536) + 21 + record_bytes(1));
}

TEST_CASE("channel sequence numbers must not wrap", "[channel]") {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    SECTION("sender") {
        Pair p = make_pair();
        detail::ChannelTestHook::set_send_sequence(p.a, max - 2);
        detail::ChannelTestHook::set_recv_sequence(p.b, max - 2);
        std::vector<std::byte> wire;
        REQUIRE(p.a.seal(bytes("x"), wire));  // seq 2^64-3
        REQUIRE(p.a.seal(bytes("y"), wire));  // seq 2^64-2: the last one a key may protect
        std::mt19937_64 rng(1);
        REQUIRE(deliver(p.b, wire, rng, 1000).data == bytes("xy"));
        std::vector<std::byte> more;
        REQUIRE(p.a.seal(bytes("z"), more).error() == ec(errc::counter_exhausted));
        REQUIRE(more.empty());
        REQUIRE(p.a.error() == ec(errc::counter_exhausted));  // sticky
        REQUIRE(p.a.close(more).error() == ec(errc::counter_exhausted));
    }
    SECTION("a rekey resets the counter") {
        Pair p = make_pair();
        detail::ChannelTestHook::set_send_sequence(p.a, max - 1);
        detail::ChannelTestHook::set_recv_sequence(p.b, max - 1);
        std::vector<std::byte> wire;
        REQUIRE(p.a.rekey(wire));  // key_update at 2^64-2
        REQUIRE(p.a.seal(bytes("fresh"), wire));
        std::mt19937_64 rng(1);
        REQUIRE(deliver(p.b, wire, rng, 1000).data == bytes("fresh"));
        REQUIRE(detail::ChannelTestHook::recv_sequence(p.b) == 1);
    }
    SECTION("receiver") {
        Pair p = make_pair();
        detail::ChannelTestHook::set_recv_sequence(p.b, max);
        // A record forged at sequence 2^64-1 is refused before any decryption.
        auto rec = forge_record(pattern_secret(0x00), max, 1, bytes("x"));
        std::mt19937_64 rng(1);
        REQUIRE(deliver(p.b, rec, rng, 1000).ec == ec(errc::counter_exhausted));
    }
}

TEST_CASE("channel rejects unknown suites and bad options", "[channel]") {
    for (std::uint16_t suite : {0x0000, 0x0002, 0x0101, 0xffff}) {
        auto c = Channel::create(static_cast<Suite>(suite), pattern_secret(0), pattern_secret(1));
        REQUIRE(c.error() == ec(errc::unsupported_suite));
    }
    Channel::Options zero;
    zero.rekey_after_bytes = 0;
    REQUIRE(Channel::create(suite1, pattern_secret(0), pattern_secret(1), zero).error() == ec(errc::invalid_argument));
    auto ok = Channel::create(suite1, pattern_secret(0), pattern_secret(1));
    REQUIRE(ok);
    REQUIRE(ok->suite() == suite1);
}

TEST_CASE("channel seal into a span that is too small fails without harm", "[channel]") {
    Pair p = make_pair();
    std::vector<std::byte> small(record_bytes(10) - 1);
    REQUIRE(p.a.seal(bytes("0123456789"), std::span<std::byte>(small)).error() == ec(errc::invalid_argument));
    std::vector<std::byte> tiny(20);
    REQUIRE(p.a.close(std::span<std::byte>(tiny)).error() == ec(errc::invalid_argument));
    REQUIRE_FALSE(p.a.error());
    std::vector<std::byte> wire;
    REQUIRE(p.a.seal(bytes("0123456789"), wire));
    std::mt19937_64 rng(1);
    REQUIRE(deliver(p.b, wire, rng, 50).data == bytes("0123456789"));  // no sequence number was used up
}

// Expected bytes computed independently by tests/unit/channel/kat.py (Python's hmac/hashlib for
// HKDF-SHA-512 and the `cryptography` package for ChaCha20-Poly1305).
TEST_CASE("channel known-answer records", "[channel]") {
    auto a = Channel::create(suite1, pattern_secret(0x00), pattern_secret(0x40));
    REQUIRE(a);
    std::vector<std::byte> r0, r1, r2, r3;
    REQUIRE(a->seal(bytes("hello twoway"), r0));
    REQUIRE(a->rekey(r1));
    REQUIRE(a->seal(bytes("after update"), r2));
    REQUIRE(a->close(r3));
    CHECK(hex(r0) == "0000001d2beb54c7f119ee9c3ca5f24b8ce94f91b1bb0edb457cdfa40762c677f2");
    CHECK(hex(r1) == "000000112539b2a102356f9874173d7f81e8d95415");
    CHECK(hex(r2) == "0000001d3db60847d6d682e520416a8dddf01231c7d2c0c2a977676601a32372e6");
    CHECK(hex(r3) == "000000114b25ec617e12d0f1f9c326749b0c254937");

    // And the receiving side opens the very same bytes.
    auto b = Channel::create(suite1, pattern_secret(0x40), pattern_secret(0x00));
    REQUIRE(b);
    auto wire = unhex(
        "0000001d2beb54c7f119ee9c3ca5f24b8ce94f91b1bb0edb457cdfa40762c677f2"
        "000000112539b2a102356f9874173d7f81e8d95415"
        "0000001d3db60847d6d682e520416a8dddf01231c7d2c0c2a977676601a32372e6"
        "000000114b25ec617e12d0f1f9c326749b0c254937");
    std::mt19937_64 rng(1);
    Outcome o = deliver(*b, wire, rng, 1);
    REQUIRE_FALSE(o.ec);
    REQUIRE(o.closed);
    REQUIRE(o.data == bytes("hello twowayafter update"));
}
