// authorized_keys options: OpenSSH's syntax (parse_key_options) and the decision on a connection
// (key_options_allow, check_authorized with ConnectionFacts). Table-driven; the refusals are the point.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include <twoway/pattern.hpp>
#include <twoway/session.hpp>
#include <twoway/trust.hpp>

#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;

namespace {

KeyOptions parsed(const std::string& field) {
    auto p = parse_key_options(field);
    INFO(field << " -> " << p.error);
    REQUIRE(p.options);
    CHECK(p.error.empty());
    CHECK(p.options->text == field);
    return *p.options;
}

IpAddress ip(const char* text) {
    auto a = parse_ip_address(text);
    REQUIRE(a);
    return *a;
}

// 2030-01-01 00:00:00 UTC
constexpr std::int64_t t2030 = 1893456000;

ConnectionFacts facts(const char* address = "127.0.0.1", std::int64_t now = t2030, std::int32_t offset = 0) {
    return ConnectionFacts{ip(address), now, offset};
}

AuthorizedKey entry_with(const std::string& field, std::size_t line = 7) {
    auto f = parse_authorized_keys("/home/a/.twoway/authorized_keys",
                                   std::string(line - 1, '\n') + field + " " + key_text(1) + "\n");
    INFO(field);
    REQUIRE(f.diagnostics.empty());
    REQUIRE(f.entries.size() == 1);
    return f.entries[0];
}

}  // namespace

TEST_CASE("key options: every option, its effect on the options", "[trust][key_options]") {
    struct Case {
        const char* field;
        std::function<bool(const KeyOptions&)> holds;
    };
    const std::vector<Case> cases{
        {"restrict", [](const KeyOptions& o) { return o.restricted && !o.pty && !o.port_forwarding && !o.agent_forwarding && !o.x11_forwarding && !o.user_rc; }},
        {"restrict,pty", [](const KeyOptions& o) { return o.pty && !o.port_forwarding; }},
        {"restrict,port-forwarding", [](const KeyOptions& o) { return !o.pty && o.port_forwarding; }},
        // Order counts, as in OpenSSH: a restrict after pty turns it off again.
        {"pty,restrict", [](const KeyOptions& o) { return !o.pty; }},
        {"no-pty", [](const KeyOptions& o) { return !o.pty && o.port_forwarding && !o.restricted; }},
        {"no-port-forwarding", [](const KeyOptions& o) { return o.pty && !o.port_forwarding; }},
        {"no-pty,pty", [](const KeyOptions& o) { return o.pty; }},
        {"NO-PTY", [](const KeyOptions& o) { return !o.pty; }},
        {"Restrict,No-Port-Forwarding", [](const KeyOptions& o) { return o.restricted && !o.port_forwarding; }},
        {"command=\"dump /home\"", [](const KeyOptions& o) { return o.command == "dump /home"; }},
        {"COMMAND=\"x\"", [](const KeyOptions& o) { return o.command == "x"; }},
        {"command=\"\"", [](const KeyOptions& o) { return o.command == ""; }},
        // Only \" is an escape; any other backslash stays as written.
        {"command=\"echo \\\"hi\\\" \\n \\\\ x\"", [](const KeyOptions& o) { return o.command == "echo \"hi\" \\n \\\\ x"; }},
        // So a value cannot end in a backslash: `\"` there is a quote, and the value goes on.

        {"command=\"a,b c\"", [](const KeyOptions& o) { return o.command == "a,b c"; }},
        {"from=\"10.0.0.0/8,!10.1.2.3\"", [](const KeyOptions& o) { return o.from == "10.0.0.0/8,!10.1.2.3"; }},
        {"principals=\"alice,bob\",cert-authority", [](const KeyOptions& o) { return o.principals == "alice,bob" && o.cert_authority; }},
        {"cert-authority", [](const KeyOptions& o) { return o.cert_authority && !o.principals; }},
        {"expiry-time=\"20300101\"", [](const KeyOptions& o) { return o.expiry_times.size() == 1 && o.expiry_times[0] == ExpiryTime{2030, 1, 1, 0, 0, 0, false}; }},
        {"expiry-time=\"203001021304\"", [](const KeyOptions& o) { return o.expiry_times.at(0) == ExpiryTime{2030, 1, 2, 13, 4, 0, false}; }},
        {"expiry-time=\"20300102130405Z\"", [](const KeyOptions& o) { return o.expiry_times.at(0) == ExpiryTime{2030, 1, 2, 13, 4, 5, true}; }},
        {"expiry-time=\"20300102utc\"", [](const KeyOptions& o) { return o.expiry_times.at(0).utc; }},
        {"expiry-time=\"20240229\"", [](const KeyOptions& o) { return o.expiry_times.at(0).day == 29; }},
        {"expiry-time=\"20300101\",expiry-time=\"20290101Z\"", [](const KeyOptions& o) { return o.expiry_times.size() == 2; }},
        {"environment=\"A=b c\",environment=\"A=second\",environment=\"_9=\"", [](const KeyOptions& o) { return o.environment == std::vector<std::string>{"A=b c", "_9="}; }},
        {"permit-service=\"web\",permit-service=\"db-1\",permit-service=\"web\"", [](const KeyOptions& o) { return o.permit_services == std::vector<std::string>{"web", "db-1"}; }},
        {"no-agent-forwarding,no-x11-forwarding,no-user-rc", [](const KeyOptions& o) { return !o.agent_forwarding && !o.x11_forwarding && !o.user_rc && o.pty; }},
        {"agent-forwarding,x11-forwarding,user-rc", [](const KeyOptions& o) { return o.agent_forwarding && o.x11_forwarding && o.user_rc; }},
        {"no-touch-required", [](const KeyOptions& o) { return !o.touch_required; }},
        {"no-verify-required", [](const KeyOptions& o) {
             KeyOptions expected;
             expected.text = "no-verify-required";
             return o == expected;
         }},
        {"permitlisten=\"8080\",permitlisten=\"localhost:*\"", [](const KeyOptions& o) { return o.permit_listen.size() == 2; }},
        {"tunnel=\"0\"", [](const KeyOptions& o) { return o.tunnel == "0"; }},
        {"tunnel=\"any\"", [](const KeyOptions& o) { return o.tunnel == "any"; }},
    };
    for (const auto& c : cases) {
        INFO(c.field);
        CHECK(c.holds(parsed(c.field)));
    }
}

