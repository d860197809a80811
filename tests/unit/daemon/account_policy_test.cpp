// The account checks of "UsePAM no" (account_policy.hpp) as tables: facts in, verdict and log line out;
// the /etc/shells and login.defs parsers with their negative cases; and the edge (read_account_facts,
// session_umask) against files in a temporary directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <limits>
#include <string>
#include <vector>

#include "account.hpp"
#include "account_policy.hpp"
#include "daemon_test_support.hpp"

using namespace twowayd;

namespace {

constexpr long today = 20000;  // 2024-10-04

AccountFacts usable() {
    AccountFacts f;
    f.name = "alice";
    f.uid = 1000;
    f.shell = "/bin/bash";
    f.shell_state = ShellState::executable;
    f.passwd_password = "x";
    f.shadow = ShadowFields{"$y$j9T$salt$hash", std::nullopt};
    f.shells = {"/bin/sh", "/bin/bash"};
    f.today = today;
    return f;
}

struct Row {
    const char* what;
    void (*change)(AccountFacts&);
    AccountRefusal refusal;
    const char* reason;  // after "User U from A not allowed because " ("" when allowed)
};

}  // namespace

TEST_CASE("account checks: each rule, as sshd with UsePAM no decides it", "[daemon]") {
    const std::vector<Row> rows = {
        {"a usable account", [](AccountFacts&) {}, AccountRefusal::none, ""},
        // Locking: '!' at the start of the shadow password (usermod -L, passwd -l, useradd without -p).
        {"usermod -L", [](AccountFacts& f) { f.shadow->password = "!$y$j9T$salt$hash"; }, AccountRefusal::locked,
         "account is locked"},
        {"useradd's '!'", [](AccountFacts& f) { f.shadow->password = "!"; }, AccountRefusal::locked,
         "account is locked"},
        {"'!*' (systemd's accounts)", [](AccountFacts& f) { f.shadow->password = "!*"; }, AccountRefusal::locked,
         "account is locked"},
        {"'*' is not locked", [](AccountFacts& f) { f.shadow->password = "*"; }, AccountRefusal::none, ""},
        {"an empty password is not locked", [](AccountFacts& f) { f.shadow->password.clear(); }, AccountRefusal::none,
         ""},
        {"'!' inside the hash is not a lock", [](AccountFacts& f) { f.shadow->password = "$6$a!b$c"; },
         AccountRefusal::none, ""},
        // Without a shadow entry, the passwd field decides; with one, the passwd field does not.
        {"no shadow entry, passwd '!'", [](AccountFacts& f) { f.shadow.reset(); f.passwd_password = "!hash"; },
         AccountRefusal::locked, "account is locked"},
        {"no shadow entry, passwd 'x'", [](AccountFacts& f) { f.shadow.reset(); }, AccountRefusal::none, ""},
        {"passwd '!' but a shadow entry", [](AccountFacts& f) { f.passwd_password = "!"; }, AccountRefusal::none, ""},
        // Expiry: refused once the expiry day is behind today (usermod --expiredate 1: day 1).
        {"--expiredate 1", [](AccountFacts& f) { f.shadow->expire_day = 1; }, AccountRefusal::expired,
         "account has expired"},
        {"expired yesterday", [](AccountFacts& f) { f.shadow->expire_day = today - 1; }, AccountRefusal::expired,
         "account has expired"},
        {"expires today (still usable)", [](AccountFacts& f) { f.shadow->expire_day = today; }, AccountRefusal::none,
         ""},
        {"expires tomorrow", [](AccountFacts& f) { f.shadow->expire_day = today + 1; }, AccountRefusal::none, ""},
        {"day 0 counts as a date, as for sshd", [](AccountFacts& f) { f.shadow->expire_day = 0; },
         AccountRefusal::expired, "account has expired"},
        {"a negative day other than -1", [](AccountFacts& f) { f.shadow->expire_day = -2; }, AccountRefusal::expired,
         "account has expired"},
        {"the most negative day", [](AccountFacts& f) { f.shadow->expire_day = std::numeric_limits<long>::min(); },
         AccountRefusal::expired, "account has expired"},
        {"the largest day", [](AccountFacts& f) { f.shadow->expire_day = std::numeric_limits<long>::max(); },
         AccountRefusal::none, ""},
        {"expired and locked: expiry is checked first",
         [](AccountFacts& f) {
             f.shadow->expire_day = 1;
             f.shadow->password = "!";
         },
         AccountRefusal::expired, "account has expired"},
        // The shell.
        {"a missing shell", [](AccountFacts& f) { f.shell_state = ShellState::missing; }, AccountRefusal::shell_missing,
         "shell /bin/bash does not exist"},
        {"a shell that is not executable", [](AccountFacts& f) { f.shell_state = ShellState::not_executable; },
         AccountRefusal::shell_not_executable, "shell /bin/bash is not executable"},
        {"a shell not in /etc/shells", [](AccountFacts& f) { f.shell = "/usr/bin/python3"; },
         AccountRefusal::shell_not_listed, "shell /usr/bin/python3 is not in /etc/shells"},
        {"no /etc/shells entries at all", [](AccountFacts& f) { f.shells.clear(); }, AccountRefusal::shell_not_listed,
         "shell /bin/bash is not in /etc/shells"},
        {"a prefix of a listed shell is not listed", [](AccountFacts& f) { f.shell = "/bin/bas"; },
         AccountRefusal::shell_not_listed, "shell /bin/bas is not in /etc/shells"},
        {"nologin need not be listed", [](AccountFacts& f) { f.shell = "/usr/sbin/nologin"; }, AccountRefusal::none, ""},
        {"/bin/false need not be listed", [](AccountFacts& f) { f.shell = "/bin/false"; }, AccountRefusal::none, ""},
        {"a missing nologin is still missing",
         [](AccountFacts& f) {
             f.shell = "/sbin/nologin";
             f.shell_state = ShellState::missing;
         },
         AccountRefusal::shell_missing, "shell /sbin/nologin does not exist"},
        {"a locked nologin account", [](AccountFacts& f) { f.shell = "/usr/sbin/nologin"; f.shadow->password = "!"; },
         AccountRefusal::locked, "account is locked"},
        // /etc/nologin: everyone but uid 0.
        {"/etc/nologin", [](AccountFacts& f) { f.nologin_file = true; }, AccountRefusal::nologin_file,
         "/etc/nologin exists"},
        {"/etc/nologin does not keep out uid 0",
         [](AccountFacts& f) {
             f.nologin_file = true;
             f.uid = 0;
         },
         AccountRefusal::none, ""},
        {"uid 0 under another name is root too",
         [](AccountFacts& f) {
             f.nologin_file = true;
             f.uid = 0;
             f.name = "toor";
         },
         AccountRefusal::none, ""},
        {"root is not exempt from locking",
         [](AccountFacts& f) {
             f.uid = 0;
             f.name = "root";
             f.shadow->password = "!";
         },
         AccountRefusal::locked, "account is locked"},
    };
    for (const auto& row : rows) {
        INFO(row.what);
        auto f = usable();
        row.change(f);
        const auto v = check_account(f);
        CHECK(v.refusal == row.refusal);
        CHECK(v.reason == row.reason);
        CHECK(!v.server_fault);
        CHECK(v.allowed() == (row.refusal == AccountRefusal::none));
    }
}

