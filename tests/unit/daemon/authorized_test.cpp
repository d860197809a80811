// authorized_keys as the daemon reads it: StrictModes (sshd's auth_secure_path) and the verdict.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>
#include <unistd.h>

#include <twoway/key.hpp>

#include "authorized.hpp"
#include "holding_lines.hpp"
#include "daemon_test_support.hpp"
#include "../../support/deterministic_rng.hpp"

using namespace twowayd;
using twowayd::test::TempDir;

namespace {

Account me(const std::string& home) {
    // Our own uid: TemporaryIdentity then has nothing to switch, as root or not.
    Account a;
    a.name = "tester";
    a.uid = ::geteuid();
    a.gid = ::getegid();
    a.home = home;
    a.shell = "/bin/sh";
    a.groups = {a.gid};
    return a;
}

std::optional<std::string> check(const std::string& path, const std::string& home, uid_t uid) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return secure_path_problem(path, st, home, uid);
}

twoway::PublicKey key(std::uint64_t seed) {
    twoway_test::DeterministicRng rng(seed);
    return twoway::PrivateKey::generate(rng).public_key();
}

std::string real(const std::string& p) {
    char* r = ::realpath(p.c_str(), nullptr);
    REQUIRE(r != nullptr);
    std::string s(r);
    std::free(r);
    return s;
}

// While it lives, no descriptor is free: the soft RLIMIT_NOFILE is the lowest descriptor number not
// open now. (Not the number of open descriptors: a process may inherit descriptors with gaps below them,
// as from a shell or a terminal emulator (meson's test runner passes only 0, 1 and 2), and open() takes
// the lowest free number, which is below such a limit.)
class NoFreeDescriptor {
public:
    NoFreeDescriptor() {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        const int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        REQUIRE(lowest_free >= 0);
        ::close(lowest_free);
        rlimit none = saved_;
        none.rlim_cur = static_cast<rlim_t>(lowest_free);
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &none) == 0);
        // The proof that the helper does what it says, whatever the process inherited.
        const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int err = errno;
        if (probe >= 0) {
            ::close(probe);
            ::setrlimit(RLIMIT_NOFILE, &saved_);  // the destructor does not run for a failed constructor
        }
        REQUIRE(probe == -1);
        REQUIRE(err == EMFILE);
    }
    ~NoFreeDescriptor() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    NoFreeDescriptor(const NoFreeDescriptor&) = delete;
    NoFreeDescriptor& operator=(const NoFreeDescriptor&) = delete;

private:
    rlimit saved_{};
};

// The verdict on key for the account whose home is home, with home's .twoway/authorized_keys, for a
// connection from 127.0.0.1.
KeyDecision decide_home_keys(TempDir& home, const twoway::PublicKey& k) {
    twowayd::DaemonConfig config;
    config.authorized_keys_files = {"%h/.twoway/authorized_keys"};
    twoway::ConnectionFacts facts;
    facts.address = *twoway::parse_ip_address("127.0.0.1");
    return check_authorized_key(config, me(home.path()), k, facts);
}

}  // namespace

TEST_CASE("StrictModes accepts a file and directories only their owner can write, up to the home", "[daemon]") {
    TempDir home;
    const auto file = home.write(".twoway/authorized_keys", "", 0600);
    ::chmod(home.file(".twoway").c_str(), 0700);
    CHECK_FALSE(check(file, home.path(), ::geteuid()).has_value());
    // Readable by others is fine (sshd only cares about writing).
    ::chmod(file.c_str(), 0644);
    CHECK_FALSE(check(file, home.path(), ::geteuid()).has_value());
}

TEST_CASE("StrictModes refuses a group- or world-writable file", "[daemon]") {
    TempDir home;
    const auto file = home.write(".twoway/authorized_keys", "", 0664);
    auto p = check(file, home.path(), ::geteuid());
    REQUIRE(p.has_value());
    CHECK(*p == "bad ownership or modes for file " + real(file));
    ::chmod(file.c_str(), 0606);
    CHECK(check(file, home.path(), ::geteuid()).has_value());
}

