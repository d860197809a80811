#include "daemon_config.hpp"

#include <array>
#include <cstddef>
#include <utility>

#include <arpa/inet.h>

#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "config_syntax.hpp"
#include "sshd_keywords.hpp"

namespace twowayd {

// The programs' config lexer and text helpers (common/), shared with the client's parser.
namespace config = twoway_common::config;

namespace {

enum class Key : std::size_t {
    port,
    listen_address,
    host_key,
    authorized_keys_file,
    revoked_keys,
    strict_modes,
    stealth_mode,
    login_grace_time,
    max_startups,
    per_source_max_startups,
    per_source_net_block_size,
    per_source_penalties,
    per_source_penalty_exempt_list,
    max_sessions_total,
    per_user_max_sessions,
    per_session_max_buffer,
    max_buffer_total,
    log_level,
    service,
    match,
    include,
    // the connection policy (ConnectionConfig, allowed in Match)
    permit_root_login,
    allow_users,
    deny_users,
    allow_groups,
    deny_groups,
    force_command,
    permit_tty,
    disable_forwarding,
    allow_tcp_forwarding,
    permit_service,
    permit_open,
    accept_env,
    set_env,
    banner,
    client_alive_interval,
    client_alive_count_max,
    max_sessions,
    chroot_directory,
    authorized_keys_command,
    authorized_keys_command_user,
    // global only
    pid_file,
    syslog_facility,
    use_pam,
    permit_user_environment,
    print_motd,
    count_,
};

// The ConnectionKey of a connection keyword, or nothing.
std::optional<ConnectionKey> connection_key(Key k) {
    if (k < Key::permit_root_login || k > Key::authorized_keys_command_user) return std::nullopt;
    return static_cast<ConnectionKey>(static_cast<std::size_t>(k) - static_cast<std::size_t>(Key::permit_root_login));
}

struct Keyword {
    std::string_view name;
    Key key;
    std::size_t max_args;  // 0: any number
};

constexpr std::array keywords{
    Keyword{"Port", Key::port, 1},
    Keyword{"ListenAddress", Key::listen_address, 1},
    Keyword{"HostKey", Key::host_key, 1},
    Keyword{"AuthorizedKeysFile", Key::authorized_keys_file, 0},
    Keyword{"RevokedKeys", Key::revoked_keys, 0},
    Keyword{"StrictModes", Key::strict_modes, 1},
    Keyword{"StealthMode", Key::stealth_mode, 1},
    Keyword{"LoginGraceTime", Key::login_grace_time, 1},
    Keyword{"MaxStartups", Key::max_startups, 1},
    Keyword{"PerSourceMaxStartups", Key::per_source_max_startups, 1},
    Keyword{"PerSourceNetBlockSize", Key::per_source_net_block_size, 1},
    Keyword{"PerSourcePenalties", Key::per_source_penalties, 0},
    Keyword{"PerSourcePenaltyExemptList", Key::per_source_penalty_exempt_list, 0},
    Keyword{"MaxSessionsTotal", Key::max_sessions_total, 1},
    Keyword{"PerUserMaxSessions", Key::per_user_max_sessions, 1},
    Keyword{"PerSessionMaxBuffer", Key::per_session_max_buffer, 1},
    Keyword{"MaxBufferTotal", Key::max_buffer_total, 1},
    Keyword{"LogLevel", Key::log_level, 1},
    Keyword{"Service", Key::service, 2},
    Keyword{"Match", Key::match, 0},
    Keyword{"Include", Key::include, 0},
    Keyword{"PermitRootLogin", Key::permit_root_login, 1},
    Keyword{"AllowUsers", Key::allow_users, 0},
    Keyword{"DenyUsers", Key::deny_users, 0},
    Keyword{"AllowGroups", Key::allow_groups, 0},
    Keyword{"DenyGroups", Key::deny_groups, 0},
    Keyword{"ForceCommand", Key::force_command, 0},
    Keyword{"PermitTTY", Key::permit_tty, 1},
    Keyword{"DisableForwarding", Key::disable_forwarding, 1},
    Keyword{"AllowTcpForwarding", Key::allow_tcp_forwarding, 1},
    Keyword{"PermitService", Key::permit_service, 0},
    Keyword{"PermitOpen", Key::permit_open, 0},
    Keyword{"AcceptEnv", Key::accept_env, 0},
    Keyword{"SetEnv", Key::set_env, 0},
    Keyword{"Banner", Key::banner, 1},
    Keyword{"ClientAliveInterval", Key::client_alive_interval, 1},
    Keyword{"ClientAliveCountMax", Key::client_alive_count_max, 1},
    Keyword{"MaxSessions", Key::max_sessions, 1},
    Keyword{"ChrootDirectory", Key::chroot_directory, 1},
    Keyword{"AuthorizedKeysCommand", Key::authorized_keys_command, 0},
    Keyword{"AuthorizedKeysCommandUser", Key::authorized_keys_command_user, 1},
    Keyword{"PidFile", Key::pid_file, 1},
    Keyword{"SyslogFacility", Key::syslog_facility, 1},
    Keyword{"UsePAM", Key::use_pam, 1},
    Keyword{"PermitUserEnvironment", Key::permit_user_environment, 1},
    Keyword{"PrintMotd", Key::print_motd, 1},
};

constexpr std::array<std::pair<std::string_view, PermitRootLogin>, 5> root_login_values{{
    {"yes", PermitRootLogin::yes},
    {"prohibit-password", PermitRootLogin::prohibit_password},
    {"without-password", PermitRootLogin::prohibit_password},
    {"forced-commands-only", PermitRootLogin::forced_commands_only},
    {"no", PermitRootLogin::no},
}};

constexpr std::array<std::string_view, 12> syslog_facilities{
    "DAEMON", "USER", "AUTH", "AUTHPRIV", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"};

constexpr std::size_t max_repeats = 256;  // Port, ListenAddress, HostKey, Service lines (sshd: 256 ports)
constexpr std::uint64_t max_int = 0x7fffffff;

constexpr std::array<std::pair<std::string_view, LogLevel>, 9> log_levels{{
    {"QUIET", LogLevel::quiet},
    {"FATAL", LogLevel::fatal},
    {"ERROR", LogLevel::error},
    {"INFO", LogLevel::info},
    {"VERBOSE", LogLevel::verbose},
    {"DEBUG", LogLevel::debug1},
    {"DEBUG1", LogLevel::debug1},
    {"DEBUG2", LogLevel::debug2},
    {"DEBUG3", LogLevel::debug3},
}};

bool valid_service_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// An address literal must be a valid one; anything else must at least look like a host name.
bool valid_address(std::string_view host) {
    if (!twoway::valid_host_name(host)) return false;
    if (host.find(':') != std::string_view::npos) {
        std::string addr(host.substr(0, host.find('%')));  // inet_pton knows no zone ("%eth0")
        unsigned char buf[16];
        return ::inet_pton(AF_INET6, addr.c_str(), buf) == 1;
    }
    if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
        std::string addr(host);
        unsigned char buf[4];
        return ::inet_pton(AF_INET, addr.c_str(), buf) == 1;
    }
    return true;
}

std::string bad_port(std::string_view port) {
    return "bad port number " + twoway::quoted(port) + " (expected 1-65535)";
}

// The text after the keyword and its separator (blanks, or '=' with blanks around it), trailing blanks
// removed: what sshd hands ForceCommand and AuthorizedKeysCommand whole.
std::string rest_of_line(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; };
    std::size_t i = 0;
    while (i < text.size() && blank(text[i])) ++i;
    while (i < text.size() && !blank(text[i]) && text[i] != '=') ++i;
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

class Parser {
public:
    Parser(std::string_view path, const IncludeReader* include) : path_(path), include_(include) {}

