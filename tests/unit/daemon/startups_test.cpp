// The pre-authentication limits: sshd's MaxStartups random early drop and PerSourceMaxStartups.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "startups.hpp"

using twoway::DeterministicRng;
using twoway::MaxStartups;
using namespace twowayd;

TEST_CASE("MaxStartups drop probability rises linearly from rate at start to 100 at full", "[daemon]") {
    const MaxStartups ms{10, 30, 100};
    CHECK(StartupLimiter::drop_percent(ms, 0) == 0);
    CHECK(StartupLimiter::drop_percent(ms, 9) == 0);
    CHECK(StartupLimiter::drop_percent(ms, 10) == 30);
    CHECK(StartupLimiter::drop_percent(ms, 55) == 30 + 70 * 45 / 90);
    CHECK(StartupLimiter::drop_percent(ms, 99) == 30 + 70 * 89 / 90);
    CHECK(StartupLimiter::drop_percent(ms, 100) == 100);
    CHECK(StartupLimiter::drop_percent(ms, 5000) == 100);
    // "MaxStartups N" is start = full = N: a hard cap.
    CHECK(StartupLimiter::drop_percent(MaxStartups{3, 30, 3}, 2) == 0);
    CHECK(StartupLimiter::drop_percent(MaxStartups{3, 30, 3}, 3) == 100);
    // rate 100 refuses everything from start on.
    CHECK(StartupLimiter::drop_percent(MaxStartups{4, 100, 8}, 4) == 100);
}

TEST_CASE("below MaxStartups start every connection is admitted and counted until released", "[daemon]") {
    DeterministicRng rng(1);
    StartupLimiter lim(MaxStartups{3, 30, 3}, std::nullopt);
    CHECK(lim.admit("192.0.2.1", rng) == Admission::admit);
    CHECK(lim.admit("192.0.2.2", rng) == Admission::admit);
    CHECK(lim.admit("192.0.2.1", rng) == Admission::admit);
    CHECK(lim.startups() == 3);
    CHECK(lim.throttling());
    // Full: refused whatever the randomness.
    for (int i = 0; i < 50; ++i) CHECK(lim.admit("198.51.100.9", rng) == Admission::past_max_startups);
    CHECK(lim.startups() == 3);  // refused connections are not counted
    lim.release("192.0.2.1");
    CHECK(lim.startups() == 2);
    CHECK_FALSE(lim.throttling());
    CHECK(lim.admit("198.51.100.9", rng) == Admission::admit);
}

TEST_CASE("between start and full connections are dropped at about the configured rate", "[daemon]") {
    DeterministicRng rng(42);
    StartupLimiter lim(MaxStartups{2, 30, 12}, std::nullopt);
    REQUIRE(lim.admit("a", rng) == Admission::admit);
    REQUIRE(lim.admit("b", rng) == Admission::admit);
    // At 2 startups the drop probability is exactly rate (30%): count over many tries, releasing
    // each admitted connection again so the count stays at 2.
    int dropped = 0;
    const int trials = 20000;
    for (int i = 0; i < trials; ++i) {
        if (lim.admit("c", rng) == Admission::admit) {
            lim.release("c");
        } else {
            ++dropped;
        }
    }
    CHECK(dropped > trials * 27 / 100);
    CHECK(dropped < trials * 33 / 100);
}

TEST_CASE("PerSourceMaxStartups caps one address and leaves the others alone", "[daemon]") {
    DeterministicRng rng(7);
    StartupLimiter lim(MaxStartups{100, 30, 200}, 2U);
    CHECK(lim.admit("203.0.113.5", rng) == Admission::admit);
    CHECK(lim.admit("203.0.113.5", rng) == Admission::admit);
    CHECK(lim.admit("203.0.113.5", rng) == Admission::past_per_source);
    CHECK(lim.admit("203.0.113.6", rng) == Admission::admit);
    CHECK(lim.from("203.0.113.5") == 2);
    CHECK(lim.startups() == 3);
    lim.release("203.0.113.5");
    CHECK(lim.admit("203.0.113.5", rng) == Admission::admit);
    // Releasing an address that holds nothing changes no other address's count.
    lim.release("203.0.113.5");
    lim.release("203.0.113.5");
    lim.release("203.0.113.5");
    CHECK(lim.from("203.0.113.5") == 0);
    CHECK(lim.from("203.0.113.6") == 1);
}

TEST_CASE("new limits apply to new connections, counted ones stay counted", "[daemon]") {
    DeterministicRng rng(9);
    StartupLimiter lim(MaxStartups{10, 30, 100}, std::nullopt);
    for (int i = 0; i < 3; ++i) REQUIRE(lim.admit("x", rng) == Admission::admit);
    lim.configure(MaxStartups{2, 30, 2}, 1U);
    CHECK(lim.startups() == 3);
    CHECK(lim.admit("y", rng) == Admission::past_max_startups);
    CHECK(lim.admit("x", rng) == Admission::past_per_source);
}

TEST_CASE("uniform draws every value below the bound and nothing else", "[daemon]") {
    DeterministicRng rng(3);
    std::array<int, 100> seen{};
    for (int i = 0; i < 20000; ++i) {
        const auto v = uniform(rng, 100);
        REQUIRE(v < 100);
        ++seen[v];
    }
    for (int count : seen) {
        CHECK(count > 100);  // expected 200 each
        CHECK(count < 320);
    }
    CHECK(uniform(rng, 1) == 0);
    CHECK(uniform(rng, 0) == 0);
}
