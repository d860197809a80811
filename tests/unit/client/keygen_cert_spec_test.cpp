// twoway-keygen's readings of -V, -z, -n and -O and its -L text (client/keygen/cert_spec.hpp), against
// what ssh-keygen 9.2 does with the same arguments (tests/interop compares the two programs too).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>

#include "../../../client/keygen/cert_spec.hpp"

using namespace twoway_keygen;

namespace {

// Sets TZ for one scope and restores it after.
class ZoneScope {
public:
    explicit ZoneScope(const char* zone) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", zone, 1);
        ::tzset();
    }
    ~ZoneScope() {
        if (old_) ::setenv("TZ", old_->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }
    ZoneScope(const ZoneScope&) = delete;
    ZoneScope& operator=(const ZoneScope&) = delete;

private:
    std::optional<std::string> old_;
};

constexpr std::int64_t now = 1'780'000'000;  // 2026-05-28T20:26:40Z

std::vector<std::string> names(const std::vector<twoway::CertificateOption>& options) {
    std::vector<std::string> out;
    for (const auto& o : options) out.push_back(o.name);
    return out;
}

}  // namespace

TEST_CASE("-V: relative, absolute, open and hex forms", "[client]") {
    const ZoneScope utc("UTC");
    auto v = parse_validity("+52w", now);
    REQUIRE(v);
    CHECK(v.value->after == static_cast<std::uint64_t>((now - 59) / 60 * 60));  // the minute before, as ssh-keygen
    CHECK(v.value->before == static_cast<std::uint64_t>(now + 52 * 7 * 86400));
    v = parse_validity("-1d:+1h30m", now);
    REQUIRE(v);
    CHECK(v.value->after == static_cast<std::uint64_t>(now - 86400));
    CHECK(v.value->before == static_cast<std::uint64_t>(now + 5400));
    v = parse_validity("always:forever", now);
    REQUIRE(v);
    CHECK(v.value->after == 0);
    CHECK(v.value->before == twoway::certificate_forever);
    v = parse_validity("20260101:20270101123000", now);
    REQUIRE(v);
    CHECK(v.value->after == 1'767'225'600);
    CHECK(v.value->before == 1'798'806'600);
    v = parse_validity("0x1:0x2000000000", now);
    REQUIRE(v);
    CHECK(v.value->after == 1);
    CHECK(v.value->before == 0x2000000000);
}

TEST_CASE("-V: local time unless Z or UTC, read with daylight saving time off as ssh-keygen reads it", "[client]") {
    const ZoneScope berlin("Europe/Berlin");
    auto v = parse_validity("20260101:20260101Z", now);  // local midnight is 23:00 UTC the day before
    REQUIRE(v);
    CHECK(v.value->after == 1'767'225'600 - 3600);
    CHECK(v.value->before == 1'767'225'600);
    v = parse_validity("202606150000:202606150000UTC", now);  // summer: still UTC+1 (tm_isdst 0)
    REQUIRE(v);
    CHECK(v.value->after + 3600 == v.value->before);
    CHECK(format_local_time(v.value->after) == "2026-06-15T01:00:00");
    CHECK(format_validity(0, twoway::certificate_forever) == "forever");
    CHECK(format_validity(0, 1'767'225'600) == "before 2026-01-01T01:00:00");
    CHECK(format_validity(1'767'225'600, twoway::certificate_forever) == "after 2026-01-01T01:00:00");
}

TEST_CASE("-V: ssh-keygen's refusals, in its words", "[client]") {
    const ZoneScope utc("UTC");
    CHECK(parse_validity("20270101", now).error == "Invalid certificate life specification 20270101");
    CHECK(parse_validity("forever", now).error == "Invalid certificate life specification forever");
    CHECK(parse_validity("-1d", now).error == "Invalid certificate life specification -1d");
    CHECK(parse_validity(":+1d", now).error == "Invalid certificate life specification :+1d");
    CHECK(parse_validity("+1d:", now).error == "Invalid certificate life specification +1d:");
    CHECK(parse_validity("+52x", now).error == "Invalid relative certificate life +52x");
    CHECK(parse_validity("+:+1d", now).error == "Invalid relative certificate time +");
    CHECK(parse_validity("2026010112:forever", now).error == "Invalid from time \"2026010112\"");
    CHECK(parse_validity("always:20261301", now).error == "Invalid to time \"20261301\"");
    CHECK(parse_validity("0x:forever", now).error == "Invalid certificate time: not a number");
    CHECK(parse_validity("20270101:20260101", now).error == "Empty certificate validity interval");
    CHECK(parse_validity("+0:+0", now).error == "Empty certificate validity interval");
    CHECK(parse_validity("-100000000w:forever", now).error == "Invalid relative certificate time -100000000w");
    CHECK(parse_validity("-3000w:forever", 1000).error == "Certificate time -3000w cannot be represented");
}

TEST_CASE("-z and -n", "[client]") {
    auto s = parse_serial("42");
    REQUIRE(s);
    CHECK(s.value->first == 42);
    CHECK_FALSE(s.value->increment);
    s = parse_serial("+18446744073709551615");
    REQUIRE(s);
    CHECK(s.value->first == 18446744073709551615ULL);
    CHECK(s.value->increment);
    CHECK(parse_serial("18446744073709551616").error == "Invalid serial number \"18446744073709551616\"");
    CHECK(parse_serial("-1").error == "Invalid serial number \"-1\"");
    CHECK(parse_serial("+").error == "Invalid serial number \"\"");
    CHECK(parse_serial("0x10").error == "Invalid serial number \"0x10\"");

    auto p = parse_principals("alice,bob,host.example.com");
    REQUIRE(p);
    CHECK(*p.value == std::vector<std::string>{"alice", "bob", "host.example.com"});
    CHECK(parse_principals("").error == "Empty principal name");
    CHECK(parse_principals("a,,b").error == "Empty principal name");
    CHECK(parse_principals("a,").error == "Empty principal name");
    std::string many = "p";
    for (int i = 0; i < 256; ++i) many += ",p";
    CHECK(parse_principals(many).error == "Too many certificate principals specified");
}

TEST_CASE("-O: defaults, clear, flags and values", "[client]") {
    auto user = parse_certificate_options({}, false);
    REQUIRE(user);
    CHECK(names(user.value->extensions) == std::vector<std::string>{"permit-X11-forwarding", "permit-agent-forwarding",
                                                                    "permit-port-forwarding", "permit-pty",
                                                                    "permit-user-rc"});
    CHECK(user.value->critical.empty());
    auto host = parse_certificate_options({}, true);
    REQUIRE(host);
    CHECK(host.value->extensions.empty());

    const std::vector<std::string> opts = {"NO-PTY", "no-x11-forwarding", "force-command=ls -l",
                                           "source-address=10.0.0.0/8,::1", "extension:login@x=alice",
                                           "critical:flag@x", "no-touch-required"};
    auto o = parse_certificate_options(opts, false);
    REQUIRE(o);
    CHECK(names(o.value->extensions) == std::vector<std::string>{"permit-agent-forwarding", "permit-port-forwarding",
                                                                 "permit-user-rc", "no-touch-required", "login@x"});
    REQUIRE(names(o.value->critical) == std::vector<std::string>{"force-command", "source-address", "flag@x"});
    CHECK(o.value->critical[0].text_value() == "ls -l");
    CHECK(o.value->critical[1].text_value() == "10.0.0.0/8,::1");
    CHECK(o.value->critical[2].data.empty());
    CHECK(o.value->extensions[4].text_value() == "alice");

    const std::vector<std::string> cleared = {"clear", "permit-pty", "extension:e@x="};
    o = parse_certificate_options(cleared, false);
    REQUIRE(o);
    CHECK(names(o.value->extensions) == std::vector<std::string>{"permit-pty", "e@x"});
    CHECK(o.value->extensions[1].text_value() == "");  // "=" with nothing: an empty string, not a flag
    CHECK_FALSE(o.value->extensions[1].data.empty());
}

TEST_CASE("-O: refusals", "[client]") {
    const auto error = [](std::vector<std::string> opts, bool host = false) {
        return parse_certificate_options(opts, host).error;
    };
    CHECK(error({"bogus"}) == "Unsupported certificate option \"bogus\"");
    CHECK(error({"force-command="}) == "Empty force-command option");
    CHECK(error({"force-command=a", "force-command=b"}) == "force-command already specified");
    CHECK(error({"source-address="}) == "Empty source-address option");
    CHECK(error({"source-address=1.2.3.4", "source-address=::1"}) == "source-address already specified");
    CHECK(error({"source-address=10.1.2.3/8"}).starts_with("Invalid source-address list: \"10.1.2.3/8\""));
    CHECK(error({"source-address=10.0.0.0/8,"}).starts_with("Invalid source-address list: \"\""));
    CHECK(error({"source-address=*"}).starts_with("Invalid source-address list"));
    CHECK(error({"extension:"}).starts_with("Empty name"));
    CHECK(error({"extension:permit-pty"}) == "Extension \"permit-pty\" given twice");
    CHECK(error({"critical:c@x", "critical:c@x=1"}) == "Critical option \"c@x\" given twice");
    CHECK(error({"force-command=x"}, true).starts_with("Critical option \"force-command\" on a host certificate"));
    CHECK(parse_certificate_options(std::vector<std::string>{"permit-pty", "extension:e@x"}, true));
}

TEST_CASE("-L text: ssh-keygen's layout, unknown options in hex, control characters escaped", "[client]") {
    const ZoneScope utc("UTC");
    const auto seed_key = [](unsigned char b) {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{b});
        return twoway::PrivateKey::from_seed(seed);
    };
    const auto ca = seed_key(1);
    twoway::CertificateFields f;
    f.nonce.assign(32, std::byte{7});
    f.key = seed_key(2).public_key();
    f.serial = 42;
    f.key_id = "id\x1b[31m";
    f.principals = {"alice", "bob"};
    f.valid_after = 1'767'225'600;
    f.critical_options = {twoway::CertificateOption::text("force-command", "ls"),
                          twoway::CertificateOption::flag("z@x")};
    f.extensions = {twoway::CertificateOption::flag("permit-pty"), twoway::CertificateOption::text("e@x", "bar")};
    auto cert = twoway::sign_certificate(f, ca, twoway::system_rng());
    REQUIRE(cert);
    const auto text = describe_certificate(*cert);
    REQUIRE(text);
    CHECK(*text == "        Type: ssh-ed25519-cert-v01@openssh.com user certificate\n"
                   "        Public key: ED25519-CERT " + twoway::fingerprint_sha256(f.key) + "\n"
                   "        Signing CA: ED25519 " + twoway::fingerprint_sha256(ca.public_key()) + " (using ssh-ed25519)\n"
                   "        Key ID: \"id\\033[31m\"\n"
                   "        Serial: 42\n"
                   "        Valid: after 2026-01-01T00:00:00\n"
                   "        Principals: \n"
                   "                alice\n"
                   "                bob\n"
                   "        Critical Options: \n"
                   "                force-command ls\n"
                   "                z@x UNKNOWN FLAG OPTION\n"
                   "        Extensions: \n"
                   "                e@x UNKNOWN OPTION: 00000003626172 (len 7)\n"
                   "                permit-pty\n");

    f.principals.clear();
    f.critical_options.clear();
    f.extensions = {twoway::CertificateOption::text("permit-pty", "x")};  // a known flag with data
    cert = twoway::sign_certificate(f, ca, twoway::system_rng());
    REQUIRE(cert);
    CHECK_FALSE(describe_certificate(*cert));
    f.extensions.clear();
    cert = twoway::sign_certificate(f, ca, twoway::system_rng());
    REQUIRE(cert);
    const auto none = describe_certificate(*cert);
    REQUIRE(none);
    CHECK(none->find("        Principals: (none)\n        Critical Options: (none)\n        Extensions: (none)\n") !=
          std::string::npos);
}
