// ChrootDirectory, as sshd means it (sshd_config(5); session.c do_setusercontext and safely_chroot):
// the configured value is expanded for the account (~, %% %h %u %U), must be absolute, and every
// component of the path from / down, the directory itself included, must be a directory owned by root
// that neither its group nor others may write; otherwise the session is refused with sshd's message.
// Then the session's child changes root to it (chroot.hpp prepares, child.cpp does the chroot).
//
// The checks run in the daemon before fork(): stat() is not the child's business (the child calls only
// async-signal-safe functions), and a refusal is decided and logged where the session is answered.
// Like sshd, stat() follows symbolic links: the checks apply to what the path reaches.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twowayd {

// The values the tokens stand for.
struct ChrootAccount {
    std::string user;
    std::string home;
    uid_t uid = 0;
};

// The home directory of another account for "~name/..."; nothing when there is no such account.
using HomeLookup = std::function<std::optional<std::string>(std::string_view user)>;

// sshd's expansion of ChrootDirectory: a leading "~" or "~/" is the account's home, "~name" that
// account's home (tilde_expand_filename), then %% %h %u %U (percent_expand). Nothing for an unknown
// token, a '%' at the end, or an unknown ~name; `why` says which.
[[nodiscard]] std::optional<std::string> expand_chroot_directory(std::string_view pattern, const ChrootAccount& account,
                                                                 const HomeLookup& home_of, std::string& why);

// The paths sshd's safely_chroot stats, in order: "/a/b" gives "/", "/a/", "/a/b"; the last is always
// the whole path (so "/a/" gives "/", "/a/", "/a/"). The path must be absolute.
[[nodiscard]] std::vector<std::string> chroot_components(std::string_view path);

// What is wrong with one component, in sshd's words, or nothing: `last` is the directory itself (sshd
// says "directory", not "directory component"). Only st_uid and st_mode are looked at.
[[nodiscard]] std::optional<std::string> chroot_component_problem(std::string_view component, bool last,
                                                                  const struct stat& st);

// The whole check against the file system: absolute, not too long, and every component stat()ed and
// acceptable. Nothing when the directory may be used; otherwise the message to log (sshd's text).
[[nodiscard]] std::optional<std::string> check_chroot_directory(const std::string& path);

}  // namespace twowayd
