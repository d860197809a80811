// OpenSSH's patterns (match.c, addrmatch.c): each row is a case whose answer was worked out from
// OpenSSH's code and sshd_config(5), negative cases included.
#include <catch2/catch.hpp>

#include <string>

#include <twoway/pattern.hpp>

using twoway::AddressMatch;
using twoway::IpAddress;
using twoway::PatternMatch;

namespace {

IpAddress ip(const char* text) {
    auto a = twoway::parse_ip_address(text);
    REQUIRE(a);
    return *a;
}

}  // namespace

TEST_CASE("match_pattern: wildcards over the whole string", "[pattern]") {
    struct Row {
        const char* text;
        const char* pattern;
        bool match;
    };
    const Row rows[] = {
        {"alice", "alice", true},       {"alice", "Alice", false},   {"alice", "alic", false},
        {"alice", "alicee", false},     {"alice", "a*", true},       {"alice", "*e", true},
        {"alice", "*", true},           {"", "*", true},             {"", "", true},
        {"a", "", false},               {"", "?", false},            {"alice", "a?ice", true},
        {"alice", "a??ce", true},       {"alice", "a???ce", false},  {"alice", "a*i*e", true},
        {"alice", "a*x*e", false},      {"abcbcd", "a*bcd", true},   {"abcbc", "a*bcd", false},
        {"mississippi", "m*iss*ppi", true}, {"mississippi", "m*iss*ppx", false},
        {"a*b", "a\\*b", false},        // no escapes: a backslash is a literal character
        {"a\\*b", "a\\*b", true},       {"***", "*?*", true},        {"", "**", true},
    };
    for (const auto& r : rows) {
        INFO(r.text << " ~ " << r.pattern);
        CHECK(twoway::match_pattern(r.pattern, r.text) == r.match);
    }
}

TEST_CASE("match_pattern: a many-star pattern is decided quickly", "[pattern]") {
    // Exponential in the recursive form; the iterative one decides it at once.
    const std::string text(4000, 'a');
    std::string pattern;
    for (int i = 0; i < 200; ++i) pattern += "*a";
    pattern += "*b";
    CHECK_FALSE(twoway::match_pattern(pattern, text));
    CHECK(twoway::match_pattern(pattern, text + "b"));
}

TEST_CASE("match_pattern_list: commas, negation, case folding", "[pattern]") {
    struct Row {
        const char* text;
        const char* list;
        bool fold;
        PatternMatch want;
    };
    const Row rows[] = {
        {"alice", "alice", false, PatternMatch::match},
        {"alice", "bob,alice", false, PatternMatch::match},
        {"alice", "bob,carol", false, PatternMatch::none},
        {"alice", "", false, PatternMatch::none},
        {"alice", "*,!alice", false, PatternMatch::negated},   // a negated match overrides a positive one
        {"alice", "!alice,*", false, PatternMatch::negated},   // whatever the order
        {"alice", "!bob", false, PatternMatch::none},          // a negation alone never matches
        {"bob", "!alice,b*", false, PatternMatch::match},
        {"Alice", "alice", false, PatternMatch::none},
        {"Alice", "alice", true, PatternMatch::match},
        {"alice", "ALI*", true, PatternMatch::match},
        {"", ",alice", false, PatternMatch::match},            // a leading empty entry matches empty text
        {"alice", "alice,", false, PatternMatch::match},       // a trailing comma adds no entry
        {"", "alice,", false, PatternMatch::none},
        {"", "!", false, PatternMatch::negated},
        {"a,b", "a,b", false, PatternMatch::none},             // the list splits at every comma
    };
    for (const auto& r : rows) {
        INFO(r.text << " ~ " << r.list);
        CHECK(twoway::match_pattern_list(r.text, r.list, r.fold) == r.want);
    }
}

TEST_CASE("addresses: parse, format, mask", "[pattern]") {
    CHECK(twoway::format_ip_address(ip("192.0.2.7")) == "192.0.2.7");
    CHECK(twoway::format_ip_address(ip("2001:0db8::0001")) == "2001:db8::1");
    CHECK(twoway::format_ip_address(twoway::masked_address(ip("192.0.2.7"), 24)) == "192.0.2.0");
    CHECK(twoway::format_ip_address(twoway::masked_address(ip("192.0.2.7"), 99)) == "192.0.2.7");
    CHECK(twoway::format_ip_address(twoway::masked_address(ip("2001:db8::ff"), 124)) == "2001:db8::f0");
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "[::1]", "::1%lo", "host.example", " 1.2.3.4"}) {
        INFO(bad);
        CHECK_FALSE(twoway::parse_ip_address(bad));
    }
    auto b = twoway::parse_address_block("10.0.0.0/8");
    REQUIRE(b);
    CHECK(b->contains(ip("10.255.0.1")));
    CHECK_FALSE(b->contains(ip("11.0.0.1")));
    CHECK_FALSE(b->contains(ip("::a00:1")));  // another family never matches
    CHECK(twoway::format_address_block(*b) == "10.0.0.0/8");
    CHECK_FALSE(twoway::parse_address_block("10.1.0.0/8"));   // host bits set
    CHECK_FALSE(twoway::parse_address_block("10.0.0.0/33"));
    CHECK_FALSE(twoway::parse_address_block("10.0.0.0/"));
}

