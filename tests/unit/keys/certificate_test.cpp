// OpenSSH certificates (<twoway/certificate.hpp>): certificates made by OpenSSH 9.2's ssh-keygen read
// field by field, ours read by ssh-keygen, and every way a certificate can be broken refused.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>

#include "crypto/crypto.hpp"
#include "keys/signature_blob.hpp"
#include "wire/writer.hpp"
#include "../../support/deterministic_rng.hpp"

using namespace twoway;

namespace {

// Made on Debian 12 with OpenSSH_9.2p1:
//   ssh-keygen -s ca -I 'alice@example key' -n alice,bob -V 20260101000000:20270101000000 -z 42
//              -O force-command="echo hi" -O source-address=10.0.0.0/8,127.0.0.1 user.pub
//   ssh-keygen -s ca -I host-1 -h -n host1.example,10.1.2.3 -z 7 host.pub
const std::string ca_line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlbAxjotllj7J2feXdqod2VqYPDD/4EX2bHYnzQscXG ca";
const std::string user_line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMwVXqzS8FdmFWwa1y+4rJtvkN+bi/A4tK8iwZaJKMwt user";
const std::string user_cert_line =
    "ssh-ed25519-cert-v01@openssh.com "
    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAINl1BPyvxct3zCyM4e9YzYYgl3PzBxBPLL1bTT9aNdGsAAAAIMwVXqzS8FdmFWwa"
    "1y+4rJtvkN+bi/A4tK8iwZaJKMwtAAAAAAAAACoAAAABAAAAEWFsaWNlQGV4YW1wbGUga2V5AAAAEAAAAAVhbGljZQAAAANib2IAAAAAaVW5AAAAAABr"
    "NuyAAAAATgAAAA1mb3JjZS1jb21tYW5kAAAACwAAAAdlY2hvIGhpAAAADnNvdXJjZS1hZGRyZXNzAAAAGAAAABQxMC4wLjAuMC84LDEyNy4wLjAuMQAA"
    "AIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGlu"
    "ZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAg+VsDGOi2WWPsnZ95d2qh"
    "3ZWpg8MP/gRfZsdifNCxxcYAAABTAAAAC3NzaC1lZDI1NTE5AAAAQAsTqI+bEoJrrypu6XTXyNFUWo3Lg0VLzgTaEYmx8Aygxy3CTG3aPLjFCtlmAcJL"
    "IAr0NMTzC3AMx+Vhj8zgTAw= user";
const std::string host_line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIT55AuaRjMdWr5plnXm/8gFqLFs4WWDB73NTNYmidNo host";
const std::string host_cert_line =
    "ssh-ed25519-cert-v01@openssh.com "
    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIMWj6zlnbdNF/uGL02oaxoDr4YMXg1rUT0+qj4Z/ZqAeAAAAIIT55AuaRjMdWr5p"
    "lnXm/8gFqLFs4WWDB73NTNYmidNoAAAAAAAAAAcAAAACAAAABmhvc3QtMQAAAB0AAAANaG9zdDEuZXhhbXBsZQAAAAgxMC4xLjIuMwAAAAAAAAAA////"
    "//////8AAAAAAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPlbAxjotllj7J2feXdqod2VqYPDD/4EX2bHYnzQscXGAAAAUwAAAAtzc2gtZWQy"
    "NTUxOQAAAEA9iMLGhAzIjAM1pucAnO7aStlaH+LuIdXR3kvcFqnIi69TyYTpOLYf2qEESnvbPCE9pYp4RRIdn1ywCWcrarIM host";

PublicKey key_of(const std::string& line) {
    auto k = parse_public_key_line(line);
    REQUIRE(k.has_value());
    return k->key;
}

std::vector<std::byte> blob_of(const std::string& cert_line) {
    const auto b64 = cert_line.substr(cert_line.find(' ') + 1, cert_line.rfind(' ') - cert_line.find(' ') - 1);
    auto blob = crypto::base64_decode(b64);
    REQUIRE(blob.has_value());
    return *blob;
}

std::vector<std::string> names(const std::vector<CertificateOption>& options) {
    std::vector<std::string> out;
    for (const auto& o : options) out.push_back(o.name);
    return out;
}

PrivateKey make_key(std::uint64_t seed) {
    twoway_test::DeterministicRng rng(seed);
    return PrivateKey::generate(rng);
}

CertificateFields some_fields(const PublicKey& key) {
    CertificateFields f;
    f.key = key;
    f.serial = 1234567890123ULL;
    f.type = CertificateType::user;
    f.key_id = "deploy key for ci";
    f.principals = {"deploy", "backup"};
    f.valid_after = 1767225600;   // 2026-01-01
    f.valid_before = 1798761600;  // 2027-01-01
    f.critical_options = {CertificateOption::text("source-address", "127.0.0.1/32"),
                          CertificateOption::text("force-command", "/usr/bin/rsync --server")};
    f.extensions = {CertificateOption::flag("permit-pty"), CertificateOption::flag("permit-port-forwarding")};
    return f;
}

}  // namespace

