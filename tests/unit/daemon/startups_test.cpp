// The pre-authentication table: MaxStartups sheds from the group holding the most of the table, and
// within it (as PerSourceMaxStartups within a source) a concluded connection, else the one with the least
// progress (a step older than the allowance not counting), the stalest first; never the newcomer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "startups.hpp"

using namespace twowayd;
using namespace std::chrono_literals;

namespace {

const SteadyTime t0{std::chrono::hours(1)};

std::vector<StartupTable::Id> ids(const std::vector<StartupTable::Shed>& shed) {
    std::vector<StartupTable::Id> out;
    for (const auto& s : shed) out.push_back(s.id);
    return out;
}

}  // namespace

TEST_CASE("below MaxStartups every connection is admitted and nothing is shed", "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("192.0.2.1", t0);
    const auto b = table.admit("192.0.2.2", t0 + 1ms);
    const auto c = table.admit("192.0.2.1", t0 + 2ms);
    CHECK(a.shed.empty());
    CHECK(b.shed.empty());
    CHECK(c.shed.empty());
    CHECK(a.id != b.id);
    CHECK(b.id != c.id);
    CHECK(table.startups() == 3);
    CHECK(table.from("192.0.2.1") == 2);
    table.release(b.id);
    CHECK(table.startups() == 2);
    CHECK_FALSE(table.contains(b.id));
    table.release(b.id);  // twice, or after a shed: ignored
    CHECK(table.startups() == 2);
}

TEST_CASE("a full table admits the newcomer and sheds the connection with the least progress", "[daemon]") {
    // One connection per source: every group holds as many, so the table's least advanced goes.
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("192.0.2.1", t0);
    const auto b = table.admit("192.0.2.2", t0 + 100ms);
    const auto c = table.admit("192.0.2.3", t0 + 200ms);
    // a answered at t0 + 300ms: of those that did not, b (accepted at t0 + 100ms) is the stalest.
    table.progress(a.id, Progress::answered, t0 + 300ms);
    const auto d = table.admit("198.51.100.1", t0 + 400ms);
    REQUIRE(d.shed.size() == 1);
    CHECK(d.shed[0].id == b.id);
    CHECK(d.shed[0].why == Admission::past_max_startups);
    CHECK(table.contains(d.id));
    CHECK_FALSE(table.contains(b.id));
    CHECK(table.startups() == 3);
    // Next c (t0 + 200ms), then d (t0 + 400ms): a, which answered within the allowance, outlasts every
    // connection that did not, however much newer they are.
    CHECK(ids(table.admit("198.51.100.2", t0 + 500ms).shed) == std::vector{c.id});
    CHECK(ids(table.admit("198.51.100.3", t0 + 600ms).shed) == std::vector{d.id});
    CHECK(table.contains(a.id));
    // Releasing a shed connection later (its coroutine ending) changes nothing.
    table.release(b.id);
    CHECK(table.startups() == 3);
}

TEST_CASE("among connections that made the same progress, the one stalled longest is shed", "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("a", t0);
    const auto b = table.admit("b", t0 + 100ms);
    const auto c = table.admit("c", t0 + 200ms);
    table.progress(a.id, Progress::answered, t0 + 500ms);
    table.progress(b.id, Progress::answered, t0 + 400ms);
    table.progress(c.id, Progress::answered, t0 + 600ms);
    // The newcomer (accepted) goes before any of them; once it answered too, b, whose last step is oldest.
    const auto d = table.admit("d", t0 + 700ms);
    CHECK(ids(d.shed) == std::vector{b.id});
    table.progress(d.id, Progress::answered, t0 + 800ms);
    const auto e = table.admit("e", t0 + 900ms);
    CHECK(ids(e.shed) == std::vector{a.id});
    CHECK(ids(table.admit("f", t0 + 1000ms).shed) == std::vector{e.id});
}

TEST_CASE("a step older than the allowance no longer counts: the connection ranks as one that made none",
          "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("x", t0);
    table.progress(a.id, Progress::answered, t0 + 10ms);
    const auto b = table.admit("x", t0 + 20ms);
    table.progress(b.id, Progress::proved, t0 + 30ms);
    // Within the allowance, the two that made progress outrank every newcomer of their group, and the
    // newcomers shed each other.
    auto at = t0 + 40ms;
    const auto c = table.admit("x", at);
    CHECK(ids(table.admit("x", at + 1ms).shed) == std::vector{c.id});
    // Once a's step is older than the allowance, a ranks as a connection accepted at t0 + 10ms: older
    // than any newcomer, so it goes first; then b, once its step is as old.
    at = t0 + 10ms + progress_allowance + 1ms;
    CHECK(ids(table.admit("x", at).shed) == std::vector{a.id});
    at = t0 + 30ms + progress_allowance + 1ms;
    CHECK(ids(table.admit("x", at).shed) == std::vector{b.id});
    // A step exactly at the allowance still counts.
    StartupTable edge(2, std::nullopt);
    const auto p = edge.admit("y", t0);
    edge.progress(p.id, Progress::answered, t0 + 1ms);
    const auto q = edge.admit("y", t0 + 2ms);
    CHECK(ids(edge.admit("y", t0 + 1ms + progress_allowance).shed) == std::vector{q.id});
}

