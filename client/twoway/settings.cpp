#include "settings.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <pwd.h>
#include <unistd.h>

#include "home.hpp"
#include "log.hpp"

namespace twoway_client {


namespace {

ClientContext local_context() {
    ClientContext c;
    const struct passwd* pw = ::getpwuid(::getuid());
    if (pw != nullptr) c.local_user = pw->pw_name;
    if (c.local_user.empty()) c.local_user = std::to_string(::getuid());
    // $HOME when it is our own directory, else the password database's home (common/home.hpp says why:
    // ssh reads only the database; honouring a HOME of our own lets a person or a test use a throwaway
    // home, while a HOME another user owns, as sudo -E leaves it, could plant keys for us).
    twoway_common::Home home = twoway_common::home_directory();
    if (!home.note.empty()) log::debug(1, home.note);
    c.home = std::move(home.path);
    // Match exec's %l and %L, and its runner (/bin/sh -c).
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0) c.local_host = name;
    c.run_exec = run_match_exec;
    c.local_uid = std::to_string(::getuid());
    return c;
}

bool report(const ParsedClientConfig& c) {
    for (const auto& n : c.notes) log::debug(1, n.text());
    if (c.ok()) return true;
    for (const auto& e : c.errors) log::line(e.text());
    log::line(c.path + ": terminating, " + std::to_string(c.errors.size()) + " bad configuration options");
    return false;
}

const char* strict_name(StrictHostKeyChecking s) {
    switch (s) {
        case StrictHostKeyChecking::yes: return "true";
        case StrictHostKeyChecking::accept_new: return "accept-new";
        case StrictHostKeyChecking::no: return "false";
        case StrictHostKeyChecking::ask: return "ask";
    }
    return "ask";
}

}  // namespace

std::optional<ClientSettings> load_settings(const cli::CommandLine& line) {
    const ClientContext context = local_context();
    ParsedClientConfig overrides = parse_client_options(line.options);
    if (!report(overrides)) return std::nullopt;

    ParsedClientConfig file;
    if (line.config_file && *line.config_file == "none") {
        log::debug(1, "not reading a configuration file (-F none)");
    } else {
        const std::string path = line.config_file ? *line.config_file : context.home + "/.twoway/config";
        log::debug(1, "Reading configuration data " + path);
        file = load_client_config(path, context.home, overrides.ignore_unknown);
        if (!report(file)) return std::nullopt;
    }
    ClientSettings settings = resolve(file, line.host, overrides, context);
    if (!settings.errors.empty()) {
        for (const auto& e : settings.errors) log::line(e.text());
        return std::nullopt;
    }
    return settings;
}