TEST_CASE("an ssh-keygen user certificate is read field by field", "[keys][certificate]") {
    std::string why;
    auto line = parse_certificate_line(user_cert_line, &why);
    REQUIRE(line.has_value());
    const Certificate& c = line->certificate;
    CHECK(line->comment == "user");
    CHECK(c.type == CertificateType::user);
    CHECK(c.key == key_of(user_line));
    CHECK(c.signature_key == key_of(ca_line));
    CHECK(c.serial == 42);
    CHECK(c.key_id == "alice@example key");
    CHECK(c.principals == std::vector<std::string>{"alice", "bob"});
    CHECK(c.valid_after == 1767225600);   // 2026-01-01T00:00:00Z (ssh-keygen -V, TZ=UTC)
    CHECK(c.valid_before == 1798761600);  // 2027-01-01T00:00:00Z
    CHECK(names(c.critical_options) == std::vector<std::string>{"force-command", "source-address"});
    CHECK(c.critical_options[0].text_value() == "echo hi");
    CHECK(c.critical_options[1].text_value() == "10.0.0.0/8,127.0.0.1");
    CHECK(names(c.extensions) == std::vector<std::string>{"permit-X11-forwarding", "permit-agent-forwarding",
                                                         "permit-port-forwarding", "permit-pty", "permit-user-rc"});
    for (const auto& e : c.extensions) CHECK(e.data.empty());
    CHECK(c.nonce.size() == 32);
    CHECK(c.reserved.empty());
    CHECK(c.blob == blob_of(user_cert_line));
    // Written back, the line is the file's.
    CHECK(format_certificate_line(c, "user") == user_cert_line);
}

TEST_CASE("an ssh-keygen host certificate, valid forever, with no options", "[keys][certificate]") {
    auto line = parse_certificate_line(host_cert_line);
    REQUIRE(line.has_value());
    const Certificate& c = line->certificate;
    CHECK(c.type == CertificateType::host);
    CHECK(certificate_type_name(c.type) == "host");
    CHECK(c.key == key_of(host_line));
    CHECK(c.serial == 7);
    CHECK(c.key_id == "host-1");
    CHECK(c.principals == std::vector<std::string>{"host1.example", "10.1.2.3"});
    CHECK(c.valid_after == 0);
    CHECK(c.valid_before == certificate_forever);
    CHECK(c.critical_options.empty());
    CHECK(c.extensions.empty());
}

TEST_CASE("a certificate signed here reads back, options sorted, nonce from the rng", "[keys][certificate]") {
    const PrivateKey ca = make_key(1);
    const PrivateKey user = make_key(2);
    twoway_test::DeterministicRng rng(3);
    auto c = sign_certificate(some_fields(user.public_key()), ca, rng);
    REQUIRE(c.has_value());
    CHECK(c->nonce.size() == 32);
    CHECK(names(c->critical_options) == std::vector<std::string>{"force-command", "source-address"});
    CHECK(names(c->extensions) == std::vector<std::string>{"permit-port-forwarding", "permit-pty"});
    auto back = parse_certificate(c->blob);
    REQUIRE(back.has_value());
    CHECK(back->blob == c->blob);
    CHECK(back->key == user.public_key());
    CHECK(back->signature_key == ca.public_key());
    CHECK(back->serial == 1234567890123ULL);
    CHECK(back->key_id == "deploy key for ci");
    CHECK(back->principals == std::vector<std::string>{"deploy", "backup"});
    CHECK(back->critical_options[0].text_value() == "/usr/bin/rsync --server");
    CHECK(back->nonce == c->nonce);

    // The same fields and nonce give the same bytes (Ed25519 signatures are deterministic).
    CertificateFields again = some_fields(user.public_key());
    again.nonce = c->nonce;
    auto c2 = sign_certificate(again, ca, rng);
    REQUIRE(c2.has_value());
    CHECK(c2->blob == c->blob);
}