TEST_CASE("StrictModes refuses a writable directory on the way up", "[daemon]") {
    TempDir home;
    const auto file = home.write(".twoway/authorized_keys", "", 0600);
    ::chmod(home.file(".twoway").c_str(), 0777);
    auto p = check(file, home.path(), ::geteuid());
    REQUIRE(p.has_value());
    CHECK(*p == "bad ownership or modes for directory " + real(home.file(".twoway")));
    // The home directory itself is checked too ...
    ::chmod(home.file(".twoway").c_str(), 0700);
    ::chmod(home.path().c_str(), 0775);
    p = check(file, home.path(), ::geteuid());
    REQUIRE(p.has_value());
    CHECK(*p == "bad ownership or modes for directory " + real(home.path()));
}

TEST_CASE("StrictModes walks to / for a file outside the home", "[daemon]") {
    TempDir dir;
    const auto file = dir.write("keys", "", 0600);
    const std::string parent = std::filesystem::path(real(dir.path())).parent_path().string();
    struct stat st {};
    REQUIRE(::stat(parent.c_str(), &st) == 0);
    auto p = check(file, "/nonexistent-home", ::geteuid());
    if ((st.st_mode & 022) != 0) {
        // The usual /tmp (1777): the walk reaches it and refuses.
        REQUIRE(p.has_value());
        CHECK(*p == "bad ownership or modes for directory " + parent);
    } else {
        CHECK_FALSE(p.has_value());
    }
}

TEST_CASE("StrictModes refuses a file owned by another user, and a file that is not regular", "[daemon]") {
    TempDir home;
    const auto file = home.write("authorized_keys", "", 0600);
    if (::geteuid() == 0) {
        REQUIRE(::chown(file.c_str(), 4242, 4242) == 0);
        CHECK(check(file, home.path(), 0).value_or("") == "bad ownership or modes for file " + real(file));
        // The account's own file is fine, and so is a root-owned one (as sshd).
        CHECK_FALSE(check(file, home.path(), 4242).has_value());
        REQUIRE(::chown(file.c_str(), 0, 0) == 0);
        CHECK_FALSE(check(file, home.path(), 4242).has_value());
    }
    std::filesystem::create_directory(home.file("adir"));
    CHECK(check(home.file("adir"), home.path(), ::geteuid()).value_or("").find("is not a regular file") !=
          std::string::npos);
}

TEST_CASE("a listed key is authorized; skipped lines come back with path:line", "[daemon]") {
    TempDir home;
    const auto file = home.write(".twoway/authorized_keys",
                                 "# comment\nnot a key line\n" + twoway::format_public_key_line(key(1), "alice") + "\n",
                                 0600);
    twowayd::DaemonConfig config;
    config.authorized_keys_files = {"%h/.twoway/authorized_keys"};
    const auto d = check_authorized_key(config, me(home.path()), key(1));
    CHECK(d.authorized);
    REQUIRE(d.matched.has_value());
    CHECK(d.matched->path == file);
    CHECK(d.matched->line == 3);
    REQUIRE(d.skipped_lines.size() == 1);
    CHECK(d.skipped_lines[0].rfind(file + ":2: ", 0) == 0);
    CHECK(d.refused_files.empty());

    const auto other = check_authorized_key(config, me(home.path()), key(2));
    CHECK_FALSE(other.authorized);
    CHECK_FALSE(other.matched.has_value());
}

TEST_CASE("a file over 1 MiB is parsed only where lines hold the offered key: same verdict and line numbers", "[daemon]") {
    // About 1.3 MiB of other keys, then the offered key twice (a refused from= line, then an accepted
    // line with options, the first of them CRLF-terminated), a broken line, and more filler.
    std::string text;
    std::size_t line = 0;
    const auto filler = [&](std::uint64_t from, int n) {
        for (int i = 0; i < n; ++i, ++line) text += twoway::format_public_key_line(key(from + i), "filler") + "\n";
    };
    filler(100, 15000);
    text += "from=\"10.9.9.9\" " + twoway::format_public_key_line(key(1), "refused") + "\r\n";
    const std::size_t refused_line = ++line;
    text += "no-pty " + twoway::format_public_key_line(key(1), "alice") + "\n";
    const std::size_t accepted_line = ++line;
    text += "ssh-ed25519 AAAA-not-base64\n";
    ++line;
    filler(20000, 200);
    REQUIRE(text.size() > 1024 * 1024);

    TempDir home;
    const auto file = home.write(".twoway/authorized_keys", text, 0600);
    const auto d = decide_home_keys(home, key(1));
    CHECK(d.authorized);
    REQUIRE(d.matched.has_value());
    CHECK(d.matched->path == file);
    CHECK(d.matched->line == accepted_line);
    CHECK_FALSE(d.options.pty);
    REQUIRE(d.option_refusals.size() == 1);
    CHECK(d.option_refusals[0].rfind(file + ":" + std::to_string(refused_line) + ": ", 0) == 0);
    // The broken line holds no key and is not diagnosed; one line says why.
    REQUIRE(d.skipped_lines.size() == 1);
    CHECK(d.skipped_lines[0] == file + ": larger than 1 MiB: only the 2 line(s) holding the offered key were parsed");

    // A key in the filler is found at its own line; a key not in the file is refused.
    const auto f = decide_home_keys(home, key(100 + 4321));
    CHECK(f.authorized);
    REQUIRE(f.matched.has_value());
    CHECK(f.matched->line == 4322);
    CHECK_FALSE(decide_home_keys(home, key(2)).authorized);
}

