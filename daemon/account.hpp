// Accounts: looking one up (getpwnam_r), its groups, and acting as it for a moment (sshd's
// temporarily_use_uid) so that files under a user's control are opened with that user's rights, never
// root's. All of this is synchronous: the lookups are local (or an NSS cache) and short.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "account_policy.hpp"

namespace twowayd {

struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::string shell;  // the login shell; "/bin/sh" when the entry has none
    std::vector<gid_t> groups;  // supplementary groups, the primary one included (getgrouplist)
    std::string passwd_password;  // pw_passwd: "x" when the shadow entry holds it (the locked-account check)
};

// The account, or nothing: when there is no such user, reason is empty; when the lookup failed (NSS
// reported an error, or no descriptor is free for NSS to open its files or sockets with), reason says
// why. A failed lookup says nothing about the account, so it must never be reported as an unknown
// user: at the descriptor limit that would log every real user as invalid.
[[nodiscard]] std::optional<Account> lookup_account(std::string_view name, std::string& reason);

// The account the daemon runs as (its effective uid), for the "ordinary user" mode.
[[nodiscard]] std::optional<Account> current_account(std::string& reason);

// True when the daemon runs as root and may therefore become any account.
[[nodiscard]] bool running_as_root() noexcept;

// The files the account checks read (tests point them elsewhere).
struct AccountFiles {
    std::string shadow = "/etc/shadow";  // only whether it can be opened: the entry comes from getspnam_r
    std::string shells = "/etc/shells";
    std::string nologin = "/etc/nologin";
};

// The account checks of "UsePAM no" (sshd's allowed_user() and do_nologin(), account_policy.hpp): reads
// the facts (the shadow entry, the shell, /etc/shells, /etc/nologin, today) and decides. This is the one
// function a PAM account phase replaces. A file that cannot be read refuses: server_fault is set and
// reason says why (the daemon's trouble, logged as such, not the user's). A daemon not running as root
// cannot read the shadow file and serves only the account it runs as (which runs programs already):
// it checks the rest.
// With use_pam (UsePAM yes) only the shell rules apply (AccountFacts::use_pam); PAM's account phase
// (pam.hpp) decides the rest.
[[nodiscard]] AccountVerdict unix_account_checks(const Account& account, const AccountFiles& files = {},
                                                 bool use_pam = false);

// The facts unix_account_checks decides on; nothing with reason set when a file could not be read.
[[nodiscard]] std::optional<AccountFacts> read_account_facts(const Account& account, const AccountFiles& files,
                                                             std::string& reason);

// The umask sessions start with: /etc/login.defs UMASK (parse_login_defs_umask), 022 when the file or
// the line is absent or unusable (a problem is logged).
[[nodiscard]] mode_t session_umask(const std::string& login_defs = "/etc/login.defs");

// While alive, the calling thread's effective uid, gid and groups are the account's (when running as root;
// otherwise nothing changes); the daemon's other threads stay root (account.cpp says why). The destructor switches back; if that fails the process cannot be trusted with
// root any more and aborts, as sshd's restore_uid does.
class TemporaryIdentity {
public:
    explicit TemporaryIdentity(const Account& account);
    ~TemporaryIdentity();
    TemporaryIdentity(const TemporaryIdentity&) = delete;
    TemporaryIdentity& operator=(const TemporaryIdentity&) = delete;

    [[nodiscard]] bool ok() const noexcept { return ok_; }  // false: the switch failed (logged); nothing changed

private:
    bool switched_ = false;
    bool ok_ = true;
    gid_t saved_gid_ = 0;
    std::vector<gid_t> saved_groups_;
};

}  // namespace twowayd
