// OpenSSH openssh-key-v1 import and export. The literal files were written by OpenSSH 9.2's
// `ssh-keygen -t ed25519` for these tests; the negative cases are built field by field from PROTOCOL.key.
#include <catch2/catch.hpp>

#include <string>

#include <twoway/key_file.hpp>
#include <twoway/key.hpp>

#include "../../support/hex.hpp"
#include "key_test_support.hpp"
#include "wire/writer.hpp"

using namespace twoway;
using twoway::test::hex;

namespace {
// ssh-keygen -t ed25519 -N '' -C 'vector 1'
const std::string ssh_vector1 =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACCXduz+e81AphShZuvHVmztw4psr+ny0BqkkM6C/M++IgAAAJC+FUxqvhVM\n"
    "agAAAAtzc2gtZWQyNTUxOQAAACCXduz+e81AphShZuvHVmztw4psr+ny0BqkkM6C/M++Ig\n"
    "AAAEABoOqUGGg981tHQKFtBASnBvGCQXOf85e8VQq3fRApQ5d27P57zUCmFKFm68dWbO3D\n"
    "imyv6fLQGqSQzoL8z74iAAAACHZlY3RvciAxAQIDBAU=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
const std::string ssh_vector1_pub =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJd27P57zUCmFKFm68dWbO3Dimyv6fLQGqSQzoL8z74i vector 1";

// ssh-keygen -t ed25519 -N 'pw' -C enc (aes256-ctr, bcrypt)
const std::string ssh_encrypted =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABA14rogSd\n"
    "zOIkgrTFXeUtRTAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIJdPDcdpLxL0LLpk\n"
    "up2N14F38fDQqzCk93rh/T97AwkWAAAAkByjTxjZtIXJtu6X4yFdgEB3zl8/ffUD1eHE8C\n"
    "vY6U8cd04MIHSRvSJxpvQ5gpLPC5tDtHxMuAUwV/kenkwZ1boL0I9Nylu0Z+EH0acGxviX\n"
    "Xo35NCi/c2QJl/vHBW9uujT9J2uXMcoSP0RYQi0vSto6ceqofHVfzcNPHcYmy5axhF3P0V\n"
    "mnJhE2UOjZFNuSrA==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

// Every field of an unencrypted openssh-key-v1 file, so a test can get exactly one of them wrong.
struct Fields {
    std::string cipher = "none";
    std::string kdf = "none";
    std::string kdf_options;
    std::uint32_t nkeys = 1;
    std::vector<std::byte> public_blob;
    std::uint32_t check1 = 0x11223344;
    std::uint32_t check2 = 0x11223344;
    std::string type = "ssh-ed25519";
    std::vector<std::byte> pk;
    std::vector<std::byte> sk;  // seed || pk
    std::string comment = "built";
    std::optional<std::vector<std::byte>> padding;  // default: 1, 2, 3, ... to a multiple of 8
    std::vector<std::byte> private_trailer;         // after the padding, inside the private section
    std::vector<std::byte> outer_trailer;           // after the private section

    explicit Fields(const PrivateKey& k) : public_blob(k.public_key().blob()) {
        const auto& raw = k.public_key().raw();
        pk.assign(raw.begin(), raw.end());
        const auto seed = k.seed();
        sk.assign(seed.span().begin(), seed.span().end());
        sk.insert(sk.end(), raw.begin(), raw.end());
    }

    [[nodiscard]] std::vector<std::byte> binary() const {
        wire::Writer priv;
        priv.u32(check1).u32(check2).string(type).string(pk).string(sk).string(comment);
        if (padding) {
            priv.bytes(*padding);
        } else {
            for (std::uint8_t i = 1; priv.size() % 8 != 0; ++i) priv.u8(i);
        }
        priv.bytes(private_trailer);
        wire::Writer w;
        w.bytes(std::string_view("openssh-key-v1\0", 15))
            .string(cipher)
            .string(kdf)
            .string(kdf_options)
            .u32(nkeys);
        for (std::uint32_t i = 0; i < nkeys && i < 4; ++i) w.string(public_blob);
        w.string(priv.view()).bytes(outer_trailer);
        return w.take();
    }
    [[nodiscard]] std::string text() const { return test::rearmor_openssh(binary()); }
};

PrivateKey some_key() { return PrivateKey::from_seed(std::array<std::byte, 32>{std::byte{42}}); }
}  // namespace