TEST_CASE("account checks with UsePAM yes: the shell rules only, as sshd's allowed_user then", "[daemon]") {
    // sshd skips its locked-password and expiry checks (platform_locked_account) and do_nologin under
    // UsePAM yes: pam_unix and pam_nologin decide those in PAM's account phase.
    const std::vector<Row> rows = {
        {"usermod -L", [](AccountFacts& f) { f.shadow->password = "!$y$j9T$salt$hash"; }, AccountRefusal::none, ""},
        {"useradd's '!'", [](AccountFacts& f) { f.shadow->password = "!"; }, AccountRefusal::none, ""},
        {"no shadow entry, passwd '!'", [](AccountFacts& f) { f.shadow.reset(); f.passwd_password = "!hash"; },
         AccountRefusal::none, ""},
        {"--expiredate 1", [](AccountFacts& f) { f.shadow->expire_day = 1; }, AccountRefusal::none, ""},
        {"/etc/nologin", [](AccountFacts& f) { f.nologin_file = true; }, AccountRefusal::none, ""},
        {"a missing shell", [](AccountFacts& f) { f.shell_state = ShellState::missing; }, AccountRefusal::shell_missing,
         "shell /bin/bash does not exist"},
        {"a shell that is not executable", [](AccountFacts& f) { f.shell_state = ShellState::not_executable; },
         AccountRefusal::shell_not_executable, "shell /bin/bash is not executable"},
        {"a shell not in /etc/shells", [](AccountFacts& f) { f.shell = "/usr/bin/python3"; },
         AccountRefusal::shell_not_listed, "shell /usr/bin/python3 is not in /etc/shells"},
        {"locked and a missing shell: the shell decides",
         [](AccountFacts& f) {
             f.shadow->password = "!";
             f.shell_state = ShellState::missing;
         },
         AccountRefusal::shell_missing, "shell /bin/bash does not exist"},
    };
    for (const auto& row : rows) {
        INFO(row.what);
        auto f = usable();
        row.change(f);
        f.use_pam = true;
        const auto v = check_account(f);
        CHECK(v.refusal == row.refusal);
        CHECK(v.reason == row.reason);
        CHECK(v.allowed() == (row.refusal == AccountRefusal::none));
    }
}

