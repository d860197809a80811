// Revocation files (RevokedKeys, RevokedHostKeys) as OpenSSH reads them: a KRL when the file starts
// with the KRL magic, a text list otherwise; check_revoked for plain keys and for certificates (by
// serial, range, key id, the certified key and the CA key, as sshd's auth_key_is_revoked twice and
// ssh_krl_check_key); an unusable file refuses every key. Also the cost of a large KRL per check
// (the hidden [.krl-bench] case, whose figures docs/CONFIG.md records).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include <twoway/certificate.hpp>
#include <twoway/krl.hpp>
#include <twoway/trust.hpp>

#include "../../support/deterministic_rng.hpp"
#include "../../support/temp_dir.hpp"
#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;
using twoway_test::TempDir;

namespace {

PrivateKey ca_key(int n) {
    twoway_test::DeterministicRng rng(static_cast<std::uint64_t>(1000 + n));
    return PrivateKey::generate(rng);
}

Certificate certificate(int key, const PrivateKey& ca, std::uint64_t serial, std::string key_id) {
    CertificateFields f;
    f.key = test_key(key);
    f.serial = serial;
    f.key_id = std::move(key_id);
    f.principals = {"alice"};
    twoway_test::DeterministicRng rng(static_cast<std::uint64_t>(key));
    auto c = sign_certificate(std::move(f), ca, rng);
    REQUIRE(c.has_value());
    return *c;
}

std::vector<std::byte> bytes(std::string_view s) {
    const auto b = std::as_bytes(std::span(s));
    return {b.begin(), b.end()};
}

RevocationFile krl_file(const Krl& krl) { return parse_revocation_file("/etc/krl", write_krl(krl)); }

}  // namespace

TEST_CASE("revocation file: a text list reads as parse_revocation_list reads it, and decides the same", "[trust]") {
    const std::string text = "# comment\n" + key_text(1, "one") + "\n\n" + key_text(2) + "\n";
    const auto file = parse_revocation_file("rk", bytes(text));
    const auto list = parse_revocation_list("rk", text);
    REQUIRE(file.usable());
    CHECK_FALSE(file.krl.has_value());
    REQUIRE(file.list.keys.size() == list.keys.size());
    CHECK(file.list.keys[1].where == list.keys[1].where);
    const auto v = check_revoked(file, test_key(2));
    CHECK(v.status == RevocationStatus::revoked);
    CHECK(v.refused());
    CHECK(v.where == Location{"rk", 4});
    CHECK(v.detail == "key");
    CHECK_FALSE(v.krl_match.has_value());
    CHECK(check_revoked(file, test_key(3)).status == RevocationStatus::not_revoked);
    CHECK_FALSE(check_revoked(file, test_key(3)).refused());

    // A problem makes the text list unusable, with the same messages as before.
    const std::string bad = key_text(1) + "\nnot a key\n";
    const auto unusable = parse_revocation_file("rk", bytes(bad));
    CHECK(unusable.list.problems == parse_revocation_list("rk", bad).problems);
    const auto u = check_revoked(unusable, test_key(9));
    CHECK(u.status == RevocationStatus::unusable);
    CHECK(u.refused());
    CHECK(u.problems == unusable.list.problems);
}

TEST_CASE("revocation file: a text list revokes a certificate by its key or its CA key", "[trust]") {
    const PrivateKey ca = ca_key(1);
    const Certificate c = certificate(5, ca, 42, "alice");
    const auto by_key = parse_revocation_file("rk", bytes(key_text(5) + "\n"));
    auto v = check_revoked(by_key, c.key, &c);
    CHECK(v.status == RevocationStatus::revoked);
    CHECK(v.detail == "key");
    CHECK(v.where == Location{"rk", 1});

    const auto by_ca = parse_revocation_file("rk", bytes(key_text(1) + "\n" + format_public_key_line(ca.public_key()) + "\n"));
    v = check_revoked(by_ca, c.key, &c);
    CHECK(v.status == RevocationStatus::revoked);
    CHECK(v.detail == "CA key");
    CHECK(v.where == Location{"rk", 2});
    // The CA key counts for its certificates only, not for the plain key.
    CHECK(check_revoked(by_ca, c.key).status == RevocationStatus::not_revoked);
    const Certificate other = certificate(5, ca_key(2), 42, "alice");
    CHECK(check_revoked(by_ca, other.key, &other).status == RevocationStatus::not_revoked);
}