TEST_CASE("key options: malformed, unknown and repeated options make the line unusable", "[trust][key_options]") {
    struct Case {
        std::string field;
        const char* error;
    };
    const std::vector<Case> cases{
        {"", "empty options"},
        {"bogus", "unknown option \"bogus\""},
        {"no-restrict", "unknown option \"no-restrict\""},
        {"no-cert-authority", "unknown option \"no-cert-authority\""},
        {"ptyx", "unknown option \"ptyx\""},
        {"pty=\"yes\"", "unknown option \"pty=\""},
        {"bogus=\"x\"", "unknown option \"bogus=\""},
        {"command", "command needs a value (command=\"...\")"},
        {"command=dump", "missing start quote for command="},
        {"command=\"dump", "missing end quote for command="},
        {"command=\"a\"x", "unexpected \"x\" after an option"},
        {"command=\"a\",command=\"b\"", "multiple command= options"},
        {"from=\"a\",FROM=\"b\"", "multiple from= options"},
        {"cert-authority,principals=\"a\",principals=\"b\"", "multiple principals= options"},
        {"principals=\"alice\"", "principals= without cert-authority"},
        {"no-pty,", "unexpected end of options after ','"},
        {",no-pty", "empty option"},
        {"no-pty,,pty", "empty option"},
        {"no-pty pty", "unknown option \"no-pty pty\""},
        {"expiry-time=\"2030010\"", "invalid expiry-time \"2030010\" (YYYYMMDD[HHMM[SS]][Z])"},
        {"expiry-time=\"20301301\"", "invalid expiry-time"},
        {"expiry-time=\"20230229\"", "invalid expiry-time"},
        {"expiry-time=\"20300132\"", "invalid expiry-time"},
        {"expiry-time=\"203001012400\"", "invalid expiry-time"},
        {"expiry-time=\"19690101\"", "invalid expiry-time"},
        {"expiry-time=\"2030-1-01\"", "invalid expiry-time"},
        {"expiry-time=\"20300101X\"", "invalid expiry-time"},
        {"expiry-time=\"Z\"", "invalid expiry-time"},
        {"command=\"ends in a backslash\\\"", "missing end quote for command="},
        {"environment=\"NOEQUALS\"", "invalid environment= \"NOEQUALS\" (NAME=value)"},
        {"environment=\"=x\"", "invalid environment="},
        {"environment=\"A-B=x\"", "invalid environment="},
        {"permit-service=\"\"", "invalid permit-service="},
        {"permit-service=\"web,db\"", "invalid permit-service= \"web,db\" (one service name)"},
        {"permit-service=\"-web\"", "invalid permit-service="},
        {"permitopen=\"localhost\"", "invalid permitopen= \"localhost\" (host:port, [IPv6]:port; the port may be *)"},
        {"permitopen=\"*:80\"", "invalid permitopen="},  // no host wildcard in authorized_keys, as sshd
        {"permitopen=\"db:0\"", "invalid permitopen="},
        {"permitopen=\"db:80,db:81\"", "invalid permitopen="},
        {"verify-required", "verify-required cannot be honoured"},
        {"permitlisten=\"host:\"", "invalid permitlisten="},
        {"permitlisten=\"99999\"", "invalid permitlisten="},
        {"tunnel=\"-1\"", "invalid tunnel="},
        {"tunnel=\"x\"", "invalid tunnel="},
    };
    for (const auto& c : cases) {
        auto p = parse_key_options(c.field);
        INFO(c.field << " -> " << p.error);
        CHECK_FALSE(p.options);
        CHECK(p.error.starts_with(c.error));
    }
    // Bounded: the 65th value of one kind is refused (and the line with it).
    std::string many;
    for (int i = 0; i <= static_cast<int>(max_key_option_values); ++i) {
        many += (i ? "," : "") + std::string("environment=\"V") + std::to_string(i) + "=x\"";
    }
    auto p = parse_key_options(many);
    CHECK_FALSE(p.options);
    CHECK(p.error == "too many environment= options (limit 64)");
}