TEST_CASE("signing refuses what the format cannot say", "[keys][certificate]") {
    const PrivateKey ca = make_key(1);
    twoway_test::DeterministicRng rng(3);
    auto f = some_fields(make_key(2).public_key());
    f.extensions.push_back(CertificateOption::flag("permit-pty"));
    CHECK(sign_certificate(f, ca, rng).error() == errc::invalid_argument);
    f = some_fields(make_key(2).public_key());
    f.principals.assign(257, "p");
    CHECK(sign_certificate(f, ca, rng).error() == errc::invalid_argument);
    f = some_fields(make_key(2).public_key());
    f.key_id = std::string("a\0b", 3);
    CHECK(sign_certificate(f, ca, rng).error() == errc::invalid_argument);
    f = some_fields(make_key(2).public_key());
    f.reserved.resize(9000);
    CHECK(sign_certificate(f, ca, rng).error() == errc::invalid_argument);
}

TEST_CASE("a certificate with any byte changed is refused; the signature is checked first", "[keys][certificate]") {
    const auto blob = blob_of(user_cert_line);
    // Every byte of the signed part: the signature no longer verifies, or the structure breaks first.
    for (std::size_t i = 0; i < blob.size(); ++i) {
        auto bad = blob;
        bad[i] ^= std::byte{0x01};
        std::string why;
        auto r = parse_certificate(bad, &why);
        INFO("byte " << i << ": " << why);
        CHECK_FALSE(r.has_value());
        CHECK_FALSE(why.empty());
    }
    // One flipped bit of the signature itself.
    auto bad = blob;
    bad[bad.size() - 1] ^= std::byte{0x80};
    std::string why;
    CHECK(parse_certificate(bad, &why).error() == errc::bad_signature);
    CHECK(why == "the CA's signature does not verify");
}

