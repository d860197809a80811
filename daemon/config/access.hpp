// sshd_config's access policy for one connection, as pure functions: the facts about the connection
// (user, groups, addresses, port) in, the effective configuration (the Match blocks that apply) and the
// verdict on the account (DenyUsers, AllowUsers, DenyGroups, AllowGroups, PermitRootLogin, in sshd's
// order) out, each refusal naming the keyword and the file:line that decided it. Looking up the
// account's groups and the addresses is the caller's (daemon/connection.cpp, twowayd -T -C).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon_config.hpp"

namespace twowayd {

// What is known about a connection. A fact that is missing (twowayd -T -C without it) makes every
// criterion that needs it not match, as sshd -T -C does.
struct ConnectionFacts {
    std::optional<std::string> user;
    std::vector<std::string> groups;    // the user's group names (primary and supplementary)
    std::optional<IpAddress> address;   // the client's
    std::optional<std::string> host;    // the client's name: twowayd resolves none, so its address's text
    std::optional<IpAddress> local_address;
    std::optional<std::uint16_t> local_port;
};

// Does every criterion of the block hold?
[[nodiscard]] bool match_applies(const MatchBlock& block, const ConnectionFacts& facts);

// The policy for this connection: the global one, with each applying Match block's keywords over it
// (the first applying block's value of each keyword wins; AllowUsers, DenyUsers, AllowGroups,
// DenyGroups and AcceptEnv add up over the applying blocks, as in sshd). applied: the Match lines that
// applied, in order.
[[nodiscard]] ConnectionConfig effective_config(const DaemonConfig& config, const ConnectionFacts& facts,
                                                std::vector<twoway::Location>* applied = nullptr);

// PasswordAuthentication for this connection: the first applying Match block that sets it, else the
// global value.
[[nodiscard]] bool effective_password_authentication(const DaemonConfig& config, const ConnectionFacts& facts);
// Whether any connection could log in by password (the global value or any Match block's is yes): the
// daemon then loads the OPAQUE key and answers password clients.
[[nodiscard]] bool password_authentication_anywhere(const DaemonConfig& config);

// Does the configuration need the user's groups (a Group criterion, AllowGroups, DenyGroups)?
[[nodiscard]] bool needs_groups(const DaemonConfig& config);

// What decide_access needs beyond the connection's facts.
struct AccessFacts {
    bool root = false;         // uid 0
    std::uint16_t port = 0;    // the client's port, for sshd's ROOT LOGIN REFUSED line
    // HOOK for authorized_keys' command= (the keyopts work): the key that proved carries a forced
    // command. With PermitRootLogin forced-commands-only, root is let in when it does, as sshd does.
    bool key_forced_command = false;
};

struct AccessVerdict {
    bool allowed = true;
    std::string keyword;     // the keyword that refused ("DenyUsers", "PermitRootLogin", ...)
    twoway::Location where;  // its line (no path: twowayd's default)
    std::string message;     // the log line, in sshd's words, with the deciding line appended
};

// sshd's allowed_user (DenyUsers, AllowUsers, DenyGroups, AllowGroups) and auth_root_allowed, for the
// user of `facts` (which must be set). With forced-commands-only, root is also let in when a
// ForceCommand applies (twowayd's addition, docs/CONFIG.md).
[[nodiscard]] AccessVerdict decide_access(const ConnectionConfig& policy, const ConnectionFacts& facts,
                                          const AccessFacts& account);

// Only the PermitRootLogin part (sshd checks it once the key has been proved).
[[nodiscard]] AccessVerdict decide_root_login(const ConnectionConfig& policy, const ConnectionFacts& facts,
                                              const AccessFacts& account);

// PermitRootLogin for a password login (issue 17), as sshd's auth_root_allowed for its password
// method: root only with `yes`; prohibit-password, forced-commands-only (a password login has no key
// line to carry command=) and no refuse it.
[[nodiscard]] AccessVerdict decide_root_password_login(const ConnectionConfig& policy, const ConnectionFacts& facts,
                                                       bool root, std::uint16_t port);

// Parses sshd -T -C's connection spec: comma-separated key=value with user, host, addr, laddr, lport
// (and rdomain, refused: twowayd has none). Empty error when fine.
[[nodiscard]] ConnectionFacts parse_connection_spec(std::string_view spec, std::string& error);

}  // namespace twowayd
