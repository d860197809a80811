// Revoked key lists (RevokedKeys, RevokedHostKeys): parsed like authorized_keys without options, and
// failing closed on anything that is not a comment or a public key.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

#include <twoway/trust.hpp>

#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;

namespace {

// Keys of other types, well formed as far as the list looks (the type, and the blob's own type name).
const char* const rsa_line = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 old-rsa";
const char* const ecdsa_line = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAABQQ==";

// The one problem of a list, which must be unusable.
std::string only_problem(const std::string& text) {
    const auto list = parse_revocation_list("rk", text);
    CHECK_FALSE(list.usable());
    REQUIRE(list.problems.size() == 1);
    return list.problems[0];
}

}  // namespace

TEST_CASE("revocation list: keys with their lines; comments and other key types ignored", "[trust]") {
    const auto list = parse_revocation_list(
        "rk", "# stolen 2026-11-20\n\n" + key_text(1, "bob@laptop") + "\n" + rsa_line + "\n" + ecdsa_line + "\n" +
                  test::cert_text(3, "c") + "\r\n" + key_text(2) + "\n");
    CHECK(list.usable());
    CHECK(list.path == "rk");
    REQUIRE(list.keys.size() == 3);
    // A listed certificate revokes the key it certifies, as OpenSSH compares them (issue 13 review).
    CHECK(find_revoked(list, test_key(3)) == Location{"rk", 6});
    CHECK(list.keys[0].key == test_key(1));
    CHECK(list.keys[0].comment == "bob@laptop");
    CHECK(find_revoked(list, test_key(1)) == Location{"rk", 3});
    CHECK(find_revoked(list, test_key(2)) == Location{"rk", 7});
    CHECK_FALSE(find_revoked(list, test_key(4)));
    CHECK(parse_revocation_list("rk", "").usable());
}

TEST_CASE("revocation list: anything else makes it unusable, naming the line", "[trust]") {
    // An ssh-ed25519 certificate whose key cannot be read may revoke any Ed25519 key: never passed over.
    CHECK(only_problem(test::cert_text(3, "", true) + "\n").starts_with("rk:1: "));
    CHECK(only_problem("ssh-ed25519 AAAA!!!!\n") == "rk:1: invalid ssh-ed25519 key data");
    CHECK(only_problem(key_text(1) + "\nrestrict " + key_text(2) + "\n") ==
          "rk:2: options are not allowed in a key list: \"restrict\"");
    CHECK(only_problem("garbage\n") == "rk:1: not a key line");
    // Lines that would hide an Ed25519 key from the list: options copied from authorized_keys, a
    // comment written first, a misspelt type, other types with bad or mismatched data.
    CHECK(only_problem("environment=\"EMAIL=a@b.c\" " + key_text(1) + "\n").rfind("rk:1: ", 0) == 0);
    CHECK(only_problem("bob@laptop " + key_text(1) + "\n").rfind("rk:1: ", 0) == 0);
    CHECK(only_problem("ssh-ed2559 AAAAC3NzaC1lZDI1NTE5\n").rfind("rk:1: ", 0) == 0);
    CHECK(only_problem("ssh-rsa not-base64!\n").rfind("rk:1: ", 0) == 0);
    CHECK(only_problem("ssh-rsa AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAABQQ==\n").rfind("rk:1: ", 0) == 0);
    CHECK(only_problem("ssh-rsa\n").rfind("rk:1: ", 0) == 0);
    // Binary bytes or an over-long line make a line junk, even one that starts as a key of another type
    // (found by the authorized_keys fuzz target).
    CHECK(only_problem(std::string(rsa_line) + std::string(" \0x", 3) + "\n") == "rk:1: line contains control characters");
    CHECK(only_problem(std::string(rsa_line) + " " + std::string(9000, 'c') + "\n").rfind("rk:1: line too long", 0) == 0);
    for (const char* line : {"environment=\"EMAIL=a@b.c\" ", "bob@laptop "}) {
        const auto list = parse_revocation_list("rk", line + key_text(1) + "\n");
        CHECK_FALSE(list.usable());
        CHECK_FALSE(find_revoked(list, test_key(1)));  // so the caller refuses every key, this one too
    }
    CHECK(only_problem(std::string("SSHKRL\n\0\0\0\0\1", 12)) ==
          "rk: an OpenSSH KRL, not a text list (parse_revocation_file reads both)");
    TrustLimits small;
    small.max_entries = 2;
    const auto cut = parse_revocation_list("rk", key_text(1) + "\n" + key_text(2) + "\n" + key_text(3) + "\n", small);
    CHECK_FALSE(cut.usable());
    CHECK(cut.problems.back() == "rk: over the limits for a key list (lines or entries)");
    // Problems are capped as diagnostics are; the list stays unusable.
    small = TrustLimits{};
    small.max_diagnostics = 3;
    std::string junk;
    for (int i = 0; i < 10; ++i) junk += "junk\n";
    const auto many = parse_revocation_list("rk", junk, small);
    CHECK(many.problems.size() == 3);
    CHECK(many.problem_count == 10);
    CHECK_FALSE(many.usable());
    // Even with no room for a single message, a bad list is never usable.
    small.max_diagnostics = 0;
    const auto silent = parse_revocation_list("rk", junk, small);
    CHECK(silent.problems.empty());
    CHECK_FALSE(silent.usable());
}

TEST_CASE("load_revocation_list: a missing, special or unreadable file is unusable, never empty", "[trust]") {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "twoway-revoked-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const fs::path dir = tmpl;
    const std::string missing = (dir / "missing").string();
    auto list = load_revocation_list(missing);
    REQUIRE(list.problems.size() == 1);
    CHECK(list.problems[0] == missing + ": cannot read: No such file or directory");
    list = load_revocation_list(dir.string());
    REQUIRE(list.problems.size() == 1);
    CHECK(list.problems[0] == dir.string() + ": cannot read: not a regular file");
    // A FIFO where the list should be: refused at once, not waited on for a writer.
    const std::string fifo = (dir / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    list = load_revocation_list(fifo);
    REQUIRE(list.problems.size() == 1);
    CHECK(list.problems[0] == fifo + ": cannot read: not a regular file");
    const std::string good = (dir / "good").string();
    std::ofstream(good) << key_text(4) << "\n";
    list = load_revocation_list(good);
    CHECK(list.usable());
    CHECK(find_revoked(list, test_key(4)) == Location{good, 1});
    fs::remove_all(dir);
}