TEST_CASE("a key written by ssh-keygen imports with its public key and comment", "[keys]") {
    auto d = decode_private_key(ssh_vector1, "");
    REQUIRE(d);
    CHECK(d->format == KeyFileFormat::openssh);
    CHECK(d->comment == "vector 1");
    CHECK(format_public_key_line(d->key.public_key(), d->comment) == ssh_vector1_pub);
    CHECK(hex(d->key.seed().span()) == "01a0ea9418683df35b4740a16d0404a706f18241739ff397bc550ab77d102943");
    auto info = inspect_private_key(ssh_vector1);
    REQUIRE(info);
    CHECK(info->format == KeyFileFormat::openssh);
    CHECK_FALSE(info->encrypted);
    CHECK(info->comment == "vector 1");
}

TEST_CASE("export writes what ssh-keygen writes, byte for byte", "[keys]") {
    auto d = decode_private_key(ssh_vector1, "");
    REQUIRE(d);
    // ssh-keygen drew the check int 0xbe154c6a for this file; hand the same to the exporter.
    test::ScriptedRng rng({std::byte{0xbe}, std::byte{0x15}, std::byte{0x4c}, std::byte{0x6a}});
    auto text = encode_openssh_private_key(d->key, d->comment, rng);
    REQUIRE(text);
    CHECK(*text == ssh_vector1);
}

TEST_CASE("exported keys import again, for any comment length (all paddings)", "[keys]") {
    const auto key = some_key();
    for (std::size_t len = 0; len < 20; ++len) {
        const std::string comment(len, 'c');
        auto text = encode_openssh_private_key(key, comment, system_rng());
        REQUIRE(text);
        auto d = decode_private_key(*text, "");
        REQUIRE(d);
        CHECK(d->key.seed() == key.seed());
        CHECK(d->comment == comment);
    }
    CHECK(encode_openssh_private_key(key, "bad\ncomment", system_rng()).error() == errc::invalid_argument);
}

TEST_CASE("the field builder reproduces a valid file", "[keys]") {
    const auto key = some_key();
    Fields f(key);
    auto d = decode_private_key(f.text(), "");
    REQUIRE(d);
    CHECK(d->key.seed() == key.seed());
    CHECK(d->comment == "built");
}

