// The trust-file edge: loading and the atomic known_hosts append, in a throwaway directory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <twoway/trust.hpp>

#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "twoway-trust-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return static_cast<unsigned>(st.st_mode) & 07777U;
}

}  // namespace

TEST_CASE("load: a missing file is an empty file; a present one is parsed", "[trust]") {
    TempDir dir;
    auto kh = load_known_hosts((dir.path / "missing").string());
    REQUIRE(kh);
    CHECK(kh->entries.empty());
    CHECK(kh->diagnostics.empty());
    auto ak = load_authorized_keys((dir.path / "missing").string());
    REQUIRE(ak);
    CHECK(ak->entries.empty());

    spit(dir.path / "authorized_keys", "bogus-option " + key_text(1) + "\n" + key_text(2) + "\n");
    const std::string path = (dir.path / "authorized_keys").string();
    ak = load_authorized_keys(path);
    REQUIRE(ak);
    REQUIRE(ak->entries.size() == 1);
    CHECK(ak->entries[0].where == Location{path, 2});
    CHECK(ak->diagnostics.at(0).where == Location{path, 1});

    // A directory is not a file.
    CHECK_FALSE(load_known_hosts(dir.path.string()));
}

TEST_CASE("append_known_host creates the directory 0700 and the file 0600", "[trust]") {
    TempDir dir;
    const fs::path file = dir.path / ".twoway" / "known_hosts";
    REQUIRE(append_known_host(file.string(), "Server.Example", default_port, test_key(1)));
    CHECK(slurp(file) == "server.example " + key_text(1) + "\n");
    CHECK(mode_of(file) == 0600);
    CHECK(mode_of(file.parent_path()) == 0700);

    REQUIRE(append_known_host(file.string(), "server.example", 2200, test_key(2)));
    CHECK(slurp(file) == "server.example " + key_text(1) + "\n[server.example]:2200 " + key_text(2) + "\n");

    auto loaded = load_known_hosts(file.string());
    REQUIRE(loaded);
    std::vector<KnownHostsFile> files{*loaded};
    CHECK(check_host(files, "SERVER.example", default_port, test_key(1)).status == HostStatus::known);
    CHECK(check_host(files, "server.example", 2200, test_key(2)).status == HostStatus::known);
    // No temporary file is left behind.
    CHECK(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator{}) == 1);
}

TEST_CASE("append_known_host keeps the old contents and mode, and adds a missing final newline", "[trust]") {
    TempDir dir;
    const fs::path file = dir.path / "known_hosts";
    spit(file, "# mine\n*.wild " + key_text(5) + "\nold " + key_text(6));  // no final newline
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
    REQUIRE(append_known_host(file.string(), "new", default_port, test_key(7)));
    CHECK(slurp(file) == "# mine\n*.wild " + key_text(5) + "\nold " + key_text(6) + "\nnew " + key_text(7) + "\n");
    CHECK(mode_of(file) == 0644);
}

TEST_CASE("append_known_host follows a symbolic link and refuses bad input", "[trust]") {
    TempDir dir;
    const fs::path real = dir.path / "real_known_hosts";
    const fs::path link = dir.path / "known_hosts";
    spit(real, "a " + key_text(1) + "\n");
    fs::create_symlink(real, link);
    REQUIRE(append_known_host(link.string(), "b", default_port, test_key(2)));
    CHECK(fs::is_symlink(link));
    CHECK(slurp(real) == "a " + key_text(1) + "\nb " + key_text(2) + "\n");

    CHECK(append_known_host(link.string(), "bad host", default_port, test_key(2)).error() == errc::invalid_argument);
    CHECK(append_known_host(link.string(), "host", 0, test_key(2)).error() == errc::invalid_argument);
    CHECK(slurp(real) == "a " + key_text(1) + "\nb " + key_text(2) + "\n");

    // The parent's parent is not created: only one level, as for ~/.twoway.
    CHECK_FALSE(append_known_host((dir.path / "x" / "y" / "known_hosts").string(), "h", default_port, test_key(1)));
}

TEST_CASE("append_known_host: concurrent appends lose no line, and a line already there is not repeated",
          "[trust]") {
    TempDir dir;
    const fs::path file = dir.path / "known_hosts";
    constexpr int threads = 4;
    constexpr int per_thread = 25;
    std::vector<std::thread> workers;
    std::vector<int> failures(threads, 0);
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const std::string host = "h" + std::to_string(t) + "-" + std::to_string(i) + ".example";
                if (!append_known_host(file.string(), host, default_port, test_key(t + 1))) ++failures[t];
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(failures == std::vector<int>(threads, 0));
    auto loaded = load_known_hosts(file.string());
    REQUIRE(loaded);
    CHECK(loaded->diagnostics.empty());
    CHECK(loaded->entries.size() == static_cast<std::size_t>(threads * per_thread));
    std::vector<KnownHostsFile> files{*loaded};
    for (int t = 0; t < threads; ++t) {
        for (int i = 0; i < per_thread; ++i) {
            const std::string host = "h" + std::to_string(t) + "-" + std::to_string(i) + ".example";
            INFO(host);
            CHECK(check_host(files, host, default_port, test_key(t + 1)).status == HostStatus::known);
        }
    }

    // The same host and key again (two clients that met a new host at once): one line, not two.
    const std::string before = slurp(file);
    REQUIRE(append_known_host(file.string(), "H0-0.example", default_port, test_key(1)));
    CHECK(slurp(file) == before);
    // Another key for the host is not: the caller's "unknown" is stale (another client recorded another
    // key meanwhile), and two keys for one host would make both known from then on.
    CHECK(append_known_host(file.string(), "h0-0.example", default_port, test_key(9)).error() ==
          errc::host_key_rejected);
    CHECK(slurp(file) == before);
    // Nor beside a line that makes the host uncertain.
    std::ofstream(file, std::ios::app) << "|1|a=|b= " << key_text(9) << "\n";
    const std::string with_hashed = slurp(file);
    CHECK(append_known_host(file.string(), "new.example", default_port, test_key(9)).error() ==
          errc::host_key_rejected);
    CHECK(slurp(file) == with_hashed);
    // No temporary file is left behind.
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("append_known_host never replaces a file another user owns", "[trust]") {
    // The atomic rename would hand the file to us: as root (sudo -E with a user's HOME), a user's
    // known_hosts would become root's. Needs root to give the file away.
    if (::geteuid() != 0) {
        WARN("not root: cannot make a file owned by another user");
        return;
    }
    TempDir dir;
    const fs::path file = dir.path / "known_hosts";
    std::ofstream(file) << "a " << key_text(1) << "\n";
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    const auto s = append_known_host(file.string(), "b", default_port, test_key(2));
    REQUIRE_FALSE(s);
    CHECK(s.error() == std::errc::operation_not_permitted);
    CHECK(slurp(file) == "a " + key_text(1) + "\n");
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK(st.st_uid == 65534U);
    // Our own file is appended to as before.
    REQUIRE(::chown(file.c_str(), 0, 0) == 0);
    REQUIRE(append_known_host(file.string(), "b", default_port, test_key(2)));
    CHECK(slurp(file) == "a " + key_text(1) + "\nb " + key_text(2) + "\n");
}
