// May a user certificate log in (sshd's two ways): cert-authority lines in authorized_keys, and a CA
// from TrustedUserCAKeys with or without AuthorizedPrincipalsFile. One case per rule, negative ones
// with the reason a log would show.
#include <catch2/catch.hpp>

#include <twoway/certificate.hpp>
#include <twoway/trust.hpp>

#include "../../support/deterministic_rng.hpp"

using namespace twoway;

namespace {

constexpr std::int64_t jan_2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t jan_2027 = 1798761600;  // 2027-01-01T00:00:00Z

struct Fixture {
    twoway_test::DeterministicRng rng{11};
    PrivateKey ca = PrivateKey::generate(rng);
    PrivateKey other_ca = PrivateKey::generate(rng);
    PrivateKey user = PrivateKey::generate(rng);

    Certificate cert(std::vector<std::string> principals = {"alice"}, const PrivateKey* by = nullptr,
                     std::vector<CertificateOption> critical = {}, std::vector<CertificateOption> extensions = {
                         CertificateOption::flag("permit-pty"), CertificateOption::flag("permit-port-forwarding")}) {
        CertificateFields f;
        f.key = user.public_key();
        f.type = CertificateType::user;
        f.key_id = "alice@laptop";
        f.serial = 42;
        f.principals = std::move(principals);
        f.valid_after = jan_2026;
        f.valid_before = jan_2027;
        f.critical_options = std::move(critical);
        f.extensions = std::move(extensions);
        auto c = sign_certificate(std::move(f), by != nullptr ? *by : ca, rng);
        REQUIRE(c.has_value());
        return *c;
    }
    std::string ca_line(std::string_view options) const {
        return std::string(options) + (options.empty() ? "" : " ") + format_public_key_line(ca.public_key(), "ca");
    }
};

ConnectionFacts facts(std::int64_t now = jan_2026 + 3600, std::string_view address = "192.0.2.7") {
    return ConnectionFacts{*parse_ip_address(address), now, 0};
}

AuthVerdict by_file(const Certificate& c, const std::string& text, std::string_view account = "alice",
                    ConnectionFacts f = facts()) {
    const std::vector<AuthorizedKeysFile> files{parse_authorized_keys("ak", text)};
    REQUIRE(files[0].skipped == 0);
    return check_authorized_certificate(files, c, account, f);
}

}  // namespace

TEST_CASE("a cert-authority line admits the CA's certificates naming the account", "[trust][certificate]") {
    Fixture fx;
    const std::string text = format_public_key_line(fx.user.public_key(), "plain") + "\n" +
                             fx.ca_line("cert-authority,no-pty") + "\n";
    auto v = by_file(fx.cert(), text);
    REQUIRE(v.authorized);
    CHECK(v.matched->line == 2);
    CHECK_FALSE(v.options.pty);             // the line's no-pty wins over the certificate's permit-pty
    CHECK(v.options.port_forwarding);       // both allow it
    CHECK(v.options.restricted);

    // A plain line holding the certified key is not a CA line: alone, it admits no certificate.
    CHECK_FALSE(by_file(fx.cert(), format_public_key_line(fx.user.public_key(), "plain") + "\n").authorized);
    // A line for the CA without cert-authority is a plain key line, not a CA.
    CHECK_FALSE(by_file(fx.cert(), fx.ca_line("") + "\n").authorized);
    // Another CA's certificate: no line for its CA.
    CHECK_FALSE(by_file(fx.cert({"alice"}, &fx.other_ca), text).authorized);
}

