// From a parsed config to the settings for one host: Host pattern matching, first-value-wins, and the
// expansion of ~ and %-tokens in file names. Pure: the local side comes in through ClientContext.
#include "client_config.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <utility>

#include <twoway/pattern.hpp>
#include <twoway/trust.hpp>

#include "config_syntax.hpp"
#include <twoway/text.hpp>

namespace twoway_client {

namespace config = twoway_common::config;

namespace {

// ssh's default list holds ~/.ssh/id_ed25519 among others; twoway's own key comes first.
constexpr std::array<std::string_view, 2> default_identity_files{"~/.twoway/id_ed25519", "~/.ssh/id_ed25519"};
constexpr std::string_view default_known_hosts_file = "~/.twoway/known_hosts";

// What the directives obtained so far; unset fields are still open to the next directive.
struct Obtained {
    std::optional<std::string> host_name;
    std::optional<std::uint16_t> port;
    std::optional<std::string> user;
    std::vector<std::string> identity_files;
    std::vector<std::string> certificate_files;
    std::optional<std::vector<std::string>> known_hosts_files;
    std::optional<StrictHostKeyChecking> strict;
    std::optional<std::string> revoked_host_keys;  // "" for none
    std::optional<bool> batch_mode;
    std::optional<bool> hash_known_hosts;
    std::optional<UpdateHostKeys> update_host_keys;
    std::optional<std::uint32_t> connect_timeout;
    std::optional<std::uint32_t> server_alive_interval;
    std::optional<std::uint32_t> server_alive_count_max;
    std::optional<bool> password_authentication;
    std::optional<std::vector<AuthMethod>> preferred_authentications;
    std::optional<std::uint32_t> number_of_password_prompts;
    std::optional<bool> update_host_keys_by_password;
    std::optional<RequestTty> request_tty;
    std::optional<bool> clear_all_forwardings;
    std::vector<std::string> dynamic_forwards;  // every DynamicForward line adds (ssh's)
    std::vector<std::string> remote_forwards;   // every RemoteForward line adds (ssh's)
    std::optional<bool> exit_on_forward_failure;
    std::optional<int> escape_char;
    std::optional<bool> enable_escape_commandline;
    // Every SendEnv line adds (as ssh's), to Debian's default (ClientSettings::send_env says why).
    std::vector<std::string> send_env{"LANG", "LC_*"};
    std::optional<std::string> host_key_alias;
    std::optional<std::vector<std::string>> set_env;
    std::optional<std::uint32_t> connection_attempts;
    std::optional<std::pair<LogLevel, std::string>> log_level;
    // ProxyCommand and ProxyJump share one slot, as in ssh's readconf.c: whichever comes first wins,
    // "none" included. A command (text, "" for none) or the jump hops.
    struct Proxy {
        bool jump = false;
        std::string command;
        std::vector<JumpHost> hops;
    };
    std::optional<Proxy> proxy;
    std::optional<bool> identities_only;
    std::optional<std::string> identity_agent;
    std::optional<AddKeysToAgent> add_keys_to_agent;
    std::vector<std::string> local_forwards;  // every line adds (as ssh's forwards)

