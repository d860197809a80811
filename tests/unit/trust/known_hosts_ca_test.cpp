// @cert-authority lines: how they read, and check_host_certificate, the client's question "is this
// server certificate trusted for this host?". One case per refusal, each with the line or reason a log
// would show.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/trust.hpp>

#include "../../support/deterministic_rng.hpp"
#include "trust_support.hpp"

using namespace twoway;

namespace {

constexpr std::int64_t jan_2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t jan_2027 = 1798761600;  // 2027-01-01T00:00:00Z
constexpr std::int64_t now = jan_2026 + 3600;

struct Keys {
    PrivateKey ca;
    PrivateKey other_ca;
    PrivateKey host;
};

Keys keys() {
    twoway_test::DeterministicRng rng(11);
    auto ca = PrivateKey::generate(rng);
    auto other = PrivateKey::generate(rng);
    auto host = PrivateKey::generate(rng);
    return Keys{std::move(ca), std::move(other), std::move(host)};
}

Certificate certify(const PrivateKey& ca, const PublicKey& key, CertificateType type,
                    std::vector<std::string> principals, std::uint64_t after = jan_2026,
                    std::uint64_t before = jan_2027) {
    CertificateFields f;
    f.key = key;
    f.type = type;
    f.key_id = "web-1";
    f.serial = 7;
    f.principals = std::move(principals);
    f.valid_after = after;
    f.valid_before = before;
    twoway_test::DeterministicRng rng(5);
    auto c = sign_certificate(std::move(f), ca, rng);
    REQUIRE(c);
    return *c;
}

std::string line(const std::string& names, const PublicKey& key, const std::string& marker = "@cert-authority") {
    return marker + " " + names + " " + format_public_key_line(key) + "\n";
}

HostCertificateVerdict check(const std::string& text, std::string_view host, std::uint16_t port,
                             const Certificate& cert, std::int64_t at = now) {
    const std::vector<KnownHostsFile> files{parse_known_hosts("kh", text)};
    return check_host_certificate(files, host, port, cert, at);
}

}  // namespace

TEST_CASE("@cert-authority lines read: marker, names, patterns, negation, hashed names, the CA key", "[trust]") {
    const Keys k = keys();
    const auto f = parse_known_hosts(
        "kh", line("*.example.com,!old.example.com,web.example.org,[db.example.org]:2222", k.ca.public_key()) +
                  line("|1|AAECAwQFBgcICQoLDA0ODxAREhM=|IZ1zV0swCfFUvwvqRtiJbYJ0/LA=", k.ca.public_key()));
    REQUIRE(f.entries.size() == 2);
    CHECK(f.diagnostics.empty());
    const auto& e = f.entries[0];
    CHECK(e.cert_authority);
    CHECK_FALSE(e.revoked);
    CHECK(e.key == k.ca.public_key());
    CHECK(e.patterns == std::vector<std::string>{"*.example.com", "!old.example.com"});
    CHECK(e.hosts == std::vector<HostPort>{{"web.example.org", default_port}, {"db.example.org", 2222}});
    CHECK(known_host_naming(e, "a.example.com", default_port) == HostNaming::yes);
    CHECK(known_host_naming(e, "old.example.com", default_port) == HostNaming::no);
    CHECK(f.entries[1].cert_authority);
    CHECK(f.entries[1].hashed);
    CHECK(known_host_naming(f.entries[1], "host.example", default_port) == HostNaming::yes);
}