TEST_CASE("revocation file: a KRL revokes plain keys by blob, SHA-1 and SHA-256", "[trust][krl]") {
    Krl krl;
    krl.revoke_key(test_key(1));
    krl.revoke_key_sha1(test_key(2));
    krl.revoke_key_sha256(test_key(3));
    const auto file = krl_file(krl);
    REQUIRE(file.usable());
    REQUIRE(file.krl.has_value());
    CHECK(file.list.keys.empty());
    for (int n : {1, 2, 3}) {
        const auto v = check_revoked(file, test_key(n));
        CHECK(v.status == RevocationStatus::revoked);
        CHECK(v.where == Location{"/etc/krl", 0});
        CHECK(v.detail.find(fingerprint_sha256(test_key(n))) != std::string::npos);
    }
    CHECK(check_revoked(file, test_key(1)).krl_match == KrlMatchKind::key);
    CHECK(check_revoked(file, test_key(2)).krl_match == KrlMatchKind::sha1);
    CHECK(check_revoked(file, test_key(3)).krl_match == KrlMatchKind::sha256);
    CHECK(check_revoked(file, test_key(4)).status == RevocationStatus::not_revoked);
    // A `hash:` line's fingerprint is the SHA-256 a KRL holds.
    const auto hash = parse_sha256_fingerprint(fingerprint_sha256(test_key(4)));
    REQUIRE(hash.has_value());
    krl.revoke_sha256(*hash);
    CHECK(check_revoked(krl_file(krl), test_key(4)).krl_match == KrlMatchKind::sha256);
    CHECK(parse_sha256_fingerprint("sha256:abc").error() == errc::bad_key_format);
    CHECK(parse_sha256_fingerprint("SHA256:abc").error() == errc::malformed);
    CHECK(parse_sha256_fingerprint("SHA256:!!!!").error() == errc::malformed);
}

TEST_CASE("revocation file: a KRL revokes certificates by serial, range, key id, key and CA key", "[trust][krl]") {
    const PrivateKey ca = ca_key(1);
    const PrivateKey ca2 = ca_key(2);
    const auto ca_blob = ca.public_key().blob();
    Krl krl;
    REQUIRE(krl.revoke_serials(ca_blob, 42, 42));
    REQUIRE(krl.revoke_serials(ca_blob, 1000, 2000));
    krl.revoke_key_id(ca_blob, "mallory");
    krl.revoke_key_id({}, "any-ca-id");  // -s none
    krl.revoke_key(test_key(7));
    const auto file = krl_file(krl);
    REQUIRE(file.usable());

    const auto verdict = [&](const Certificate& c) { return check_revoked(file, c.key, &c); };
    SECTION("by serial") {
        const auto c = certificate(5, ca, 42, "alice");
        const auto v = verdict(c);
        CHECK(v.status == RevocationStatus::revoked);
        CHECK(v.krl_match == KrlMatchKind::serial);
        CHECK(v.detail == "serial 42 (CA " + fingerprint_sha256(ca.public_key()) + ")");
        CHECK(check_revoked(file, c.key).status == RevocationStatus::not_revoked);  // the key alone is not
    }
    SECTION("by a serial range, both ends included") {
        for (std::uint64_t s : {1000u, 1500u, 2000u}) CHECK(verdict(certificate(5, ca, s, "alice")).krl_match == KrlMatchKind::serial);
        for (std::uint64_t s : {999u, 2001u, 43u}) CHECK(verdict(certificate(5, ca, s, "alice")).status == RevocationStatus::not_revoked);
    }
    SECTION("serials are the CA's: another CA's certificate with the same serial is not revoked") {
        CHECK(verdict(certificate(5, ca2, 42, "alice")).status == RevocationStatus::not_revoked);
    }
    SECTION("by key id, under the CA or any CA") {
        const auto v = verdict(certificate(5, ca, 7, "mallory"));
        CHECK(v.krl_match == KrlMatchKind::key_id);
        CHECK(v.detail.find("key id \"mallory\"") != std::string::npos);
        CHECK(verdict(certificate(5, ca2, 7, "mallory")).status == RevocationStatus::not_revoked);
        CHECK(verdict(certificate(5, ca2, 7, "any-ca-id")).krl_match == KrlMatchKind::key_id);
    }
    SECTION("by the key it certifies") {
        CHECK(verdict(certificate(7, ca2, 3, "bob")).krl_match == KrlMatchKind::key);
    }
    SECTION("by its CA key") {
        Krl by_ca;
        by_ca.revoke_key_sha256(ca2.public_key());
        const auto f = krl_file(by_ca);
        const auto c = certificate(5, ca2, 3, "bob");
        const auto v = check_revoked(f, c.key, &c);
        CHECK(v.krl_match == KrlMatchKind::ca_key);
        CHECK(v.detail.rfind("its CA key: ", 0) == 0);
        CHECK(check_revoked(f, c.key).status == RevocationStatus::not_revoked);
        const auto other = certificate(5, ca, 3, "bob");
        CHECK(check_revoked(f, other.key, &other).status == RevocationStatus::not_revoked);
    }
}

