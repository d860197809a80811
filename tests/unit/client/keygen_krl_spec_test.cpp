// twoway-keygen -k's reading of a revocation spec (client/keygen/krl_spec.hpp), line by line as
// ssh-keygen 9.2's update_krl_from_file: each kind of line, the trimming and comments, and every
// refusal with ssh-keygen's words. The interop test compares whole KRLs with ssh-keygen -k's bytes.
#include <catch2/catch.hpp>

#include <string>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/krl.hpp>

#include "../../../client/keygen/krl_spec.hpp"
#include "../../support/deterministic_rng.hpp"

using namespace twoway_keygen;
using twoway::Krl;
using twoway::KrlSerialRange;

namespace {

twoway::PrivateKey key(int n) {
    twoway_test::DeterministicRng rng(static_cast<std::uint64_t>(n));
    return twoway::PrivateKey::generate(rng);
}

std::string line(int n, std::string_view comment = {}) {
    return twoway::format_public_key_line(key(n).public_key(), comment);
}

twoway::Certificate certificate(int n, int ca, std::uint64_t serial, std::string id) {
    twoway::CertificateFields f;
    f.key = key(n).public_key();
    f.serial = serial;
    f.key_id = std::move(id);
    f.principals = {"alice"};
    twoway_test::DeterministicRng rng(99);
    auto c = twoway::sign_certificate(std::move(f), key(ca), rng);
    REQUIRE(c.has_value());
    return *c;
}

const KrlSpecCa with_ca{key(100).public_key(), false};

// The error of a one-spec -k, which must fail.
std::string error_of(const std::string& text, const KrlSpecCa& ca = with_ca) {
    Krl krl;
    const auto e = update_krl_from_spec(krl, "spec", text, ca);
    CHECK_FALSE(e.empty());
    return e;
}

}  // namespace

TEST_CASE("-k spec: serials, ranges and key ids for the -s CA, or any CA with -s none", "[client]") {
    Krl krl;
    REQUIRE(update_krl_from_spec(krl, "spec",
                                 "  serial: 5\nSERIAL:0x10-0x20   # hex, and a comment\n\n# only a comment\n"
                                 "serial:\t010\nid: alice#bob\nId:   spaced id  \nid:\n",
                                 with_ca)
                .empty());
    REQUIRE(krl.certificates.size() == 1);
    const auto& c = krl.certificates[0];
    CHECK(c.ca_key == key(100).public_key().blob());
    // 010 is octal (strtoull base 0), as in ssh-keygen.
    CHECK(c.serials == std::vector<KrlSerialRange>{{5, 5}, {8, 8}, {16, 32}});
    CHECK(c.key_ids == std::vector<std::string>{"", "alice", "spaced id"});

    Krl any;
    REQUIRE(update_krl_from_spec(any, "spec", "serial: 7\nid: bob\n", KrlSpecCa{std::nullopt, true}).empty());
    REQUIRE(any.certificates.size() == 1);
    CHECK(any.certificates[0].ca_key.empty());
}

TEST_CASE("-k spec: keys by blob, SHA-1, SHA-256 and fingerprint; plain key and certificate lines", "[client]") {
    const auto cert = certificate(6, 100, 42, "carol");
    const auto cert0 = certificate(7, 100, 0, "dave");
    const std::string text = "key: " + line(1, "one") + "\nsha1: " + line(2) + "\nSHA256: " + line(3) + "\nhash: " +
                             twoway::fingerprint_sha256(key(4).public_key()) + "\n" + line(5, "five") + "\n" +
                             twoway::format_certificate_line(cert) + "\n" + twoway::format_certificate_line(cert0) +
                             "\nkey: " + twoway::format_certificate_line(certificate(8, 101, 3, "x")) + "\n";
    Krl krl;
    REQUIRE(update_krl_from_spec(krl, "spec", text, KrlSpecCa{}).empty());
    const auto revoked = [&](int n) { return twoway::krl_match(krl, key(n).public_key()); };
    CHECK(revoked(1)->kind == twoway::KrlMatchKind::key);
    CHECK(revoked(2)->kind == twoway::KrlMatchKind::sha1);
    CHECK(revoked(3)->kind == twoway::KrlMatchKind::sha256);
    CHECK(revoked(4)->kind == twoway::KrlMatchKind::sha256);
    CHECK(revoked(5)->kind == twoway::KrlMatchKind::key);  // a plain line: its blob, as ssh-keygen 9.2
    CHECK(revoked(8)->kind == twoway::KrlMatchKind::key);  // key: with a certificate: its plain key
    CHECK_FALSE(revoked(6));
    // A certificate line: by serial under its CA, or by key id when the serial is 0 (no -s needed).
    CHECK(twoway::krl_match(krl, cert)->kind == twoway::KrlMatchKind::serial);
    CHECK(twoway::krl_match(krl, cert0)->kind == twoway::KrlMatchKind::key_id);
    CHECK_FALSE(twoway::krl_match(krl, certificate(6, 100, 43, "carol")));
}

TEST_CASE("-k spec: refusals, in ssh-keygen's words, with the line", "[client]") {
    CHECK(error_of("serial: 5\n", KrlSpecCa{}) ==
          "revoking certificates by serial number requires specification of a CA key");
    CHECK(error_of("id: x\n", KrlSpecCa{}) == "revoking certificates by key ID requires specification of a CA key");
    CHECK(error_of("\nserial: abc\n") == "spec:2: invalid serial \"abc\"");
    CHECK(error_of("serial: 5-\n") == "spec:1: invalid serial \"\"");
    CHECK(error_of("serial: 5-x\n") == "spec:1: invalid serial \"x\"");
    CHECK(error_of("serial: 5 6\n") == "spec:1: invalid serial \"5 6\"");
    CHECK(error_of("serial: 99999999999999999999\n") == "spec:1: serial out of range");
    CHECK(error_of("serial: 5-3\n") == "spec:1: invalid serial range 5:3");
    CHECK(error_of("serial: 5-5\n") == "spec:1: invalid serial range 5:5");
    CHECK(error_of("serial: 0\n").rfind("spec:1: invalid serial 0", 0) == 0);
    CHECK(error_of("serial: 5\r\n") == "spec:1: invalid serial \"5\r\"");  // as ssh-keygen: no \r trimmed
    CHECK(error_of("hash: sha256:abc\n") == "spec:1: unsupported hash algorithm");
    CHECK(error_of("hash: SHA256:abc\n").rfind("spec:1: decode hash failed", 0) == 0);
    CHECK(error_of("key: foo\n") == "spec:1: invalid key: invalid format");
    CHECK(error_of("bogus line\n") == "spec:1: invalid key: invalid format");
    CHECK(error_of("sha1: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x\n") ==
          "spec:1: invalid key: ssh-rsa: twoway reads Ed25519 keys and certificates only (revoke this key with "
          "ssh-keygen -k)");
    // A certificate whose signature does not verify is no certificate.
    auto bad = certificate(6, 100, 42, "carol");
    bad.blob.back() ^= std::byte{1};
    CHECK(error_of(twoway::format_certificate_line(bad) + "\n").rfind("spec:1: invalid key: ", 0) == 0);
    // Nothing after the first error is added.
    Krl krl;
    CHECK_FALSE(update_krl_from_spec(krl, "spec", "key: " + line(1) + "\nbogus\nkey: " + line(2) + "\n", KrlSpecCa{}).empty());
    CHECK(twoway::krl_revokes(krl, key(1).public_key()));
    CHECK_FALSE(twoway::krl_revokes(krl, key(2).public_key()));
}
