// choose_home (common/home.hpp): which directory "~" is for twoway and twoway-keygen (a $HOME of our own, else the
// password database's), and home_directory on this process.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.hpp"

using twoway_common::choose_home;

TEST_CASE("choose_home: $HOME only when it is a directory of the effective user", "[common]") {
    // Ours: used (a test's throwaway home, a person's own choice).
    auto h = choose_home("/tmp/throwaway", 1000U, 1000U, "/home/alice");
    CHECK(h.path == "/tmp/throwaway");
    CHECK(h.note.empty());
    // root with a user's HOME (sudo -E): the password database's, and a note saying why.
    h = choose_home("/home/alice", 1000U, 0U, "/root");
    CHECK(h.path == "/root");
    CHECK(h.note == "$HOME (/home/alice) belongs to uid 1000, not to uid 0: ignored; using /root from the "
                    "password database");
    // A user with root's (or anyone else's) HOME.
    h = choose_home("/root", 0U, 1000U, "/home/alice");
    CHECK(h.path == "/home/alice");
    CHECK_FALSE(h.note.empty());
    // Missing, relative, unset or empty.
    h = choose_home("/nonexistent", std::nullopt, 1000U, "/home/alice");
    CHECK(h.path == "/home/alice");
    CHECK(h.note == "$HOME (/nonexistent) is not a directory: ignored; using /home/alice from the password database");
    h = choose_home("relative", 1000U, 1000U, "/home/alice");
    CHECK(h.path == "/home/alice");
    CHECK(h.note.starts_with("$HOME (relative) is not an absolute path"));
    h = choose_home(std::nullopt, std::nullopt, 1000U, "/home/alice");
    CHECK(h.path == "/home/alice");
    CHECK(h.note.empty());
    h = choose_home("", std::nullopt, 1000U, "/home/alice");
    CHECK(h.path == "/home/alice");
    CHECK(h.note.empty());
    // The database's own home that we do not own (a system account's): the same place, no note.
    h = choose_home("/var/lib/svc", 0U, 999U, "/var/lib/svc");
    CHECK(h.path == "/var/lib/svc");
    CHECK(h.note.empty());
    // A directory others may write (root with HOME=/tmp) is nobody's home, even its owner's.
    h = choose_home("/tmp", 0U, 0U, "/root", true);
    CHECK(h.path == "/root");
    CHECK(h.note == "$HOME (/tmp) may be written by others than its owner: ignored; using /root from the password "
                    "database");
    // No entry in the database (a container's arbitrary uid): $HOME is all there is.
    h = choose_home("/home/x", 0U, 12345U, std::nullopt);
    CHECK(h.path == "/home/x");
    h = choose_home(std::nullopt, std::nullopt, 12345U, std::nullopt);
    CHECK(h.path.empty());
}

TEST_CASE("home_directory: this process's HOME, or its password database home", "[common]") {
    const char* saved = std::getenv("HOME");
    const std::string old = saved != nullptr ? saved : "";
    const struct passwd* pw = ::getpwuid(::geteuid());
    REQUIRE(pw != nullptr);
    const std::string db_home = pw->pw_dir;
    char tmpl[] = "/tmp/twoway-home-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    ::setenv("HOME", tmpl, 1);
    CHECK(twoway_common::home_directory().path == tmpl);  // made by us, so ours
    // Reached through a symbolic link: the directory it leads to is judged and used.
    const std::string link = std::string(tmpl) + "-link";
    REQUIRE(::symlink(tmpl, link.c_str()) == 0);
    ::setenv("HOME", link.c_str(), 1);
    CHECK(twoway_common::home_directory().path == tmpl);
    ::unlink(link.c_str());
    // Writable by others (as /tmp is): not a home, even though it is ours.
    REQUIRE(::chmod(tmpl, 01777) == 0);
    ::setenv("HOME", tmpl, 1);
    CHECK(twoway_common::home_directory().path == db_home);
    REQUIRE(::chmod(tmpl, 0700) == 0);
    if (::geteuid() == 0) {
        REQUIRE(::chown(tmpl, 65534, 65534) == 0);
        const auto h = twoway_common::home_directory();
        CHECK(h.path == db_home);
        CHECK_FALSE(h.note.empty());
    }
    ::unsetenv("HOME");
    CHECK(twoway_common::home_directory().path == db_home);
    if (saved != nullptr) ::setenv("HOME", old.c_str(), 1);
    ::rmdir(tmpl);
}