    void file(std::string_view text, std::size_t depth);
    DaemonConfigResult finish() && {
        return DaemonConfigResult{std::move(config_), std::move(errors_), std::move(notes_)};
    }

private:
    void line(std::size_t number, std::string_view text, std::size_t depth);
    [[nodiscard]] bool full() const noexcept { return full_; }
    void error(std::string message) {
        if (full_) return;
        if (errors_.size() == config::max_errors) {
            full_ = true;
            message = "too many errors; the rest are not shown";
        }
        errors_.push_back(twoway::Diagnostic{twoway::Location{path_, number_}, std::move(message)});
    }
    void note(std::string message) {
        if (notes_.size() < config::max_errors) notes_.push_back(twoway::Diagnostic{here(), std::move(message)});
    }
    [[nodiscard]] twoway::Location here() const { return twoway::Location{path_, number_}; }
    void value_error(const Keyword& kw, std::string problem) { error(std::string(kw.name) + ": " + problem); }
    void not_yet(const Keyword& kw, const std::string& arg, std::string_view why) {
        value_error(kw, twoway::quoted(arg) + " is not supported yet (" + std::string(why) + ")");
    }
    // First use of a keyword? Single-valued keywords keep their first value; repeatable ones drop their
    // defaults on the first line that sets them.
    bool first(Key key) {
        auto& seen = seen_[static_cast<std::size_t>(key)];
        return !std::exchange(seen, true);
    }
    bool room(const Keyword& kw, std::size_t size) {
        if (size < max_repeats) return true;
        value_error(kw, "too many " + std::string(kw.name) + " lines (limit " + std::to_string(max_repeats) + ")");
        return false;
    }

    // "none" alone, or files that each pass problem(file) (it returns what is wrong, or ""). Nothing,
    // once the error is reported, when the list is bad.
    template <class Problem>
    std::optional<std::vector<std::string>> file_list(const Keyword& kw, const std::vector<std::string>& args,
                                                      Problem&& problem) {
        std::vector<std::string> files;
        for (const auto& a : args) {
            std::string why;
            if (a.empty()) {
                why = "empty argument";
            } else if (a == "none") {
                if (args.size() == 1) continue;
                why = "\"none\" must appear alone";
            } else {
                why = problem(a);
            }
            if (!why.empty()) {
                value_error(kw, std::move(why));
                return std::nullopt;
            }
            files.push_back(a);
        }
        return files;
    }