TEST_CASE("match_address_list: blocks, wildcards, negation, invalid lists", "[pattern]") {
    struct Row {
        const char* addr;
        const char* list;
        AddressMatch want;
    };
    const Row rows[] = {
        {"192.0.2.7", "192.0.2.7", AddressMatch::match},
        {"192.0.2.7", "192.0.2.0/24", AddressMatch::match},
        {"192.0.2.7", "198.51.100.0/24", AddressMatch::none},
        {"192.0.2.7", "192.0.2.*", AddressMatch::match},             // a wildcard matches the text
        {"192.0.2.7", "192.0.2.?", AddressMatch::match},
        {"192.0.2.17", "192.0.2.?", AddressMatch::none},
        {"192.0.2.7", "10.0.0.0/8,!192.0.2.0/24", AddressMatch::negated},
        {"192.0.2.7", "!10.0.0.0/8", AddressMatch::none},
        {"192.0.2.7", "0.0.0.0/0", AddressMatch::match},
        {"2001:db8::7", "2001:db8::/32", AddressMatch::match},
        {"2001:db8::7", "0.0.0.0/0", AddressMatch::none},
        {"2001:db8::7", "2001:db8::*", AddressMatch::match},
        {"192.0.2.7", "192.0.2.1/24", AddressMatch::invalid},         // host bits set
        {"192.0.2.7", "192.0.2.0/33", AddressMatch::invalid},         // a mask too long for IPv4
        {"192.0.2.7", "192.0.2.0/129", AddressMatch::none},           // OpenSSH: not an address, a pattern
        {"192.0.2.7", "192.0.2.0/x", AddressMatch::none},
        {"192.0.2.7", "192.0.2.7,", AddressMatch::invalid},           // an empty entry
        {"192.0.2.7", "", AddressMatch::invalid},
        {"192.0.2.7", "!", AddressMatch::invalid},
        {"192.0.2.7", "!192.0.2.7,192.0.2.1/8", AddressMatch::negated},  // decided before the bad entry
        {"192.0.2.7", "192.0.2.1/8,!192.0.2.7", AddressMatch::invalid},
    };
    for (const auto& r : rows) {
        INFO(r.addr << " ~ " << r.list);
        CHECK(twoway::match_address_list(ip(r.addr), r.list) == r.want);
    }
}

TEST_CASE("match_host_and_ip: from= and the host part of user@host", "[pattern]") {
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "127.0.0.1") == AddressMatch::match);
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "10.0.0.0/8") == AddressMatch::none);
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "*.example.com") == AddressMatch::none);  // no DNS
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "*,!127.0.0.1") == AddressMatch::negated);
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "127.*") == AddressMatch::match);
    CHECK(twoway::match_host_and_ip(ip("127.0.0.1"), "127.0.0.2/8") == AddressMatch::invalid);
    CHECK(twoway::match_host_and_ip(ip("2001:db8::a"), "2001:DB8::A") == AddressMatch::match);  // folded
}

TEST_CASE("match_user: user and user@host patterns", "[pattern]") {
    const IpAddress local = ip("127.0.0.1");
    CHECK(twoway::match_user("alice", local, "alice") == true);
    CHECK(twoway::match_user("alice", local, "a*") == true);
    CHECK(twoway::match_user("alice", local, "bob") == false);
    CHECK(twoway::match_user("alice", local, "alice@127.0.0.1") == true);
    CHECK(twoway::match_user("alice", local, "alice@10.0.0.0/8") == false);
    CHECK(twoway::match_user("alice", local, "*@127.0.0.0/8") == true);
    CHECK(twoway::match_user("alice", local, "bob@127.0.0.1") == false);
    CHECK(twoway::match_user("a@b", local, "a@b@127.0.0.1") == true);  // split at the last '@'
    CHECK_FALSE(twoway::match_user("alice", local, "alice@127.0.0.1/8").has_value());
    CHECK_FALSE(twoway::match_user("alice", local, "alice@").has_value());
    CHECK_FALSE(twoway::match_user("bob", local, "alice@10.1.0.0/8").has_value());
}