    void take(const ClientDirective& d) {
        switch (d.keyword) {
            case ClientKeyword::host_name:
                if (!host_name) host_name = d.text;
                break;
            case ClientKeyword::port:
                if (!port) port = static_cast<std::uint16_t>(d.number);
                break;
            case ClientKeyword::user:
                if (!user) user = d.text;
                break;
            case ClientKeyword::identity_file: identity_files.push_back(d.text); break;
            case ClientKeyword::certificate_file: certificate_files.push_back(d.text); break;
            case ClientKeyword::strict_host_key_checking:
                if (!strict) strict = d.strict;
                break;
            case ClientKeyword::user_known_hosts_file:
                if (!known_hosts_files) known_hosts_files = d.files;
                break;
            case ClientKeyword::revoked_host_keys:
                if (!revoked_host_keys) revoked_host_keys = d.text;
                break;
            case ClientKeyword::batch_mode:
                if (!batch_mode) batch_mode = d.flag;
                break;
            case ClientKeyword::hash_known_hosts:
                if (!hash_known_hosts) hash_known_hosts = d.flag;
                break;
            case ClientKeyword::update_host_keys:
                if (!update_host_keys) update_host_keys = d.update;
                break;
            case ClientKeyword::connect_timeout:
                if (!connect_timeout) connect_timeout = d.number;
                break;
            case ClientKeyword::server_alive_interval:
                if (!server_alive_interval) server_alive_interval = d.number;
                break;
            case ClientKeyword::server_alive_count_max:
                if (!server_alive_count_max) server_alive_count_max = d.number;
                break;
            case ClientKeyword::password_authentication:
                if (!password_authentication) password_authentication = d.flag;
                break;
            case ClientKeyword::preferred_authentications:
                if (!preferred_authentications) preferred_authentications = d.methods;
                break;
            case ClientKeyword::number_of_password_prompts:
                if (!number_of_password_prompts) number_of_password_prompts = d.number;
                break;
            case ClientKeyword::update_host_keys_by_password:
                if (!update_host_keys_by_password) update_host_keys_by_password = d.flag;
                break;
            case ClientKeyword::request_tty:
                if (!request_tty) request_tty = d.tty;
                break;
            case ClientKeyword::escape_char:
                if (!escape_char) escape_char = d.escape;
                break;
            case ClientKeyword::enable_escape_commandline:
                if (!enable_escape_commandline) enable_escape_commandline = d.flag;
                break;
            case ClientKeyword::clear_all_forwardings:
                if (!clear_all_forwardings) clear_all_forwardings = d.flag;
                break;
            case ClientKeyword::dynamic_forward:
                // As ssh's add_local_forward(): a duplicate adds nothing; bounded like the other lists.
                if (std::find(dynamic_forwards.begin(), dynamic_forwards.end(), d.text) == dynamic_forwards.end() &&
                    dynamic_forwards.size() < max_dynamic_forwards) {
                    dynamic_forwards.push_back(d.text);
                }
                break;
            case ClientKeyword::remote_forward:
                // As ssh's add_remote_forward(): a duplicate adds nothing; bounded like the other lists.
                if (std::find(remote_forwards.begin(), remote_forwards.end(), d.text) == remote_forwards.end() &&
                    remote_forwards.size() < max_remote_forwards) {
                    remote_forwards.push_back(d.text);
                }
                break;
            case ClientKeyword::exit_on_forward_failure:
                if (!exit_on_forward_failure) exit_on_forward_failure = d.flag;
                break;
            case ClientKeyword::log_level:
                if (!log_level) log_level.emplace(d.log, d.text);
                break;
            case ClientKeyword::connection_attempts:
                if (!connection_attempts) connection_attempts = d.number;
                break;
            case ClientKeyword::identities_only:
                if (!identities_only) identities_only = d.flag;
                break;
            case ClientKeyword::identity_agent:
                if (!identity_agent) identity_agent = d.text;
                break;
            case ClientKeyword::add_keys_to_agent:
                if (!add_keys_to_agent) add_keys_to_agent = d.add_keys;
                break;
            case ClientKeyword::local_forward: local_forwards.push_back(d.text); break;
            case ClientKeyword::set_env:
                if (!set_env) {
                    set_env.emplace();
                    for (const auto& v : d.files) {
                        const std::string_view name = std::string_view(v).substr(0, v.find('='));
                        const bool seen = std::any_of(set_env->begin(), set_env->end(), [&](const std::string& w) {
                            return std::string_view(w).substr(0, w.find('=')) == name;
                        });
                        if (!seen) set_env->push_back(v);
                    }
                }
                break;
            case ClientKeyword::host_key_alias:
                if (!host_key_alias) host_key_alias = d.text;
                break;
            case ClientKeyword::proxy_command:
                if (!proxy) proxy = Proxy{false, d.text, {}};
                break;
            case ClientKeyword::proxy_jump:
                if (!proxy) proxy = Proxy{true, {}, d.jumps};
                break;
            case ClientKeyword::send_env:
                for (const auto& p : d.files) {
                    if (p.starts_with('-')) {
                        // As ssh: "-pattern" removes the patterns sent so far that it matches.
                        const std::string_view neg = std::string_view(p).substr(1);
                        std::erase_if(send_env, [&](const std::string& q) { return twoway::match_pattern(neg, q); });
                    } else if (std::find(send_env.begin(), send_env.end(), p) == send_env.end()) {
                        send_env.push_back(p);
                    }
                }
                break;
        }
    }
};

// ~ then %-tokens, in that order as ssh does (so a token's value is never tilde-expanded).
std::string expand_path(std::string_view path, const ClientContext& context, std::span<const config::Token> tokens) {
    std::string tilde;
    if (path == "~" || path.starts_with("~/")) {
        tilde = context.home + std::string(path.substr(1));
    } else {
        tilde = std::string(path);
    }
    // The parser accepted only known tokens, so expansion cannot fail; keep the text if it somehow does.
    auto expanded = config::expand_tokens(tilde, tokens);
    return expanded ? std::move(*expanded) : tilde;
}

}  // namespace

bool host_matches(std::span<const HostPattern> patterns, std::string_view host) {
    const std::string name = twoway::ascii_lower(host);
    bool positive = false;
    for (const auto& p : patterns) {
        if (!twoway::match_pattern(twoway::ascii_lower(p.pattern), name)) continue;
        if (p.negated) return false;  // a negated match voids the whole Host line
        positive = true;
    }
    return positive;
}

namespace {

// Like host_matches, for the pattern lists of Match user and localuser: case-sensitive, as ssh's.
bool list_matches(std::span<const HostPattern> patterns, std::string_view text) {
    bool positive = false;
    for (const auto& p : patterns) {
        if (!twoway::match_pattern(p.pattern, text)) continue;
        if (p.negated) return false;
        positive = true;
    }
    return positive;
}

// One pass over the file, as ssh's: blocks are evaluated where they stand, with what was obtained so far.
class Pass {
public:
    Pass(const ParsedClientConfig& config, const ClientContext& context, std::string_view alias, bool final_pass,
         std::vector<twoway::Diagnostic>& errors)
        : config_(config), context_(context), alias_(alias), final_pass_(final_pass), errors_(errors) {}

