#include "account.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

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
        a.groups = group_list(pw.pw_name, pw.pw_gid);
        return a;
    }
}

}  // namespace

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
    if (::setgroups(account.groups.size(), account.groups.data()) != 0 || ::setegid(account.gid) != 0 ||
        ::seteuid(account.uid) != 0) {
        log_error("cannot act as ", account.name, " (uid ", account.uid, "): ", errno_text(errno));
        ok_ = false;
    }
}

TemporaryIdentity::~TemporaryIdentity() {
    if (!switched_) return;
    if (::seteuid(0) != 0 || ::setegid(saved_gid_) != 0 ||
        ::setgroups(saved_groups_.size(), saved_groups_.data()) != 0) {
        log_fatal("cannot restore root privileges: ", errno_text(errno));
        std::abort();
    }
}

}  // namespace twowayd