TEST_CASE("cert-authority: the account must be a principal unless principals= names others", "[trust][certificate]") {
    Fixture fx;
    auto v = by_file(fx.cert({"bob"}), fx.ca_line("cert-authority") + "\n");
    CHECK_FALSE(v.authorized);
    REQUIRE(v.refusals.size() == 1);
    CHECK(v.refusals[0] == "ak:1: certificate ID \"alice@laptop\" (serial 42): Certificate invalid: name is not a listed "
                           "principal (wanted \"alice\")");

    // principals= replaces the account: "ops" in the certificate is enough, the account name is not.
    CHECK(by_file(fx.cert({"ops"}), fx.ca_line("cert-authority,principals=\"admins,ops\"") + "\n").authorized);
    CHECK_FALSE(by_file(fx.cert({"alice"}), fx.ca_line("cert-authority,principals=\"admins,ops\"") + "\n").authorized);
    // Exact names, no patterns.
    CHECK_FALSE(by_file(fx.cert({"ops"}), fx.ca_line("cert-authority,principals=\"o*\"") + "\n").authorized);
    // Empty principals are never "any".
    v = by_file(fx.cert({}), fx.ca_line("cert-authority") + "\n");
    CHECK_FALSE(v.authorized);
    CHECK_THAT(v.refusals.at(0), Catch::Contains("lists no principals"));
}

TEST_CASE("cert-authority: the line's from= and expiry-time= and the certificate's window all hold", "[trust][certificate]") {
    Fixture fx;
    CHECK_FALSE(by_file(fx.cert(), fx.ca_line("cert-authority,from=\"10.0.0.0/8\"") + "\n").authorized);
    CHECK(by_file(fx.cert(), fx.ca_line("cert-authority,from=\"192.0.2.0/24\"") + "\n").authorized);
    CHECK_FALSE(by_file(fx.cert(), fx.ca_line("cert-authority,expiry-time=\"20251231Z\"") + "\n").authorized);
    auto v = by_file(fx.cert(), fx.ca_line("cert-authority") + "\n", "alice", facts(jan_2027 + 5));
    CHECK_FALSE(v.authorized);
    CHECK_THAT(v.refusals.at(0), Catch::Contains("expired at 2027-01-01T00:00:00Z, now 2027-01-01T00:00:05Z"));
    // A refusing line does not end the search: a later line for the same CA may allow.
    v = by_file(fx.cert(), fx.ca_line("cert-authority,from=\"10.0.0.0/8\"") + "\n" + fx.ca_line("cert-authority") + "\n");
    REQUIRE(v.authorized);
    CHECK(v.matched->line == 2);
    CHECK(v.refusals.size() == 1);
}

TEST_CASE("cert-authority: forced commands from the line and the certificate must agree", "[trust][certificate]") {
    Fixture fx;
    const auto forced = fx.cert({"alice"}, nullptr, {CertificateOption::text("force-command", "/usr/bin/backup")});
    auto v = by_file(forced, fx.ca_line("cert-authority") + "\n");
    REQUIRE(v.authorized);
    CHECK(v.options.command == "/usr/bin/backup");
    CHECK(by_file(forced, fx.ca_line("cert-authority,command=\"/usr/bin/backup\"") + "\n").authorized);
    v = by_file(forced, fx.ca_line("cert-authority,command=\"/bin/sh\"") + "\n");
    CHECK_FALSE(v.authorized);
    CHECK_THAT(v.refusals.at(0), Catch::EndsWith("Forced command options do not match"));
    // The line's command alone applies too.
    v = by_file(fx.cert(), fx.ca_line("cert-authority,command=\"/bin/true\"") + "\n");
    CHECK(v.options.command == "/bin/true");
    // source-address: the client's address must be in it.
    const auto sourced = fx.cert({"alice"}, nullptr, {CertificateOption::text("source-address", "10.0.0.0/8")});
    CHECK_FALSE(by_file(sourced, fx.ca_line("cert-authority") + "\n").authorized);
    CHECK(by_file(sourced, fx.ca_line("cert-authority") + "\n", "alice", facts(jan_2026 + 60, "10.1.2.3")).authorized);
}

