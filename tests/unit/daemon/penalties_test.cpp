// PerSourcePenalties and its companions: the config keywords (PerSourcePenalties,
// PerSourcePenaltyExemptList, PerSourceNetBlockSize), address blocks, the penalty box's bookkeeping
// (clock injected) and the rate limit on drop log lines.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "daemon_config.hpp"
#include "handshake/framing.hpp"
#include "startups.hpp"

using namespace std::chrono_literals;
using twowayd::AddressBlock;
using twowayd::IpAddress;
using twowayd::PenaltyConfig;
using namespace twowayd;

namespace {

IpAddress ip(const std::string& text) {
    auto a = twowayd::parse_ip_address(text);
    REQUIRE(a);
    return *a;
}

AddressBlock block(const std::string& text) {
    auto b = twowayd::parse_address_block(text);
    REQUIRE(b);
    return *b;
}

twowayd::DaemonConfig good(const std::string& text) {
    auto r = twowayd::parse_daemon_config("t.conf", text);
    std::vector<std::string> errors;
    for (const auto& e : r.errors) errors.push_back(e.text());
    INFO(text);
    REQUIRE(errors == std::vector<std::string>{});
    return r.config;
}

std::string error_of(const std::string& line) {
    auto r = twowayd::parse_daemon_config("t.conf", line + "\n");
    REQUIRE(r.errors.size() == 1);
    return r.errors[0].text();
}

// Penalties with round numbers: noauth 1s, authfail 5s, grace 10s, min 15s, max 60s.
PenaltyConfig enabled_config() {
    PenaltyConfig pc;
    pc.enabled = true;
    pc.max = 60;
    return pc;
}

const SteadyTime t0 = SteadyTime() + 1000h;

}  // namespace

