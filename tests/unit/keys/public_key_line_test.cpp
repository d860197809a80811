// Public key lines, fingerprints and randomart. The expected fingerprints and pictures were printed by
// OpenSSH 9.2's `ssh-keygen -lv` for these very lines; tests/interop compares with it live as well.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include <twoway/key.hpp>

#include "../../support/hex.hpp"
#include "crypto/crypto.hpp"

using namespace twoway;
using twoway::test::hex;

namespace {
const std::string vector1_b64 = "AAAAC3NzaC1lZDI1NTE5AAAAIJd27P57zUCmFKFm68dWbO3Dimyv6fLQGqSQzoL8z74i";
const std::string vector1 = "ssh-ed25519 " + vector1_b64 + " vector 1";
// An RSA key line, as ssh-keygen -t rsa -b 1024 wrote it.
const std::string rsa_line =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDbhbW2oiwN7+tksEtDo5mt73+TIzTo7RXb5/IdKb/gAxrGnLagO7iCbmRtl1PvWBgrByK36CvZ"
    "DAesyP9qn5StNgXSEe9sz9yXofycy+/J6m3Hpq1uQW6cNz/5MtmV4CL1JdcjZscpMZ0y46PUzSIhUg61IgHE99+NNNduD288aQ== rsa";

PublicKey parse_ok(const std::string& line) {
    auto r = parse_public_key_line(line);
    REQUIRE(r);
    return r->key;
}
}  // namespace

TEST_CASE("a public key line from ssh-keygen parses and formats back byte for byte", "[keys]") {
    auto r = parse_public_key_line(vector1);
    REQUIRE(r);
    CHECK(hex(r->key.raw()) == "9776ecfe7bcd40a614a166ebc7566cedc38a6cafe9f2d01aa490ce82fccfbe22");
    CHECK(r->comment == "vector 1");
    CHECK(format_public_key_line(r->key, r->comment) == vector1);
    CHECK(format_public_key_line(r->key) == "ssh-ed25519 " + vector1_b64);
}

TEST_CASE("public key line comments keep inner spaces; blanks and line ends around them go", "[keys]") {
    const std::string k = "ssh-ed25519 " + vector1_b64;
    CHECK(parse_public_key_line(k + " a b  c")->comment == "a b  c");
    CHECK(parse_public_key_line(k + " \t a\tb ")->comment == "a\tb ");
    CHECK(parse_public_key_line("  \t" + k + "   user@host\n")->comment == "user@host");
    CHECK(parse_public_key_line(k + " user@host\r\n")->comment == "user@host");
    CHECK(parse_public_key_line(k)->comment.empty());
    CHECK(parse_public_key_line(k + "\n")->comment.empty());
    CHECK(parse_public_key_line(k + "   ")->comment.empty());
    CHECK(parse_public_key_line("ssh-ed25519\t" + vector1_b64 + "\tx")->comment == "x");
    CHECK(parse_ok(k + " x") == parse_ok(k));
}

TEST_CASE("public key lines of other types are unsupported, not garbage", "[keys]") {
    CHECK(parse_public_key_line(rsa_line).error() == errc::unsupported_key_type);
    CHECK(parse_public_key_line("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= x").error() ==
          errc::unsupported_key_type);
    CHECK(parse_public_key_line("sk-ssh-ed25519@openssh.com AAAA x").error() == errc::unsupported_key_type);
    CHECK(parse_public_key_line("ssh-ed25519-cert-v01@openssh.com AAAA x").error() == errc::unsupported_key_type);
}

TEST_CASE("malformed public key lines fail with the right error", "[keys]") {
    CHECK(parse_public_key_line("").error() == errc::bad_key_format);
    CHECK(parse_public_key_line("   \n").error() == errc::bad_key_format);
    CHECK(parse_public_key_line("ssh-ed25519").error() == errc::bad_key_format);
    CHECK(parse_public_key_line("hello world").error() == errc::bad_key_format);
    CHECK(parse_public_key_line("# ssh-ed25519 " + vector1_b64).error() == errc::bad_key_format);
    // Bad base64: foreign characters, missing padding, a truncated blob, whitespace inside.
    CHECK(parse_public_key_line("ssh-ed25519 AAAA$$$$ x").error() == errc::malformed);
    CHECK(parse_public_key_line("ssh-ed25519 " + vector1_b64.substr(0, 67)).error() == errc::malformed);
    CHECK(parse_public_key_line("ssh-ed25519 " + vector1_b64.substr(0, 64)).error() == errc::malformed);
    CHECK(parse_public_key_line("ssh-ed25519 AAAA" + std::string(9000, 'A')).error() == errc::malformed);
    // The type word says ed25519 but the blob is an RSA key: a mismatch, refused.
    const std::string rsa_b64 = rsa_line.substr(8, rsa_line.rfind(' ') - 8);
    CHECK(parse_public_key_line("ssh-ed25519 " + rsa_b64 + " x").error() == errc::malformed);
    // Bytes that end a line early or hide in it.
    CHECK(parse_public_key_line("ssh-ed25519 " + vector1_b64 + std::string(" a\0b", 4)).error() ==
          errc::bad_key_format);
    CHECK(parse_public_key_line("ssh-ed25519 " + vector1_b64 + " a\nssh-ed25519 " + vector1_b64).error() ==
          errc::bad_key_format);
}

