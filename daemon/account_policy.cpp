#include "account_policy.hpp"

#include <algorithm>
#include <array>

namespace twowayd {

namespace {

constexpr std::array<std::string_view, 4> no_login_shells{"/usr/sbin/nologin", "/sbin/nologin", "/bin/false",
                                                          "/usr/bin/false"};

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Calls f(line) for each line of text (without its '\n').
template <class F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        const auto nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::string_view next_word(std::string_view& rest) {
    std::size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    std::size_t j = i;
    while (j < rest.size() && !is_space(rest[j])) ++j;
    const auto word = rest.substr(i, j - i);
    rest.remove_prefix(j);
    return word;
}

}  // namespace

bool is_no_login_shell(std::string_view shell) noexcept {
    return std::find(no_login_shells.begin(), no_login_shells.end(), shell) != no_login_shells.end();
}

bool services_allowed(std::string_view shell) noexcept { return !is_no_login_shell(shell); }

AccountVerdict check_account(const AccountFacts& f) {
    AccountVerdict v;
    const auto refuse = [&v](AccountRefusal r, std::string reason) {
        v.refusal = r;
        v.reason = std::move(reason);
        return v;
    };
    // sshd's auth_shadow_acctexpired: expired once the expiry day is behind today (days left < 0). A
    // comparison, not sshd's subtraction, so that no value of the field can overflow.
    if (!f.use_pam && f.shadow && f.shadow->expire_day && *f.shadow->expire_day < f.today) {
        return refuse(AccountRefusal::expired, "account has expired");
    }
    // The shadow entry's password when there is one, else the passwd field (sshd's platform_locked_account).
    const std::string& password = f.shadow ? f.shadow->password : f.passwd_password;
    if (!f.use_pam && !password.empty() && password.front() == '!') {
        return refuse(AccountRefusal::locked, "account is locked");
    }
    if (f.shell_state == ShellState::missing) {
        return refuse(AccountRefusal::shell_missing,
                      "shell " + f.shell + " does not exist");
    }
    if (f.shell_state == ShellState::not_executable) {
        return refuse(AccountRefusal::shell_not_executable,
                      "shell " + f.shell + " is not executable");
    }
    if (!is_no_login_shell(f.shell) && std::find(f.shells.begin(), f.shells.end(), f.shell) == f.shells.end()) {
        return refuse(AccountRefusal::shell_not_listed,
                      "shell " + f.shell + " is not in /etc/shells");
    }
    // sshd's do_nologin: root (uid 0, whatever its name) is never kept out.
    if (!f.use_pam && f.nologin_file && f.uid != 0) {
        return refuse(AccountRefusal::nologin_file, "/etc/nologin exists");
    }
    return v;
}

std::vector<std::string> parse_shells(std::string_view text) {
    std::vector<std::string> shells;
    for_each_line(text, [&](std::string_view line) {
        const auto start = line.find_first_of("#/");
        if (start == std::string_view::npos || line[start] == '#') return;
        auto end = start;
        while (end < line.size() && !is_space(line[end]) && line[end] != '#') ++end;
        const auto shell = line.substr(start, end - start);
        if (shell.size() > 1) shells.emplace_back(shell);
    });
    return shells;
}

std::vector<std::string> default_shells() { return {"/bin/sh", "/bin/csh"}; }

LoginDefsUmask parse_login_defs_umask(std::string_view text) {
    LoginDefsUmask out;
    bool found = false;
    for_each_line(text, [&](std::string_view line) {
        if (found) return;
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        if (next_word(line) != "UMASK") return;
        found = true;
        const auto value = next_word(line);
        if (value.empty()) {
            out.problem = "UMASK has no value";
            return;
        }
        // Octal digits only (pam_umask's strtoul(..., 8) would take "0x12" as 0, and "8" as 0 too), and
        // bounded before any arithmetic.
        const bool octal = std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '7'; });
        const auto significant = value.find_first_not_of('0');
        const auto digits = significant == std::string_view::npos ? 0 : value.size() - significant;
        if (!octal || digits > 3) {
            out.problem = "UMASK " + std::string(value.substr(0, 32)) + " is not an octal mask from 0 to 0777";
            return;
        }
        mode_t mask = 0;
        for (char c : value) mask = static_cast<mode_t>(mask * 8 + static_cast<mode_t>(c - '0'));
        out.mask = mask;
    });
    return out;
}

}  // namespace twowayd