TEST_CASE("key options: permitopen= entries, as sshd writes them", "[trust][key_options]") {
    auto p = parse_key_options("permitopen=\"db.example:5432\",permitopen=\"[::1]:*\",PermitOpen=\"db.example:5432\"");
    REQUIRE(p.options);
    CHECK(p.options->permit_open == std::vector<std::string>{"db.example:5432", "[::1]:*"});  // each once
    using twoway::session::Destination;
    using twoway::session::permit_open_matches;
    CHECK(permit_open_matches("db.example:5432", Destination{"db.example", 5432}));
    CHECK_FALSE(permit_open_matches("db.example:5432", Destination{"db.example", 5433}));
    CHECK_FALSE(permit_open_matches("db.example:5432", Destination{"DB.example", 5432}));  // exact, as sshd
    CHECK(permit_open_matches("[::1]:*", Destination{"::1", 1}));
    CHECK_FALSE(permit_open_matches("[::1]:*", Destination{"127.0.0.1", 1}));
    CHECK(permit_open_matches("*:22", Destination{"anything", 22}));  // PermitOpen's host wildcard
    CHECK(permit_open_matches("*:*", Destination{"anything", 1}));
    CHECK_FALSE(permit_open_matches("garbage", Destination{"garbage", 1}));
    CHECK(twoway::session::valid_permit_open("*:*", true));
    CHECK_FALSE(twoway::session::valid_permit_open("*:*", false));
    CHECK_FALSE(twoway::session::valid_permit_open("db:*x", true));
}

TEST_CASE("key options: unusable lines leave the rest of the file working", "[trust][key_options]") {
    const std::string text = "bogus " + key_text(1) + "\n" + "no-pty " + key_text(2) + "\n" +
                             "verify-required " + key_text(3) + "\n";
    auto f = parse_authorized_keys("ak", text);
    REQUIRE(f.entries.size() == 1);
    CHECK(f.entries[0].key == test_key(2));
    REQUIRE(f.diagnostics.size() == 2);
    CHECK(f.diagnostics[0].text() == "ak:1: bad options: unknown option \"bogus\"");
    CHECK(f.diagnostics[1].text().starts_with("ak:3: bad options: verify-required cannot be honoured"));
    std::vector<AuthorizedKeysFile> files{f};
    CHECK_FALSE(check_authorized(files, test_key(1), facts()));
    CHECK(check_authorized(files, test_key(2), facts()));
}