TEST_CASE("certificates a CA must not have signed, or that OpenSSH would refuse, are refused", "[keys][certificate]") {
    const PrivateKey ca = make_key(1);
    const PrivateKey user = make_key(2);
    twoway_test::DeterministicRng rng(3);
    std::string why;

    SECTION("a critical option named twice") {
        auto f = some_fields(user.public_key());
        auto c = sign_certificate(f, ca, rng);
        REQUIRE(c.has_value());
        // Rebuild by hand with force-command twice: sign_certificate itself refuses that.
        wire::Writer w;
        w.string(ssh_ed25519_cert_name).string(c->nonce).string(user.public_key().raw());
        w.u64(1).u32(1).string("id");
        wire::Writer p;
        p.string("alice");
        w.string(p.view()).u64(0).u64(certificate_forever);
        wire::Writer crit;
        crit.string("force-command").string(CertificateOption::text("x", "a").data);
        crit.string("force-command").string(CertificateOption::text("x", "b").data);
        w.string(crit.view()).string(std::span<const std::byte>{}).string(std::span<const std::byte>{});
        w.string(ca.public_key().blob());
        w.string(keys::ed25519_signature_blob(ca.sign(w.view())));
        CHECK(parse_certificate(w.view(), &why).error() == errc::malformed);
        CHECK(why == "critical option force-command appears twice");
    }
    SECTION("an unknown certificate type") {
        wire::Writer w;
        w.string(ssh_ed25519_cert_name).string(std::span<const std::byte>{}).string(user.public_key().raw());
        w.u64(1).u32(3).string("id").string(std::span<const std::byte>{}).u64(0).u64(certificate_forever);
        w.string(std::span<const std::byte>{}).string(std::span<const std::byte>{}).string(std::span<const std::byte>{});
        w.string(ca.public_key().blob());
        w.string(keys::ed25519_signature_blob(ca.sign(w.view())));
        CHECK(parse_certificate(w.view(), &why).error() == errc::malformed);
        CHECK(why == "unknown certificate type 3");
    }
    SECTION("a CA key that is itself a certificate") {
        // The "CA" field holds a whole certificate blob; the signature is made by that certificate's key.
        auto inner = sign_certificate(some_fields(ca.public_key()), make_key(9), rng);
        REQUIRE(inner.has_value());
        wire::Writer w;
        w.string(ssh_ed25519_cert_name).string(std::span<const std::byte>{}).string(user.public_key().raw());
        w.u64(1).u32(1).string("id").string(std::span<const std::byte>{}).u64(0).u64(certificate_forever);
        w.string(std::span<const std::byte>{}).string(std::span<const std::byte>{}).string(std::span<const std::byte>{});
        w.string(inner->blob);
        w.string(keys::ed25519_signature_blob(ca.sign(w.view())));
        CHECK(parse_certificate(w.view(), &why).error() == errc::unsupported_key_type);
        CHECK(why == "the CA key is itself a certificate (chained certificates are refused)");
    }
    SECTION("a plain key blob, a blob over 8 KiB, another certificate type, bytes after the signature") {
        CHECK(parse_certificate(user.public_key().blob(), &why).error() == errc::unsupported_key_type);
        std::vector<std::byte> big(8193);
        CHECK(parse_certificate(big).error() == errc::length_too_large);
        wire::Writer w;
        w.string("ssh-rsa-cert-v01@openssh.com").u32(0);
        CHECK(parse_certificate(w.view()).error() == errc::unsupported_key_type);
        auto c = sign_certificate(some_fields(user.public_key()), ca, rng);
        REQUIRE(c.has_value());
        auto longer = c->blob;
        longer.push_back(std::byte{0});
        CHECK(parse_certificate(longer).error() == errc::trailing_data);
        auto shorter = c->blob;
        shorter.pop_back();
        CHECK_FALSE(parse_certificate(shorter).has_value());
    }
    SECTION("lines that are not certificate lines") {
        CHECK(parse_certificate_line(user_line).error() == errc::bad_key_format);
        CHECK(parse_certificate_line("ssh-ed25519-cert-v01@openssh.com !!!").error() == errc::malformed);
        CHECK(parse_certificate_line("").error() == errc::bad_key_format);
    }
}

TEST_CASE("ssh-keygen -L reads a certificate signed here", "[keys][certificate][interop]") {
    if (::access("/usr/bin/ssh-keygen", X_OK) != 0) {
        WARN("no /usr/bin/ssh-keygen: skipped");
        return;
    }
    const PrivateKey ca = make_key(1);
    twoway_test::DeterministicRng rng(3);
    auto c = sign_certificate(some_fields(make_key(2).public_key()), ca, rng);
    REQUIRE(c.has_value());
    char path[] = "/tmp/twoway-cert-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    const std::string text = format_certificate_line(*c, "made by twoway") + "\n";
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    const std::string cmd = std::string("TZ=UTC /usr/bin/ssh-keygen -L -f ") + path + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 512> buf{};
        while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
        const int status = ::pclose(p);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    ::unlink(path);
    INFO(out);
    CHECK(out.find("Type: ssh-ed25519-cert-v01@openssh.com user certificate") != std::string::npos);
    CHECK(out.find("Signing CA: ED25519 " + fingerprint_sha256(ca.public_key())) != std::string::npos);
    CHECK(out.find("Key ID: \"deploy key for ci\"") != std::string::npos);
    CHECK(out.find("Serial: 1234567890123") != std::string::npos);
    CHECK(out.find("Valid: from 2026-01-01T00:00:00 to 2027-01-01T00:00:00") != std::string::npos);
    CHECK(out.find("                deploy\n                backup\n") != std::string::npos);
    CHECK(out.find("force-command /usr/bin/rsync --server") != std::string::npos);
    CHECK(out.find("source-address 127.0.0.1/32") != std::string::npos);
    CHECK(out.find("permit-port-forwarding") != std::string::npos);
}