void print_settings(const ClientSettings& s) {
    std::string out;
    out += "host " + s.host_alias + "\n";
    out += "hostname " + s.host_name + "\n";
    out += "port " + std::to_string(s.port) + "\n";
    out += "user " + s.user + "\n";
    out += "batchmode " + std::string(s.batch_mode ? "yes" : "no") + "\n";
    out += "hashknownhosts " + std::string(s.hash_known_hosts ? "yes" : "no") + "\n";
    out += "identitiesonly " + std::string(s.identities_only ? "yes" : "no") + "\n";
    for (const auto& f : s.local_forwards) {
        // ssh -G's form: "localforward [bind:]port host:hostport" (the listen part ends at the second-last ':'
        // outside brackets; printed as the two arguments the file gave).
        std::size_t split = std::string::npos;
        int colons = 0;
        bool bracket = false;
        for (std::size_t i = f.size(); i-- > 0;) {
            if (f[i] == ']') bracket = true;
            if (f[i] == '[') bracket = false;
            if (f[i] == ':' && !bracket && ++colons == 2) {
                split = i;
                break;
            }
        }
        out += "localforward " + (split == std::string::npos ? f : f.substr(0, split) + " " + f.substr(split + 1)) + "\n";
    }
    out += "identityagent " + s.identity_agent + "\n";
    {
        const AddKeysToAgent& k = s.add_keys_to_agent;
        std::string v = !k.add ? "no" : k.confirm ? "confirm" : k.lifetime != 0 ? "" : "yes";
        if (k.add && k.lifetime != 0) v += (v.empty() ? "" : " ") + std::to_string(k.lifetime);
        out += "addkeystoagent " + v + "\n";
    }
    out += "connecttimeout " + (s.connect_timeout ? std::to_string(*s.connect_timeout) : std::string("none")) + "\n";
    out += "loglevel " + s.log_level_name + "\n";
    out += "connectionattempts " + std::to_string(s.connection_attempts) + "\n";
    out += "serveraliveinterval " + std::to_string(s.server_alive_interval) + "\n";
    out += "serveralivecountmax " + std::to_string(s.server_alive_count_max) + "\n";
    out += "passwordauthentication " + std::string(s.password_authentication ? "yes" : "no") + "\n";
    out += "preferredauthentications ";
    for (std::size_t i = 0; i < s.preferred_authentications.size(); ++i) {
        out += (i > 0 ? "," : "") + std::string(auth_method_name(s.preferred_authentications[i]));
    }
    out += "\n";
    out += "numberofpasswordprompts " + std::to_string(s.number_of_password_prompts) + "\n";
    out += "updatehostkeysbypassword " + std::string(s.update_host_keys_by_password ? "yes" : "no") + "\n";
    out += "stricthostkeychecking " + std::string(strict_name(s.strict_host_key_checking)) + "\n";
    out += std::string("updatehostkeys ") +
           (s.update_host_keys == UpdateHostKeys::yes ? "true" : s.update_host_keys == UpdateHostKeys::ask ? "ask" : "false") +
           "\n";
    for (const auto& f : s.identity_files) out += "identityfile " + f + "\n";
    for (const auto& f : s.certificate_files) out += "certificatefile " + f + "\n";
    out += "userknownhostsfile";
    if (s.user_known_hosts_files.empty()) out += " none";
    for (const auto& f : s.user_known_hosts_files) out += " " + f;
    out += "\n";
    out += "revokedhostkeys " + s.revoked_host_keys.value_or("none") + "\n";
    const char* tty = s.request_tty == RequestTty::no      ? "false"
                      : s.request_tty == RequestTty::yes   ? "true"
                      : s.request_tty == RequestTty::force ? "force"
                                                           : "auto";
    out += std::string("requesttty ") + tty + "\n";
    out += std::string("clearallforwardings ") + (s.clear_all_forwardings ? "yes" : "no") + "\n";
    for (const auto& f : s.dynamic_forwards) out += "dynamicforward " + f + "\n";
    for (const auto& f : s.remote_forwards) {
        // As ssh -G: "remoteforward [bind_address]:port [host]:hostport" ("port ..." without an address).
        if (auto r = parse_remote_forward(f); r.forward) out += "remoteforward " + remote_forward_text(*r.forward) + "\n";
    }
    out += std::string("exitonforwardfailure ") + (s.exit_on_forward_failure ? "yes" : "no") + "\n";
    for (const auto& p : s.send_env) out += "sendenv " + p + "\n";
    if (s.escape_char < 0) {
        out += "escapechar none\n";
    } else if (s.escape_char < 0x20) {
        out += std::string("escapechar ^") + static_cast<char>(s.escape_char + 0x40) + "\n";
    } else {
        out += std::string("escapechar ") + static_cast<char>(s.escape_char) + "\n";
    }
    out += std::string("enableescapecommandline ") + (s.enable_escape_commandline ? "yes" : "no") + "\n";
    for (const auto& v : s.set_env) out += "setenv " + v + "\n";
    if (s.host_key_alias) out += "hostkeyalias " + *s.host_key_alias + "\n";
    // As ssh -G: the command as written (tokens unexpanded), the hops as given.
    if (s.proxy_command) out += "proxycommand " + s.proxy_command_text + "\n";
    if (!s.proxy_jump.empty()) {
        out += "proxyjump ";
        for (std::size_t i = 0; i < s.proxy_jump.size(); ++i) out += (i > 0 ? "," : "") + s.proxy_jump[i].spec;
        out += "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

}  // namespace twoway_client