TEST_CASE("a full table sheds from the group holding the most, so a flood from one source sheds only its own",
          "[daemon]") {
    // Issue 13's variant of the lock-out: one source fills the table with connections that sent a valid
    // (replayed) client_hello and stalled, then opens empty connections without pause. A good client
    // from elsewhere must never lose its connection, whatever the attacker's connections' progress.
    StartupTable table(20, std::nullopt);
    std::vector<StartupTable::Id> held;
    for (int i = 0; i < 20; ++i) {
        const auto h = table.admit("198.51.100.66", t0 + std::chrono::milliseconds(i));
        table.progress(h.id, Progress::answered, t0 + std::chrono::milliseconds(i));
        held.push_back(h.id);
    }
    const auto good = table.admit("192.0.2.10", t0 + 50ms);
    REQUIRE(good.shed.size() == 1);
    CHECK(table.contains(good.id));
    // Empty newcomers from the attacker, faster than the good client's round trip: each sheds one of
    // the attacker's own (the newcomer before it), never the good client's.
    for (int i = 0; i < 1000; ++i) {
        const auto n = table.admit("198.51.100.66", t0 + 51ms + std::chrono::microseconds(i));
        for (const auto& s : n.shed) CHECK(s.id != good.id);
    }
    CHECK(table.contains(good.id));
    CHECK(table.in_group("198.51.100.66") == 19);
    // Also long after: neither the allowance nor the good client's lack of progress make it a victim.
    for (int i = 0; i < 100; ++i) (void)table.admit("198.51.100.66", t0 + 10s + std::chrono::milliseconds(i));
    CHECK(table.contains(good.id));
    // Without fair shares (the table's stalest least advanced, whatever its group), the good client's
    // connection was shed by the first newcomer after it.
}

TEST_CASE("a full table: the newcomer's own group is shed from when it holds as many as any other", "[daemon]") {
    StartupTable table(4, std::nullopt);
    const auto a1 = table.admit("a", t0);
    const auto b1 = table.admit("b", t0 + 1ms);
    const auto a2 = table.admit("a", t0 + 2ms);
    const auto b2 = table.admit("b", t0 + 3ms);
    // a and b hold two each; a's newcomer sheds a's own stalest, not b1 (older still).
    CHECK(ids(table.admit("a", t0 + 4ms).shed) == std::vector{a1.id});
    // A newcomer from c (holding none): the two groups tie, and the stalest candidate of either goes: b1.
    CHECK(ids(table.admit("c", t0 + 5ms).shed) == std::vector{b1.id});
    // Now a holds 2, b 1, c 1: b's newcomer sheds from a, the group holding the most.
    CHECK(ids(table.admit("b", t0 + 6ms).shed) == std::vector{a2.id});
    CHECK(table.contains(b2.id));
}

TEST_CASE("ties between groups holding equally many go to the candidate that ranks first, decay included",
          "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("a", t0);
    const auto b = table.admit("b", t0 + 1ms);
    const auto c = table.admit("c", t0 + 2ms);
    table.progress(a.id, Progress::answered, t0 + 3ms);
    table.progress(b.id, Progress::answered, t0 + 4ms);
    // c has made no progress: it goes first while a's and b's steps count ...
    CHECK(ids(table.admit("d", t0 + 5ms).shed) == std::vector{c.id});
    // ... and once they are older than the allowance, a, whose step is oldest, goes before the newer d.
    CHECK(ids(table.admit("e", t0 + 3ms + progress_allowance + 1ms).shed) == std::vector{a.id});
    CHECK(table.contains(b.id));
}

TEST_CASE("a concluded connection is shed first within its group, not before another group's", "[daemon]") {
    StartupTable table(4, std::nullopt);
    const auto x1 = table.admit("x", t0);
    const auto x2 = table.admit("x", t0 + 1ms);
    const auto y = table.admit("y", t0 + 2ms);
    table.progress(y.id, Progress::proved, t0 + 3ms);
    table.conclude(y.id, t0 + 4ms);
    const auto x3 = table.admit("x", t0 + 5ms);
    table.progress(x1.id, Progress::answered, t0 + 6ms);
    table.progress(x1.id, Progress::proved, t0 + 7ms);
    table.conclude(x1.id, t0 + 8ms);
    // x holds the most: its concluded x1 goes, not y's (concluded too, and older).
    CHECK(ids(table.admit("z", t0 + 9ms).shed) == std::vector{x1.id});
    CHECK(table.contains(y.id));
    (void)x2;
    (void)x3;
}

