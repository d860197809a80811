// check_certificate_use: a certificate whose signature verified, checked against what it is presented
// for. One case per check, each with the reason a log would show.
#include <catch2/catch.hpp>

#include <twoway/certificate.hpp>
#include <twoway/trust.hpp>

#include "../../support/deterministic_rng.hpp"

using namespace twoway;

namespace {

constexpr std::int64_t jan_2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t jan_2027 = 1798761600;  // 2027-01-01T00:00:00Z

Certificate make(CertificateFields f) {
    twoway_test::DeterministicRng rng(7);
    const PrivateKey ca = PrivateKey::generate(rng);
    if (f.key == PublicKey{}) f.key = PrivateKey::generate(rng).public_key();
    auto c = sign_certificate(std::move(f), ca, rng);
    REQUIRE(c.has_value());
    return *c;
}

CertificateFields user_fields() {
    CertificateFields f;
    f.type = CertificateType::user;
    f.key_id = "alice";
    f.principals = {"alice", "deploy"};
    f.valid_after = jan_2026;
    f.valid_before = jan_2027;
    return f;
}

CertificateUse login(std::string account, std::int64_t now = jan_2026 + 3600) {
    CertificateUse u;
    u.role = CertificateType::user;
    u.principals = {std::move(account)};
    u.now = now;
    u.source = *parse_ip_address("192.0.2.7");
    return u;
}

}  // namespace

TEST_CASE("a user certificate for the account, in its window, logs in restricted to its extensions", "[trust][certificate]") {
    auto f = user_fields();
    f.extensions = {CertificateOption::flag("permit-pty"), CertificateOption::flag("permit-user-rc"),
                    CertificateOption::flag("unknown-ext@example.com")};
    const auto v = check_certificate_use(make(f), login("deploy"));
    REQUIRE(v.allowed);
    CHECK(v.reason.empty());
    CHECK(v.options.restricted);
    CHECK(v.options.pty);
    CHECK_FALSE(v.options.port_forwarding);
    CHECK_FALSE(v.options.agent_forwarding);
    CHECK(v.options.user_rc);
    CHECK_FALSE(v.options.command.has_value());

    // ssh-keygen's default set turns port forwarding back on.
    f.extensions.push_back(CertificateOption::flag("permit-port-forwarding"));
    CHECK(check_certificate_use(make(f), login("alice")).options.port_forwarding);
    // Without extensions: nothing but the command.
    CHECK_FALSE(check_certificate_use(make(user_fields()), login("alice")).options.pty);
}

TEST_CASE("the type must be the role's", "[trust][certificate]") {
    auto host = user_fields();
    host.type = CertificateType::host;
    auto v = check_certificate_use(make(host), login("alice"));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: not a user certificate");

    CertificateUse as_host;
    as_host.role = CertificateType::host;
    as_host.principals = {"alice"};
    as_host.now = jan_2026 + 10;
    v = check_certificate_use(make(user_fields()), as_host);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: not a host certificate");
}

TEST_CASE("the validity window: a minute of skew before it, none after", "[trust][certificate]") {
    const auto c = make(user_fields());
    CHECK(check_certificate_use(c, login("alice", jan_2026)).allowed);
    CHECK(check_certificate_use(c, login("alice", jan_2026 - 60)).allowed);
    auto v = check_certificate_use(c, login("alice", jan_2026 - 61));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: not yet valid: valid from 2026-01-01T00:00:00Z, now 2025-12-31T23:58:59Z "
                      "(allowing 60 s of clock skew)");
    CHECK(check_certificate_use(c, login("alice", jan_2027 - 1)).allowed);
    v = check_certificate_use(c, login("alice", jan_2027));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: expired at 2027-01-01T00:00:00Z, now 2027-01-01T00:00:00Z");
    CHECK_FALSE(check_certificate_use(c, login("alice", -5)).allowed);

    auto forever = user_fields();
    forever.valid_after = 0;
    forever.valid_before = certificate_forever;
    CHECK(check_certificate_use(make(forever), login("alice", 4102444800)).allowed);  // 2100
    CHECK(format_certificate_time(certificate_forever) == "forever");
}