    // Returns whether a reached Match line asked for a final pass.
    bool run(Obtained& got, std::string_view host_for_host_lines) {
        host_ = host_for_host_lines;
        std::vector<bool> active(config_.blocks.size(), false);
        std::size_t next = 0;
        auto reach = [&](std::size_t directive) {
            for (; next < config_.blocks.size() && config_.blocks[next].first_directive <= directive && !stopped_; ++next) {
                active[next] = applies(next, active, got);
            }
        };
        for (std::size_t i = 0; i < config_.directives.size() && !stopped_; ++i) {
            reach(i);
            const auto& d = config_.directives[i];
            if (!stopped_ && d.block < active.size() && active[d.block]) got.take(d);
        }
        reach(static_cast<std::size_t>(-1));
        return want_final_;
    }

private:
    bool applies(std::size_t i, const std::vector<bool>& active, const Obtained& got) {
        const HostBlock& b = config_.blocks[i];
        if (i == 0) return true;
        // A block of an included file applies only when the Include line's block does; its Match
        // lines are then not evaluated at all (no exec runs for a block that cannot apply).
        if (b.parent != no_parent && (b.parent >= i || !active[b.parent])) return false;
        if (!b.match) return host_matches(b.patterns, host_);
        return match(b, got);
    }

    bool match(const HostBlock& b, const Obtained& got) {
        // As ssh's match_cfg_line(): the host is HostName so far (its %h expanded) or the alias, the
        // user User so far or the local user.
        std::string host = std::string(alias_);
        if (got.host_name) {
            const std::array h{config::Token{'h', alias_}};
            if (auto e = config::expand_tokens(*got.host_name, h)) host = std::move(*e);
        }
        host = twoway::ascii_lower(host);
        const std::string& ruser = got.user ? *got.user : context_.local_user;
        bool result = true;
        for (const auto& c : b.conditions) {
            bool r = false;
            switch (c.criterion) {
                case MatchCriterion::all: r = true; break;
                case MatchCriterion::canonical:
                case MatchCriterion::final:
                    // twoway never canonicalizes host names: both hold only in the final pass, which
                    // a reached "final" (not "!final") asks for, as ssh with CanonicalizeHostname no.
                    if (c.criterion == MatchCriterion::final && !c.negated) want_final_ = true;
                    r = final_pass_;
                    break;
                case MatchCriterion::host: r = host_matches(c.patterns, host); break;
                case MatchCriterion::original_host: r = host_matches(c.patterns, alias_); break;
                case MatchCriterion::user: r = list_matches(c.patterns, ruser); break;
                case MatchCriterion::local_user: r = list_matches(c.patterns, context_.local_user); break;
                case MatchCriterion::exec: {
                    if (!result) continue;  // as ssh: not run when an earlier criterion already failed
                    const std::string port = std::to_string(got.port.value_or(twoway::default_port));
                    const std::string_view local = context_.local_host;
                    const std::array tokens{
                        config::Token{'d', context_.home},  config::Token{'h', host},
                        config::Token{'l', local},          config::Token{'L', local.substr(0, local.find('.'))},
                        config::Token{'n', alias_},         config::Token{'p', port},
                        config::Token{'r', ruser},          config::Token{'u', context_.local_user},
                    };
                    const auto command = config::expand_tokens(c.command, tokens);
                    if (!command || !context_.run_exec) break;  // no runner (the fuzz target): no match
                    const auto status = context_.run_exec(*command);
                    if (!status) {
                        errors_.push_back(twoway::Diagnostic{b.where, "Match exec " + twoway::quoted(*command) + " error"});
                        stopped_ = true;
                        return false;
                    }
                    r = *status == 0;
                    break;
                }
            }
            if (r == c.negated) result = false;
        }
        return result;
    }

