// The pre-authentication table: MaxStartups and PerSourceMaxStartups shed a concluded connection, else
// the one with the least progress, the stalest first; never the newcomer.
#include <catch2/catch.hpp>

#include <algorithm>
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
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("192.0.2.1", t0);
    const auto b = table.admit("192.0.2.2", t0 + 1s);
    const auto c = table.admit("192.0.2.3", t0 + 2s);
    // a answered at t0 + 3s: of those that did not, b (accepted at t0 + 1s) is the stalest.
    table.progress(a.id, Progress::answered, t0 + 3s);
    const auto d = table.admit("198.51.100.9", t0 + 4s);
    REQUIRE(d.shed.size() == 1);
    CHECK(d.shed[0].id == b.id);
    CHECK(d.shed[0].why == Admission::past_max_startups);
    CHECK(table.contains(d.id));
    CHECK_FALSE(table.contains(b.id));
    CHECK(table.startups() == 3);
    // Next c (t0 + 2s), then d (t0 + 4s), then e: a, which answered, outlasts every connection that did
    // not, however much newer they are.
    CHECK(ids(table.admit("198.51.100.9", t0 + 5s).shed) == std::vector{c.id});
    const auto f = table.admit("198.51.100.9", t0 + 6s);
    CHECK(ids(f.shed) == std::vector{d.id});
    CHECK(table.admit("198.51.100.9", t0 + 7s).shed.size() == 1);
    CHECK(table.contains(a.id));
    // Releasing a shed connection later (its coroutine ending) changes nothing.
    table.release(b.id);
    CHECK(table.startups() == 3);
}

TEST_CASE("among connections that made the same progress, the one stalled longest is shed", "[daemon]") {
    StartupTable table(3, std::nullopt);
    const auto a = table.admit("a", t0);
    const auto b = table.admit("b", t0 + 1s);
    const auto c = table.admit("c", t0 + 2s);
    table.progress(a.id, Progress::answered, t0 + 5s);
    table.progress(b.id, Progress::answered, t0 + 4s);
    table.progress(c.id, Progress::answered, t0 + 6s);
    // The newcomer (accepted) goes before any of them; once it answered too, b, whose last step is oldest.
    const auto d = table.admit("d", t0 + 7s);
    CHECK(ids(d.shed) == std::vector{b.id});
    table.progress(d.id, Progress::answered, t0 + 8s);
    const auto e = table.admit("e", t0 + 9s);
    CHECK(ids(e.shed) == std::vector{a.id});
    CHECK(ids(table.admit("f", t0 + 10s).shed) == std::vector{e.id});
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
    // The table is full (b1, a2, a3): a newcomer from c sheds the table's stalest, b1.
    const auto c1 = table.admit("c", t0 + 4s);
    REQUIRE(c1.shed.size() == 1);
    CHECK(c1.shed[0].id == b1.id);
    CHECK(c1.shed[0].why == Admission::past_max_startups);
    CHECK(table.startups() == 3);
    (void)a2;
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