TEST_CASE("a file of exactly 16 MiB is read in chunks and decides; one byte more is refused as before", "[daemon]") {
    // The offered key on the first line (refused by from=), on a line across the boundary of two of
    // the filter's chunks at 8 MiB (accepted), and on the last line; comment lines between.
    const std::string first = "from=\"10.9.9.9\" " + twoway::format_public_key_line(key(1), "refused") + "\n";
    const std::string middle = "no-pty " + twoway::format_public_key_line(key(1), "alice") + "\n";
    const std::string last = twoway::format_public_key_line(key(1), "last") + "\n";
    const std::string filler = "# " + std::string(1021, 'x') + "\n";
    const auto fill_to = [&](std::string& text, std::size_t size) {
        while (text.size() + filler.size() <= size) text += filler;
        if (text.size() < size) text += std::string(size - text.size() - 1, '#') + "\n";
    };
    constexpr std::size_t boundary = 32 * holding_lines_chunk;
    static_assert(boundary == 8u << 20);
    std::string text = first;
    fill_to(text, boundary - 40);
    text += middle;
    const auto middle_line = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    fill_to(text, twoway::max_trust_file_size - last.size());
    text += last;
    REQUIRE(text.size() == twoway::max_trust_file_size);

    TempDir home;
    const auto file = home.write(".twoway/authorized_keys", text, 0600);
    const auto d = decide_home_keys(home, key(1));
    CHECK(d.authorized);
    REQUIRE(d.matched.has_value());
    CHECK(d.matched->line == middle_line);
    CHECK_FALSE(d.options.pty);
    REQUIRE(d.option_refusals.size() == 1);
    CHECK(d.option_refusals[0].rfind(file + ":1: ", 0) == 0);
    CHECK(d.refused_files.empty());
    REQUIRE(d.skipped_lines.size() == 1);
    CHECK(d.skipped_lines[0] == file + ": larger than 1 MiB: only the 3 line(s) holding the offered key were parsed");

    home.write(".twoway/authorized_keys", text + "\n", 0600);
    const auto over = decide_home_keys(home, key(1));
    CHECK_FALSE(over.authorized);
    REQUIRE(over.refused_files.size() == 1);
    CHECK(over.refused_files[0] == "Could not read authorized keys '" + file + "': file is larger than 16 MiB");
}

TEST_CASE("StrictModes makes a writable authorized_keys count for nothing", "[daemon]") {
    TempDir home;
    home.write(".twoway/authorized_keys", twoway::format_public_key_line(key(1)) + "\n", 0620);
    twowayd::DaemonConfig config;
    config.authorized_keys_files = {"%h/.twoway/authorized_keys"};
    auto d = check_authorized_key(config, me(home.path()), key(1));
    CHECK_FALSE(d.authorized);
    REQUIRE(d.refused_files.size() == 1);
    CHECK(d.refused_files[0].rfind("Authentication refused: bad ownership or modes for file ", 0) == 0);

    config.strict_modes = false;
    d = check_authorized_key(config, me(home.path()), key(1));
    CHECK(d.authorized);
    CHECK(d.refused_files.empty());
}

TEST_CASE("every AuthorizedKeysFile is consulted; missing ones are silently empty", "[daemon]") {
    TempDir home;
    home.write("second", twoway::format_public_key_line(key(5)) + "\n", 0600);
    twowayd::DaemonConfig config;
    config.authorized_keys_files = {"%h/missing", "second"};  // relative: under the home
    const auto d = check_authorized_key(config, me(home.path()), key(5));
    CHECK(d.authorized);
    CHECK(d.refused_files.empty());
    config.authorized_keys_files = {};  // AuthorizedKeysFile none
    CHECK_FALSE(check_authorized_key(config, me(home.path()), key(5)).authorized);
}