TEST_CASE("revocation file: a KRL twoway cannot use refuses every key, naming the file and why", "[trust][krl]") {
    Krl krl;
    krl.revoke_key(test_key(1));
    auto good = write_krl(krl);
    const auto unusable = [](std::vector<std::byte> data, std::string_view why) {
        const auto file = parse_revocation_file("/etc/krl", data);
        CHECK_FALSE(file.usable());
        CHECK_FALSE(file.krl.has_value());
        REQUIRE(file.list.problems.size() == 1);
        CHECK(file.list.problems[0].rfind("/etc/krl: an OpenSSH KRL twoway cannot use: ", 0) == 0);
        CHECK(file.list.problems[0].find(why) != std::string::npos);
        for (int n : {1, 2}) {
            const auto v = check_revoked(file, test_key(n));
            CHECK(v.status == RevocationStatus::unusable);
            CHECK(v.problems == file.list.problems);
        }
    };
    SECTION("cut short") { unusable({good.begin(), good.end() - 3}, "KRL"); }
    SECTION("the magic alone") { unusable(bytes(krl_magic), "KRL header"); }
    SECTION("an unknown section") {
        good.push_back(std::byte{99});
        for (int i = 0; i < 4; ++i) good.push_back(std::byte{0});
        unusable(good, "unknown KRL section type 99");
    }
    SECTION("signed") {
        good.push_back(std::byte{4});  // KRL_SECTION_SIGNATURE
        for (int i = 0; i < 4; ++i) good.push_back(std::byte{0});
        unusable(good, "signed");
    }
}

TEST_CASE("load_revocation_file: a KRL file, a text file, and a file that cannot be read", "[trust][krl]") {
    TempDir dir;
    Krl krl;
    krl.revoke_key(test_key(1));
    const auto k = write_krl(krl);
    const auto path = dir.write("krl", std::string(reinterpret_cast<const char*>(k.data()), k.size()));
    auto file = load_revocation_file(path);
    REQUIRE(file.usable());
    CHECK(check_revoked(file, test_key(1)).where == Location{path, 0});
    CHECK_FALSE(check_revoked(file, test_key(2)).refused());

    const auto text = dir.write("text", key_text(2) + "\n");
    file = load_revocation_file(text);
    CHECK(check_revoked(file, test_key(2)).where == Location{text, 1});

    file = load_revocation_file(dir.file("missing"));
    CHECK_FALSE(file.usable());
    CHECK(file.list.read_error == std::errc::no_such_file_or_directory);
    const auto v = check_revoked(file, test_key(2));
    CHECK(v.status == RevocationStatus::unusable);
    CHECK(v.read_error == std::errc::no_such_file_or_directory);
    REQUIRE(v.problems.size() == 1);
    CHECK(v.problems[0] == dir.file("missing") + ": cannot read: No such file or directory");
}

// The cost of a large KRL (100,000 revoked serials for one CA, 10,000 revoked keys, as many SHA-256
// hashes), per check: parse once (what twowayd does once per change of the file, what twoway does per
// connection) and look up (what twowayd does per authentication). Run with `unit_tests "[.krl-bench]"`.
TEST_CASE("revocation file: the cost of a large KRL per check", "[.krl-bench]") {
    using Clock = std::chrono::steady_clock;
    const PrivateKey ca = ca_key(1);
    Krl krl;
    for (std::uint64_t s = 1; s <= 200'000; s += 2) REQUIRE(krl.revoke_serials(ca.public_key().blob(), s, s));
    for (int n = 0; n < 10'000; ++n) {
        std::array<std::byte, 32> blob{};
        for (std::size_t i = 0; i < 4; ++i) blob[i] = static_cast<std::byte>(n >> (8 * i));
        krl.revoke_key_blob(blob);
        krl.revoke_sha256(blob);
    }
    const auto data = write_krl(krl);
    const auto t0 = Clock::now();
    constexpr int parses = 20;
    for (int i = 0; i < parses; ++i) REQUIRE(parse_revocation_file("/k", data).usable());
    const auto t1 = Clock::now();
    const auto file = parse_revocation_file("/k", data);
    const Certificate revoked = certificate(5, ca, 99'999, "alice");
    const Certificate fine = certificate(5, ca, 100'000, "alice");
    constexpr int checks = 20'000;
    int refused = 0;
    for (int i = 0; i < checks; ++i) {
        const Certificate& c = i % 2 == 0 ? revoked : fine;
        refused += check_revoked(file, c.key, &c).refused() ? 1 : 0;
    }
    const auto t2 = Clock::now();
    CHECK(refused == checks / 2);
    const auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
    std::printf("large KRL: %zu bytes; parse %.0f us; check (certificate) %.2f us\n", data.size(),
                us(t1 - t0) / parses, us(t2 - t1) / checks);
}
