#include "home.hpp"

#include <cstdlib>
#include <vector>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace twoway_common {

Home choose_home(std::optional<std::string_view> env_home, std::optional<unsigned> env_home_owner, unsigned euid,
                 std::optional<std::string_view> pw_home, bool env_home_shared) {
    if (env_home && env_home->empty()) env_home.reset();
    if (env_home && env_home->front() == '/' && env_home_owner && *env_home_owner == euid && !env_home_shared) {
        return Home{std::string(*env_home), {}};
    }
    if (!pw_home || pw_home->empty()) return Home{env_home ? std::string(*env_home) : std::string(), {}};
    Home h{std::string(*pw_home), {}};
    if (env_home && *env_home != *pw_home) {
        const std::string quoted = "$HOME (" + std::string(*env_home) + ")";
        if (env_home->front() != '/') {
            h.note = quoted + " is not an absolute path";
        } else if (!env_home_owner) {
            h.note = quoted + " is not a directory";
        } else if (*env_home_owner == euid) {
            h.note = quoted + " may be written by others than its owner";
        } else {
            h.note = quoted + " belongs to uid " + std::to_string(*env_home_owner) + ", not to uid " +
                     std::to_string(euid);
        }
        h.note += ": ignored; using " + h.path + " from the password database";
    }
    return h;
}

Home home_directory() {
    std::optional<std::string_view> env_home;
    std::optional<unsigned> owner;
    bool shared = false;
    std::string resolved;
    if (const char* h = std::getenv("HOME"); h != nullptr) {
        env_home = h;
        // The path judged is the path used: a symbolic link swapped after the check cannot redirect it.
        if (char* r = ::realpath(h, nullptr); r != nullptr) {
            resolved = r;
            std::free(r);
            env_home = resolved;
        }
        struct stat st {};
        if (::stat(std::string(*env_home).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            owner = static_cast<unsigned>(st.st_uid);
            shared = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
        }
    }
    const uid_t euid = ::geteuid();
    std::optional<std::string> pw_home;
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(euid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr && found->pw_dir != nullptr) {
        pw_home = std::string(found->pw_dir);
    }
    return choose_home(env_home, owner, static_cast<unsigned>(euid),
                       pw_home ? std::optional<std::string_view>(*pw_home) : std::nullopt, shared);
}

}  // namespace twoway_common
