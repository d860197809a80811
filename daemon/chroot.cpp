#include "chroot.hpp"

#include <climits>
#include <string>

#include "config_syntax.hpp"
#include "log.hpp"

namespace twowayd {

namespace config = twoway_common::config;

std::optional<std::string> expand_chroot_directory(std::string_view pattern, const ChrootAccount& account,
                                                   const HomeLookup& home_of, std::string& why) {
    std::string tilded;
    if (pattern.starts_with('~')) {
        // tilde_expand_filename: "~" and "~/x" are the account's home, "~name/x" that account's.
        const auto slash = pattern.find('/');
        const std::string_view name = pattern.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
        std::string home;
        if (name.empty()) {
            home = account.home;
        } else if (auto h = home_of ? home_of(name) : std::nullopt) {
            home = *h;
        } else {
            why = "no such user " + std::string(name) + " for ~" + std::string(name);
            return std::nullopt;
        }
        std::string_view rest = slash == std::string_view::npos ? std::string_view() : pattern.substr(slash + 1);
        tilded = home;
        if (!rest.empty()) {
            if (!tilded.ends_with('/')) tilded += '/';
            tilded += rest;
        }
    } else {
        tilded = pattern;
    }
    const std::string uid = std::to_string(account.uid);
    const config::Token tokens[] = {{'h', account.home}, {'u', account.user}, {'U', uid}};
    auto expanded = config::expand_tokens(tilded, tokens);
    if (!expanded) {
        why = "unknown token in " + tilded + " (ChrootDirectory allows %%, %h, %u and %U)";
        return std::nullopt;
    }
    return expanded;
}

std::vector<std::string> chroot_components(std::string_view path) {
    // safely_chroot: each '/' ends a component (kept), the whole path is the last one.
    std::vector<std::string> out;
    std::size_t from = 0;
    for (;;) {
        const auto slash = path.find('/', from);
        if (slash == std::string_view::npos) {
            out.emplace_back(path);
            return out;
        }
        // With a trailing slash the whole path comes twice, the second time as the directory itself.
        out.emplace_back(path.substr(0, slash + 1));
        from = slash + 1;
    }
}

std::optional<std::string> chroot_component_problem(std::string_view component, bool last, const struct stat& st) {
    const std::string which = last ? "" : "component ";
    if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
        return "bad ownership or modes for chroot directory " + which + "\"" + std::string(component) + "\"";
    }
    if (!S_ISDIR(st.st_mode)) return "chroot path " + which + "\"" + std::string(component) + "\" is not a directory";
    return std::nullopt;
}

std::optional<std::string> check_chroot_directory(const std::string& path) {
    if (!path.starts_with('/')) return "chroot path does not begin at root";
    if (path.size() >= PATH_MAX) return "chroot path too long";
    const auto components = chroot_components(path);
    for (std::size_t i = 0; i < components.size(); ++i) {
        const auto& c = components[i];
        struct stat st {};
        if (::stat(c.c_str(), &st) != 0) return "stat(\"" + c + "\"): " + errno_text(errno);
        if (auto problem = chroot_component_problem(c, i + 1 == components.size(), st)) return problem;
    }
    return std::nullopt;
}

}  // namespace twowayd