    void port(const Keyword& kw, const std::string& arg);
    void listen_address(const Keyword& kw, const std::string& arg);
    void host_key(const Keyword& kw, const std::string& arg);
    void authorized_keys_file(const Keyword& kw, const std::vector<std::string>& args);
    void revoked_keys(const Keyword& kw, const std::vector<std::string>& args);
    void max_startups(const Keyword& kw, const std::string& arg);
    void count_or_none(const Keyword& kw, const std::string& arg, std::optional<std::uint32_t>& into);
    void size(const Keyword& kw, const std::string& arg, std::uint64_t max, std::uint64_t& into);
    void net_block_size(const Keyword& kw, const std::string& arg);
    void penalties(const Keyword& kw, const std::vector<std::string>& args);
    void penalty_exempt_list(const Keyword& kw, const std::vector<std::string>& args);
    void service(const Keyword& kw, const std::vector<std::string>& args);
    void match(const std::vector<std::string>& args);
    void include(const Keyword& kw, const std::vector<std::string>& args, std::size_t depth);
    void foreign(const ForeignKeyword& fk, const config::Directive& d);
    void global_only(const Keyword& kw, const config::Directive& d);
    void connection(const Keyword& kw, ConnectionKey key, const config::Directive& d, std::string_view text);

    std::string path_;
    const IncludeReader* include_;
    std::vector<twoway::Diagnostic> errors_;
    std::vector<twoway::Diagnostic> notes_;
    bool full_ = false;
    DaemonConfig config_;
    std::array<bool, static_cast<std::size_t>(Key::count_)> seen_{};
    std::size_t number_ = 0;
    // The Match block lines belong to (nothing: global), and the criteria a Match in an included file
    // inherits from the block the Include was in.
    std::optional<std::size_t> block_;
    std::vector<MatchCriterion> inherited_;
};

void Parser::file(std::string_view text, std::size_t depth) {
    // Config lines are not capped here: split_line refuses over-long ones with a message.
    twoway::TextLines lines(text, std::string_view::npos);
    while (auto l = lines.next()) {
        if (full()) break;
        line(l->number, l->text, depth);
    }
}

void Parser::line(std::size_t number, std::string_view text, std::size_t depth) {
    number_ = number;
    auto split = config::split_line(text);
    if (split.kind == config::SplitLine::Kind::empty) return;
    if (split.kind == config::SplitLine::Kind::error) return error(split.error);
    const auto& d = split.directive;

    const Keyword* kw = nullptr;
    for (const auto& k : keywords) {
        if (twoway::iequals(k.name, d.keyword)) kw = &k;
    }
    if (kw == nullptr) {
        if (const auto* fk = find_foreign_keyword(d.keyword)) return foreign(*fk, d);
        return error("Bad configuration option: " + d.keyword);
    }
    if (d.args.empty()) return error("no argument after keyword \"" + d.keyword + "\"");
    if (kw->max_args != 0 && d.args.size() > kw->max_args) {
        return error("keyword " + std::string(kw->name) + " extra arguments at end of line");
    }
    if (kw->key == Key::match) return match(d.args);
    if (kw->key == Key::include) return include(*kw, d.args, depth);
    if (auto ck = connection_key(kw->key)) return connection(*kw, *ck, d, text);
    if (block_) {
        if (kw->key == Key::authorized_keys_file || kw->key == Key::revoked_keys || kw->key == Key::log_level) {
            return error(std::string(kw->name) + " is not supported inside a Match block yet");
        }
        return error("Directive '" + std::string(kw->name) + "' is not allowed within a Match block");
    }
    global_only(*kw, d);
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

void Parser::global_only(const Keyword& kw, const config::Directive& d) {
    const std::string& arg = d.args.front();
    const auto yes_no = [&](bool& into) {
        auto v = config::parse_yes_no(arg, false);
        if (!v) return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected yes or no)");
        if (first(kw.key)) into = *v;
    };
    switch (kw.key) {
        case Key::port: return port(kw, arg);
        case Key::listen_address: return listen_address(kw, arg);
        case Key::host_key: return host_key(kw, arg);
        case Key::authorized_keys_file: return authorized_keys_file(kw, d.args);
        case Key::revoked_keys: return revoked_keys(kw, d.args);
        case Key::strict_modes: return yes_no(config_.strict_modes);
        case Key::stealth_mode: return yes_no(config_.stealth_mode);
        case Key::print_motd: return yes_no(config_.print_motd);
        case Key::login_grace_time: {
            auto v = config::parse_time(arg);
            if (!v) return value_error(kw, "invalid time value " + twoway::quoted(arg));
            if (first(kw.key)) config_.login_grace_time = *v;
            return;
        }
        case Key::max_startups: return max_startups(kw, arg);
        case Key::per_source_max_startups: return count_or_none(kw, arg, config_.per_source_max_startups);
        case Key::max_sessions_total: return count_or_none(kw, arg, config_.max_sessions_total);
        case Key::per_user_max_sessions: return count_or_none(kw, arg, config_.per_user_max_sessions);
        case Key::per_session_max_buffer:
            // The window a session grants its client is a 32-bit number.
            return size(kw, arg, std::uint64_t{1} << 30, config_.per_session_max_buffer);
        case Key::max_buffer_total: return size(kw, arg, std::uint64_t{1} << 40, config_.max_buffer_total);
        case Key::per_source_net_block_size: return net_block_size(kw, arg);
        case Key::per_source_penalties: return penalties(kw, d.args);
        case Key::per_source_penalty_exempt_list: return penalty_exempt_list(kw, d.args);
        case Key::log_level: {
            for (const auto& [name, level] : log_levels) {
                if (twoway::iequals(name, arg)) {
                    if (first(kw.key)) config_.log_level = level;
                    return;
                }
            }
            return value_error(kw, "unsupported log level " + twoway::quoted(arg));
        }
        case Key::service: return service(kw, d.args);
        case Key::pid_file:
            if (arg != "none" && !arg.starts_with('/')) return value_error(kw, "must be an absolute path or none: " + twoway::quoted(arg));
            if (first(kw.key)) config_.pid_file = arg;
            return;
        case Key::syslog_facility:
            for (auto f : syslog_facilities) {
                if (twoway::iequals(f, arg)) {
                    if (first(kw.key)) config_.syslog_facility = std::string(f);
                    return;
                }
            }
            return value_error(kw, "unsupported log facility " + twoway::quoted(arg));
        case Key::use_pam: {
            auto v = config::parse_yes_no(arg, false);
            if (!v) return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected yes or no)");
            // Without PAM's account phase, pam_access, pam_nologin and the rest would not refuse anyone.
            if (*v) return not_yet(kw, arg, "twowayd does not run PAM's account and session phases; its own account checks apply, as UsePAM no");
            if (first(kw.key)) config_.use_pam = false;
            return;
        }
        case Key::permit_user_environment: {
            // sshd 9.2: yes, no, or a pattern list of the names ~/.ssh/environment may set. twowayd reads
            // no ~/.ssh/environment, so any value sets nothing.
            std::string value = arg;
            if (twoway::iequals(arg, "yes")) value = "yes";
            if (twoway::iequals(arg, "no")) value = "no";
            if (first(kw.key)) config_.permit_user_environment = std::move(value);
            return;
        }
        default: break;
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
    const auto patterns = [&](std::vector<AccessPattern>& into, bool users) {
        for (const auto& a : d.args) {
            if (users ? !valid_user_pattern(a) : a.empty()) {
                return value_error(kw, "invalid " + std::string(kw.name) + " pattern: " + twoway::quoted(a));
            }
        }
        if (block_ && first_here) into.clear();  // a block's list replaces the global one
        for (const auto& a : d.args) {
            if (into.size() >= max_repeats) return value_error(kw, "too many patterns (limit " + std::to_string(max_repeats) + ")");
            into.push_back(AccessPattern{a, here()});
        }
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
            if (first_here) c.force_command = Setting<std::string>{std::move(command), here()};
            return mark();
        }
        case ConnectionKey::permit_tty: return yes_no(c.permit_tty);
        case ConnectionKey::disable_forwarding: return yes_no(c.disable_forwarding);
        case ConnectionKey::allow_tcp_forwarding: {
            bool allow = false;
            if (twoway::iequals(arg, "yes") || twoway::iequals(arg, "all") || twoway::iequals(arg, "local")) {
                allow = true;
            } else if (!twoway::iequals(arg, "no") && !twoway::iequals(arg, "remote")) {
                return value_error(kw, "unsupported option " + twoway::quoted(arg) + " (expected yes, all, local, remote or no)");
            }
            if (first_here) c.allow_tcp_forwarding = Setting<bool>{allow, here()};
            return mark();
        }
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
            if (d.args.size() == 1 && (arg == "any" || arg == "none")) {
                if (first_here) c.permit_open_none = Setting<bool>{arg == "none", here()};
                return mark();
            }
            return not_yet(kw, arg, "twoway forwards to named services: use PermitService");
        case ConnectionKey::accept_env:
            for (const auto& a : d.args) {
                if (a.empty() || a.find('=') != std::string::npos) return value_error(kw, "Invalid environment name " + twoway::quoted(a));
            }
            if (first_here) c.accept_env.clear();  // the default (or the global list, in a block) is replaced
            for (const auto& a : d.args) {
                if (c.accept_env.size() < max_repeats) c.accept_env.push_back(a);
            }
            return mark();
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
            // Without keep-alives a frozen client's session would stay: refused rather than ignored.
            if (*v != 0) return not_yet(kw, arg, "twowayd sends no keep-alives yet; only 0");
            if (first_here) c.client_alive_interval = 0;
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
        case ConnectionKey::chroot_directory:
            if (arg != "none") return not_yet(kw, arg, "twowayd does not chroot sessions yet; only none");
            if (first_here) c.chroot_directory = "none";
            return mark();
        case ConnectionKey::authorized_keys_command: {
            std::string command = rest_of_line(text);
            if (command != "none") return not_yet(kw, command, "twowayd runs no AuthorizedKeysCommand yet; only none");
            if (first_here) c.authorized_keys_command = "none";
            return mark();
        }
        case ConnectionKey::authorized_keys_command_user:
            if (first_here) c.authorized_keys_command_user = arg;
            return mark();
        case ConnectionKey::count_: break;
    }
}

void Parser::port(const Keyword& kw, const std::string& arg) {
    auto p = twoway::parse_port(arg);
    if (!p) return value_error(kw, bad_port(arg));
    if (first(kw.key)) config_.ports.clear();
    if (room(kw, config_.ports.size())) config_.ports.push_back(*p);
}

void Parser::listen_address(const Keyword& kw, const std::string& arg) {
    ListenAddress la;
    const auto colon = arg.find(':');
    if (arg.find('[') == std::string::npos && colon != std::string::npos &&
        arg.find(':', colon + 1) != std::string::npos) {
        la.host = arg;  // a bare IPv6 address: two or more ':' and no brackets, so no port (as sshd)
    } else {
        auto hp = twoway::split_host_port(arg);
        if (!hp) return value_error(kw, "bad address:port usage " + twoway::quoted(arg));
        la.host = std::string(hp->host);
        if (hp->port) {
            auto p = twoway::parse_port(*hp->port);
            if (!p) return value_error(kw, bad_port(*hp->port));
            la.port = *p;
        }
    }
    if (!valid_address(la.host)) return value_error(kw, "invalid address " + twoway::quoted(la.host));
    if (first(kw.key)) config_.listen_addresses.clear();
    if (room(kw, config_.listen_addresses.size())) config_.listen_addresses.push_back(std::move(la));
}

void Parser::host_key(const Keyword& kw, const std::string& arg) {
    // sshd makes a relative path relative to its working directory; a pure parser cannot, and a daemon's
    // working directory is rarely what the writer meant, so it must be absolute.
    if (!arg.starts_with('/')) return value_error(kw, "must be an absolute path: " + twoway::quoted(arg));
    if (first(kw.key)) config_.host_keys.clear();
    if (room(kw, config_.host_keys.size())) config_.host_keys.push_back(arg);
}

void Parser::authorized_keys_file(const Keyword& kw, const std::vector<std::string>& args) {
    auto files = file_list(kw, args, [](const std::string& a) -> std::string {
        if (a.starts_with('~')) return "use %h instead of ~ for the home directory: " + twoway::quoted(a);
        return config::check_tokens(a, "huU");
    });
    if (files && first(kw.key)) config_.authorized_keys_files = std::move(*files);
}

void Parser::revoked_keys(const Keyword& kw, const std::vector<std::string>& args) {
    // The daemon's own files, read at every authentication: absolute paths, no per-account tokens.
    auto files = file_list(kw, args, [](const std::string& a) -> std::string {
        if (!a.starts_with('/')) return "must be an absolute path: " + twoway::quoted(a);
        if (a.find('%') != std::string::npos) return "takes no % tokens (one list for every account): " + twoway::quoted(a);
        return {};
    });
    if (files && first(kw.key)) config_.revoked_keys_files = std::move(*files);
}

void Parser::max_startups(const Keyword& kw, const std::string& arg) {
    auto invalid = [&] {
        value_error(kw, "invalid spec " + twoway::quoted(arg) +
                            " (expected N, or start:rate:full with start <= full and rate 1-100)");
    };
    // sshd's start:rate:full is checked as sshd checks it (admins copy it from sshd_config), and read as
    // a table of `full`: twowayd never refuses a newcomer at random (docs/CONFIG.md, MaxStartups).
    std::optional<std::uint64_t> size;
    const auto c1 = arg.find(':');
    if (c1 == std::string::npos) {
        size = twoway::parse_decimal(arg, max_int);
    } else {
        const auto c2 = arg.find(':', c1 + 1);
        if (c2 == std::string::npos) return invalid();
        auto start = twoway::parse_decimal(std::string_view(arg).substr(0, c1), max_int);
        auto rate = twoway::parse_decimal(std::string_view(arg).substr(c1 + 1, c2 - c1 - 1), 100);
        size = twoway::parse_decimal(std::string_view(arg).substr(c2 + 1), max_int);
        if (!start || !rate || !size || *rate == 0 || *start > *size) return invalid();
    }
    if (!size || *size == 0) return invalid();
    if (first(kw.key)) config_.max_startups = static_cast<std::uint32_t>(*size);
}

// A number from 1, or "none" (no limit).
void Parser::count_or_none(const Keyword& kw, const std::string& arg, std::optional<std::uint32_t>& into) {
    std::optional<std::uint32_t> limit;
    if (arg != "none") {
        auto v = twoway::parse_decimal(arg, max_int);
        if (!v || *v == 0) {
            return value_error(kw, "invalid value " + twoway::quoted(arg) + " (expected a number from 1, or none)");
        }
        limit = static_cast<std::uint32_t>(*v);
    }
    if (first(kw.key)) into = limit;
}

void Parser::size(const Keyword& kw, const std::string& arg, std::uint64_t max, std::uint64_t& into) {
    auto v = parse_size(arg, max);
    if (!v || *v < min_session_buffer) {
        return value_error(kw, "invalid size " + twoway::quoted(arg) + " (expected bytes with an optional K, M or G, "
                               "from 64K to " + format_size(max) + ")");
    }
    if (first(kw.key)) into = *v;
}

void Parser::net_block_size(const Keyword& kw, const std::string& arg) {
    // sshd's "bits4[:bits6]"; the IPv6 size keeps its default when omitted.
    const auto colon = arg.find(':');
    auto v4 = twoway::parse_decimal(std::string_view(arg).substr(0, colon), 32);
    std::optional<std::uint64_t> v6 = 128;
    if (colon != std::string::npos) v6 = twoway::parse_decimal(std::string_view(arg).substr(colon + 1), 128);
    if (!v4 || !v6) {
        return value_error(kw, "invalid value " + twoway::quoted(arg) + " (expected bits4[:bits6], 0-32 and 0-128)");
    }
    if (!first(kw.key)) return;
    config_.per_source_net_block_v4 = static_cast<std::uint32_t>(*v4);
    config_.per_source_net_block_v6 = static_cast<std::uint32_t>(*v6);
}

void Parser::penalties(const Keyword& kw, const std::vector<std::string>& args) {
    PenaltyConfig pc;  // OpenSSH's defaults, then the line's settings on top
    pc.enabled = true;
    if (args.size() == 1 && (args[0] == "yes" || args[0] == "no")) {
        pc.enabled = args[0] == "yes";
        if (first(kw.key)) config_.penalties = pc;
        return;
    }
    struct Field {
        std::string_view name;
        std::uint32_t PenaltyConfig::*member;
        bool is_time;
    };
    static constexpr Field fields[] = {
        {"authfail", &PenaltyConfig::authfail, true},
        {"noauth", &PenaltyConfig::noauth, true},
        {"grace-exceeded", &PenaltyConfig::grace_exceeded, true},
        {"max", &PenaltyConfig::max, true},
        {"min", &PenaltyConfig::min, true},
        {"max-sources4", &PenaltyConfig::max_sources4, false},
        {"max-sources6", &PenaltyConfig::max_sources6, false},
    };
    for (const auto& a : args) {
        const auto colon = a.find(':');
        if (colon == std::string::npos) {
            return value_error(kw, "expected yes, no or keyword:value, got " + twoway::quoted(a));
        }
        const std::string_view name = std::string_view(a).substr(0, colon);
        const std::string_view value = std::string_view(a).substr(colon + 1);
        if (name == "overflow" || name == "overflow6") {
            // Only permissive: a full table forgets the penalty closest to expiry. deny-all would let
            // anyone able to fill the table lock everybody out.
            if (value != "permissive") {
                return value_error(kw, twoway::quoted(a) + ": only overflow:permissive is supported");
            }
            continue;
        }
        const Field* field = nullptr;
        for (const auto& f : fields) {
            if (f.name == name) field = &f;
        }
        if (field == nullptr) return value_error(kw, "unsupported penalty " + twoway::quoted(a));
        std::optional<std::uint64_t> v;
        if (field->is_time) {
            v = config::parse_time(value);
        } else {
            v = twoway::parse_decimal(value, 1U << 24);  // a table of 16M blocks is already ~1 GiB
            if (v && *v == 0) v.reset();
        }
        if (!v) return value_error(kw, "invalid value in " + twoway::quoted(a));
        pc.*(field->member) = static_cast<std::uint32_t>(*v);
    }
    if (pc.min > pc.max) return value_error(kw, "min must not exceed max");
    if (first(kw.key)) config_.penalties = pc;
}

void Parser::penalty_exempt_list(const Keyword& kw, const std::vector<std::string>& args) {
    // sshd takes one comma-separated list; blanks between entries are accepted too. Addresses and
    // address/masklen only: no wildcards. "none" (alone) is the empty list, as twowayd -T prints it.
    if (args.size() == 1 && args[0] == "none") {
        if (first(kw.key)) config_.penalty_exempt.clear();
        return;
    }
    std::vector<AddressBlock> blocks;
    for (const auto& arg : args) {
        std::string_view rest = arg;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            if (item.empty()) continue;
            auto block = parse_address_block(item);
            if (!block) {
                return value_error(kw, "invalid address or address/masklen " + twoway::quoted(item) +
                                           " (host bits must be zero)");
            }
            if (blocks.size() >= max_repeats) {
                return value_error(kw, "too many entries (limit " + std::to_string(max_repeats) + ")");
            }
            blocks.push_back(*block);
        }
    }
    if (blocks.empty()) return value_error(kw, "empty list");
    if (first(kw.key)) config_.penalty_exempt = std::move(blocks);
}