TEST_CASE("check_host_certificate: a host certificate from the line's CA, for the host, in its window", "[trust]") {
    const Keys k = keys();
    const auto cert = certify(k.ca, k.host.public_key(), CertificateType::host, {"web.example.com"});
    const std::string text = "# fleet\n" + line("*.example.com", k.ca.public_key());
    auto v = check(text, "web.example.com", default_port, cert);
    CHECK(v.allowed);
    CHECK(v.reason.empty());
    CHECK(v.authority == Location{"kh", 2});
    CHECK_FALSE(v.revoked);
    // The name as typed, lower-cased, against the principals; any port the line names.
    CHECK(check(text, "WEB.Example.COM", default_port, cert).allowed);
    CHECK_FALSE(check(text, "web.example.com", 2222, cert).allowed);  // "*.example.com" is the default port only
    CHECK(check(line("[*.example.com]:2222", k.ca.public_key()), "web.example.com", 2222, cert).allowed);
    // A principal may be a pattern.
    const auto wild = certify(k.ca, k.host.public_key(), CertificateType::host, {"*.example.com"});
    CHECK(check(text, "db.example.com", default_port, wild).allowed);
    // A hashed name, as ssh-keygen -H leaves @cert-authority lines (it does not hash them) but a person may write.
    const auto host_example = certify(k.ca, k.host.public_key(), CertificateType::host, {"host.example"});
    CHECK(check(line("|1|AAECAwQFBgcICQoLDA0ODxAREhM=|IZ1zV0swCfFUvwvqRtiJbYJ0/LA=", k.ca.public_key()),
                "host.example", default_port, host_example)
              .allowed);
    // Several CA lines: the one with the certificate's CA decides.
    auto two = check(line("*", k.other_ca.public_key()) + text, "web.example.com", default_port, cert);
    CHECK(two.allowed);
    CHECK(two.authority == Location{"kh", 3});
}

