// sshd_config's access policy in twowayd.conf: the connection keywords (those sshd allows in Match),
// Match lines, Include, and sshd's keywords that mean nothing for twoway (sshd_keywords.hpp). The rest
// of the parser is daemon_config.cpp.
#include <twoway/pattern.hpp>
#include <twoway/session.hpp>
#include <twoway/text.hpp>

#include "config_parser.hpp"

namespace twowayd::parser_detail {

// The text after the keyword and its separator (blanks, or '=' with blanks around it), trailing blanks
// removed: what sshd hands ForceCommand and AuthorizedKeysCommand whole.
std::string rest_of_line(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; };
    std::size_t i = 0;
    while (i < text.size() && blank(text[i])) ++i;
    while (i < text.size() && !blank(text[i]) && text[i] != '=' && text[i] != '"') ++i;  // where the tokenizer ends the keyword (config_syntax.cpp)
    while (i < text.size() && blank(text[i])) ++i;
    if (i < text.size() && text[i] == '=') ++i;
    while (i < text.size() && blank(text[i])) ++i;
    std::size_t end = text.size();
    while (end > i && blank(text[end - 1])) --end;
    return std::string(text.substr(i, end - i));
}

// An Address/LocalAddress list, or the host part of a user@host pattern: entries may be negated; an
// empty entry, or one with a '/' that is not address/masklen, makes the list invalid (as OpenSSH's
// addr_match_list, which sshd checks when it reads the file).
bool valid_address_list(std::string_view list) {
    if (list.empty()) return false;
    for (;;) {
        const auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        if (item.starts_with('!')) item.remove_prefix(1);
        if (item.empty()) return false;
        if (item.find('/') != std::string_view::npos && !parse_address_block(item)) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

// AllowUsers/DenyUsers: "user" or "user@hostlist" (split at the last '@', as match_user).
bool valid_user_pattern(std::string_view p) {
    if (p.empty()) return false;
    const auto at = p.rfind('@');
    if (at == std::string_view::npos) return true;
    return valid_address_list(p.substr(at + 1));
}

void Parser::foreign(const ForeignKeyword& fk, const config::Directive& d) {
    if (block_ && !fk.match_ok) return error("Directive '" + std::string(fk.name) + "' is not allowed within a Match block");
    if (d.args.empty()) return error("no argument after keyword \"" + d.keyword + "\"");
    if (!fk.accepted.empty()) {
        bool ok = d.args.size() == 1;
        if (ok) {
            ok = false;
            for (const auto& v : fk.accepted) ok = ok || twoway::iequals(v, d.args[0]);
        }
        if (!ok) {
            std::string value;
            for (const auto& a : d.args) value += (value.empty() ? "" : " ") + a;
            return error(std::string(fk.name) + " " + twoway::quoted(value) + ": " + std::string(fk.why));
        }
        return note(std::string(fk.name) + " " + d.args[0] + ": accepted, twowayd behaves so already");
    }
    note(std::string(fk.name) + ": ignored (" + std::string(fk.why) + ")");
}

void Parser::match(const std::vector<std::string>& args) {
    MatchBlock block;
    block.where = here();
    const auto bad = [&](std::string why) { error(std::move(why) + "; Bad Match condition"); };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& attrib = args[i];
        MatchCriterion c;
        if (twoway::iequals(attrib, "all")) {
            if (i != 0 || args.size() != 1) return bad("'all' cannot be combined with other Match attributes");
            block.criteria.push_back(c);
            break;
        }
        if (i + 1 >= args.size() || args[i + 1].empty()) return bad("Missing Match criteria for " + attrib);
        c.list = args[++i];
        if (twoway::iequals(attrib, "user")) {
            c.kind = MatchCriterion::Kind::user;
        } else if (twoway::iequals(attrib, "group")) {
            c.kind = MatchCriterion::Kind::group;
        } else if (twoway::iequals(attrib, "host")) {
            c.kind = MatchCriterion::Kind::host;
        } else if (twoway::iequals(attrib, "address") || twoway::iequals(attrib, "localaddress")) {
            c.kind = twoway::iequals(attrib, "address") ? MatchCriterion::Kind::address
                                                        : MatchCriterion::Kind::local_address;
            if (!valid_address_list(c.list)) return bad("Invalid Match " + attrib + " argument " + twoway::quoted(c.list));
        } else if (twoway::iequals(attrib, "localport")) {
            c.kind = MatchCriterion::Kind::local_port;
            auto p = twoway::parse_port(c.list);
            if (!p) return bad("Invalid LocalPort " + twoway::quoted(c.list) + " on Match line");
            c.port = *p;
        } else if (twoway::iequals(attrib, "rdomain")) {
            return bad("Match RDomain is not supported (twowayd has no routing domains)");
        } else {
            return bad("Unsupported Match attribute " + attrib);
        }
        block.criteria.push_back(std::move(c));
    }
    // In a file included from inside a Match block, a Match applies only when that block does too.
    if (!inherited_.empty()) {
        std::vector<MatchCriterion> all;
        for (const auto& c : inherited_) {
            if (c.kind != MatchCriterion::Kind::all) all.push_back(c);
        }
        for (auto& c : block.criteria) {
            if (c.kind != MatchCriterion::Kind::all) all.push_back(std::move(c));
        }
        if (all.empty()) all.push_back(MatchCriterion{});
        block.criteria = std::move(all);
    }
    if (config_.matches.size() >= max_repeats) return error("too many Match blocks (limit " + std::to_string(max_repeats) + ")");
    config_.matches.push_back(std::move(block));
    block_ = config_.matches.size() - 1;
}

void Parser::include(const Keyword& kw, const std::vector<std::string>& args, std::size_t depth) {
    if (include_ == nullptr) return value_error(kw, "cannot read included files here");
    if (depth + 1 > max_include_depth) {
        return value_error(kw, "too many recursive configuration includes (limit " + std::to_string(max_include_depth) + ")");
    }
    for (const auto& arg : args) {
        if (arg.empty()) return value_error(kw, "empty argument");
        if (arg.starts_with('~')) return value_error(kw, "~ is not expanded in twowayd.conf: " + twoway::quoted(arg));
        const std::string pattern = arg.starts_with('/') ? arg : std::string(include_base_directory) + "/" + arg;
        std::string why;
        auto files = include_->expand(pattern, why);
        if (!why.empty()) {
            value_error(kw, "include " + twoway::quoted(pattern) + " glob failed: " + why);
            continue;
        }
        // The included files may not change the Match state of the file that includes them.
        const std::string saved_path = path_;
        const std::size_t saved_number = number_;
        const auto saved_block = block_;
        const auto saved_inherited = inherited_;
        if (block_) inherited_ = config_.matches[*block_].criteria;
        for (auto& f : files) {
            if (full()) break;
            if (!f.text) {
                value_error(kw, f.path + ": cannot read: " + f.error);
                continue;
            }
            path_ = f.path;
            file(*f.text, depth + 1);
            path_ = saved_path;
            number_ = saved_number;
            block_ = saved_block;
        }
        inherited_ = saved_inherited;
    }
}

void Parser::connection(const Keyword& kw, ConnectionKey key, const config::Directive& d, std::string_view text) {
    // The global policy, or the Match block's: a block keeps the first value of each keyword it sets
    // (lists add up within it), the global section the first of each.
    ConnectionConfig& c = block_ ? config_.matches[*block_].settings : config_.connection;
    const auto index = static_cast<std::size_t>(key);
    const bool first_here = block_ ? !config_.matches[*block_].set[index] : first(kw.key);
    const auto mark = [&] {
        if (block_) config_.matches[*block_].set[index] = true;
    };
    const std::string& arg = d.args.front();
    const auto yes_no = [&](Setting<bool>& into) {
        auto v = config::parse_yes_no(arg, false);
        if (!v) return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected yes or no)");
        if (first_here) into = Setting<bool>{*v, here()};
        mark();
    };
    // PermitOpen and PermitListen: "any" (nothing), "none" (an empty list) or entries valid() takes.
    using PermitList = Setting<std::optional<std::vector<std::string>>>;
    const auto permits = [&](PermitList& into, bool (*valid)(const std::string&), std::string_view what,
                             std::string_view expected) {
        std::optional<std::vector<std::string>> entries;
        if (d.args.size() == 1 && arg == "any") {
        } else if (d.args.size() == 1 && arg == "none") {
            entries.emplace();
        } else {
            entries.emplace();
            for (const auto& a : d.args) {
                if (!valid(a)) return value_error(kw, std::string(what) + twoway::quoted(a) + std::string(expected));
                if (entries->size() < max_repeats) entries->push_back(a);
            }
        }
        if (first_here) into = PermitList{std::move(entries), here()};
        mark();
    };
    const auto patterns = [&](std::vector<AccessPattern>& into, bool users) {
        for (const auto& a : d.args) {
            if (users ? !valid_user_pattern(a) : a.empty()) {
                return value_error(kw, "invalid " + std::string(kw.name) + " pattern: " + twoway::quoted(a));
            }
        }
        if (block_ && first_here) into.clear();  // a block's list replaces the global one
        for (const auto& a : d.args) {
            if (list_totals_[index] >= max_repeats) {
                return value_error(kw, "too many patterns (limit " + std::to_string(max_repeats) +
                                           " in the whole file, Match blocks included)");
            }
            ++list_totals_[index];
            into.push_back(AccessPattern{a, here()});
        }
        mark();
    };
    // AuthorizedKeysCommand, AuthorizedPrincipalsCommand: the rest of the line, with sshd's rules checked
    // here so that -t reports them (an absolute program, closed quotes), or none.
    const auto command_line = [&](std::string& into) {
        std::string command = rest_of_line(text);
        if (command != "none") {
            const auto words = split_command_line(command);
            if (!words) return value_error(kw, "unterminated quote in " + twoway::quoted(command));
            if (words->empty() || !words->front().starts_with('/')) {
                return value_error(kw, "must be an absolute path: " + twoway::quoted(command));
            }
        }
        if (first_here) into = command;
        mark();
    };
    const auto number = [&](std::uint32_t& into) -> bool {
        auto v = twoway::parse_decimal(arg, max_int);
        if (!v) {
            value_error(kw, "invalid number " + twoway::quoted(arg));
            return false;
        }
        if (first_here) into = static_cast<std::uint32_t>(*v);
        mark();
        return true;
    };
    switch (key) {
        case ConnectionKey::permit_root_login:
            for (const auto& [name, v] : root_login_values) {
                if (name == arg) {
                    if (first_here) c.permit_root_login = Setting<PermitRootLogin>{v, here()};
                    return mark();
                }
            }
            return value_error(kw, "unsupported option " + twoway::quoted(arg) +
                                       " (expected yes, prohibit-password, forced-commands-only or no)");
        case ConnectionKey::allow_users: return patterns(c.allow_users, true);
        case ConnectionKey::deny_users: return patterns(c.deny_users, true);
        case ConnectionKey::allow_groups: return patterns(c.allow_groups, false);
        case ConnectionKey::deny_groups: return patterns(c.deny_groups, false);
        case ConnectionKey::force_command: {
            std::string command = rest_of_line(text);
            if (command.empty()) return value_error(kw, "missing argument");
            // "none" (what -T prints) is no forced command: in a Match block it lifts a global one.
            if (first_here) {
                c.force_command.reset();
                if (command != "none") c.force_command = Setting<std::string>{std::move(command), here()};
            }
            return mark();
        }
        case ConnectionKey::permit_tty: return yes_no(c.permit_tty);
        case ConnectionKey::disable_forwarding: return yes_no(c.disable_forwarding);
        case ConnectionKey::allow_tcp_forwarding: {
            const bool all = twoway::iequals(arg, "yes") || twoway::iequals(arg, "all");
            const bool local = all || twoway::iequals(arg, "local");
            const bool remote = all || twoway::iequals(arg, "remote");
            if (!local && !remote && !twoway::iequals(arg, "no")) {
                return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected yes, all, local, remote or no)");
            }
            if (first_here) {
                c.allow_tcp_forwarding = Setting<bool>{local, here()};
                c.allow_remote_forwarding = Setting<bool>{remote, here()};
            }
            return mark();
        }
        case ConnectionKey::gateway_ports: {
            GatewayPorts g = GatewayPorts::no;
            if (twoway::iequals(arg, "yes")) {
                g = GatewayPorts::yes;
            } else if (twoway::iequals(arg, "clientspecified")) {
                g = GatewayPorts::clientspecified;
            } else if (!twoway::iequals(arg, "no")) {
                return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected no, yes or clientspecified)");
            }
            if (first_here) c.gateway_ports = Setting<GatewayPorts>{g, here()};
            return mark();
        }
        case ConnectionKey::permit_listen:
            return permits(c.permit_listen, [](const std::string& a) { return twoway::session::valid_permit_listen(a); },
                           "invalid listen address ", " (expected any, none or [host:]port, * for either)");
        case ConnectionKey::permit_service: {
            std::optional<std::vector<std::string>> names;
            if (d.args.size() == 1 && arg == "any") {
            } else if (d.args.size() == 1 && arg == "none") {
                names.emplace();
            } else {
                names.emplace();
                for (const auto& a : d.args) {
                    if (!valid_service_name(a)) {
                        return value_error(kw, "invalid service name " + twoway::quoted(a) + " (expected any, none or names)");
                    }
                    if (names->size() < max_repeats) names->push_back(a);
                }
            }
            if (first_here) {
                c.permit_service = std::move(names);
                c.permit_service_where = here();
            }
            return mark();
        }
        case ConnectionKey::permit_open:
            return permits(c.permit_open, [](const std::string& a) { return twoway::session::valid_permit_open(a, true); },
                           "invalid destination ", " (expected any, none or host:port, [IPv6]:port, * for either)");
        case ConnectionKey::accept_env: {
            // "none" alone: no variable at all (twowayd's default is not sshd's empty list, so it needs a
            // way to be turned off; -T prints an empty list so).
            const bool none = d.args.size() == 1 && d.args.front() == "none";
            for (const auto& a : d.args) {
                if (a.empty() || a.find('=') != std::string::npos) return value_error(kw, "Invalid environment name " + twoway::quoted(a));
                if (a == "none" && !none) return value_error(kw, "none must be alone");
            }
            if (first_here) {
                // The default (or, in a block, its copy of the global list) is replaced; the global
                // default was counted in the total, a block's copy was not.
                if (!block_) list_totals_[index] -= c.accept_env.size();
                c.accept_env.clear();
            }
            for (const auto& a : d.args) {
                // Names past the file's total cap are dropped (narrower, never wider).
                if (!none && list_totals_[index] < max_repeats) {
                    ++list_totals_[index];
                    c.accept_env.push_back(a);
                }
            }
            return mark();
        }
        case ConnectionKey::set_env: {
            for (const auto& a : d.args) {
                const auto eq = a.find('=');
                if (eq == std::string::npos || eq == 0) return value_error(kw, "Invalid environment " + twoway::quoted(a));
            }
            if (!first_here) return;
            for (const auto& a : d.args) {
                const std::string name = a.substr(0, a.find('=') + 1);
                bool dup = false;
                for (const auto& e : c.set_env) dup = dup || e.starts_with(name);
                if (!dup && c.set_env.size() < max_repeats) c.set_env.push_back(a);
            }
            return mark();
        }
        case ConnectionKey::banner:
            if (first_here) c.banner = arg;
            return mark();
        case ConnectionKey::client_alive_interval: {
            auto v = config::parse_time(arg);
            if (!v) return value_error(kw, "invalid time value " + twoway::quoted(arg));
            // Seconds without a sign of life before a PING (session.hpp's alive check); 0 is off.
            if (first_here) c.client_alive_interval = *v;
            return mark();
        }
        case ConnectionKey::client_alive_count_max: (void)number(c.client_alive_count_max); return;
        case ConnectionKey::max_sessions: {
            auto v = twoway::parse_decimal(arg, max_int);
            if (!v) return value_error(kw, "invalid number " + twoway::quoted(arg));
            // sshd's MaxSessions 0 allows no shell or command; twoway has one session per connection.
            if (*v == 0) return not_yet(kw, arg, "a connection always has its one session; from 1");
            if (first_here) c.max_sessions = static_cast<std::uint32_t>(*v);
            return mark();
        }
        case ConnectionKey::chroot_directory: {
            // sshd's values: none (any case), or a path with ~ and the tokens %% %h %u %U, expanded and
            // checked at each session (chroot.hpp). A value that can never be absolute refuses every
            // session in sshd; here -t says so.
            if (twoway::iequals(arg, "none")) {
                if (first_here) c.chroot_directory = "none";
                return mark();
            }
            if (auto bad = twoway_common::config::check_tokens(arg, "huU"); !bad.empty()) return value_error(kw, bad);
            if (!arg.starts_with('/') && !arg.starts_with('~') && !arg.starts_with("%h")) {
                return value_error(kw, "must be an absolute path: " + twoway::quoted(arg));
            }
            if (first_here) c.chroot_directory = arg;
            return mark();
        }
        case ConnectionKey::authorized_keys_command: return command_line(c.authorized_keys_command);
        case ConnectionKey::authorized_keys_command_user:
            if (first_here) c.authorized_keys_command_user = arg;
            return mark();
        case ConnectionKey::trusted_user_ca_keys:
            // One file of the daemon's (no per-account tokens), or none.
            if (!twoway::iequals(arg, "none")) {
                if (!arg.starts_with('/')) return value_error(kw, "must be an absolute path or none: " + twoway::quoted(arg));
                if (arg.find('%') != std::string::npos) {
                    return value_error(kw, "takes no % tokens (one list for every account): " + twoway::quoted(arg));
                }
            }
            if (first_here) c.trusted_user_ca_keys = twoway::iequals(arg, "none") ? std::string("none") : arg;
            return mark();
        case ConnectionKey::authorized_principals_file:
            // As AuthorizedKeysFile: tokens %% %h %u %U, relative paths from the home directory.
            if (!twoway::iequals(arg, "none")) {
                if (arg.starts_with('~')) return value_error(kw, "use %h instead of ~ for the home directory: " + twoway::quoted(arg));
                if (auto bad = twoway_common::config::check_tokens(arg, "huU"); !bad.empty()) return value_error(kw, bad);
            }
            if (first_here) c.authorized_principals_file = twoway::iequals(arg, "none") ? std::string("none") : arg;
            return mark();
        case ConnectionKey::authorized_principals_command: return command_line(c.authorized_principals_command);
        case ConnectionKey::authorized_principals_command_user:
            if (first_here) c.authorized_principals_command_user = arg;
            return mark();
        case ConnectionKey::count_: break;
    }
}

}  // namespace twowayd::parser_detail