void Parser::service(const Keyword& kw, const std::vector<std::string>& args) {
    const std::string& name = args[0];
    if (!valid_service_name(name)) {
        return value_error(kw, "invalid name " + twoway::quoted(name) + " (expected [a-z0-9._-]+, at most 64)");
    }
    if (args.size() < 2) return value_error(kw, "missing host:port after " + twoway::quoted(name));
    auto hp = twoway::split_host_port(args[1]);
    if (!hp || !hp->port) return value_error(kw, "bad host:port " + twoway::quoted(args[1]));
    auto p = twoway::parse_port(*hp->port);
    if (!p) return value_error(kw, bad_port(*hp->port));
    if (!valid_address(hp->host)) return value_error(kw, "invalid host " + twoway::quoted(hp->host));
    for (const auto& s : config_.services) {
        if (s.name == name) return value_error(kw, twoway::quoted(name) + " is already defined at " + s.where.text());
    }
    if (room(kw, config_.services.size())) {
        config_.services.push_back(ServiceSpec{name, std::string(hp->host), *p, twoway::Location{path_, number_}});
    }
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::uint64_t max) {
    std::uint64_t scale = 1;
    if (!text.empty()) {
        switch (text.back()) {
            case 'k': case 'K': scale = std::uint64_t{1} << 10; break;
            case 'm': case 'M': scale = std::uint64_t{1} << 20; break;
            case 'g': case 'G': scale = std::uint64_t{1} << 30; break;
            default: break;
        }
        if (scale != 1) text.remove_suffix(1);
    }
    auto n = twoway::parse_decimal(text, max / scale);
    if (!n) return std::nullopt;
    return *n * scale;
}

