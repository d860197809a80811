// PerUserMaxPasswordFailures' counter (daemon/password_failures.hpp): the lockout after max failures in
// the window, its end, names counted alike whether or not they exist, the bounded table.
#include <catch2/catch.hpp>

#include <string>

#include "password_failures.hpp"

using twowayd::PasswordFailures;
using namespace std::chrono_literals;

TEST_CASE("password failures: max failures within the window lock the name until they age out", "[daemon]") {
    PasswordFailures f;
    f.configure(3, 60s);
    const auto t0 = PasswordFailures::Clock::time_point{} + 1000s;
    CHECK_FALSE(f.locked("alice", t0));
    CHECK_FALSE(f.record("alice", t0));
    CHECK_FALSE(f.record("alice", t0 + 10s));
    CHECK_FALSE(f.locked("alice", t0 + 11s));
    CHECK(f.record("alice", t0 + 20s));  // the third: locks (said once)
    CHECK(f.locked("alice", t0 + 21s));
    CHECK_FALSE(f.locked("bob", t0 + 21s));  // per name
    CHECK(f.locked("alice", t0 + 59s));
    CHECK_FALSE(f.locked("alice", t0 + 60s));  // the first failure aged out: two left in the window
    CHECK(f.record("alice", t0 + 61s));        // and a third again locks
    CHECK(f.locked("alice", t0 + 69s));
    CHECK_FALSE(f.locked("alice", t0 + 200s));  // all aged out: forgotten
    CHECK(f.size() == 0);
}

TEST_CASE("password failures: failures spread wider than the window never lock", "[daemon]") {
    PasswordFailures f;
    f.configure(2, 10s);
    auto t = PasswordFailures::Clock::time_point{} + 1000s;
    for (int i = 0; i < 20; ++i, t += 11s) {
        CHECK_FALSE(f.record("alice", t));
        CHECK_FALSE(f.locked("alice", t + 1s));
    }
}

TEST_CASE("password failures: off with 0, and a bounded table", "[daemon]") {
    PasswordFailures off;
    off.configure(0, 60s);
    const auto t0 = PasswordFailures::Clock::time_point{} + 1000s;
    for (int i = 0; i < 100; ++i) CHECK_FALSE(off.record("alice", t0));
    CHECK_FALSE(off.locked("alice", t0));
    CHECK(off.size() == 0);

    PasswordFailures f;
    f.configure(2, 600s);
    CHECK_FALSE(f.record("victim", t0));
    CHECK(f.record("victim", t0 + 1s));
    // A flood of made-up names: the table stays bounded, and only the least recently failed are forgotten.
    for (std::size_t i = 0; i < PasswordFailures::max_names + 100; ++i) {
        (void)f.record("made-up-" + std::to_string(i), t0 + 2s + std::chrono::milliseconds(i));
    }
    CHECK(f.size() <= PasswordFailures::max_names);
    CHECK(f.locked("made-up-" + std::to_string(PasswordFailures::max_names + 99), t0 + 100s) == false);
}