    const ParsedClientConfig& config_;
    const ClientContext& context_;
    std::string_view alias_;
    bool final_pass_;
    std::vector<twoway::Diagnostic>& errors_;
    std::string_view host_;
    bool want_final_ = false;
    bool stopped_ = false;
};

std::string escape_percent(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '%') out += '%';
        out += c;
    }
    return out;
}

}  // namespace

ClientSettings resolve(const ParsedClientConfig& config, std::string_view host_alias, const ParsedClientConfig& cli_overrides,
                       const ClientContext& context) {
    ClientSettings out;
    out.host_alias = twoway::ascii_lower(host_alias);

    Obtained got;
    for (const auto& d : cli_overrides.directives) got.take(d);
    const bool want_final = Pass(config, context, out.host_alias, false, out.errors).run(got, out.host_alias);
    if (want_final && out.errors.empty()) {
        // ssh's final pass: HostName is now the one resolved, Host lines match it, and "canonical" and
        // "final" hold; values obtained in the first pass stay (first value wins).
        std::string host_name = out.host_alias;
        if (got.host_name) {
            const std::array h{config::Token{'h', std::string_view(out.host_alias)}};
            if (auto e = config::expand_tokens(*got.host_name, h)) host_name = std::move(*e);
        }
        host_name = twoway::ascii_lower(host_name);
        got.host_name = escape_percent(host_name);
        (void)Pass(config, context, out.host_alias, true, out.errors).run(got, host_name);
    }

    if (got.host_name) {
        const std::array tokens{config::Token{'h', out.host_alias}};
        auto expanded = config::expand_tokens(*got.host_name, tokens);
        out.host_name = expanded ? std::move(*expanded) : *got.host_name;
    } else {
        out.host_name = out.host_alias;
    }
    out.port = got.port.value_or(twoway::default_port);
    out.user = got.user.value_or(context.local_user);
    out.strict_host_key_checking = got.strict.value_or(StrictHostKeyChecking::ask);
    out.batch_mode = got.batch_mode.value_or(false);
    out.hash_known_hosts = got.hash_known_hosts.value_or(false);
    // ssh: enabled by default unless the user overrode UserKnownHostsFile (its file may not be the one
    // the user means keys to be learned into).
    out.update_host_keys = got.update_host_keys.value_or(got.known_hosts_files ? UpdateHostKeys::no : UpdateHostKeys::yes);
    if (got.connect_timeout && *got.connect_timeout != 0) out.connect_timeout = *got.connect_timeout;
    out.server_alive_interval = got.server_alive_interval.value_or(0);
    out.server_alive_count_max = got.server_alive_count_max.value_or(3);
    out.password_authentication = got.password_authentication.value_or(true);
    if (got.preferred_authentications) out.preferred_authentications = *got.preferred_authentications;
    out.number_of_password_prompts = got.number_of_password_prompts.value_or(3);
    out.update_host_keys_by_password = got.update_host_keys_by_password.value_or(false);
    out.request_tty = got.request_tty.value_or(RequestTty::automatic);
    out.clear_all_forwardings = got.clear_all_forwardings.value_or(false);
    out.dynamic_forwards = got.dynamic_forwards;
    out.remote_forwards = got.remote_forwards;
    out.exit_on_forward_failure = got.exit_on_forward_failure.value_or(false);
    out.escape_char = got.escape_char.value_or('~');
    out.enable_escape_commandline = got.enable_escape_commandline.value_or(true);
    out.send_env = got.send_env;
    if (got.set_env) out.set_env = *got.set_env;
    out.connection_attempts = got.connection_attempts.value_or(1);
    if (got.log_level) {
        out.log_level = got.log_level->first;
        out.log_level_name = got.log_level->second;
    }
    if (got.host_key_alias) out.host_key_alias = twoway::ascii_lower(*got.host_key_alias);

    const std::string port = std::to_string(out.port);
    const std::array tokens{
        config::Token{'d', context.home}, config::Token{'h', out.host_name}, config::Token{'p', port},
        config::Token{'r', out.user},     config::Token{'u', context.local_user},
    };
    if (got.identity_files.empty()) got.identity_files.assign(default_identity_files.begin(), default_identity_files.end());
    out.identities_only = got.identities_only.value_or(false);
    out.local_forwards = got.local_forwards;
    out.add_keys_to_agent = got.add_keys_to_agent.value_or(AddKeysToAgent{});
    if (got.identity_agent) {
        const std::string& a = *got.identity_agent;
        out.identity_agent = a == "none" || a == "SSH_AUTH_SOCK" ? a : expand_path(a, context, tokens);
    }
    for (const auto& f : got.identity_files) {
        std::string path = expand_path(f, context, tokens);
        if (std::find(out.identity_files.begin(), out.identity_files.end(), path) != out.identity_files.end()) continue;
        if (out.identity_files.size() == max_identity_files) break;
        out.identity_files.push_back(std::move(path));
    }
    for (const auto& f : got.certificate_files) {
        std::string path = expand_path(f, context, tokens);
        if (std::find(out.certificate_files.begin(), out.certificate_files.end(), path) != out.certificate_files.end()) continue;
        if (out.certificate_files.size() == max_identity_files) break;
        out.certificate_files.push_back(std::move(path));
    }
    const auto known = got.known_hosts_files.value_or(std::vector<std::string>{std::string(default_known_hosts_file)});
    for (const auto& f : known) out.user_known_hosts_files.push_back(expand_path(f, context, tokens));
    if (got.revoked_host_keys && !got.revoked_host_keys->empty()) {
        out.revoked_host_keys = expand_path(*got.revoked_host_keys, context, tokens);
    }
    if (got.proxy && got.proxy->jump) out.proxy_jump = got.proxy->hops;
    if (got.proxy && !got.proxy->jump && !got.proxy->command.empty()) {
        // ssh's expand_proxy_command(): %k is HostKeyAlias, else the name given.
        const std::string_view local = context.local_host;
        const std::array proxy_tokens{
            config::Token{'d', context.home},
            config::Token{'h', out.host_name},
            config::Token{'i', context.local_uid},
            config::Token{'k', out.host_key_alias ? std::string_view(*out.host_key_alias) : std::string_view(out.host_alias)},
            config::Token{'L', local.substr(0, local.find('.'))},
            config::Token{'l', local},
            config::Token{'n', out.host_alias},
            config::Token{'p', port},
            config::Token{'r', out.user},
            config::Token{'u', context.local_user},
        };
        out.proxy_command_text = got.proxy->command;
        auto expanded = config::expand_tokens(got.proxy->command, proxy_tokens);
        out.proxy_command = expanded ? std::move(*expanded) : got.proxy->command;
    }
    return out;
}

}  // namespace twoway_client