std::string format_size(std::uint64_t bytes) {
    static constexpr std::pair<char, unsigned> units[] = {{'G', 30}, {'M', 20}, {'K', 10}};
    for (const auto& [suffix, shift] : units) {
        const std::uint64_t unit = std::uint64_t{1} << shift;
        if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
    }
    return std::to_string(bytes);
}

std::string_view log_level_name(LogLevel level) noexcept {
    for (const auto& [name, l] : log_levels) {
        if (l == level && name != "DEBUG") return name;
    }
    return "INFO";
}

std::string_view permit_root_login_name(PermitRootLogin v) noexcept {
    switch (v) {
        case PermitRootLogin::yes: return "yes";
        case PermitRootLogin::prohibit_password: return "prohibit-password";
        case PermitRootLogin::forced_commands_only: return "forced-commands-only";
        case PermitRootLogin::no: return "no";
    }
    return "no";
}

std::string format_match_criteria(const std::vector<MatchCriterion>& criteria) {
    std::string out;
    for (const auto& c : criteria) {
        if (!out.empty()) out += ' ';
        switch (c.kind) {
            case MatchCriterion::Kind::all: out += "all"; continue;
            case MatchCriterion::Kind::user: out += "user "; break;
            case MatchCriterion::Kind::group: out += "group "; break;
            case MatchCriterion::Kind::host: out += "host "; break;
            case MatchCriterion::Kind::address: out += "address "; break;
            case MatchCriterion::Kind::local_address: out += "localaddress "; break;
            case MatchCriterion::Kind::local_port: out += "localport "; break;
        }
        out += config::quote_arg(c.list);
    }
    return out;
}