TEST_CASE("key options: from= and expiry-time= against the connection", "[trust][key_options]") {
    struct Case {
        const char* field;
        ConnectionFacts facts;
        const char* refusal;  // nullptr: allowed
    };
    const std::vector<Case> cases{
        {"no-pty", facts(), nullptr},
        {"from=\"127.0.0.1\"", facts(), nullptr},
        {"from=\"127.0.0.0/8\"", facts(), nullptr},
        {"from=\"10.0.0.0/8\"", facts(),
         "/home/a/.twoway/authorized_keys:7: from= mismatch: 127.0.0.1 is not in \"10.0.0.0/8\""},
        {"from=\"127.0.0.0/8,!127.0.0.1\"", facts(), "/home/a/.twoway/authorized_keys:7: from= mismatch"},
        {"from=\"10.0.0.0/8\"", facts("10.9.8.7"), nullptr},
        {"from=\"::1\"", facts("::1"), nullptr},
        {"from=\"::1\"", facts(), "/home/a/.twoway/authorized_keys:7: from= mismatch"},
        // A list that cannot be read refuses: fail closed.
        {"from=\"10.0.0.0/99\"", facts("10.0.0.1"), "/home/a/.twoway/authorized_keys:7: from= list cannot be read"},
        // expiry: still valid at the very second, refused one second later (OpenSSH: valid_before < now).
        {"expiry-time=\"20300101000000Z\"", facts("127.0.0.1", t2030), nullptr},
        {"expiry-time=\"20300101000000Z\"", facts("127.0.0.1", t2030 + 1),
         "/home/a/.twoway/authorized_keys:7: expiry-time passed (2030-01-01 00:00:00 UTC)"},
        {"expiry-time=\"20291231\"", facts(), "/home/a/.twoway/authorized_keys:7: expiry-time passed (2029-12-31 00:00:00)"},
        {"expiry-time=\"20300102\"", facts(), nullptr},
        // Local time: at 2030-01-01 00:00 UTC it is 01:00 in UTC+1, so a local 00:30 has passed there ...
        {"expiry-time=\"203001010030\"", facts("127.0.0.1", t2030, 3600), "/home/a/.twoway/authorized_keys:7: expiry-time passed"},
        // ... and not yet in UTC-1 (23:00 the day before), nor in UTC.
        {"expiry-time=\"203001010030\"", facts("127.0.0.1", t2030, -3600), nullptr},
        {"expiry-time=\"203001010030\"", facts("127.0.0.1", t2030, 0), nullptr},
        // Each expiry-time must hold.
        {"expiry-time=\"20400101\",expiry-time=\"20200101Z\"", facts(), "/home/a/.twoway/authorized_keys:7: expiry-time passed (2020"},
        {"from=\"127.0.0.1\",expiry-time=\"20400101\"", facts(), nullptr},
        {"cert-authority", facts(), "/home/a/.twoway/authorized_keys:7: cert-authority"},
    };
    for (const auto& c : cases) {
        const auto e = entry_with(c.field);
        const auto v = key_options_allow(e, c.facts);
        INFO(c.field << " from " << format_ip_address(c.facts.address) << " at " << c.facts.now << " -> " << v.reason);
        if (c.refusal == nullptr) {
            CHECK(v.allowed);
            CHECK(v.reason.empty());
        } else {
            CHECK_FALSE(v.allowed);
            CHECK(v.reason.starts_with(c.refusal));
        }
    }
}

TEST_CASE("check_authorized: a line refused by its options does not end the search", "[trust][key_options]") {
    const std::string k1 = " " + key_text(1);
    std::vector<AuthorizedKeysFile> files{
        parse_authorized_keys("first", "from=\"10.0.0.0/8\"" + k1 + "\n" + "expiry-time=\"20200101Z\"" + k1 + "\n"),
        parse_authorized_keys("second", "restrict,command=\"backup\"" + k1 + "\n" + "no-pty" + k1 + "\n"),
    };
    const auto v = check_authorized(files, test_key(1), facts());
    REQUIRE(v);
    CHECK(*v.matched == Location{"second", 1});  // the first line that allows decides
    CHECK(v.options.command == "backup");
    CHECK(v.options.restricted);
    REQUIRE(v.refusals.size() == 2);
    CHECK(v.refusals[0].starts_with("first:1: from= mismatch"));
    CHECK(v.refusals[1].starts_with("first:2: expiry-time passed"));

    // From inside 10/8 the first line decides, and its options are the ones that apply.
    const auto inside = check_authorized(files, test_key(1), facts("10.1.1.1"));
    REQUIRE(inside);
    CHECK(*inside.matched == Location{"first", 1});
    CHECK_FALSE(inside.options.command);
    CHECK(inside.refusals.empty());

    // Every line refuses: not authorized, and every reason is there.
    std::vector<AuthorizedKeysFile> only_refusing{files[0]};
    const auto no = check_authorized(only_refusing, test_key(1), facts());
    CHECK_FALSE(no);
    CHECK_FALSE(no.matched);
    CHECK(no.refusals.size() == 2);
    // Another key: nothing matched, nothing refused.
    const auto other = check_authorized(files, test_key(2), facts());
    CHECK_FALSE(other);
    CHECK(other.refusals.empty());
}

TEST_CASE("key options: the expiry's civil time", "[trust][key_options]") {
    CHECK(ExpiryTime{1970, 1, 1, 0, 0, 1, true}.civil_seconds() == 1);
    CHECK(ExpiryTime{2030, 1, 1, 0, 0, 0, true}.civil_seconds() == t2030);
    CHECK(ExpiryTime{2000, 3, 1, 0, 0, 0, true}.civil_seconds() == 951868800);
    CHECK(ExpiryTime{9999, 12, 31, 23, 59, 59, true}.civil_seconds() == 253402300799);
}