TEST_CASE("AuthorizedPrincipalsFile: '#' anywhere, the last word, options before it", "[trust][certificate]") {
    const auto file = parse_authorized_principals("p", "# comment\n"
                                                       "alice\n"
                                                       "  ops   # on-call\n"
                                                       "from=\"10.0.0.0/8\",no-pty deploy\n"
                                                       "bogus-option web\n"
                                                       "cert-authority admins\n"
                                                       "   \n");
    REQUIRE(file.entries.size() == 3);
    CHECK(file.entries[0].name == "alice");
    CHECK(file.entries[1].name == "ops");
    CHECK(file.entries[1].where.line == 3);
    CHECK(file.entries[2].name == "deploy");
    CHECK(file.entries[2].options.from == "10.0.0.0/8");
    CHECK_FALSE(file.entries[2].options.pty);
    REQUIRE(file.skipped == 2);
    CHECK(file.diagnostics[0].where.line == 5);
    CHECK_THAT(file.diagnostics[0].message, Catch::StartsWith("bad principals options"));
    CHECK(file.diagnostics[1].where.line == 6);
}

TEST_CASE("TrustedUserCAKeys: the account, or the first principals line naming a principal", "[trust][certificate]") {
    Fixture fx;
    const Location ca_where{"/etc/twoway/user_ca.pub", 3};
    auto v = check_trusted_certificate(fx.cert({"alice"}), "alice", nullptr, ca_where, facts());
    REQUIRE(v.authorized);
    CHECK(v.matched == ca_where);
    CHECK(v.options.pty);
    CHECK_FALSE(check_trusted_certificate(fx.cert({"bob"}), "alice", nullptr, ca_where, facts()).authorized);
    CHECK_FALSE(check_trusted_certificate(fx.cert({}), "alice", nullptr, ca_where, facts()).authorized);

    // With principals files, the account name in the certificate is not enough: the file decides.
    const std::vector<AuthorizedPrincipalsFile> files{
        parse_authorized_principals("pf", "ops\nno-pty,command=\"/bin/date\" deploy\n")};
    v = check_trusted_certificate(fx.cert({"alice"}), "alice", &files, ca_where, facts());
    CHECK_FALSE(v.authorized);
    CHECK_THAT(v.refusals.at(0), Catch::EndsWith("Certificate does not contain an authorized principal"));
    v = check_trusted_certificate(fx.cert({"deploy", "alice"}), "alice", &files, ca_where, facts());
    REQUIRE(v.authorized);
    CHECK(v.matched->path == "pf");
    CHECK(v.matched->line == 2);
    CHECK(v.options.command == "/bin/date");
    CHECK_FALSE(v.options.pty);
    // An empty principals file admits nobody (not "any").
    const std::vector<AuthorizedPrincipalsFile> empty{parse_authorized_principals("pf", "")};
    CHECK_FALSE(check_trusted_certificate(fx.cert({"alice"}), "alice", &empty, ca_where, facts()).authorized);
    // The principals line's from= must hold.
    const std::vector<AuthorizedPrincipalsFile> fenced{parse_authorized_principals("pf", "from=\"10.0.0.0/8\" alice\n")};
    CHECK_FALSE(check_trusted_certificate(fx.cert({"alice"}), "alice", &fenced, ca_where, facts()).authorized);
    CHECK(check_trusted_certificate(fx.cert({"alice"}), "alice", &fenced, ca_where, facts(jan_2026 + 9, "10.9.9.9")).authorized);
    // A host certificate never logs in.
    auto host = fx.cert({"alice"});
    CertificateFields hf = host;
    hf.type = CertificateType::host;
    auto hc = sign_certificate(hf, fx.ca, fx.rng);
    REQUIRE(hc.has_value());
    v = check_trusted_certificate(*hc, "alice", nullptr, ca_where, facts());
    CHECK_FALSE(v.authorized);
    CHECK_THAT(v.refusals.at(0), Catch::Contains("not a user certificate"));
}