DaemonConfigResult parse_daemon_config(std::string_view path, std::string_view text, const IncludeReader* include) {
    Parser parser(path, include);
    parser.file(text, 0);
    return std::move(parser).finish();
}

namespace {

// "host:port", with brackets around an IPv6 address; "host" alone when port is 0.
std::string host_port_text(const std::string& host, std::uint16_t port) {
    if (port == 0) return host;
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string file_list_text(const std::vector<std::string>& files) {
    if (files.empty()) return "none";
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : " ") + config::quote_arg(f);
    return out;
}

}  // namespace

namespace {

std::string list_text(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : " ") + config::quote_arg(i);
    return out;
}

// The connection policy, every keyword (set == nullptr) or those a Match block sets; lists one line per
// entry, as sshd -T prints them.
void format_connection(std::string& out, const ConnectionConfig& c, const std::array<bool, connection_key_count>* set,
                       std::string_view indent) {
    const auto want = [&](ConnectionKey k) { return set == nullptr || (*set)[static_cast<std::size_t>(k)]; };
    const auto line = [&](std::string_view keyword, const std::string& value) {
        out.append(indent).append(keyword).append(" ").append(value).append("\n");
    };
    const auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
    const auto patterns = [&](ConnectionKey k, std::string_view keyword, const std::vector<AccessPattern>& list) {
        if (!want(k)) return;
        for (const auto& p : list) line(keyword, config::quote_arg(p.pattern));
    };
    if (want(ConnectionKey::permit_root_login)) {
        line("permitrootlogin", std::string(permit_root_login_name(c.permit_root_login.value)));
    }
    patterns(ConnectionKey::deny_users, "denyusers", c.deny_users);
    patterns(ConnectionKey::allow_users, "allowusers", c.allow_users);
    patterns(ConnectionKey::deny_groups, "denygroups", c.deny_groups);
    patterns(ConnectionKey::allow_groups, "allowgroups", c.allow_groups);
    if (want(ConnectionKey::force_command)) {
        // sshd -T prints "forcecommand none" when there is none; the command is the rest of its line.
        if (c.force_command) {
            line("forcecommand", c.force_command->value);
        } else if (set == nullptr) {
            line("forcecommand", "none");
        }
    }
    if (want(ConnectionKey::permit_tty)) line("permittty", yes_no(c.permit_tty.value));
    if (want(ConnectionKey::disable_forwarding)) line("disableforwarding", yes_no(c.disable_forwarding.value));
    if (want(ConnectionKey::allow_tcp_forwarding)) line("allowtcpforwarding", yes_no(c.allow_tcp_forwarding.value));
    if (want(ConnectionKey::permit_service)) {
        line("permitservice", !c.permit_service ? std::string("any")
                              : c.permit_service->empty() ? std::string("none")
                                                          : list_text(*c.permit_service));
    }
    if (want(ConnectionKey::permit_open)) line("permitopen", c.permit_open_none.value ? "none" : "any");
    if (want(ConnectionKey::accept_env)) {
        for (const auto& e : c.accept_env) line("acceptenv", config::quote_arg(e));
    }
    if (want(ConnectionKey::set_env) && !c.set_env.empty()) line("setenv", list_text(c.set_env));
    if (want(ConnectionKey::banner)) line("banner", config::quote_arg(c.banner));
    if (want(ConnectionKey::client_alive_interval)) line("clientaliveinterval", std::to_string(c.client_alive_interval));
    if (want(ConnectionKey::client_alive_count_max)) line("clientalivecountmax", std::to_string(c.client_alive_count_max));
    if (want(ConnectionKey::max_sessions)) line("maxsessions", std::to_string(c.max_sessions));
    if (want(ConnectionKey::chroot_directory)) line("chrootdirectory", config::quote_arg(c.chroot_directory));
    if (want(ConnectionKey::authorized_keys_command)) line("authorizedkeyscommand", c.authorized_keys_command);
    if (want(ConnectionKey::authorized_keys_command_user)) {
        line("authorizedkeyscommanduser", config::quote_arg(c.authorized_keys_command_user));
    }
}

