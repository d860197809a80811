// The twowayd.conf parser's insides, shared by its two source files: daemon_config.cpp (the file, the
// lines, the global keywords) and daemon_config_policy.cpp (sshd_config's access policy: the connection
// keywords, Match, Include, sshd's keywords that mean nothing for twoway). Not for use elsewhere.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <twoway/trust.hpp>

#include "config_syntax.hpp"
#include "daemon_config.hpp"
#include "sshd_keywords.hpp"

namespace twowayd::parser_detail {

namespace config = twoway_common::config;

enum class Key : std::size_t {
    port,
    listen_address,
    host_key,
    authorized_keys_file,
    revoked_keys,
    strict_modes,
    stealth_mode,
    login_grace_time,
    max_auth_tries,
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
    permit_listen,
    gateway_ports,
    accept_env,
    set_env,
    banner,
    client_alive_interval,
    client_alive_count_max,
    max_sessions,
    chroot_directory,
    authorized_keys_command,
    authorized_keys_command_user,
    trusted_user_ca_keys,
    authorized_principals_file,
    authorized_principals_command,
    authorized_principals_command_user,
    // global only
    pid_file,
    syslog_facility,
    use_pam,
    pam_service_name,
    permit_user_environment,
    print_motd,
    authorized_keys_command_timeout,
    host_certificate,
    password_authentication,
    opaque_key,
    opaque_records,
    per_user_max_password_failures,
    subsystem,
    count_,
};

// The ConnectionKey of a connection keyword, or nothing.
inline std::optional<ConnectionKey> connection_key(Key k) {
    if (k < Key::permit_root_login || k > Key::authorized_principals_command_user) return std::nullopt;
    return static_cast<ConnectionKey>(static_cast<std::size_t>(k) - static_cast<std::size_t>(Key::permit_root_login));
}

struct Keyword {
    std::string_view name;
    Key key;
    std::size_t max_args;  // 0: any number
};

inline constexpr std::array keywords{
    Keyword{"Port", Key::port, 1},
    Keyword{"ListenAddress", Key::listen_address, 1},
    Keyword{"HostKey", Key::host_key, 1},
    Keyword{"AuthorizedKeysFile", Key::authorized_keys_file, 0},
    Keyword{"RevokedKeys", Key::revoked_keys, 0},
    Keyword{"StrictModes", Key::strict_modes, 1},
    Keyword{"StealthMode", Key::stealth_mode, 1},
    Keyword{"LoginGraceTime", Key::login_grace_time, 1},
    Keyword{"MaxAuthTries", Key::max_auth_tries, 1},
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
    Keyword{"PermitListen", Key::permit_listen, 0},
    Keyword{"GatewayPorts", Key::gateway_ports, 1},
    Keyword{"AcceptEnv", Key::accept_env, 0},
    Keyword{"SetEnv", Key::set_env, 0},
    Keyword{"Banner", Key::banner, 1},
    Keyword{"ClientAliveInterval", Key::client_alive_interval, 1},
    Keyword{"ClientAliveCountMax", Key::client_alive_count_max, 1},
    Keyword{"MaxSessions", Key::max_sessions, 1},
    Keyword{"ChrootDirectory", Key::chroot_directory, 1},
    Keyword{"AuthorizedKeysCommand", Key::authorized_keys_command, 0},
    Keyword{"AuthorizedKeysCommandUser", Key::authorized_keys_command_user, 1},
    Keyword{"TrustedUserCAKeys", Key::trusted_user_ca_keys, 1},
    Keyword{"AuthorizedPrincipalsFile", Key::authorized_principals_file, 1},
    Keyword{"AuthorizedPrincipalsCommand", Key::authorized_principals_command, 0},
    Keyword{"AuthorizedPrincipalsCommandUser", Key::authorized_principals_command_user, 1},
    Keyword{"PidFile", Key::pid_file, 1},
    Keyword{"SyslogFacility", Key::syslog_facility, 1},
    Keyword{"UsePAM", Key::use_pam, 1},
    Keyword{"PAMServiceName", Key::pam_service_name, 1},
    Keyword{"PermitUserEnvironment", Key::permit_user_environment, 1},
    Keyword{"PrintMotd", Key::print_motd, 1},
    Keyword{"AuthorizedKeysCommandTimeout", Key::authorized_keys_command_timeout, 1},
    Keyword{"HostCertificate", Key::host_certificate, 1},
    Keyword{"PasswordAuthentication", Key::password_authentication, 1},
    Keyword{"OpaqueKey", Key::opaque_key, 1},
    Keyword{"OpaqueRecords", Key::opaque_records, 1},
    Keyword{"PerUserMaxPasswordFailures", Key::per_user_max_password_failures, 2},
    Keyword{"Subsystem", Key::subsystem, 0},
};

inline constexpr std::array<std::pair<std::string_view, PermitRootLogin>, 5> root_login_values{{
    {"yes", PermitRootLogin::yes},
    {"prohibit-password", PermitRootLogin::prohibit_password},
    {"without-password", PermitRootLogin::prohibit_password},
    {"forced-commands-only", PermitRootLogin::forced_commands_only},
    {"no", PermitRootLogin::no},
}};

inline constexpr std::array<std::string_view, 12> syslog_facilities{
    "DAEMON", "USER", "AUTH", "AUTHPRIV", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"};

// Port, ListenAddress, HostKey, Service, Subsystem lines (sshd: 256 ports, 256 subsystems)
inline constexpr std::size_t max_repeats = 256;
inline constexpr std::uint64_t max_int = 0x7fffffff;
// MaxAuthTries: sshd takes any int; beyond 64 client_auth messages per connection nothing is gained but
// pre-authentication work.
inline constexpr std::uint64_t max_auth_tries_limit = 64;

inline constexpr std::array<std::pair<std::string_view, LogLevel>, 9> log_levels{{
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


bool valid_service_name(std::string_view name);
bool valid_pam_service_name(std::string_view name);
// An address literal must be a valid one; anything else must at least look like a host name.
bool valid_address(std::string_view host);
std::string bad_port(std::string_view port);
// The text after the keyword and its separator, trailing blanks removed (ForceCommand's argument).
std::string rest_of_line(std::string_view text);
// An Address/LocalAddress list, or the host part of a user@host pattern.
bool valid_address_list(std::string_view list);
// AllowUsers/DenyUsers: "user" or "user@hostlist".
bool valid_user_pattern(std::string_view p);

class Parser {
public:
    Parser(std::string_view path, const IncludeReader* include) : path_(path), include_(include) {
        // A default list counts while it stands (AcceptEnv's LANG LC_*): -T prints it, and the printed
        // file reads it back as explicit lines.
        list_totals_[static_cast<std::size_t>(ConnectionKey::accept_env)] = config_.connection.accept_env.size();
    }

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
    void subsystem(const Keyword& kw, const std::vector<std::string>& args);
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
    // The patterns of each list keyword (AllowUsers ..., AcceptEnv) in the whole file, global and Match
    // blocks together: the cap is on the total, so that any connection's effective list (the blocks
    // that apply add up) stays within it, and -T -C prints what reads back.
    std::array<std::size_t, connection_key_count> list_totals_{};
    std::size_t number_ = 0;
    // The Match block lines belong to (nothing: global), and the criteria a Match in an included file
    // inherits from the block the Include was in.
    std::optional<std::size_t> block_;
    std::vector<MatchCriterion> inherited_;
};


}  // namespace twowayd::parser_detail