TEST_CASE("check_host_certificate: refusals", "[trust]") {
    const Keys k = keys();
    const auto cert = certify(k.ca, k.host.public_key(), CertificateType::host, {"web.example.com"});
    const std::string ca_line = line("*.example.com", k.ca.public_key());
    const std::string host = "web.example.com";

    SECTION("wrong CA") {
        auto v = check(line("*.example.com", k.other_ca.public_key()), host, default_port, cert);
        CHECK_FALSE(v.allowed);
        CHECK_FALSE(v.authority);
        CHECK(v.reason == "no @cert-authority line for web.example.com holds the certificate's CA key " +
                              fingerprint_sha256(k.ca.public_key()) + " (lines for it name other CAs)");
        CHECK_FALSE(check("", host, default_port, cert).allowed);
        // The CA key as a plain host line is no @cert-authority line.
        CHECK_FALSE(check(host + " " + format_public_key_line(k.ca.public_key()) + "\n", host, default_port, cert).allowed);
    }
    SECTION("a CA line for another host pattern") {
        auto v = check(line("*.example.org,web.example.co", k.ca.public_key()), host, default_port, cert);
        CHECK_FALSE(v.allowed);
        CHECK(v.reason == "no @cert-authority line for web.example.com holds the certificate's CA key " +
                              fingerprint_sha256(k.ca.public_key()));
    }
    SECTION("a negated pattern takes the host out") {
        auto v = check(line("*.example.com,!web.example.com", k.ca.public_key()), host, default_port, cert);
        CHECK_FALSE(v.allowed);
        CHECK_FALSE(v.authority);
        CHECK(check(line("*.example.com,!web.example.com", k.ca.public_key()), "db.example.com", default_port,
                    certify(k.ca, k.host.public_key(), CertificateType::host, {"db.example.com"}))
                  .allowed);
    }
    SECTION("a user certificate is never a host's") {
        auto user = certify(k.ca, k.host.public_key(), CertificateType::user, {"web.example.com"});
        auto v = check(ca_line, host, default_port, user);
        CHECK_FALSE(v.allowed);
        CHECK(v.authority == Location{"kh", 1});
        CHECK(v.reason == "Certificate invalid: not a host certificate");
    }
    SECTION("expired, and not yet valid") {
        auto v = check(ca_line, host, default_port, cert, jan_2027);
        CHECK_FALSE(v.allowed);
        CHECK(v.authority == Location{"kh", 1});
        CHECK(v.reason == "Certificate invalid: expired at 2027-01-01T00:00:00Z, now 2027-01-01T00:00:00Z");
        auto early = check(ca_line, host, default_port, cert, jan_2026 - 3600);
        CHECK_FALSE(early.allowed);
        CHECK(early.reason.starts_with("Certificate invalid: not yet valid: valid from 2026-01-01T00:00:00Z"));
    }
    SECTION("the host name must be a principal; empty principals are refused") {
        auto other = certify(k.ca, k.host.public_key(), CertificateType::host, {"db.example.com"});
        auto v = check(ca_line, host, default_port, other);
        CHECK_FALSE(v.allowed);
        CHECK(v.reason.starts_with("Certificate invalid: name is not a listed principal"));
        // The address it resolves to is no principal either: the name as typed is what counts.
        auto by_name = certify(k.ca, k.host.public_key(), CertificateType::host, {"web.example.com"});
        CHECK_FALSE(check(line("192.0.2.1", k.ca.public_key()), "192.0.2.1", default_port, by_name).allowed);
        auto none = certify(k.ca, k.host.public_key(), CertificateType::host, {});
        auto e = check(ca_line, host, default_port, none);
        CHECK_FALSE(e.allowed);
        CHECK(e.reason == "Certificate invalid: it lists no principals (twoway never reads that as \"any\")");
    }
    SECTION("a CA that is itself a certificate: the line is unusable") {
        const auto ca_cert = certify(k.other_ca, k.ca.public_key(), CertificateType::host, {"ca"});
        const std::string text = "@cert-authority *.example.com " + format_certificate_line(ca_cert) + "\n";
        const auto f = parse_known_hosts("kh", text);
        CHECK(f.entries.empty());
        REQUIRE(f.unusable.size() == 1);
        CHECK(f.unusable[0].cert_authority);
        CHECK(f.unusable[0].reason == "@cert-authority: the CA key is a certificate, which cannot be a CA");
        auto v = check(text, host, default_port, cert);
        CHECK_FALSE(v.allowed);
        REQUIRE(v.unreadable.size() == 1);
        CHECK(v.unreadable[0].where == Location{"kh", 1});
    }
    SECTION("a revoked CA key, a revoked certified key") {
        auto ca = check(ca_line + line("*", k.ca.public_key(), "@revoked"), host, default_port, cert);
        CHECK_FALSE(ca.allowed);
        CHECK(ca.revoked == Location{"kh", 2});
        CHECK(ca.reason == "the certificate's CA key is revoked by kh:2");
        // @revoked lines count for every host, whatever their host field says.
        auto key = check(line("other.example", k.host.public_key(), "@revoked") + ca_line, host, default_port, cert);
        CHECK_FALSE(key.allowed);
        CHECK(key.revoked == Location{"kh", 1});
        CHECK(key.reason == "the certified key is revoked by kh:1");
        // An @revoked line that cannot be read may revoke either: refused.
        auto unreadable = check(ca_line + "@revoked * ssh-ed25519 AAAA!!!!\n", host, default_port, cert);
        CHECK_FALSE(unreadable.allowed);
        CHECK(unreadable.reason == "an @revoked line cannot be read and may revoke the certificate's key or its CA");
    }
    SECTION("a CA line whose name for the host cannot be read does not vouch") {
        auto v = check(line("web.example.com:22", k.ca.public_key()), host, 22, cert);
        CHECK_FALSE(v.allowed);
        REQUIRE(v.unreadable.size() == 1);
        CHECK(v.unreadable[0].where == Location{"kh", 1});
        auto bad_hash = check(line("|1|AAAA|BBBB", k.ca.public_key()), host, default_port, cert);
        CHECK_FALSE(bad_hash.allowed);
        CHECK(bad_hash.unreadable.size() == 1);
    }
}

TEST_CASE("check_host: an @cert-authority line is not a host key, and keeps a plain key from looking new",
          "[trust]") {
    const Keys k = keys();
    const std::vector<KnownHostsFile> files{parse_known_hosts("kh", line("*.example.com", k.ca.public_key()))};
    // Not even the CA's own key is known as a host key.
    for (const auto& key : {k.ca.public_key(), k.host.public_key()}) {
        auto v = check_host(files, "web.example.com", default_port, key);
        CHECK(v.status == HostStatus::uncertain);
        CHECK_FALSE(v.matched);
    }
    CHECK(check_host(files, "web.example.org", default_port, k.host.public_key()).status == HostStatus::unknown);
    CHECK(known_host_keys(files, "web.example.com", default_port).empty());
}
