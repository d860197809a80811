// The first-contact challenge's pure part (client/twoway/challenge.cpp): which characters of the
// fingerprint are hidden, and how answers are judged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "../../../client/twoway/challenge.hpp"
#include "client_test_support.hpp"

using twoway_client::Challenge;
using twoway_client::test::ScriptedRng;

namespace {

// 43 base64 characters after the prefix, as fingerprint_sha256 makes them.
const std::string fingerprint = "SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

// Little-endian 32-bit draws of the given values.
std::string draws(std::initializer_list<std::uint32_t> values) {
    std::string out;
    for (auto v : values) {
        for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    return out;
}

}  // namespace

TEST_CASE("challenge: positions come from the rng, distinct and in order", "[client]") {
    // Draws 10, 2, 10 again (skipped: already chosen), 0, 42, 7 -> positions 11, 3, 1, 43, 8.
    ScriptedRng rng(draws({10, 2, 10, 0, 42, 7}));
    const Challenge c(fingerprint, rng);
    CHECK(c.positions() == std::vector<std::size_t>{1, 3, 8, 11, 43});
    CHECK(c.masked() == "SHA256:_b_defg_ij_lmnopqrstuvwxyzABCDEFGHIJKLMNOP_");
    CHECK(c.markers() == "       1 2    3  4                               5");
}

TEST_CASE("challenge: draws that would favour low positions are thrown away", "[client]") {
    // 0xffffffff lies above the largest multiple of 43 that fits: redrawn, not taken modulo 43.
    ScriptedRng rng(draws({0xffffffffU, 5, 6, 7, 8, 9}));
    const Challenge c(fingerprint, rng);
    CHECK(c.positions() == std::vector<std::size_t>{6, 7, 8, 9, 10});
}

TEST_CASE("challenge: answers", "[client]") {
    ScriptedRng rng(draws({0, 1, 2, 3, 4}));
    const Challenge c(fingerprint, rng);
    REQUIRE(c.positions() == std::vector<std::size_t>{1, 2, 3, 4, 5});
    using V = Challenge::Verdict;
    CHECK(c.check("abcde") == V::match);
    CHECK(c.check(" ab cd\te ") == V::match);  // blanks are ignored
    CHECK(c.check("ABCDE") == V::wrong);       // base64 is case-sensitive
    CHECK(c.check("abcd") == V::wrong);
    CHECK(c.check("abcdef") == V::wrong);
    CHECK(c.check("edcba") == V::wrong);
    // The whole fingerprint, pasted from the person's copy, with or without its prefix (as ssh takes it).
    CHECK(c.check(fingerprint) == V::match);
    CHECK(c.check(std::string("  ") + fingerprint + " \t") == V::match);
    CHECK(c.check(std::string(fingerprint).substr(7)) == V::match);
    // Another key's whole fingerprint (one character changed; or lower case): said so, not accepted.
    std::string other = fingerprint;
    other.back() = other.back() == 'A' ? 'B' : 'A';
    CHECK(c.check(other) == V::other_fingerprint);
    CHECK(c.check(other.substr(7)) == V::other_fingerprint);
    std::string lowered = fingerprint;
    for (auto& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(c.check(lowered) != V::match);
    CHECK(c.check("sha256:whatever") == V::other_fingerprint);
    // What the screen shows (the masked fingerprint) is never the answer.
    CHECK(c.check(c.masked()) == V::other_fingerprint);
    CHECK(c.check("") == V::refused);
    CHECK(c.check("   ") == V::refused);
    CHECK(c.check("no") == V::refused);
    CHECK(c.check("N") == V::refused);
    for (const char* reflexive : {"yes", "YES", "y", "ok", "Okay", "sure", "yep", "yeah", "true", "continue"}) {
        INFO(reflexive);
        CHECK(c.check(reflexive) == V::reflexive);
    }
}

TEST_CASE("challenge: never more positions than characters", "[client]") {
    ScriptedRng rng(draws({0, 1, 2}));
    const Challenge c("SHA256:xyz", rng);
    CHECK(c.positions() == std::vector<std::size_t>{1, 2, 3});
    CHECK(c.masked() == "SHA256:___");
    CHECK(c.check("xyz") == Challenge::Verdict::match);
}