std::string format_global_config(const DaemonConfig& c) {
    std::string out;
    const auto line = [&out](std::string_view keyword, const std::string& value) {
        out.append(keyword).append(" ").append(value).append("\n");
    };
    const auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
    for (auto p : c.ports) line("port", std::to_string(p));
    for (const auto& la : c.listen_addresses) line("listenaddress", config::quote_arg(host_port_text(la.host, la.port)));
    for (const auto& k : c.host_keys) line("hostkey", config::quote_arg(k));
    line("authorizedkeysfile", file_list_text(c.authorized_keys_files));
    line("revokedkeys", file_list_text(c.revoked_keys_files));
    line("strictmodes", yes_no(c.strict_modes));
    line("stealthmode", yes_no(c.stealth_mode));
    line("logingracetime", std::to_string(c.login_grace_time));
    line("maxstartups", std::to_string(c.max_startups));
    line("persourcemaxstartups", c.per_source_max_startups ? std::to_string(*c.per_source_max_startups) : "none");
    line("persourcenetblocksize",
         std::to_string(c.per_source_net_block_v4) + ":" + std::to_string(c.per_source_net_block_v6));
    const auto& pc = c.penalties;
    if (!pc.enabled) {
        line("persourcepenalties", "no");
    } else {
        line("persourcepenalties", "authfail:" + std::to_string(pc.authfail) + "s noauth:" + std::to_string(pc.noauth) +
                                       "s grace-exceeded:" + std::to_string(pc.grace_exceeded) + "s max:" +
                                       std::to_string(pc.max) + "s min:" + std::to_string(pc.min) +
                                       "s max-sources4:" + std::to_string(pc.max_sources4) +
                                       " max-sources6:" + std::to_string(pc.max_sources6) +
                                       " overflow:permissive overflow6:permissive");
    }
    std::string exempt;
    for (const auto& b : c.penalty_exempt) exempt += (exempt.empty() ? "" : ",") + format_address_block(b);
    line("persourcepenaltyexemptlist", exempt.empty() ? "none" : exempt);
    const auto count = [](const std::optional<std::uint32_t>& n) { return n ? std::to_string(*n) : std::string("none"); };
    line("maxsessionstotal", count(c.max_sessions_total));
    line("perusermaxsessions", count(c.per_user_max_sessions));
    line("persessionmaxbuffer", format_size(c.per_session_max_buffer));
    line("maxbuffertotal", format_size(c.max_buffer_total));
    line("loglevel", std::string(log_level_name(c.log_level)));
    for (const auto& s : c.services) line("service", s.name + " " + host_port_text(s.host, s.port));
    line("pidfile", config::quote_arg(c.pid_file));
    line("syslogfacility", c.syslog_facility);
    line("usepam", yes_no(c.use_pam));
    line("permituserenvironment", config::quote_arg(c.permit_user_environment));
    line("printmotd", yes_no(c.print_motd));
    return out;
}

}  // namespace