TEST_CASE("an encrypted OpenSSH key is refused with advice, its public half still readable", "[keys]") {
    auto d = decode_private_key(ssh_encrypted, "pw");
    REQUIRE_FALSE(d);
    CHECK(d.error() == errc::encrypted_openssh_key);
    CHECK(d.error().message().find("ssh-keygen -p") != std::string::npos);
    auto info = inspect_private_key(ssh_encrypted);
    REQUIRE(info);
    CHECK(info->encrypted);
    CHECK(info->comment.empty());
    CHECK(format_public_key_line(info->public_key) ==
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdPDcdpLxL0LLpkup2N14F38fDQqzCk93rh/T97AwkW");

    Fields f(some_key());
    f.cipher = "aes256-ctr";
    f.kdf = "bcrypt";
    f.kdf_options = std::string(24, 'x');
    CHECK(decode_private_key(f.text(), "").error() == errc::encrypted_openssh_key);
}

TEST_CASE("OpenSSH import refuses every wrong field", "[keys]") {
    const auto key = some_key();
    auto expect = [](const Fields& f, errc e) {
        auto d = decode_private_key(f.text(), "");
        REQUIRE_FALSE(d);
        CHECK(d.error() == e);
    };
    SECTION("check ints differ") {
        Fields f(key);
        f.check2 ^= 1;
        expect(f, errc::corrupt_key_file);
    }
    SECTION("padding bytes not 1, 2, 3, ...") {
        Fields f(key);
        f.comment = "abc";  // 8+15+36+68+7 = 134: two bytes of padding
        f.padding = std::vector<std::byte>{std::byte{1}, std::byte{3}};
        expect(f, errc::malformed);
    }
    SECTION("padding of a whole block or more") {
        Fields f(key);
        f.comment = "abc";
        std::vector<std::byte> pad;
        for (std::uint8_t i = 1; i <= 10; ++i) pad.push_back(std::byte{i});  // 134 + 10 = 144
        f.padding = pad;
        expect(f, errc::malformed);
    }
    SECTION("private section not a multiple of the block size") {
        Fields f(key);
        f.padding = std::vector<std::byte>{};
        f.comment = "x";  // 8+15+36+68+5 = 132, not a multiple of 8
        expect(f, errc::malformed);
    }
    SECTION("data after the private section") {
        Fields f(key);
        f.outer_trailer = {std::byte{0}};
        expect(f, errc::trailing_data);
    }
    SECTION("no key type in the private section but another") {
        Fields f(key);
        f.type = "ssh-rsa";
        expect(f, errc::unsupported_key_type);
    }
    SECTION("a public key of another type") {
        Fields f(key);
        wire::Writer rsa;
        rsa.string(std::string_view("ssh-rsa")).string(std::string_view("\x01\x00\x01", 3)).string(std::string(129, 'n'));
        f.public_blob = rsa.take();
        expect(f, errc::unsupported_key_type);
    }
    SECTION("no keys, or more than one") {
        Fields f(key);
        f.nkeys = 0;
        expect(f, errc::malformed);
        f.nkeys = 2;
        expect(f, errc::malformed);
        f.nkeys = 0xffffffff;
        expect(f, errc::malformed);
    }
    SECTION("cipher none with a KDF") {
        Fields f(key);
        f.kdf = "bcrypt";
        expect(f, errc::malformed);
        Fields g(key);
        g.kdf_options = "x";
        expect(g, errc::malformed);
    }
    SECTION("private halves that disagree with the public key") {
        const auto other = PrivateKey::generate(system_rng());
        Fields f(key);
        f.public_blob = other.public_key().blob();
        expect(f, errc::key_mismatch);
        Fields g(key);
        g.sk[40] ^= std::byte{1};  // the copy of pk inside sk
        expect(g, errc::key_mismatch);
        Fields h(key);
        h.sk[3] ^= std::byte{1};  // the seed: it no longer makes this public key
        expect(h, errc::key_mismatch);
        Fields i(key);
        i.pk[0] ^= std::byte{1};
        expect(i, errc::key_mismatch);
    }
    SECTION("fields of the wrong size") {
        Fields f(key);
        f.pk.pop_back();
        expect(f, errc::malformed);
        Fields g(key);
        g.sk.resize(32);
        expect(g, errc::malformed);
    }
    SECTION("the wrong magic") {
        Fields f(key);
        auto bin = f.binary();
        bin[13] = std::byte{'2'};  // "openssh-key-v2"
        CHECK(decode_private_key(test::rearmor_openssh(bin), "").error() == errc::bad_key_format);
    }
}

TEST_CASE("an OpenSSH key truncated or flipped anywhere fails cleanly", "[keys]") {
    const auto bin = test::unarmor_bytes(ssh_vector1, keys::openssh_armor_label);
    for (std::size_t n = 0; n < bin.size(); ++n) {
        auto d = decode_private_key(test::rearmor_openssh(std::span(bin).first(n)), "");
        REQUIRE_FALSE(d);
        CHECK(d.error().category() == twoway_category());
    }
    for (std::size_t n = 0; n + 1 < ssh_vector1.size(); ++n) {
        CHECK_FALSE(decode_private_key(ssh_vector1.substr(0, n), ""));
    }
    // Flips that change the key, its checks or its structure are caught; flips inside the comment or
    // the check ints (both at once) are not detectable in OpenSSH's unencrypted format, and are not
    // counted here.
    std::size_t caught = 0;
    for (std::size_t i = 0; i < bin.size(); ++i) {
        auto damaged = bin;
        damaged[i] ^= std::byte{0x80};
        auto d = decode_private_key(test::rearmor_openssh(damaged), "");
        if (!d) {
            ++caught;
            CHECK(d.error().category() == twoway_category());
        } else {
            CHECK(d->key.public_key() == decode_private_key(ssh_vector1, "")->key.public_key());
        }
    }
    CHECK(caught > bin.size() - 16);
}
