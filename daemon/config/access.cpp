#include "access.hpp"

#include <algorithm>

#include <twoway/pattern.hpp>
#include <twoway/text.hpp>

namespace twowayd {

namespace {

bool list_matches(const std::string& text, const std::string& list, bool fold_case = false) {
    return twoway::match_pattern_list(text, list, fold_case) == twoway::PatternMatch::match;
}

bool criterion_holds(const MatchCriterion& c, const ConnectionFacts& f) {
    using Kind = MatchCriterion::Kind;
    switch (c.kind) {
        case Kind::all: return true;
        case Kind::user: return f.user && list_matches(*f.user, c.list);
        case Kind::group: {
            // sshd's ga_match_pattern_list: a group that matches a negated entry refuses the whole list.
            if (!f.user) return false;
            bool found = false;
            for (const auto& g : f.groups) {
                const auto r = twoway::match_pattern_list(g, c.list);
                if (r == twoway::PatternMatch::negated) return false;
                if (r == twoway::PatternMatch::match) found = true;
            }
            return found;
        }
        case Kind::host: return f.host && list_matches(*f.host, c.list, true);
        case Kind::address:
            return f.address && twoway::match_address_list(*f.address, c.list) == twoway::AddressMatch::match;
        case Kind::local_address:
            return f.local_address &&
                   twoway::match_address_list(*f.local_address, c.list) == twoway::AddressMatch::match;
        case Kind::local_port: return f.local_port && *f.local_port == c.port;
    }
    return false;
}

// Copies keyword `k` of a Match block over the policy being built; `again`: an earlier applying block
// set it already (lists add up, everything else keeps the earlier value).
void apply(ConnectionKey k, const ConnectionConfig& from, ConnectionConfig& to, bool again) {
    const auto list = [again](const auto& src, auto& dst) {
        if (!again) dst.clear();
        dst.insert(dst.end(), src.begin(), src.end());
    };
    if (again) {
        switch (k) {
            case ConnectionKey::allow_users: return list(from.allow_users, to.allow_users);
            case ConnectionKey::deny_users: return list(from.deny_users, to.deny_users);
            case ConnectionKey::allow_groups: return list(from.allow_groups, to.allow_groups);
            case ConnectionKey::deny_groups: return list(from.deny_groups, to.deny_groups);
            case ConnectionKey::accept_env: return list(from.accept_env, to.accept_env);
            default: return;
        }
    }
    switch (k) {
        case ConnectionKey::permit_root_login: to.permit_root_login = from.permit_root_login; return;
        case ConnectionKey::allow_users: return list(from.allow_users, to.allow_users);
        case ConnectionKey::deny_users: return list(from.deny_users, to.deny_users);
        case ConnectionKey::allow_groups: return list(from.allow_groups, to.allow_groups);
        case ConnectionKey::deny_groups: return list(from.deny_groups, to.deny_groups);
        case ConnectionKey::force_command: to.force_command = from.force_command; return;
        case ConnectionKey::permit_tty: to.permit_tty = from.permit_tty; return;
        case ConnectionKey::disable_forwarding: to.disable_forwarding = from.disable_forwarding; return;
        case ConnectionKey::allow_tcp_forwarding:
            to.allow_tcp_forwarding = from.allow_tcp_forwarding;
            to.allow_remote_forwarding = from.allow_remote_forwarding;
            return;
        case ConnectionKey::permit_service:
            to.permit_service = from.permit_service;
            to.permit_service_where = from.permit_service_where;
            return;
        case ConnectionKey::permit_open: to.permit_open = from.permit_open; return;
        case ConnectionKey::permit_listen: to.permit_listen = from.permit_listen; return;
        case ConnectionKey::gateway_ports: to.gateway_ports = from.gateway_ports; return;
        case ConnectionKey::accept_env: return list(from.accept_env, to.accept_env);
        case ConnectionKey::set_env: to.set_env = from.set_env; return;
        case ConnectionKey::banner: to.banner = from.banner; return;
        case ConnectionKey::client_alive_interval: to.client_alive_interval = from.client_alive_interval; return;
        case ConnectionKey::client_alive_count_max: to.client_alive_count_max = from.client_alive_count_max; return;
        case ConnectionKey::max_sessions: to.max_sessions = from.max_sessions; return;
        case ConnectionKey::chroot_directory: to.chroot_directory = from.chroot_directory; return;
        case ConnectionKey::authorized_keys_command: to.authorized_keys_command = from.authorized_keys_command; return;
        case ConnectionKey::authorized_keys_command_user:
            to.authorized_keys_command_user = from.authorized_keys_command_user;
            return;
        case ConnectionKey::trusted_user_ca_keys: to.trusted_user_ca_keys = from.trusted_user_ca_keys; return;
        case ConnectionKey::authorized_principals_file:
            to.authorized_principals_file = from.authorized_principals_file;
            return;
        case ConnectionKey::authorized_principals_command:
            to.authorized_principals_command = from.authorized_principals_command;
            return;
        case ConnectionKey::authorized_principals_command_user:
            to.authorized_principals_command_user = from.authorized_principals_command_user;
            return;
        case ConnectionKey::count_: return;
    }
}

std::string from_text(const ConnectionFacts& f) {
    if (f.host) return *f.host;
    if (f.address) return twoway::format_ip_address(*f.address);
    return "UNKNOWN";
}

std::string at(const twoway::Location& where) {
    return where.path.empty() ? " (twowayd's default)" : " (" + where.text() + ")";
}

AccessVerdict refuse(std::string keyword, twoway::Location where, std::string message) {
    message += at(where);
    return AccessVerdict{false, std::move(keyword), std::move(where), std::move(message)};
}

}  // namespace

bool match_applies(const MatchBlock& block, const ConnectionFacts& facts) {
    for (const auto& c : block.criteria) {
        if (!criterion_holds(c, facts)) return false;
    }
    return !block.criteria.empty();
}

ConnectionConfig effective_config(const DaemonConfig& config, const ConnectionFacts& facts,
                                  std::vector<twoway::Location>* applied) {
    ConnectionConfig out = config.connection;
    std::array<bool, connection_key_count> done{};
    for (const auto& block : config.matches) {
        if (!match_applies(block, facts)) continue;
        if (applied != nullptr) applied->push_back(block.where);
        for (std::size_t i = 0; i < connection_key_count; ++i) {
            if (!block.set[i]) continue;
            apply(static_cast<ConnectionKey>(i), block.settings, out, done[i]);
            done[i] = true;
        }
    }
    return out;
}

bool effective_password_authentication(const DaemonConfig& config, const ConnectionFacts& facts) {
    for (const auto& block : config.matches) {
        if (block.password_authentication && match_applies(block, facts)) return block.password_authentication->value;
    }
    return config.password_authentication;
}

bool password_authentication_anywhere(const DaemonConfig& config) {
    if (config.password_authentication) return true;
    return std::any_of(config.matches.begin(), config.matches.end(), [](const MatchBlock& m) {
        return m.password_authentication && m.password_authentication->value;
    });
}

bool needs_groups(const DaemonConfig& config) {
    const auto uses = [](const ConnectionConfig& c) { return !c.allow_groups.empty() || !c.deny_groups.empty(); };
    if (uses(config.connection)) return true;
    for (const auto& m : config.matches) {
        if (uses(m.settings)) return true;
        for (const auto& c : m.criteria) {
            if (c.kind == MatchCriterion::Kind::group) return true;
        }
    }
    return false;
}

AccessVerdict decide_access(const ConnectionConfig& p, const ConnectionFacts& f, const AccessFacts& account) {
    const std::string user = f.user.value_or("");
    const std::string who = "User " + user + " from " + from_text(f) + " not allowed because ";
    // user@host entries need the client's address; without one (twowayd -T -C without addr) they match
    // nothing.
    const auto user_matches = [&](const AccessPattern& ap) {
        if (!f.address) return ap.pattern.find('@') == std::string::npos && twoway::match_pattern(user, ap.pattern);
        return twoway::match_user(user, *f.address, ap.pattern).value_or(false);
    };
    for (const auto& ap : p.deny_users) {
        if (user_matches(ap)) return refuse("DenyUsers", ap.where, who + "listed in DenyUsers");
    }
    if (!p.allow_users.empty()) {
        bool listed = false;
        for (const auto& ap : p.allow_users) listed = listed || user_matches(ap);
        if (!listed) return refuse("AllowUsers", p.allow_users.front().where, who + "not listed in AllowUsers");
    }
    if (!p.deny_groups.empty() || !p.allow_groups.empty()) {
        if (f.groups.empty()) {
            const auto& first = p.deny_groups.empty() ? p.allow_groups.front() : p.deny_groups.front();
            return refuse(p.deny_groups.empty() ? "AllowGroups" : "DenyGroups", first.where, who + "not in any group");
        }
        for (const auto& ap : p.deny_groups) {
            for (const auto& g : f.groups) {
                if (twoway::match_pattern(g, ap.pattern)) {
                    return refuse("DenyGroups", ap.where, who + "a group is listed in DenyGroups");
                }
            }
        }
        if (!p.allow_groups.empty()) {
            bool listed = false;
            for (const auto& ap : p.allow_groups) {
                for (const auto& g : f.groups) listed = listed || twoway::match_pattern(g, ap.pattern);
            }
            if (!listed) {
                return refuse("AllowGroups", p.allow_groups.front().where,
                              who + "none of user's groups are listed in AllowGroups");
            }
        }
    }
    return decide_root_login(p, f, account);
}

AccessVerdict decide_root_login(const ConnectionConfig& p, const ConnectionFacts& f, const AccessFacts& account) {
    if (account.root) {
        const auto& prl = p.permit_root_login;
        const bool forced = account.key_forced_command || p.force_command.has_value();
        const bool allowed = prl.value == PermitRootLogin::yes || prl.value == PermitRootLogin::prohibit_password ||
                             (prl.value == PermitRootLogin::forced_commands_only && forced);
        if (!allowed) {
            return refuse("PermitRootLogin", prl.where,
                          "ROOT LOGIN REFUSED FROM " + from_text(f) + " port " + std::to_string(account.port) +
                              ": PermitRootLogin " + std::string(permit_root_login_name(prl.value)));
        }
        if (prl.value == PermitRootLogin::forced_commands_only) {
            AccessVerdict v;
            v.message = "Root login accepted for forced command.";
            return v;
        }
    }
    return AccessVerdict{};
}

AccessVerdict decide_root_password_login(const ConnectionConfig& p, const ConnectionFacts& f, bool root,
                                         std::uint16_t port) {
    const auto& prl = p.permit_root_login;
    if (!root || prl.value == PermitRootLogin::yes) return AccessVerdict{};
    return refuse("PermitRootLogin", prl.where,
                  "ROOT LOGIN REFUSED FROM " + from_text(f) + " port " + std::to_string(port) + ": PermitRootLogin " +
                      std::string(permit_root_login_name(prl.value)) + " (password)");
}

ConnectionFacts parse_connection_spec(std::string_view spec, std::string& error) {
    ConnectionFacts f;
    error.clear();
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        const std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            error = "Invalid test mode specification " + twoway::quoted(item);
            return f;
        }
        const std::string_view key = item.substr(0, eq);
        const std::string value(item.substr(eq + 1));
        if (key == "user") {
            f.user = value;
        } else if (key == "host") {
            f.host = value;
        } else if (key == "addr") {
            f.address = parse_ip_address(value);
            if (!f.address) {
                error = "invalid address " + twoway::quoted(value) + " in test mode specification";
                return f;
            }
        } else if (key == "laddr") {
            f.local_address = parse_ip_address(value);
            if (!f.local_address) {
                error = "invalid local address " + twoway::quoted(value) + " in test mode specification";
                return f;
            }
        } else if (key == "lport") {
            f.local_port = twoway::parse_port(value);
            if (!f.local_port) {
                error = "invalid port " + twoway::quoted(value) + " in test mode specification";
                return f;
            }
        } else if (key == "rdomain") {
            error = "rdomain: twowayd has no routing domains";
            return f;
        } else {
            error = "Invalid test mode specification " + twoway::quoted(item);
            return f;
        }
    }
    // sshd: without host=, the address stands for the host (twowayd resolves no names).
    if (!f.host && f.address) f.host = twoway::format_ip_address(*f.address);
    return f;
}

}  // namespace twowayd