TEST_CASE("an unreadable or special authorized_keys is refused with a reason", "[daemon]") {
    TempDir home;
    std::filesystem::create_directories(home.file("dir"));
    REQUIRE(::mkfifo(home.file("fifo").c_str(), 0600) == 0);
    twowayd::DaemonConfig config;
    config.strict_modes = false;
    config.authorized_keys_files = {"%h/dir", "%h/fifo"};
    const auto d = check_authorized_key(config, me(home.path()), key(1));
    CHECK_FALSE(d.authorized);
    REQUIRE(d.refused_files.size() == 2);
    CHECK(d.refused_files[0].find("is not a regular file") != std::string::npos);
    CHECK(d.refused_files[1].find("is not a regular file") != std::string::npos);
}

TEST_CASE("RevokedKeys: a listed key is refused with the line that lists it; others pass", "[daemon]") {
    TempDir dir;
    const auto list = dir.write("revoked", "# stolen laptop\n" + twoway::format_public_key_line(key(7), "bob") + "\n");
    twowayd::DaemonConfig config;
    config.revoked_keys_files = {list};
    const auto d = check_revoked_key(config, key(7));
    CHECK(d.refused);
    REQUIRE(d.revoked_by.has_value());
    CHECK(d.revoked_by->path == list);
    CHECK(d.revoked_by->line == 2);
    CHECK(d.problems.empty());

    const auto other = check_revoked_key(config, key(8));
    CHECK_FALSE(other.refused);
    CHECK_FALSE(other.revoked_by.has_value());
    CHECK(other.problems.empty());

    config.revoked_keys_files = {};  // RevokedKeys none
    CHECK_FALSE(check_revoked_key(config, key(7)).refused);
}

TEST_CASE("RevokedKeys: every file counts, and keys of other types are ignored", "[daemon]") {
    TempDir dir;
    const auto first = dir.write("first", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 rsa\n"
                                          "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAABQQ== ecdsa\n");
    const auto second = dir.write("second", twoway::format_public_key_line(key(9)) + "\n");
    twowayd::DaemonConfig config;
    config.revoked_keys_files = {first, second};
    CHECK_FALSE(check_revoked_key(config, key(1)).refused);
    const auto d = check_revoked_key(config, key(9));
    CHECK(d.refused);
    REQUIRE(d.revoked_by.has_value());
    CHECK(d.revoked_by->path == second);
    CHECK(d.problems.empty());
}

TEST_CASE("RevokedKeys fails closed: a list twowayd cannot use refuses every key", "[daemon]") {
    TempDir dir;
    twowayd::DaemonConfig config;
    auto refused_for = [&](const std::string& path, std::string_view why) {
        config.revoked_keys_files = {path};
        const auto d = check_revoked_key(config, key(1));
        CHECK(d.refused);
        CHECK_FALSE(d.revoked_by.has_value());
        REQUIRE(d.problems.size() == 1);
        CHECK(d.problems[0].rfind(path, 0) == 0);
        CHECK(d.problems[0].find(why) != std::string::npos);
        CHECK(twoway::load_revocation_file(path).list.problems == d.problems);
    };
    SECTION("missing") { refused_for(dir.file("absent"), "cannot read: No such file or directory"); }
    SECTION("a directory") {
        std::filesystem::create_directory(dir.file("d"));
        refused_for(dir.file("d"), "not a regular file");
    }
    SECTION("an OpenSSH KRL") {
        refused_for(dir.write("krl", std::string("SSHKRL\n\0\0\0\0\1", 12)), "an OpenSSH KRL");
    }
    SECTION("a line that is not a key, with its line number") {
        const auto p = dir.write("typo", twoway::format_public_key_line(key(2)) + "\nssh-ed25519 AAAA-broken\n");
        refused_for(p, p + ":2: ");
    }
    SECTION("a line with options") {
        refused_for(dir.write("opts", "from=\"10.0.0.1\" " + twoway::format_public_key_line(key(1)) + "\n"),
                    ":1: options");
    }
    SECTION("one bad list among good ones still refuses") {
        const auto good = dir.write("good", "");
        config.revoked_keys_files = {good, dir.file("absent")};
        const auto d = check_revoked_key(config, key(1));
        CHECK(d.refused);
        REQUIRE(d.problems.size() == 1);
        CHECK(d.problems[0].rfind(dir.file("absent") + ": cannot read: ", 0) == 0);
    }
}

