// Key files on disk: modes, the permission rule, atomic replacement. Each test works in a fresh
// directory under the system's temporary directory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include <twoway/file.hpp>
#include <twoway/key_file.hpp>

#include "support/temp_dir.hpp"

using namespace twoway;
namespace fs = std::filesystem;

namespace {
using twoway_test::TempDir;

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}

std::string key_text(std::string_view comment = "io test") {
    auto key = PrivateKey::generate(system_rng());
    auto text = encode_private_key(key, comment, "", {}, system_rng());
    REQUIRE(text);
    return *text;
}
}  // namespace

TEST_CASE("key files are written with the requested mode and read back", "[keys]") {
    TempDir dir("twoway-keys");
    const std::string path = dir.file("id_ed25519");
    const std::string text = key_text();
    REQUIRE(write_key_file(path, text, 0600));
    CHECK(mode_of(path) == 0600);
    auto read = read_private_key_file(path);
    REQUIRE(read);
    CHECK(*read == text);
    auto loaded = load_private_key(path, "");
    REQUIRE(loaded);
    CHECK(loaded->comment == "io test");

    REQUIRE(write_key_file(dir.file("id.pub"), "ssh-ed25519 AAAA x\n", 0644));
    CHECK(mode_of(dir.file("id.pub")) == 0644);
    CHECK(dir.entries() == 2);  // no temporary files left behind
}

TEST_CASE("a private key file others may access is refused unless explicitly allowed", "[keys]") {
    TempDir dir("twoway-keys");
    const std::string path = dir.file("id_ed25519");
    REQUIRE(write_key_file(path, key_text(), 0600));
    for (unsigned mode : {0644U, 0640U, 0604U, 0620U, 0602U, 0610U, 0601U, 0660U, 0666U}) {
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        CHECK(read_private_key_file(path).error() == errc::insecure_permissions);
        CHECK(load_private_key(path, "").error() == errc::insecure_permissions);
        KeyLoadOptions allow;
        allow.allow_insecure_permissions = true;
        CHECK(load_private_key(path, "", allow));
    }
    for (unsigned mode : {0600U, 0400U, 0700U}) {
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        CHECK(load_private_key(path, ""));
    }
}

TEST_CASE("replacing a key file is atomic and keeps no temporary file", "[keys]") {
    TempDir dir("twoway-keys");
    const std::string path = dir.file("k");
    REQUIRE(write_key_file(path, "old", 0644));
    REQUIRE(write_key_file(path, "new contents", 0600));
    auto read = read_file(path, 100);
    REQUIRE(read);
    CHECK(read->text == "new contents");
    CHECK(read->mode == 0600);
    CHECK(dir.entries() == 1);
}

TEST_CASE("reading key files fails cleanly on missing, odd or oversized files", "[keys]") {
    TempDir dir("twoway-keys");
    CHECK(read_private_key_file(dir.file("missing")).error() == std::errc::no_such_file_or_directory);
    CHECK(load_private_key(dir.file("missing"), "").error() == std::errc::no_such_file_or_directory);
    CHECK(read_private_key_file(dir.file("")).error() == errc::invalid_argument);  // the directory itself

    const std::string big = dir.file("big");
    {
        std::ofstream out(big);
        out << std::string(65 * 1024, 'A');
    }
    REQUIRE(::chmod(big.c_str(), 0600) == 0);
    CHECK(read_private_key_file(big).error() == errc::length_too_large);

    const std::string garbage = dir.file("garbage");
    REQUIRE(write_key_file(garbage, "not a key\n", 0600));
    CHECK(load_private_key(garbage, "").error() == errc::bad_key_format);

    // Writing into a directory that does not exist fails and leaves nothing.
    CHECK(write_key_file(dir.file("no/such/dir/k"), "x", 0600).error() == std::errc::no_such_file_or_directory);
}