TEST_CASE("IPv6 fair shares are counted per /64 at most", "[daemon]") {
    const auto a = twowayd::parse_ip_address("2001:db8:1:2::1");
    const auto b = twowayd::parse_ip_address("2001:db8:1:2:ffff::7");
    const auto c = twowayd::parse_ip_address("2001:db8:1:3::1");
    const auto v4 = twowayd::parse_ip_address("192.0.2.77");
    REQUIRE((a && b && c && v4));
    // PerSourceNetBlockSize's default (32:128): each address its own source, but one /64 for fairness.
    CHECK(twowayd::source_key(*a, 32, 128) != twowayd::source_key(*b, 32, 128));
    CHECK(fairness_key(*a, 32, 128) == "2001:db8:1:2::/64");
    CHECK(fairness_key(*a, 32, 128) == fairness_key(*b, 32, 128));
    CHECK(fairness_key(*a, 32, 128) != fairness_key(*c, 32, 128));
    // A block wider than a /64 is kept; IPv4 is grouped as PerSourceNetBlockSize says.
    CHECK(fairness_key(*a, 32, 48) == "2001:db8:1::/48");
    CHECK(fairness_key(*c, 32, 48) == fairness_key(*a, 32, 48));
    CHECK(fairness_key(*v4, 32, 128) == "192.0.2.77");
    CHECK(fairness_key(*v4, 24, 128) == "192.0.2.0/24");
    // In the table: a host rotating addresses in its /64 sheds its own, within PerSourceMaxStartups per
    // address.
    StartupTable table(3, std::nullopt);
    const auto other = table.admit("192.0.2.77", "192.0.2.77", t0);
    for (int i = 0; i < 50; ++i) {
        const std::string addr = "2001:db8:1:2::" + std::to_string(i + 1);
        (void)table.admit(addr, "2001:db8:1:2::/64", t0 + std::chrono::milliseconds(i + 1));
    }
    CHECK(table.contains(other.id));
    CHECK(table.in_group("2001:db8:1:2::/64") == 2);
}

TEST_CASE("bytes are not progress: only the handshake's steps rank a connection higher", "[daemon]") {
    StartupTable table(2, std::nullopt);
    const auto slow = table.admit("203.0.113.1", t0);
    const auto good = table.admit("203.0.113.2", t0 + 1s);
    // A step already taken, or an earlier one, changes nothing: the slowloris that keeps sending bytes
    // never reaches a later step.
    table.progress(slow.id, Progress::accepted, t0 + 5s);
    table.progress(good.id, Progress::proved, t0 + 2s);
    table.progress(good.id, Progress::answered, t0 + 6s);  // not a later step: ignored
    CHECK(ids(table.admit("203.0.113.3", t0 + 7s).shed) == std::vector{slow.id});
    CHECK(table.contains(good.id));
}

TEST_CASE("a concluded connection (refused, lingering) is shed before any other", "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto old = table.admit("a", t0);
    const auto refused = table.admit("b", t0 + 1s);
    table.progress(refused.id, Progress::proved, t0 + 2s);
    table.conclude(refused.id, t0 + 3s);
    table.progress(refused.id, Progress::answered, t0 + 4s);  // nothing brings it back
    (void)table.admit("c", t0 + 5s);
    CHECK(ids(table.admit("d", t0 + 6s).shed) == std::vector{refused.id});
    CHECK(table.contains(old.id));
}

TEST_CASE("a source reopening connections faster than a good client's round trip cannot shed one that answered",
          "[daemon]") {
    StartupTable table(20, 10U);
    for (int i = 0; i < 10; ++i) (void)table.admit("x", t0);
    const auto good = table.admit("x", t0 + 1ms);
    table.progress(good.id, Progress::answered, t0 + 1ms);
    // A thousand newcomers within the good client's round trip, each shedding one of the source's.
    for (int i = 0; i < 1000; ++i) (void)table.admit("x", t0 + 2ms + std::chrono::microseconds(i));
    CHECK(table.contains(good.id));
    CHECK(table.from("x") == 10);
    // Another source is untouched by the churn.
    const auto other = table.admit("y", t0 + 3ms);
    for (int i = 0; i < 1000; ++i) (void)table.admit("x", t0 + 4ms);
    CHECK(table.contains(other.id));
}