TEST_CASE("a blob with a short key or trailing bytes is malformed", "[keys]") {
    auto blob = parse_ok(vector1).blob();
    auto longer = blob;
    longer.push_back(std::byte{0});
    CHECK(parse_public_key_line("ssh-ed25519 " + crypto::base64_encode(longer)).error() == errc::malformed);
    auto shorter = blob;
    shorter.pop_back();
    shorter[shorter.size() - 32] = std::byte{31};  // the length of the key field, now 31
    CHECK(parse_public_key_line("ssh-ed25519 " + crypto::base64_encode(shorter)).error() == errc::malformed);
}

TEST_CASE("fingerprints and randomart equal ssh-keygen -lv", "[keys]") {
    struct Vector {
        std::string line;
        std::string fp_line;
        std::string art;
    };
    const Vector vectors[] = {
        {vector1, "256 SHA256:KEcQjFgLo/4SdZcVErDQwl2RWocKk694frxuCW4IfPU vector 1 (ED25519)",
         "+--[ED25519 256]--+\n"
         "|ooo+*oo==o.      |\n"
         "|oo.Bo+.++.       |\n"
         "|. ..=o=o.        |\n"
         "|. . .*..         |\n"
         "|.o. + + S        |\n"
         "|.oo= o E         |\n"
         "|..*.o .          |\n"
         "| ..+ =           |\n"
         "|  . +o.          |\n"
         "+----[SHA256]-----+"},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEqdJTleRdxr3EVp4IKRiKV5//aglmyhcKeKoQF4lOJ5 vector 2",
         "256 SHA256:fmIfHm9/YRXW3T/DZTfHT6SpYTriefqPRhz6roZB/7s vector 2 (ED25519)",
         "+--[ED25519 256]--+\n"
         "|               o=|\n"
         "|               *@|\n"
         "|            o =oO|\n"
         "|      .   .o o ++|\n"
         "|     . .Soo..   +|\n"
         "|      .oooo.   o |\n"
         "|       o*+=   . .|\n"
         "|      ...B+=.   .|\n"
         "|       .o=E=o... |\n"
         "+----[SHA256]-----+"},
        // RFC 8032 test 1's public key.
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea rfc8032 test 1",
         "256 SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8 rfc8032 test 1 (ED25519)",
         "+--[ED25519 256]--+\n"
         "|            oo   |\n"
         "|           o. .  |\n"
         "|          o ..   |\n"
         "|         o o o.  |\n"
         "|        S + o  o |\n"
         "|       . + +  . E|\n"
         "|      . ..Ooo. B.|\n"
         "|     o o.BBB.o+ +|\n"
         "|     .*+OB=o=+.  |\n"
         "+----[SHA256]-----+"},
    };
    for (const auto& v : vectors) {
        auto r = parse_public_key_line(v.line);
        REQUIRE(r);
        CHECK(fingerprint_line(r->key, r->comment) == v.fp_line);
        CHECK("256 " + fingerprint_sha256(r->key) + " " + r->comment + " (ED25519)" == v.fp_line);
        CHECK(randomart(r->key) == v.art);
    }
}

TEST_CASE("fingerprint lines say 'no comment' for an empty comment", "[keys]") {
    const PublicKey k = parse_ok(vector1);
    CHECK(fingerprint_line(k, "") == "256 SHA256:KEcQjFgLo/4SdZcVErDQwl2RWocKk694frxuCW4IfPU no comment (ED25519)");
}

TEST_CASE("randomart is always a framed 17x9 field with one start and one end", "[keys]") {
    // The all-zero key and others walk into the walls and corners; the frame must never break.
    for (int fill = 0; fill < 256; fill += 15) {
        PublicKey::Raw raw{};
        for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::byte>(fill + static_cast<int>(i) * 7);
        const std::string art = randomart(PublicKey(raw));
        REQUIRE(art.size() == 11 * 20 - 1);
        for (int row = 0; row < 11; ++row) {
            const std::string line = art.substr(static_cast<std::size_t>(row) * 20, 19);
            CHECK(line.size() == 19);
            CHECK((line.front() == (row == 0 || row == 10 ? '+' : '|')));
        }
        const std::string field = art.substr(20, 9 * 20);  // the rows between the frame lines
        CHECK(std::count(field.begin(), field.end(), 'E') == 1);
        CHECK(std::count(field.begin(), field.end(), 'S') <= 1);  // none when the walk ends where it began
    }
}