TEST_CASE("address literals and CIDR blocks", "[daemon]") {
    CHECK(ip("192.0.2.7").bytes[3] == 7);
    CHECK_FALSE(ip("192.0.2.7").v6);
    CHECK(ip("2001:db8::1").v6);
    for (const char* bad : {"", "192.0.2", "192.0.2.256", "host.example", "[::1]", "fe80::1%eth0", "1.2.3.4 "}) {
        INFO(bad);
        CHECK_FALSE(twowayd::parse_ip_address(bad));
    }

    const auto net = block("10.1.0.0/16");
    CHECK(net.bits == 16);
    CHECK(net.contains(ip("10.1.255.3")));
    CHECK_FALSE(net.contains(ip("10.2.0.1")));
    CHECK_FALSE(net.contains(ip("::ffff:10.1.0.1")));  // another family never matches
    CHECK(block("192.0.2.1").contains(ip("192.0.2.1")));
    CHECK_FALSE(block("192.0.2.1").contains(ip("192.0.2.2")));
    CHECK(block("0.0.0.0/0").contains(ip("203.0.113.9")));
    CHECK(block("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
    CHECK_FALSE(block("2001:db8::/32").contains(ip("2001:db9::1")));
    CHECK(block("10.0.0.0/9").contains(ip("10.127.0.1")));
    CHECK_FALSE(block("10.0.0.0/9").contains(ip("10.128.0.1")));
    // Host bits set, a mask too long, junk: refused.
    for (const char* bad : {"10.1.2.3/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "/8", "10.0.0.0/8/8"}) {
        INFO(bad);
        CHECK_FALSE(twowayd::parse_address_block(bad));
    }
}

TEST_CASE("source_key groups addresses by PerSourceNetBlockSize", "[daemon]") {
    CHECK(twowayd::source_key(ip("203.0.113.77"), 32, 128) == "203.0.113.77");
    CHECK(twowayd::source_key(ip("203.0.113.77"), 24, 128) == "203.0.113.0/24");
    CHECK(twowayd::source_key(ip("203.0.113.77"), 0, 128) == "0.0.0.0/0");
    CHECK(twowayd::source_key(ip("2001:db8:1:2:3::9"), 32, 64) == "2001:db8:1:2::/64");
    CHECK(twowayd::source_key(ip("2001:db8::9"), 32, 128) == "2001:db8::9");
    CHECK(twowayd::source_key(ip("203.0.113.77"), 24, 128) == twowayd::source_key(ip("203.0.113.1"), 24, 128));
}

TEST_CASE("penalty keywords: defaults, OpenSSH syntax and errors", "[daemon]") {
    const twowayd::DaemonConfig d;
    CHECK_FALSE(d.penalties.enabled);
    CHECK(d.penalty_exempt.empty());
    CHECK(d.per_source_net_block_v4 == 32);
    CHECK(d.per_source_net_block_v6 == 128);

    auto yes = good("PerSourcePenalties yes\n");
    CHECK(yes.penalties.enabled);
    CHECK(yes.penalties.authfail == 5);
    CHECK(yes.penalties.noauth == 1);
    CHECK(yes.penalties.grace_exceeded == 10);
    CHECK(yes.penalties.min == 15);
    CHECK(yes.penalties.max == 600);
    CHECK(yes.penalties.max_sources4 == 65536);
    CHECK_FALSE(good("PerSourcePenalties no\n").penalties.enabled);

    auto c = good(
        "PerSourcePenalties authfail:1m noauth:2 grace-exceeded:30s max:1h min:20 max-sources4:100 "
        "max-sources6:50 overflow:permissive\n"
        "PerSourcePenalties no\n"  // first value wins
        "PerSourcePenaltyExemptList 192.0.2.0/24,2001:db8::1 10.0.0.1\n"
        "PerSourceNetBlockSize 24:64\n");
    CHECK(c.penalties.enabled);
    CHECK(c.penalties.authfail == 60);
    CHECK(c.penalties.noauth == 2);
    CHECK(c.penalties.grace_exceeded == 30);
    CHECK(c.penalties.max == 3600);
    CHECK(c.penalties.min == 20);
    CHECK(c.penalties.max_sources4 == 100);
    CHECK(c.penalties.max_sources6 == 50);
    REQUIRE(c.penalty_exempt.size() == 3);
    CHECK(c.penalty_exempt[0] == block("192.0.2.0/24"));
    CHECK(c.penalty_exempt[1] == block("2001:db8::1"));
    CHECK(c.penalty_exempt[2] == block("10.0.0.1"));
    CHECK(c.per_source_net_block_v4 == 24);
    CHECK(c.per_source_net_block_v6 == 64);
    CHECK(good("PerSourceNetBlockSize 16\n").per_source_net_block_v6 == 128);

    CHECK(error_of("PerSourcePenalties crash:90") == "t.conf:1: PerSourcePenalties: unsupported penalty \"crash:90\"");
    CHECK(error_of("PerSourcePenalties maybe").find("expected yes, no or keyword:value") != std::string::npos);
    CHECK(error_of("PerSourcePenalties authfail:x").find("invalid value") != std::string::npos);
    CHECK(error_of("PerSourcePenalties max-sources4:0").find("invalid value") != std::string::npos);
    CHECK(error_of("PerSourcePenalties overflow:deny-all").find("only overflow:permissive") != std::string::npos);
    CHECK(error_of("PerSourcePenalties min:10m max:1m").find("min must not exceed max") != std::string::npos);
    CHECK(error_of("PerSourcePenaltyExemptList 10.1.2.3/8").find("host bits must be zero") != std::string::npos);
    CHECK(error_of("PerSourcePenaltyExemptList host.example").find("invalid address") != std::string::npos);
    CHECK(error_of("PerSourcePenaltyExemptList ,,").find("empty list") != std::string::npos);
    CHECK(error_of("PerSourceNetBlockSize 33").find("expected bits4[:bits6]") != std::string::npos);
    CHECK(error_of("PerSourceNetBlockSize 24:129").find("expected bits4[:bits6]") != std::string::npos);
    CHECK(error_of("PerSourceNetBlockSize 24:64 1").find("extra arguments") != std::string::npos);
}

TEST_CASE("penalties accrue per source and are enforced from min until they expire", "[daemon]") {
    PenaltyBox box(enabled_config(), {});
    const auto a = ip("198.51.100.1");
    const std::string key = "198.51.100.1";
    // Below min (15s) nothing is refused: two failed authentications are 10s.
    CHECK_FALSE(box.penalise(a, key, PenaltyKind::authfail, t0));
    CHECK_FALSE(box.penalise(a, key, PenaltyKind::authfail, t0 + 1s));
    CHECK_FALSE(box.refused(a, key, t0 + 2s));
    // The third brings 15s left (expiry t0 + 15s, now t0 + 2s: 13s left) ... not yet.
    CHECK_FALSE(box.penalise(a, key, PenaltyKind::authfail, t0 + 2s));
    CHECK_FALSE(box.refused(a, key, t0 + 2s));
    // A timeout adds 10s: 23s left, active now, reported once.
    auto act = box.penalise(a, key, PenaltyKind::grace_exceeded, t0 + 2s);
    REQUIRE(act);
    CHECK(act->refused_for == 23s);
    CHECK(box.refused(a, key, t0 + 3s) == PenaltyKind::grace_exceeded);
    CHECK_FALSE(box.penalise(a, key, PenaltyKind::noauth, t0 + 3s));  // already active: no second report
    // Other sources are not affected.
    CHECK_FALSE(box.refused(ip("198.51.100.2"), "198.51.100.2", t0 + 3s));
    // Expiry: t0 + 25s + 1s (the noauth) = t0 + 26s.
    CHECK(box.refused(a, key, t0 + 25s));
    CHECK_FALSE(box.refused(a, key, t0 + 26s));
    CHECK(box.size() == 0);  // expired entries are forgotten
}

TEST_CASE("penalties accumulate only up to max", "[daemon]") {
    PenaltyBox box(enabled_config(), {});
    const auto a = ip("198.51.100.1");
    for (int i = 0; i < 100; ++i) (void)box.penalise(a, "s", PenaltyKind::authfail, t0);
    CHECK(box.refused(a, "s", t0 + 59s));
    CHECK_FALSE(box.refused(a, "s", t0 + 60s));
}

TEST_CASE("an exempt source is never penalised, even after a reload adds it", "[daemon]") {
    PenaltyBox box(enabled_config(), {block("192.0.2.0/24")});
    const auto inside = ip("192.0.2.200");
    for (int i = 0; i < 10; ++i) CHECK_FALSE(box.penalise(inside, "192.0.2.200", PenaltyKind::authfail, t0));
    CHECK_FALSE(box.refused(inside, "192.0.2.200", t0));
    CHECK(box.size() == 0);

    const auto outside = ip("203.0.113.5");
    for (int i = 0; i < 4; ++i) (void)box.penalise(outside, "203.0.113.5", PenaltyKind::authfail, t0);
    CHECK(box.refused(outside, "203.0.113.5", t0));
    box.configure(enabled_config(), {block("203.0.113.0/24")});
    CHECK_FALSE(box.refused(outside, "203.0.113.5", t0));
}

TEST_CASE("a disabled penalty box records and refuses nothing", "[daemon]") {
    PenaltyBox box(PenaltyConfig{}, {});
    const auto a = ip("198.51.100.1");
    for (int i = 0; i < 10; ++i) CHECK_FALSE(box.penalise(a, "s", PenaltyKind::grace_exceeded, t0));
    CHECK_FALSE(box.refused(a, "s", t0));
    CHECK(box.size() == 0);
    // Disabling on reload forgets active penalties.
    box.configure(enabled_config(), {});
    for (int i = 0; i < 2; ++i) (void)box.penalise(a, "s", PenaltyKind::grace_exceeded, t0);
    CHECK(box.refused(a, "s", t0));
    box.configure(PenaltyConfig{}, {});
    CHECK_FALSE(box.refused(a, "s", t0));
    CHECK(box.size() == 0);
}

TEST_CASE("the penalty table is bounded per family and forgets the entry closest to expiry", "[daemon]") {
    auto pc = enabled_config();
    pc.max_sources4 = 3;
    pc.max_sources6 = 2;
    PenaltyBox box(pc, {});
    // Three IPv4 sources, the first penalised longest (two timeouts: active), the others once each.
    (void)box.penalise(ip("10.0.0.1"), "10.0.0.1", PenaltyKind::grace_exceeded, t0);
    (void)box.penalise(ip("10.0.0.1"), "10.0.0.1", PenaltyKind::grace_exceeded, t0);
    (void)box.penalise(ip("10.0.0.2"), "10.0.0.2", PenaltyKind::noauth, t0);
    (void)box.penalise(ip("10.0.0.3"), "10.0.0.3", PenaltyKind::authfail, t0);
    CHECK(box.size() == 3);
    // A flood of new addresses never grows the table past the cap and keeps the long penalty.
    for (int i = 0; i < 1000; ++i) {
        const std::string s = "172.16." + std::to_string(i / 250) + "." + std::to_string(i % 250);
        (void)box.penalise(ip(s), s, PenaltyKind::noauth, t0 + 1s);
        REQUIRE(box.size() <= 3);
    }
    CHECK(box.refused(ip("10.0.0.1"), "10.0.0.1", t0 + 1s));
    // IPv6 has its own budget: filling it does not push IPv4 entries out.
    for (int i = 0; i < 10; ++i) {
        const std::string s = "2001:db8::" + std::to_string(i + 1);
        (void)box.penalise(ip(s), s, PenaltyKind::noauth, t0 + 1s);
    }
    CHECK(box.size() == 5);
    CHECK(box.refused(ip("10.0.0.1"), "10.0.0.1", t0 + 1s));
    // A smaller table on reload trims at once.
    pc.max_sources4 = 1;
    pc.max_sources6 = 1;
    box.configure(pc, {});
    CHECK(box.size() == 2);
    CHECK(box.refused(ip("10.0.0.1"), "10.0.0.1", t0 + 2s));
}

TEST_CASE("PerSourceMaxStartups drops: one at INFO per source and interval", "[daemon]") {
    StartupTable table(100, 1U);
    (void)table.admit("a", t0);
    (void)table.admit("b", t0);
    const auto a2 = table.admit("a", t0);
    REQUIRE(a2.shed.size() == 1);
    REQUIRE(a2.shed[0].why == Admission::past_per_source);
    CHECK(table.per_source_drop_at_info("a", t0));
    // The source kept its state through the shed of its only connection.
    const auto a3 = table.admit("a", t0 + 1s);
    REQUIRE(a3.shed.size() == 1);
    CHECK_FALSE(table.per_source_drop_at_info("a", t0 + 1s));
    CHECK_FALSE(table.per_source_drop_at_info("a", t0 + 9s));
    CHECK(table.per_source_drop_at_info("b", t0 + 9s));  // another source is news
    CHECK(table.per_source_drop_at_info("a", t0 + 10s));
    // Once the source has no connection left its state goes with it.
    table.release(a3.id);
    (void)table.admit("a", t0 + 11s);
    CHECK(table.per_source_drop_at_info("a", t0 + 11s));
}

TEST_CASE("drop lines: one at INFO per kind and interval, the rest counted", "[daemon]") {
    DropLog log;
    auto d = log.note(DropKind::penalty, t0);
    CHECK(d.info);
    CHECK(d.unshown == 0);
    for (int i = 1; i <= 50; ++i) {
        d = log.note(DropKind::penalty, t0 + std::chrono::milliseconds(i));
        CHECK_FALSE(d.info);
    }
    // Another kind has its own budget.
    CHECK(log.note(DropKind::byte_cap, t0 + 1s).info);
    d = log.note(DropKind::penalty, t0 + DropLog::interval);
    CHECK(d.info);
    CHECK(d.unshown == 50);
    d = log.note(DropKind::penalty, t0 + DropLog::interval + 1s);
    CHECK_FALSE(d.info);
    CHECK(d.unshown == 1);
}

TEST_CASE("the pre-authentication byte cap admits the largest well-formed client flights", "[daemon]") {
    using namespace twoway::handshake;
    const std::size_t largest = 2 * header_size + body_bounds(MsgType::client_hello).max +
                                body_bounds(MsgType::client_auth).max;
    CHECK(largest <= preauth_byte_cap);
    // ... and is not so loose that it stops meaning anything.
    CHECK(preauth_byte_cap <= 2 * largest);
    // With MaxAuthTries, room for every client_auth a connection may send.
    const std::size_t auth = header_size + body_bounds(MsgType::client_auth).max;
    CHECK(client_auth_room == auth);
    CHECK(preauth_cap(1) == preauth_byte_cap);
    CHECK(largest + 5 * auth <= preauth_cap(6));
}