TEST_CASE("no-login shells: exact paths only, and no services for them", "[daemon]") {
    for (const char* s : {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}) {
        INFO(s);
        CHECK(is_no_login_shell(s));
        CHECK(!services_allowed(s));
    }
    for (const char* s : {"/bin/sh", "/bin/bash", "nologin", "/usr/sbin/nologin ", "/usr/sbin/nologin/", "/bin/true",
                          "/usr/local/sbin/nologin", "", "/bin/false2"}) {
        INFO(s);
        CHECK(!is_no_login_shell(s));
        CHECK(services_allowed(s));
    }
}

TEST_CASE("parse_shells reads /etc/shells as getusershell does", "[daemon]") {
    struct Case {
        const char* text;
        std::vector<std::string> shells;
    };
    const std::vector<Case> cases = {
        {"# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n", {"/bin/sh", "/bin/bash"}},
        {"", {}},
        {"\n\n   \n", {}},
        {"sh\n", {}},                                         // no '/' at all: skipped
        {"#/bin/sh\n", {}},                                   // commented out
        {"  /bin/zsh  \n", {"/bin/zsh"}},                     // leading and trailing blanks
        {"/bin/sh # the shell\n", {"/bin/sh"}},               // a trailing comment
        {"/bin/sh#x\n", {"/bin/sh"}},
        {"/bin/sh /bin/dash\n", {"/bin/sh"}},                 // one shell per line
        {"bin/sh\n", {"/sh"}},                                // from the first '/', as getusershell
        {"junk /bin/ksh\n", {"/bin/ksh"}},                    // from the first '/'
        {"junk # /bin/ksh\n", {}},                            // the '#' comes first
        {"/\n", {}},                                          // a lone '/'
        {"/bin/sh\r\n/bin/bash", {"/bin/sh", "/bin/bash"}},   // CRLF, and no final newline
        {"/bin/sh\t/x\n", {"/bin/sh"}},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(parse_shells(c.text) == c.shells);
    }
    CHECK(default_shells() == std::vector<std::string>{"/bin/sh", "/bin/csh"});
}

