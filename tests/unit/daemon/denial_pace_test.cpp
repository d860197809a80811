// The pace of denials: every denial leaves at one deadline after the client's proof, whatever the
// decision took; an overrun doubles the pace for everyone, and a calm minute halves it again.
#include <catch2/catch.hpp>

#include "denial_pace.hpp"

using namespace twowayd;
using namespace std::chrono_literals;

namespace {
const SteadyTime t0{std::chrono::hours(1)};
}  // namespace

TEST_CASE("denials leave at the floor after the proof, however quick the decision", "[daemon]") {
    DenialPace pace;
    CHECK(pace.deadline(t0, t0 + 100us) == t0 + DenialPace::floor);
    CHECK(pace.deadline(t0, t0 + 420us) == t0 + DenialPace::floor);  // an existing account's refused key
    CHECK(pace.deadline(t0, t0 + 257us) == t0 + DenialPace::floor);  // an unknown name
    CHECK(pace.pace() == DenialPace::floor);
}

TEST_CASE("an overrun doubles the pace until it covers the decision, and the pace stays for everyone", "[daemon]") {
    DenialPace pace;
    // 25 ms of work against a 10 ms pace: 20, then 40 ms.
    CHECK(pace.deadline(t0, t0 + 25ms) == t0 + 40ms);
    CHECK(pace.pace() == 40ms);
    // The next denial, however quick, leaves at the same new pace: the overrun shows once.
    CHECK(pace.deadline(t0 + 1s, t0 + 1s + 100us) == t0 + 1s + 40ms);
    // Exactly the pace is an overrun too (the denial could not leave at it).
    CHECK(pace.deadline(t0 + 2s, t0 + 2s + 40ms) == t0 + 2s + 80ms);
}

TEST_CASE("a calm minute halves the pace, one step at a time, down to the floor", "[daemon]") {
    DenialPace pace;
    (void)pace.deadline(t0, t0 + 35ms);  // 10 -> 20 -> 40 ms
    REQUIRE(pace.pace() == 40ms);
    CHECK(pace.deadline(t0 + 30s, t0 + 30s) == t0 + 30s + 40ms);  // not calm long enough
    CHECK(pace.deadline(t0 + 61s, t0 + 61s) == t0 + 61s + 20ms);
    CHECK(pace.deadline(t0 + 62s, t0 + 62s) == t0 + 62s + 20ms);  // one step a minute
    CHECK(pace.deadline(t0 + 122s, t0 + 122s) == t0 + 122s + DenialPace::floor);
    CHECK(pace.deadline(t0 + 500s, t0 + 500s) == t0 + 500s + DenialPace::floor);
}

TEST_CASE("past the ceiling the denial leaves when decided", "[daemon]") {
    DenialPace pace;
    CHECK(pace.deadline(t0, t0 + 5s) == t0 + 5s);
    CHECK(pace.pace() == DenialPace::ceiling);
    CHECK(pace.deadline(t0 + 10s, t0 + 10s) == t0 + 10s + DenialPace::ceiling);
}
