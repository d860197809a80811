// ChrootDirectory's pure parts (chroot.hpp): sshd's expansion (~, %% %h %u %U), the components
// safely_chroot walks, and its verdict on each from the stat facts; the file system walk against a
// directory tree made here. The chroot itself runs in tests/integration/daemon_chroot.py.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "chroot.hpp"

using twowayd::ChrootAccount;
using Strings = std::vector<std::string>;

namespace {

const ChrootAccount alice{"alice", "/home/alice", 1001};

std::optional<std::string> other_home(std::string_view name) {
    if (name == "bob") return std::string("/srv/bob");
    return std::nullopt;
}

struct stat facts(uid_t uid, mode_t mode) {
    struct stat st {};
    st.st_uid = uid;
    st.st_mode = mode;
    return st;
}

}  // namespace

TEST_CASE("expand_chroot_directory: sshd's ~ and %-tokens", "[daemon]") {
    struct Row {
        const char* pattern;
        const char* want;
    };
    const Row rows[] = {
        {"/srv/jail", "/srv/jail"},
        {"/srv/jail/%u", "/srv/jail/alice"},
        {"%h", "/home/alice"},
        {"%h/..", "/home/alice/.."},
        {"/jails/%U/%u", "/jails/1001/alice"},
        {"/100%%/%u", "/100%/alice"},
        {"~", "/home/alice"},
        {"~/", "/home/alice"},
        {"~/jail/%u", "/home/alice/jail/alice"},
        {"~bob/jail", "/srv/bob/jail"},
        {"~bob", "/srv/bob"},
    };
    for (const auto& r : rows) {
        INFO(r.pattern);
        std::string why;
        auto got = twowayd::expand_chroot_directory(r.pattern, alice, other_home, why);
        REQUIRE(got);
        CHECK(*got == r.want);
        CHECK(why.empty());
    }
    std::string why;
    CHECK_FALSE(twowayd::expand_chroot_directory("/srv/%x", alice, other_home, why));
    CHECK(why.find("unknown token") != std::string::npos);
    CHECK_FALSE(twowayd::expand_chroot_directory("/srv/%", alice, other_home, why));
    why.clear();
    CHECK_FALSE(twowayd::expand_chroot_directory("~nobody-here/jail", alice, other_home, why));
    CHECK(why == "no such user nobody-here for ~nobody-here");
    // A user name that carries a token is not expanded again: only the configured text is.
    const ChrootAccount odd{"%h", "/home/odd", 7};
    auto got = twowayd::expand_chroot_directory("/srv/%u", odd, other_home, why);
    REQUIRE(got);
    CHECK(*got == "/srv/%h");
}

TEST_CASE("chroot_components: the paths safely_chroot stats", "[daemon]") {
    CHECK(twowayd::chroot_components("/") == Strings{"/", "/"});
    CHECK(twowayd::chroot_components("/srv") == Strings{"/", "/srv"});
    CHECK(twowayd::chroot_components("/srv/jail/alice") == Strings{"/", "/srv/", "/srv/jail/", "/srv/jail/alice"});
    CHECK(twowayd::chroot_components("/srv/jail/") == Strings{"/", "/srv/", "/srv/jail/", "/srv/jail/"});
    CHECK(twowayd::chroot_components("//srv") == Strings{"/", "//", "//srv"});
}

TEST_CASE("chroot_component_problem: root-owned directories nobody else may write", "[daemon]") {
    CHECK_FALSE(twowayd::chroot_component_problem("/srv/", false, facts(0, S_IFDIR | 0755)));
    CHECK_FALSE(twowayd::chroot_component_problem("/srv/jail", true, facts(0, S_IFDIR | 0700)));
    CHECK_FALSE(twowayd::chroot_component_problem("/srv/jail", true, facts(0, S_IFDIR | 01755)));  // sticky alone is fine
    CHECK(twowayd::chroot_component_problem("/srv/", false, facts(1001, S_IFDIR | 0755)) ==
          "bad ownership or modes for chroot directory component \"/srv/\"");
    CHECK(twowayd::chroot_component_problem("/srv/", false, facts(0, S_IFDIR | 0775)) ==
          "bad ownership or modes for chroot directory component \"/srv/\"");
    CHECK(twowayd::chroot_component_problem("/tmp/", false, facts(0, S_IFDIR | 01777)) ==
          "bad ownership or modes for chroot directory component \"/tmp/\"");
    CHECK(twowayd::chroot_component_problem("/srv/jail", true, facts(0, S_IFDIR | 0757)) ==
          "bad ownership or modes for chroot directory \"/srv/jail\"");
    CHECK(twowayd::chroot_component_problem("/srv/jail", true, facts(0, S_IFREG | 0755)) ==
          "chroot path \"/srv/jail\" is not a directory");
    CHECK(twowayd::chroot_component_problem("/srv/file/", false, facts(0, S_IFREG | 0644)) ==
          "chroot path component \"/srv/file/\" is not a directory");
    // Ownership and modes are reported before the type, as sshd does.
    CHECK(twowayd::chroot_component_problem("/x", true, facts(5, S_IFREG | 0644)) ==
          "bad ownership or modes for chroot directory \"/x\"");
}

TEST_CASE("check_chroot_directory: the walk over the file system", "[daemon]") {
    CHECK(twowayd::check_chroot_directory("srv/jail") == "chroot path does not begin at root");
    CHECK(twowayd::check_chroot_directory("/" + std::string(5000, 'a')) == "chroot path too long");
    CHECK_FALSE(twowayd::check_chroot_directory("/"));
    auto missing = twowayd::check_chroot_directory("/no-such-directory-for-twoway-tests/x");
    REQUIRE(missing);
    CHECK(missing->starts_with("stat(\"/no-such-directory-for-twoway-tests/\"): "));
    // /tmp is world-writable (sticky): never a component of a chroot.
    char dir[] = "/tmp/twoway-chroot-test-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    auto in_tmp = twowayd::check_chroot_directory(dir);
    REQUIRE(in_tmp);
    struct stat tmp {};
    REQUIRE(::stat("/tmp", &tmp) == 0);
    if (tmp.st_uid == 0 && (tmp.st_mode & 022) != 0) {
        CHECK(*in_tmp == "bad ownership or modes for chroot directory component \"/tmp/\"");
    }
    ::rmdir(dir);
}