TEST_CASE("parse_login_defs_umask: UMASK, octal and bounded, 022 otherwise", "[daemon]") {
    struct Case {
        const char* text;
        mode_t mask;
        bool problem;
    };
    const std::vector<Case> cases = {
        {"UMASK\t\t022\n", 022, false},
        {"MAIL_DIR /var/mail\nUMASK 077\nPASS_MAX_DAYS 99999\n", 077, false},
        {"UMASK 027", 027, false},                   // no final newline
        {"  UMASK   0002  \n", 02, false},             // leading zeros, blanks around
        {"UMASK 0\n", 0, false},
        {"UMASK 000000777\n", 0777, false},
        {"UMASK 22\n", 022, false},                    // octal, as pam_umask reads it (not shadow's decimal)
        {"UMASK 077 # private\n", 077, false},         // a comment after the value
        {"UMASK 022\r\n", 022, false},
        {"UMASK 077\nUMASK 000\n", 077, false},        // the first line counts (pam_modutil_search_key)
        {"", 022, false},                               // absent: the default, no problem
        {"# UMASK 077\n", 022, false},                 // commented out
        {"XUMASK 077\nUMASKS 077\numask 077\n", 022, false},  // other keys; the key is case-sensitive
        {"UMASK\n", 022, true},                         // no value
        {"UMASK # nothing\n", 022, true},
        {"UMASK 0x12\n", 022, true},                    // hex (pam_umask would make that 0)
        {"UMASK 089\n", 022, true},                     // not octal
        {"UMASK 1777\n", 022, true},                    // beyond 0777
        {"UMASK 99999999999999999999999\n", 022, true},  // huge
        {"UMASK -022\n", 022, true},
        {"UMASK +022\n", 022, true},
        {"UMASK \"022\"\n", 022, true},
        {"UMASK 022x\n", 022, true},
        {"UMASK 0x\nUMASK 077\n", 022, true},          // the first UMASK line decides, even when unusable
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto r = parse_login_defs_umask(c.text);
        CHECK(r.mask == c.mask);
        CHECK(r.problem.has_value() == c.problem);
    }
}

TEST_CASE("read_account_facts and session_umask read the files, and fail closed", "[daemon]") {
    test::TempDir dir;
    Account a{"someone", 4242, 4242, "/nonexistent", "/bin/sh", {}, "x"};
    AccountFiles files;
    files.shadow = dir.path() + "/no-shadow";  // absent: a system without shadow passwords
    files.shells = dir.write("shells", "/bin/sh\n/bin/bash\n");
    files.nologin = dir.path() + "/nologin";
    std::string reason;

    auto f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(reason.empty());
    CHECK(f->shells == std::vector<std::string>{"/bin/sh", "/bin/bash"});
    CHECK(!f->nologin_file);
    CHECK(f->shell_state == ShellState::executable);
    CHECK(f->today > 19000);
    CHECK(check_account(*f).allowed());

    // /etc/nologin exists (any kind of file).
    (void)dir.write("nologin", "down for maintenance\n");
    f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(f->nologin_file);
    CHECK(check_account(*f).refusal == AccountRefusal::nologin_file);

    // The shell's state.
    a.shell = dir.path() + "/missing-shell";
    f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(f->shell_state == ShellState::missing);
    a.shell = dir.write("plain", "not a program\n", 0644);
    f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(f->shell_state == ShellState::not_executable);
    a.shell = dir.path();  // a directory
    f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(f->shell_state == ShellState::not_executable);
    a.shell = "/bin/sh";

    // No /etc/shells: getusershell's default list.
    files.shells = dir.path() + "/no-shells";
    f = read_account_facts(a, files, reason);
    REQUIRE(f);
    CHECK(f->shells == default_shells());

    // /etc/shells that cannot be read (a directory, a file far too large): refused as the daemon's trouble.
    files.shells = dir.path();
    CHECK(!read_account_facts(a, files, reason));
    CHECK(reason.find("cannot read " + dir.path()) == 0);
    auto verdict = unix_account_checks(a, files);
    CHECK(!verdict.allowed());
    CHECK(verdict.server_fault);
    CHECK(verdict.reason.find("cannot read ") == 0);
    files.shells = dir.write("huge", std::string(300 * 1024, '#'));
    CHECK(!read_account_facts(a, files, reason));
    CHECK(!reason.empty());
    files.shells = dir.write("shells", "/bin/sh\n");

    // A shadow file that exists but cannot be opened refuses (as root: a path through a regular file).
    if (::geteuid() == 0) {
        files.shadow = files.shells + "/shadow";
        CHECK(!read_account_facts(a, files, reason));
        CHECK(reason.find("cannot read " + files.shadow + ": ") == 0);
    }

    // login.defs.
    CHECK(session_umask(dir.write("defs1", "UMASK 077\n")) == 077);
    CHECK(session_umask(dir.write("defs2", "UMASK 0x1\n")) == 022);
    CHECK(session_umask(dir.path() + "/no-login.defs") == 022);
    CHECK(session_umask(dir.path()) == 022);  // unreadable (a directory)
}