TEST_CASE("RevokedKeys: a list edited in place or replaced is read again", "[daemon]") {
    TempDir dir;
    const auto path = dir.write("revoked", twoway::format_public_key_line(key(1)) + "\n");
    twowayd::DaemonConfig config;
    config.revoked_keys_files = {path};
    CHECK(check_revoked_key(config, key(1)).refused);
    CHECK_FALSE(check_revoked_key(config, key(2)).refused);
    // Rewritten in place, to the same size: the times differ, so the new list counts at once.
    dir.write("revoked", twoway::format_public_key_line(key(2)) + "\n");
    CHECK(check_revoked_key(config, key(2)).refused);
    CHECK_FALSE(check_revoked_key(config, key(1)).refused);
    // Replaced by a rename (a new inode), as an administrator should do it.
    const auto next = dir.write("revoked.new", twoway::format_public_key_line(key(3)) + "\n");
    REQUIRE(std::rename(next.c_str(), path.c_str()) == 0);
    CHECK(check_revoked_key(config, key(3)).refused);
    CHECK_FALSE(check_revoked_key(config, key(2)).refused);
    // Removed: every key refused, not the last list remembered.
    REQUIRE(std::remove(path.c_str()) == 0);
    const auto gone = check_revoked_key(config, key(9));
    CHECK(gone.refused);
    CHECK_FALSE(gone.problems.empty());
}

TEST_CASE("RevokedKeys: a settled list is kept, and a change to it is still seen", "[daemon]") {
    TempDir dir;
    const auto path = dir.write("revoked", twoway::format_public_key_line(key(4)) + "\n");
    twowayd::DaemonConfig config;
    config.revoked_keys_files = {path};
    // Files written within the last two seconds are read every time; wait until this one is older.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    CHECK(check_revoked_key(config, key(4)).refused);  // read, and now kept
    CHECK(check_revoked_key(config, key(4)).refused);  // from the cache
    dir.write("revoked", twoway::format_public_key_line(key(5)) + "\n");  // same size, in place
    CHECK(check_revoked_key(config, key(5)).refused);
    CHECK_FALSE(check_revoked_key(config, key(4)).refused);
}

TEST_CASE("out of descriptors, authorized_keys and RevokedKeys fail closed as the daemon's fault", "[daemon]") {
    // The review of issue 13: EMFILE on these files was logged as a failed key (fail2ban counted it)
    // and penalised; the client did nothing wrong.
    TempDir home;
    home.write(".twoway/authorized_keys", twoway::format_public_key_line(key(1), "alice") + "\n", 0600);
    const auto list = home.write("revoked-emfile", twoway::format_public_key_line(key(9), "old") + "\n");
    twowayd::DaemonConfig config;
    config.authorized_keys_files = {"%h/.twoway/authorized_keys"};
    config.revoked_keys_files = {list};
    KeyDecision kd;
    RevocationDecision rd;
    {
        NoFreeDescriptor none;
        kd = check_authorized_key(config, me(home.path()), key(1));
        rd = check_revoked_key(config, key(1));
    }
    CHECK_FALSE(kd.authorized);
    CHECK(kd.server_fault);
    REQUIRE(kd.refused_files.size() == 1);
    CHECK(kd.refused_files[0].find("Too many open files") != std::string::npos);
    CHECK(rd.refused);  // fail closed
    CHECK(rd.server_fault);
    REQUIRE(rd.problems.size() == 1);
    CHECK(rd.problems[0].find("Too many open files") != std::string::npos);

    // With descriptors, the same files decide, and a file that is not there or not readable for another
    // reason is no fault of the daemon.
    CHECK(check_authorized_key(config, me(home.path()), key(1)).authorized);
    const auto ok = check_revoked_key(config, key(1));
    CHECK_FALSE(ok.refused);
    CHECK_FALSE(ok.server_fault);
    config.revoked_keys_files = {home.file("missing")};
    const auto missing = check_revoked_key(config, key(1));
    CHECK(missing.refused);
    CHECK_FALSE(missing.server_fault);
}
