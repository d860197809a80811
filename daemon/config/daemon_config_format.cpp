// twowayd -T: the configuration as text, in the manner of sshd -T (daemon_config.hpp). It reads back
// as the same configuration (the fuzz target checks it).
#include <array>
#include <string>

#include "config_syntax.hpp"
#include "daemon_config.hpp"

namespace twowayd {

namespace config = twoway_common::config;

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
    // A value that starts with '=' follows "keyword=": after a blank the reader would take that '=' for
    // the separator (sshd's rule, one '=' at most), and ForceCommand "=x" would read back as "x".
    const auto line = [&](std::string_view keyword, const std::string& value) {
        out.append(indent).append(keyword).append(value.starts_with('=') ? "= " : " ").append(value).append("\n");
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
        line("forcecommand", c.force_command ? c.force_command->value : std::string("none"));
    }
    if (want(ConnectionKey::permit_tty)) line("permittty", yes_no(c.permit_tty.value));
    if (want(ConnectionKey::disable_forwarding)) line("disableforwarding", yes_no(c.disable_forwarding.value));
    if (want(ConnectionKey::allow_tcp_forwarding)) {
        const bool local = c.allow_tcp_forwarding.value;
        const bool remote = c.allow_remote_forwarding.value;
        line("allowtcpforwarding", local && remote ? "yes" : local ? "local" : remote ? "remote" : "no");
    }
    if (want(ConnectionKey::permit_service)) {
        line("permitservice", !c.permit_service ? std::string("any")
                              : c.permit_service->empty() ? std::string("none")
                                                          : list_text(*c.permit_service));
    }
    if (want(ConnectionKey::permit_open)) {
        line("permitopen", !c.permit_open.value ? std::string("any")
                           : c.permit_open.value->empty() ? std::string("none")
                                                          : list_text(*c.permit_open.value));
    }
    if (want(ConnectionKey::permit_listen)) {
        line("permitlisten", !c.permit_listen.value ? std::string("any")
                             : c.permit_listen.value->empty() ? std::string("none")
                                                              : list_text(*c.permit_listen.value));
    }
    if (want(ConnectionKey::gateway_ports)) {
        const auto g = c.gateway_ports.value;
        line("gatewayports", g == GatewayPorts::yes ? "yes" : g == GatewayPorts::clientspecified ? "clientspecified" : "no");
    }
    if (want(ConnectionKey::accept_env)) {
        // An empty list (AcceptEnv none, or every name past the file's cap) prints so: printing nothing
        // would read back as the default LANG LC_*.
        if (c.accept_env.empty()) line("acceptenv", "none");
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
    if (want(ConnectionKey::trusted_user_ca_keys)) line("trustedusercakeys", config::quote_arg(c.trusted_user_ca_keys));
    if (want(ConnectionKey::authorized_principals_file)) {
        line("authorizedprincipalsfile", config::quote_arg(c.authorized_principals_file));
    }
    if (want(ConnectionKey::authorized_principals_command)) {
        line("authorizedprincipalscommand", c.authorized_principals_command);
    }
    if (want(ConnectionKey::authorized_principals_command_user)) {
        line("authorizedprincipalscommanduser", config::quote_arg(c.authorized_principals_command_user));
    }
}

std::string format_global_config(const DaemonConfig& c) {
    std::string out;
    const auto line = [&out](std::string_view keyword, const std::string& value) {  // as format_connection_config's
        out.append(keyword).append(value.starts_with('=') ? "= " : " ").append(value).append("\n");
    };
    const auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
    for (auto p : c.ports) line("port", std::to_string(p));
    for (const auto& la : c.listen_addresses) line("listenaddress", config::quote_arg(host_port_text(la.host, la.port)));
    for (const auto& k : c.host_keys) line("hostkey", config::quote_arg(k));
    for (const auto& k : c.host_certificates) line("hostcertificate", config::quote_arg(k));
    line("authorizedkeysfile", file_list_text(c.authorized_keys_files));
    line("revokedkeys", file_list_text(c.revoked_keys_files));
    line("strictmodes", yes_no(c.strict_modes));
    line("stealthmode", yes_no(c.stealth_mode));
    line("logingracetime", std::to_string(c.login_grace_time));
    line("maxauthtries", std::to_string(c.max_auth_tries));
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
    for (const auto& s : c.subsystems) {
        // As sshd -T ("subsystem sftp /usr/lib/openssh/sftp-server"); each word quoted where it must be,
        // so the line reads back as the same words.
        std::string value = config::quote_arg(s.name);
        for (const auto& w : s.words) value += " " + config::quote_arg(w);
        line("subsystem", value);
    }
    line("pidfile", config::quote_arg(c.pid_file));
    line("syslogfacility", c.syslog_facility);
    line("usepam", yes_no(c.use_pam));
    line("pamservicename", c.pam_service_name);
    line("permituserenvironment", config::quote_arg(c.permit_user_environment));
    line("printmotd", yes_no(c.print_motd));
    line("authorizedkeyscommandtimeout", std::to_string(c.authorized_keys_command_timeout));
    line("passwordauthentication", yes_no(c.password_authentication));
    line("opaquekey", config::quote_arg(c.opaque_key));
    line("opaquerecords", config::quote_arg(c.opaque_records));
    line("perusermaxpasswordfailures", c.per_user_max_password_failures == 0
                                           ? std::string("none")
                                           : std::to_string(c.per_user_max_password_failures) + " " +
                                                 std::to_string(c.password_failure_window));
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
        if (m.password_authentication) {
            out += std::string("    passwordauthentication ") + (m.password_authentication->value ? "yes" : "no") + "\n";
        }
    }
    return out;
}

std::string format_connection_config(const DaemonConfig& c, const ConnectionConfig& connection) {
    std::string out = format_global_config(c);
    format_connection(out, connection, nullptr, "");
    return out;
}


}  // namespace twowayd