TEST_CASE("PerSourceMaxStartups sheds within the source, so a good client behind the same address gets in",
          "[daemon]") {
    StartupTable table(100, 2U);
    const auto x1 = table.admit("203.0.113.5", t0);
    const auto x2 = table.admit("203.0.113.5", t0 + 1s);
    const auto other = table.admit("203.0.113.6", t0 + 2s);
    const auto good = table.admit("203.0.113.5", t0 + 3s);
    REQUIRE(good.shed.size() == 1);
    CHECK(good.shed[0].id == x1.id);
    CHECK(good.shed[0].why == Admission::past_per_source);
    CHECK(table.from("203.0.113.5") == 2);
    CHECK(table.startups() == 3);
    // The good client proves its key; the attacker's next connection sheds its own stale one.
    table.progress(good.id, Progress::proved, t0 + 4s);
    CHECK(ids(table.admit("203.0.113.5", t0 + 5s).shed) == std::vector{x2.id});
    CHECK(table.contains(good.id));
    // Another source is never shed for this one while the table has room.
    CHECK(table.contains(other.id));
}

TEST_CASE("the per-source limit is applied before the table's, and one newcomer may shed for both", "[daemon]") {
    StartupTable table(3, 2U);
    const auto a1 = table.admit("a", t0);
    const auto b1 = table.admit("b", t0 + 1s);
    const auto a2 = table.admit("a", t0 + 2s);
    // Source a is at 2: its stalest (a1) goes, which also leaves room in the table (b1 stays).
    const auto a3 = table.admit("a", t0 + 3s);
    CHECK(ids(a3.shed) == std::vector{a1.id});
    CHECK(table.contains(b1.id));
    // The table is full (b1, a2, a3): a newcomer from c sheds from a, which holds the most: a2.
    const auto c1 = table.admit("c", t0 + 4s);
    REQUIRE(c1.shed.size() == 1);
    CHECK(c1.shed[0].id == a2.id);
    CHECK(c1.shed[0].why == Admission::past_max_startups);
    CHECK(table.startups() == 3);
    CHECK(table.contains(b1.id));
}

TEST_CASE("smaller limits on reload: the next admission sheds down to them", "[daemon]") {
    StartupTable table(10, std::nullopt);
    std::vector<StartupTable::Id> held;
    for (int i = 0; i < 5; ++i) held.push_back(table.admit("x", t0 + std::chrono::seconds(i)).id);
    table.configure(2, 1U);
    CHECK(table.startups() == 5);  // counted ones stay counted
    const auto y = table.admit("y", t0 + 10s);
    // Down to 1 in the table before the newcomer: the four stalest of x go.
    CHECK(ids(y.shed) == std::vector<StartupTable::Id>(held.begin(), held.begin() + 4));
    CHECK(table.startups() == 2);
    // x is at its per-source limit of 1: its next connection sheds its last one.
    const auto x = table.admit("x", t0 + 11s);
    REQUIRE(x.shed.size() == 1);
    CHECK(x.shed[0].id == held[4]);
    CHECK(x.shed[0].why == Admission::past_per_source);
}

TEST_CASE("a throttling episode lasts until the table is down to three quarters", "[daemon]") {
    StartupTable table(20, std::nullopt);
    std::vector<StartupTable::Id> held;
    for (int i = 0; i < 20; ++i) held.push_back(table.admit("x", t0).id);
    CHECK_FALSE(table.below_throttling());
    for (int i = 0; i < 4; ++i) table.release(held[static_cast<std::size_t>(i)]);
    CHECK_FALSE(table.below_throttling());  // 16 of 20
    table.release(held[4]);
    CHECK(table.below_throttling());  // 15
    StartupTable one(1, std::nullopt);
    const auto only = one.admit("x", t0);
    CHECK_FALSE(one.below_throttling());
    one.release(only.id);
    CHECK(one.below_throttling());
}

TEST_CASE("shed connections are held until their time, at most `capacity` of them", "[daemon]") {
    ShedHold hold(3);
    CHECK(hold.hold(10, t0 + 3s).empty());
    CHECK(hold.hold(11, t0 + 1s).empty());
    CHECK(hold.hold(12, t0 + 2s).empty());
    CHECK(hold.next() == t0 + 1s);
    // Over capacity: the one closest to its close goes now.
    CHECK(hold.hold(13, t0 + 4s) == std::vector<int>{11});
    CHECK(hold.size() == 3);
    CHECK(hold.expired(t0 + 1500ms).empty());
    CHECK(hold.expired(t0 + 3s) == std::vector<int>{12, 10});
    CHECK(hold.next() == t0 + 4s);
    // A smaller capacity on reload closes the excess at once; shutdown takes the rest.
    CHECK(hold.hold(14, t0 + 5s).empty());
    CHECK(hold.configure(1) == std::vector<int>{13});
    CHECK(hold.take_all() == std::vector<int>{14});
    CHECK_FALSE(hold.next());
}
