#include "account.hpp"

#include <sys/syscall.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <system_error>

#include <twoway/file.hpp>

#include "log.hpp"

namespace twowayd {

namespace {

constexpr std::size_t max_pw_buffer = 1u << 20;  // NSS entries are small; stop growing the buffer here
constexpr int max_groups = 65536;                 // the kernel's NGROUPS_MAX

std::vector<gid_t> group_list(const char* name, gid_t gid) {
    int n = 32;
    std::vector<gid_t> groups;
    for (;;) {
        groups.resize(static_cast<std::size_t>(n));
        int count = n;
        if (::getgrouplist(name, gid, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        // count now holds the number needed.
        if (count <= n || count > max_groups) return {gid};
        n = count;
    }
}

// NSS opens files and sockets to answer; with no descriptor free some of its modules report "not
// found" rather than an error (glibc moves on to the next source when one is unavailable), so the
// lookup is refused as failed before it starts.
bool descriptor_free(std::string& reason) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        reason = "account lookup failed: " + errno_text(errno);
        return false;
    }
    ::close(fd);
    return true;
}

template <class Lookup>
std::optional<Account> lookup(Lookup&& call, std::string& reason) {
    reason.clear();
    if (!descriptor_free(reason)) return std::nullopt;
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::size_t size = hint > 0 ? static_cast<std::size_t>(hint) : 4096;
    std::vector<char> buf;
    for (;;) {
        buf.resize(size);
        struct passwd pw {};
        struct passwd* result = nullptr;
        const int rc = call(&pw, buf.data(), buf.size(), &result);
        if (rc == ERANGE && size < max_pw_buffer) {
            size *= 2;
            continue;
        }
        if (rc != 0) {
            reason = "account lookup failed: " + errno_text(rc);
            return std::nullopt;
        }
        if (result == nullptr) return std::nullopt;  // no such user
        Account a;
        a.name = pw.pw_name;
        a.uid = pw.pw_uid;
        a.gid = pw.pw_gid;
        a.home = pw.pw_dir != nullptr ? pw.pw_dir : "";
        a.shell = (pw.pw_shell != nullptr && pw.pw_shell[0] != '\0') ? pw.pw_shell : "/bin/sh";
        a.passwd_password = pw.pw_passwd != nullptr ? pw.pw_passwd : "";
        a.groups = group_list(pw.pw_name, pw.pw_gid);
        return a;
    }
}

// /etc/shells and /etc/login.defs are a few hundred bytes; a file past this is not one of them.
constexpr std::size_t max_config_file = 256 * 1024;

// The account's shadow entry (getspnam_r, as sshd's getspnam), or nothing when it has none; reason set
// when it could not be looked up. NSS tries its next source (systemd's, on Debian) when the shadow file
// cannot be opened and would then report "no entry": so the file is opened first, and any failure but
// its absence (a system without shadow passwords) refuses.
std::optional<ShadowFields> read_shadow(const std::string& name, const std::string& shadow_path, std::string& reason) {
    if (const int fd = ::open(shadow_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK); fd >= 0) {
        ::close(fd);
    } else if (errno != ENOENT) {
        reason = "cannot read " + shadow_path + ": " + errno_text(errno);
        return std::nullopt;
    }
    if (!descriptor_free(reason)) return std::nullopt;
    std::vector<char> buf(4096);
    for (;;) {
        struct spwd sp {};
        struct spwd* result = nullptr;
        const int rc = ::getspnam_r(name.c_str(), &sp, buf.data(), buf.size(), &result);
        if (rc == ERANGE && buf.size() < max_pw_buffer) {
            explicit_bzero(buf.data(), buf.size());
            buf.resize(buf.size() * 2);
            continue;
        }
        std::optional<ShadowFields> out;
        if (rc == 0 && result != nullptr) {
            out = ShadowFields{sp.sp_pwdp != nullptr ? sp.sp_pwdp : "", std::nullopt};
            if (sp.sp_expire != -1) out->expire_day = sp.sp_expire;
        } else if (rc != 0 && rc != ENOENT) {
            reason = "shadow lookup failed: " + errno_text(rc);
        }
        explicit_bzero(buf.data(), buf.size());  // it held the password hash
        return out;
    }
}

ShellState shell_state(const std::string& shell) {
    // sshd's allowed_user: any stat failure is "does not exist".
    struct stat st {};
    if (::stat(shell.c_str(), &st) != 0) return ShellState::missing;
    if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) return ShellState::not_executable;
    return ShellState::executable;
}

}  // namespace

