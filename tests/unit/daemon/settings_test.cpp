// Settings: twowayd.conf plus the command-line overrides plus the host keys. What `twowayd -t` prints
// is exactly load_settings' problem list.
#include <catch2/catch.hpp>

#include <algorithm>

#include <twoway/handshake.hpp>
#include <twoway/key_file.hpp>

#include "daemon_test_support.hpp"
#include "settings.hpp"
#include "../../support/deterministic_rng.hpp"

using namespace twowayd;
using twowayd::test::TempDir;

namespace {

std::string write_host_key(const TempDir& dir, const std::string& name, std::uint64_t seed, unsigned mode = 0600,
                           std::string_view passphrase = "") {
    twoway_test::DeterministicRng rng(seed);
    const auto key = twoway::PrivateKey::generate(rng);
    auto text = twoway::encode_private_key(key, "host", passphrase, twoway::KdfParams{1, 8192}, rng);
    REQUIRE(text);
    const std::string path = dir.file(name);
    REQUIRE(twoway::write_key_file(path, *text, mode));
    ::chmod(path.c_str(), mode);
    return path;
}

bool has_problem(const LoadResult& r, const std::string& prefix, const std::string& part) {
    return std::any_of(r.problems.begin(), r.problems.end(), [&](const std::string& p) {
        return p.rfind(prefix, 0) == 0 && p.find(part) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("a good config and host key load, with the overrides applied", "[daemon]") {
    TempDir dir;
    const auto key = write_host_key(dir, "host_key", 1);
    const auto conf = dir.write("twowayd.conf", "Port 2222\nHostKey " + key + "\nService db 127.0.0.1:5432\n");
    auto r = load_settings(conf, {});
    REQUIRE(r.problems.empty());
    REQUIRE(r.settings);
    CHECK(r.settings->config.ports == std::vector<std::uint16_t>{2222});
    REQUIRE(r.settings->host_keys.size() == 1);
    CHECK(r.settings->host_keys[0].path == key);
    REQUIRE(r.settings->find_service("db") != nullptr);
    CHECK(r.settings->find_service("db")->port == 5432);
    CHECK(r.settings->find_service("nope") == nullptr);

    // -p replaces Port, -h replaces HostKey.
    const auto other = write_host_key(dir, "other_key", 2);
    auto o = load_settings(conf, Overrides{{0, 4000}, {other}});
    REQUIRE(o.settings);
    CHECK(o.settings->config.ports == std::vector<std::uint16_t>{0, 4000});
    REQUIRE(o.settings->host_keys.size() == 1);
    CHECK(o.settings->host_keys[0].path == other);
    CHECK(o.settings->host_key().public_key() != r.settings->host_key().public_key());
}

TEST_CASE("every config error is reported with its file and line, and the host keys are still checked",
          "[daemon]") {
    TempDir dir;
    const auto key = write_host_key(dir, "host_key", 1, 0644);
    const auto conf = dir.write("twowayd.conf", "# test\nBogusKeyword yes\nMaxStartups 10:0:5\nHostKey " + key +
                                                    "\nLogLevel LOUD\n");
    auto r = load_settings(conf, {});
    CHECK_FALSE(r.settings);
    CHECK(has_problem(r, conf + ":2: ", "BogusKeyword"));
    CHECK(has_problem(r, conf + ":3: ", "MaxStartups"));
    CHECK(has_problem(r, conf + ":5: ", "LOUD"));
    CHECK(has_problem(r, key + ": ", "permissions 0644 are too open"));
    CHECK(r.problems.size() == 4);
}

TEST_CASE("host key problems: missing, encrypted, or no key at all", "[daemon]") {
    TempDir dir;
    const auto enc = write_host_key(dir, "enc_key", 3, 0600, "secret");
    const auto conf = dir.write("twowayd.conf", "HostKey " + dir.file("missing") + "\nHostKey " + enc + "\n");
    auto r = load_settings(conf, {});
    CHECK_FALSE(r.settings);
    CHECK(has_problem(r, dir.file("missing") + ": ", "no such host key file"));
    CHECK(has_problem(r, enc + ": ", "encrypted"));
    CHECK(r.problems.size() == 2);

    // A config that cannot be read at all is one problem naming it.
    auto none = load_settings(dir.file("absent.conf"), Overrides{{}, {write_host_key(dir, "k", 4)}});
    CHECK_FALSE(none.settings);
    CHECK(has_problem(none, dir.file("absent.conf"), "cannot read"));
}

TEST_CASE("several host keys: all are checked, the first is the one in use", "[daemon]") {
    TempDir dir;
    const auto a = write_host_key(dir, "a", 10);
    const auto b = write_host_key(dir, "b", 11);
    const auto conf = dir.write("twowayd.conf", "HostKey " + a + "\nHostKey " + b + "\n");
    auto r = load_settings(conf, {});
    REQUIRE(r.settings);
    REQUIRE(r.settings->host_keys.size() == 2);
    CHECK(r.settings->host_keys[0].path == a);
    CHECK(&r.settings->host_key() == &r.settings->host_keys[0].key);
    CHECK(key_fingerprint_text(r.settings->host_key().public_key()).rfind("ED25519 SHA256:", 0) == 0);
}

TEST_CASE("Banner: the file's contents, bounded; a file that cannot be used sends none and says why", "[daemon]") {
    TempDir dir;
    const auto key = write_host_key(dir, "host_key", 3);
    auto load = [&](const std::string& extra) {
        return load_settings(dir.write("twowayd.conf", "HostKey " + key + "\n" + extra), {});
    };
    auto warned = [](const LoadResult& r, const std::string& part) {
        return std::any_of(r.warnings.begin(), r.warnings.end(),
                           [&](const std::string& w) { return w.rfind("Banner ", 0) == 0 && w.find(part) != std::string::npos; });
    };
    SECTION("none (the default) sends none") {
        auto r = load("");
        REQUIRE(r.settings);
        CHECK(r.settings->banner.empty());
        CHECK(r.warnings.empty());
    }
    SECTION("a file is read as it is, escape bytes and all (the client escapes)") {
        const std::string text = std::string("Authorized use only.\r\n\x1b[2J\0\n", 28);
        const auto path = dir.write("banner", text);
        auto r = load("Banner " + path + "\n");
        REQUIRE(r.settings);
        CHECK(r.settings->banner == text);
        CHECK(r.warnings.empty());
    }
    SECTION("exactly max_banner_size bytes pass, one more sends none") {
        const auto fits = dir.write("fits", std::string(twoway::max_banner_size, 'x'));
        auto r = load("Banner " + fits + "\n");
        REQUIRE(r.settings);
        CHECK(r.settings->banner.size() == twoway::max_banner_size);
        const auto big = dir.write("big", std::string(twoway::max_banner_size + 1, 'x'));
        auto b = load("Banner " + big + "\n");
        REQUIRE(b.settings);  // the daemon still starts
        CHECK(b.settings->banner.empty());
        CHECK(warned(b, "larger than 8192 bytes"));
    }
    SECTION("a missing file, or a directory: none, with a warning (-t fails on warnings)") {
        auto r = load("Banner " + dir.file("missing") + "\n");
        REQUIRE(r.settings);
        CHECK(r.settings->banner.empty());
        CHECK(warned(r, "No such file or directory"));
        auto d = load("Banner " + dir.file("") + "\n");
        REQUIRE(d.settings);
        CHECK(warned(d, "not a regular file"));
    }
    SECTION("Banner inside Match: no effect, said at load") {
        const auto path = dir.write("banner", "global\n");
        const auto other = dir.write("other", "match\n");
        auto r = load("Banner " + path + "\nMatch User alice\n    Banner " + other + "\n");
        REQUIRE(r.settings);
        CHECK(r.settings->banner == "global\n");
        CHECK(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
            return n.find("Banner inside Match has no effect") != std::string::npos;
        }));
    }
}
