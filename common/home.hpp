// Which directory "~" means for twoway and twoway-keygen (docs/twoway.md, FILES). ssh reads only the
// password database and ignores $HOME; twoway honours $HOME, but only when that directory belongs to
// the effective user: run as root with a user's HOME (sudo -E), it would otherwise trust known_hosts
// and keys that user planted, and rewrite that user's files as root. The programs' own policy, not the
// library's (an embedder has its own idea of where its files are), so it lives in common/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace twoway_common {

struct Home {
    std::string path;  // empty when there is no home at all
    std::string note;  // why $HOME was not used (for a debug line); empty when it was used or was unset
};

// The rule, without the system calls (for tests). env_home: $HOME, resolved (nothing when unset);
// env_home_owner: the owner of the directory it names (nothing when it is not an existing directory);
// pw_home: the password database's home for euid (nothing without an entry); env_home_shared: group
// or others may write the directory (a shared place such as /tmp is nobody's home: anyone could plant
// a ~/.twoway there).
//   $HOME set, absolute, a directory owned by euid that only its owner may write -> $HOME
//   otherwise                                            -> pw_home, with a note when $HOME was set
//   no pw_home either                                   -> $HOME if set (nothing better exists; ssh
//                                                          would stop), else empty
[[nodiscard]] Home choose_home(std::optional<std::string_view> env_home, std::optional<unsigned> env_home_owner,
                               unsigned euid, std::optional<std::string_view> pw_home, bool env_home_shared = false);

// choose_home for this process: getenv("HOME") resolved by realpath(3) (so that the directory judged is
// the one used, whatever symbolic links lead to it), stat(2) of it, geteuid(), getpwuid_r(geteuid()).
[[nodiscard]] Home home_directory();

}  // namespace twoway_common