std::string format_daemon_config(const DaemonConfig& c) {
    std::string out = format_global_config(c);
    format_connection(out, c.connection, nullptr, "");
    // Match blocks as they were read (sshd -T without -C applies none): each with the keywords it sets.
    for (const auto& m : c.matches) {
        out += "match " + format_match_criteria(m.criteria) + "\n";
        format_connection(out, m.settings, &m.set, "    ");
    }
    return out;
}

std::string format_connection_config(const DaemonConfig& c, const ConnectionConfig& connection) {
    std::string out = format_global_config(c);
    format_connection(out, connection, nullptr, "");
    return out;
}

std::vector<Endpoint> listen_endpoints(const DaemonConfig& config) {
    std::vector<Endpoint> out;
    auto add = [&](const std::string& host, std::uint16_t port) {
        Endpoint e{host, port};
        for (const auto& have : out) {
            if (have == e) return;
        }
        out.push_back(std::move(e));
    };
    for (const auto& la : config.listen_addresses) {
        if (la.port != 0) {
            add(la.host, la.port);
        } else {
            for (auto p : config.ports) add(la.host, p);
        }
    }
    return out;
}

twoway::Result<std::string> expand_authorized_keys_path(std::string_view pattern, const AccountInfo& account) {
    const std::string uid = std::to_string(account.uid);
    const config::Token tokens[] = {{'h', account.home}, {'u', account.user}, {'U', uid}};
    auto expanded = config::expand_tokens(pattern, tokens);
    if (!expanded || expanded->empty()) return twoway::fail(twoway::errc::invalid_argument);
    if (expanded->front() == '/') return std::move(*expanded);
    std::string home = account.home;
    if (!home.ends_with('/')) home += '/';
    return home + *expanded;
}

twoway::Result<std::vector<std::string>> authorized_keys_paths(const DaemonConfig& config, const AccountInfo& account) {
    std::vector<std::string> out;
    for (const auto& pattern : config.authorized_keys_files) {
        auto path = expand_authorized_keys_path(pattern, account);
        if (!path) return twoway::fail(path.error());
        out.push_back(std::move(*path));
    }
    return out;
}

}  // namespace twowayd