TEST_CASE("principals: the account must be listed exactly; an empty list is refused, never 'any'", "[trust][certificate]") {
    const auto c = make(user_fields());
    auto v = check_certificate_use(c, login("bob"));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: name is not a listed principal (wanted \"bob\")");
    CHECK_FALSE(check_certificate_use(c, login("Alice")).allowed);
    CHECK_FALSE(check_certificate_use(c, login("alic")).allowed);
    CHECK_FALSE(check_certificate_use(c, login("ali*")).allowed);

    // A user certificate's principal is not a pattern.
    auto star = user_fields();
    star.principals = {"*"};
    CHECK_FALSE(check_certificate_use(make(star), login("alice")).allowed);

    auto none = user_fields();
    none.principals.clear();
    v = check_certificate_use(make(none), login("alice"));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate invalid: it lists no principals (twoway never reads that as \"any\")");

    // Any of several acceptable names (principals= of a cert-authority line).
    auto use = login("nobody-listed");
    use.principals.push_back("deploy");
    CHECK(check_certificate_use(c, use).allowed);
}

TEST_CASE("host certificates: the host name in lower case, principals may be patterns, no critical options", "[trust][certificate]") {
    auto f = user_fields();
    f.type = CertificateType::host;
    f.principals = {"*.example.com", "10.1.2.3"};
    const auto c = make(f);
    CertificateUse u;
    u.role = CertificateType::host;
    u.now = jan_2026 + 5;
    for (const char* host : {"web1.example.com", "WEB1.Example.COM", "10.1.2.3"}) {
        u.principals = {host};
        INFO(host);
        CHECK(check_certificate_use(c, u).allowed);
    }
    u.principals = {"example.com"};
    CHECK_FALSE(check_certificate_use(c, u).allowed);
    u.principals = {"web1.example.com.evil.net"};
    CHECK_FALSE(check_certificate_use(c, u).allowed);

    f.critical_options = {CertificateOption::text("force-command", "true")};
    u.principals = {"web1.example.com"};
    const auto v = check_certificate_use(make(f), u);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate critical option \"force-command\" is not supported");
}

TEST_CASE("critical options: force-command is the command; source-address must hold the client; others refuse", "[trust][certificate]") {
    auto f = user_fields();
    f.critical_options = {CertificateOption::text("force-command", "/usr/bin/backup --run"),
                          CertificateOption::text("source-address", "10.0.0.0/8,192.0.2.7")};
    auto v = check_certificate_use(make(f), login("alice"));
    REQUIRE(v.allowed);
    CHECK(v.options.command == "/usr/bin/backup --run");

    auto elsewhere = login("alice");
    elsewhere.source = *parse_ip_address("198.51.100.1");
    v = check_certificate_use(make(f), elsewhere);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate source-address mismatch: 198.51.100.1 not in \"10.0.0.0/8,192.0.2.7\"");

    auto no_address = login("alice");
    no_address.source.reset();
    CHECK_FALSE(check_certificate_use(make(f), no_address).allowed);

    for (const char* bad : {"10.0.0.1/8", "10.*", "!10.0.0.0/8", "", "192.0.2.7,", "host.example"}) {
        f.critical_options = {CertificateOption::text("source-address", bad)};
        v = check_certificate_use(make(f), login("alice"));
        INFO(bad);
        CHECK_FALSE(v.allowed);
        CHECK(v.reason.find("is invalid") != std::string::npos);
    }

    f.critical_options = {CertificateOption::text("verify-required", "")};
    v = check_certificate_use(make(f), login("alice"));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate critical option \"verify-required\" is not supported");

    f.critical_options = {CertificateOption::flag("force-command")};  // data is not a string
    v = check_certificate_use(make(f), login("alice"));
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "Certificate critical option \"force-command\" is malformed");

    f.critical_options = {CertificateOption::flag(std::string("bad\nname"))};
    v = check_certificate_use(make(f), login("alice"));
    CHECK(v.reason == "Certificate critical option \"bad\\x0aname\" is not supported");
}