std::optional<AccountFacts> read_account_facts(const Account& account, const AccountFiles& files, std::string& reason) {
    reason.clear();
    AccountFacts f;
    f.name = account.name;
    f.uid = account.uid;
    f.shell = account.shell;
    f.shell_state = shell_state(account.shell);
    f.passwd_password = account.passwd_password;
    f.today = static_cast<long>(::time(nullptr) / 86400);
    if (running_as_root()) {
        f.shadow = read_shadow(account.name, files.shadow, reason);
        if (!reason.empty()) return std::nullopt;
    }
    if (auto shells = twoway::read_file(files.shells, max_config_file)) {
        f.shells = parse_shells(shells.value().text);
    } else if (shells.error() == std::errc::no_such_file_or_directory) {
        f.shells = default_shells();  // what getusershell() assumes without the file
    } else {
        reason = "cannot read " + files.shells + ": " + shells.error().message();
        return std::nullopt;
    }
    struct stat st {};
    if (::stat(files.nologin.c_str(), &st) == 0) {
        f.nologin_file = true;
    } else if (errno != ENOENT && errno != ENOTDIR) {
        reason = "cannot check " + files.nologin + ": " + errno_text(errno);
        return std::nullopt;
    }
    return f;
}

AccountVerdict unix_account_checks(const Account& account, const AccountFiles& files, bool use_pam) {
    std::string reason;
    auto facts = read_account_facts(account, files, reason);
    if (!facts) {
        AccountVerdict v;
        v.server_fault = true;
        v.reason = std::move(reason);
        return v;
    }
    facts->use_pam = use_pam;
    return check_account(*facts);
}

mode_t session_umask(const std::string& login_defs) {
    auto file = twoway::read_file(login_defs, max_config_file);
    if (!file) {
        if (file.error() != std::errc::no_such_file_or_directory) {
            log_error("cannot read ", login_defs, ": ", file.error().message(), "; sessions get umask 022");
        }
        return default_session_umask;
    }
    const auto parsed = parse_login_defs_umask(file.value().text);
    if (parsed.problem) log_error(login_defs, ": ", *parsed.problem, "; sessions get umask 022");
    return parsed.mask;
}

std::optional<Account> lookup_account(std::string_view name, std::string& reason) {
    const std::string n(name);
    return lookup([&](struct passwd* pw, char* buf, std::size_t size,
                      struct passwd** result) { return ::getpwnam_r(n.c_str(), pw, buf, size, result); },
                  reason);
}

std::optional<Account> current_account(std::string& reason) {
    const uid_t uid = ::geteuid();
    return lookup([&](struct passwd* pw, char* buf, std::size_t size,
                      struct passwd** result) { return ::getpwuid_r(uid, pw, buf, size, result); },
                  reason);
}

bool running_as_root() noexcept { return ::geteuid() == 0; }

namespace {
// The calling thread's credentials only. glibc's setgroups/setegid/seteuid change every thread of the
// process (POSIX's rule): they signal each thread and wait until all have switched, so the event loop
// waited for whatever the decision threads were doing (a 16 MiB read() ends before its thread takes the
// signal; a thread at nice 19 runs only when nothing else wants the CPU), and a name-service lookup on
// the lookup threads ran as whichever account the loop was acting as. Linux keeps credentials per thread,
// and the raw system calls change only the caller's: the loop acts as the account, the other threads stay
// root and never read a file on an account's behalf.
int thread_setgroups(const std::vector<gid_t>& groups) {
    return static_cast<int>(::syscall(SYS_setgroups, groups.size(), groups.data()));
}
int thread_setegid(gid_t gid) { return static_cast<int>(::syscall(SYS_setresgid, -1, gid, -1)); }
int thread_seteuid(uid_t uid) { return static_cast<int>(::syscall(SYS_setresuid, -1, uid, -1)); }
}  // namespace

TemporaryIdentity::TemporaryIdentity(const Account& account) {
    if (!running_as_root() || account.uid == 0) return;
    saved_gid_ = ::getegid();
    const int n = ::getgroups(0, nullptr);
    if (n < 0) {
        log_error("getgroups: ", errno_text(errno));
        ok_ = false;
        return;
    }
    saved_groups_.resize(static_cast<std::size_t>(n));
    if (n > 0 && ::getgroups(n, saved_groups_.data()) < 0) {
        log_error("getgroups: ", errno_text(errno));
        ok_ = false;
        return;
    }
    switched_ = true;  // from here on the destructor restores whatever was changed
    if (thread_setgroups(account.groups) != 0 || thread_setegid(account.gid) != 0 || thread_seteuid(account.uid) != 0) {
        log_error("cannot act as ", account.name, " (uid ", account.uid, "): ", errno_text(errno));
        ok_ = false;
    }
}

TemporaryIdentity::~TemporaryIdentity() {
    if (!switched_) return;
    if (thread_seteuid(0) != 0 || thread_setegid(saved_gid_) != 0 || thread_setgroups(saved_groups_) != 0) {
        log_fatal("cannot restore root privileges: ", errno_text(errno));
        std::abort();
    }
}

}  // namespace twowayd
