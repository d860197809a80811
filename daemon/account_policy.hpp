// Account policy with "UsePAM no" semantics, as pure functions: from facts about an account (its
// passwd and shadow fields, its shell, /etc/shells, whether /etc/nologin exists, today's day number) to
// a verdict with the reason in sshd's words. Reading the files is the edge's job (account.cpp,
// read_account_facts); nothing here does I/O, so the rules are tested table by table and the parsers
// fuzzed (fuzz/account).
//
// The rules are sshd's allowed_user() and do_nologin() with UsePAM no on Linux, in sshd's order:
//   1. an account past its shadow expiry date (sp_expire, a day number; -1 or an empty field: never) is
//      refused, as auth_shadow_acctexpired decides (sshd logs "Account x has expired", then "User x not
//      allowed because account is locked"; twowayd one line, "... because account has expired");
//   2. a password field beginning with '!' (usermod -L, passwd -l, and what useradd writes for an account
//      given no password) is a locked account (sshd's LOCKED_PASSWD_PREFIX on Linux); "*" and an empty
//      field are not locked, as for sshd (they only mean that no password works);
//   3. the shell must exist and be an executable regular file;
//   4. twoway's addition: the shell must be listed in /etc/shells, except the no-login shells
//      (is_no_login_shell), whose accounts authenticate and get their shell's refusal, but no services;
//   5. /etc/nologin keeps out everyone but uid 0 (sshd prints it and exits 254 in the session; twowayd
//      refuses with the generic denial and logs it).
// Each refusal is logged as one line of the form "User U from A not allowed because REASON", which the
// fail2ban filter counts (contrib/fail2ban): a refused account is a refused login attempt.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twowayd {

// The shadow entry's fields the policy reads.
struct ShadowFields {
    std::string password;             // sp_pwdp
    std::optional<long> expire_day;   // sp_expire in days since 1970-01-01; nothing: no expiry (-1, empty)
};

enum class ShellState : unsigned char { executable, missing, not_executable };

struct AccountFacts {
    std::string name;
    uid_t uid = 0;
    std::string shell;                    // the login shell ("/bin/sh" for an empty field, as sshd)
    ShellState shell_state = ShellState::missing;
    std::string passwd_password;          // pw_passwd ("x" when the shadow entry holds the password)
    std::optional<ShadowFields> shadow;   // nothing: no shadow entry, or shadow not consulted
    std::vector<std::string> shells;      // /etc/shells, parsed (parse_shells)
    bool nologin_file = false;            // /etc/nologin exists
    long today = 0;                       // days since 1970-01-01 (UTC), as sshd's time(NULL) / DAY
    // UsePAM yes: rules 1, 2 and 5 are PAM's (pam_unix's expiry, pam_nologin), as sshd's allowed_user
    // and do_nologin skip them then; a locked password ('!') alone no longer refuses a key.
    bool use_pam = false;
};

enum class AccountRefusal : unsigned char {
    none,
    expired,
    locked,
    shell_missing,
    shell_not_executable,
    shell_not_listed,
    nologin_file,
};

struct AccountVerdict {
    AccountRefusal refusal = AccountRefusal::none;
    // Why, when refused: sshd's words, to follow "User U from A not allowed because " ("account is
    // locked", "shell S does not exist", "/etc/nologin exists", ...); with server_fault, what failed.
    std::string reason;
    bool server_fault = false;   // refused because the facts could not be read (the daemon's trouble)
    [[nodiscard]] bool allowed() const noexcept { return refusal == AccountRefusal::none && !server_fault; }
};

// The verdict of "UsePAM no" on an account (the rules above). Pure.
[[nodiscard]] AccountVerdict check_account(const AccountFacts& facts);

// The shells that exist to refuse a login: /usr/sbin/nologin, /sbin/nologin, /bin/false, /usr/bin/false.
// Their accounts are not in /etc/shells and need not be: their shell runs and says no. Exact paths only.
[[nodiscard]] bool is_no_login_shell(std::string_view shell) noexcept;

// Whether the account with this login shell may reach the daemon's Services (-W, -L): not with a
// no-login shell (an account that may not log in gets no door in through a service either).
[[nodiscard]] bool services_allowed(std::string_view shell) noexcept;

// /etc/shells as glibc's getusershell() reads it: on each line, the text from the first '/' up to
// white space or '#'; lines with no '/' before a '#' (comments, blank lines) and a lone "/" are skipped.
[[nodiscard]] std::vector<std::string> parse_shells(std::string_view text);
// What getusershell() uses when /etc/shells does not exist.
[[nodiscard]] std::vector<std::string> default_shells();

// The session umask from /etc/login.defs: the value of the first UMASK line (a line whose first word is
// UMASK; '#' starts a comment), read as octal as pam_umask does, but strictly: octal digits only, at most
// 0777. Absent: the default 022 and no problem; malformed: 022 and the problem, for the log.
inline constexpr mode_t default_session_umask = 022;
struct LoginDefsUmask {
    mode_t mask = default_session_umask;
    std::optional<std::string> problem;  // why the value was not used
};
[[nodiscard]] LoginDefsUmask parse_login_defs_umask(std::string_view text);

}  // namespace twowayd
