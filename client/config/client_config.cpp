// Parsing ~/.twoway/config and -o options: one keyword parser for both, validating every value where it
// is written (whichever hosts it would apply to), so a typo is reported even in a block not used now.
#include "client_config.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <twoway/pattern.hpp>
#include <twoway/session.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "config_syntax.hpp"
#include <twoway/text.hpp>

namespace twoway_client {

// The programs' config lexer and text helpers (common/), shared with twowayd's parser.
namespace config = twoway_common::config;
using twoway::Location;
using twoway::TextLines;

namespace {

enum class Key { host, match, include, ignore_unknown, directive };

struct Keyword {
    std::string_view name;
    Key key;
    ClientKeyword directive;
    std::size_t max_args;  // 0: any number
};

constexpr std::array keywords{
    Keyword{"Host", Key::host, ClientKeyword::host_name, 0},
    Keyword{"Match", Key::match, ClientKeyword::host_name, 0},
    Keyword{"Include", Key::include, ClientKeyword::host_name, 0},
    Keyword{"IgnoreUnknown", Key::ignore_unknown, ClientKeyword::host_name, 1},
    Keyword{"HostName", Key::directive, ClientKeyword::host_name, 1},
    Keyword{"Port", Key::directive, ClientKeyword::port, 1},
    Keyword{"User", Key::directive, ClientKeyword::user, 1},
    Keyword{"IdentityFile", Key::directive, ClientKeyword::identity_file, 1},
    Keyword{"CertificateFile", Key::directive, ClientKeyword::certificate_file, 1},
    Keyword{"StrictHostKeyChecking", Key::directive, ClientKeyword::strict_host_key_checking, 1},
    Keyword{"UserKnownHostsFile", Key::directive, ClientKeyword::user_known_hosts_file, 0},
    Keyword{"RevokedHostKeys", Key::directive, ClientKeyword::revoked_host_keys, 1},
    Keyword{"BatchMode", Key::directive, ClientKeyword::batch_mode, 1},
    Keyword{"HashKnownHosts", Key::directive, ClientKeyword::hash_known_hosts, 1},
    Keyword{"ConnectTimeout", Key::directive, ClientKeyword::connect_timeout, 1},
    Keyword{"ServerAliveInterval", Key::directive, ClientKeyword::server_alive_interval, 1},
    Keyword{"ServerAliveCountMax", Key::directive, ClientKeyword::server_alive_count_max, 1},
    Keyword{"UpdateHostKeys", Key::directive, ClientKeyword::update_host_keys, 1},
    Keyword{"PasswordAuthentication", Key::directive, ClientKeyword::password_authentication, 1},
    Keyword{"PreferredAuthentications", Key::directive, ClientKeyword::preferred_authentications, 1},
    Keyword{"NumberOfPasswordPrompts", Key::directive, ClientKeyword::number_of_password_prompts, 1},
    Keyword{"UpdateHostKeysByPassword", Key::directive, ClientKeyword::update_host_keys_by_password, 1},
    Keyword{"RequestTTY", Key::directive, ClientKeyword::request_tty, 1},
    Keyword{"ClearAllForwardings", Key::directive, ClientKeyword::clear_all_forwardings, 1},
    Keyword{"DynamicForward", Key::directive, ClientKeyword::dynamic_forward, 1},
    Keyword{"EscapeChar", Key::directive, ClientKeyword::escape_char, 1},
    Keyword{"EnableEscapeCommandline", Key::directive, ClientKeyword::enable_escape_commandline, 1},
    Keyword{"SendEnv", Key::directive, ClientKeyword::send_env, 0},
    Keyword{"HostKeyAlias", Key::directive, ClientKeyword::host_key_alias, 1},
    Keyword{"SetEnv", Key::directive, ClientKeyword::set_env, 0},
    Keyword{"ConnectionAttempts", Key::directive, ClientKeyword::connection_attempts, 1},
    Keyword{"LogLevel", Key::directive, ClientKeyword::log_level, 1},
    Keyword{"ProxyCommand", Key::directive, ClientKeyword::proxy_command, 0},
    Keyword{"ProxyJump", Key::directive, ClientKeyword::proxy_jump, 1},
    Keyword{"IdentitiesOnly", Key::directive, ClientKeyword::identities_only, 1},
    Keyword{"IdentityAgent", Key::directive, ClientKeyword::identity_agent, 1},
    Keyword{"AddKeysToAgent", Key::directive, ClientKeyword::add_keys_to_agent, 2},
    Keyword{"LocalForward", Key::directive, ClientKeyword::local_forward, 2},
    Keyword{"RemoteForward", Key::directive, ClientKeyword::remote_forward, 2},
    Keyword{"ExitOnForwardFailure", Key::directive, ClientKeyword::exit_on_forward_failure, 1},
};

// ssh_config keywords twoway does not implement but that OpenSSH's own tools pass to their transport
// (scp, sftp, rsync, git): each accepted with a note because it has no meaning for twoway, or, when
// `accepted` is not empty, accepted only with one of those values (any case) and refused otherwise,
// because ignoring another value would change what the user asked for.
struct ForeignKeyword {
    std::string_view name;
    std::span<const std::string_view> accepted;
    std::string_view why;
};
constexpr std::array<std::string_view, 0> any_value{};
constexpr std::array<std::string_view, 2> only_no{"no", "false"};
constexpr std::array<std::string_view, 2> only_yes{"yes", "true"};
constexpr std::array<std::string_view, 1> only_none{"none"};
constexpr std::array<std::string_view, 1> only_any{"any"};
constexpr std::array<std::string_view, 1> only_default{"default"};
constexpr std::array<std::string_view, 1> only_sha256{"sha256"};
constexpr std::string_view no_sharing = "twoway has no connection sharing: every connection is its own";
constexpr std::string_view no_gssapi = "twoway has no GSSAPI (Kerberos) authentication";
constexpr std::string_view no_canonical = "twoway does not canonicalize host names";
constexpr std::string_view no_x11 = "twoway has no X11 forwarding";
constexpr std::string_view no_hostbased = "twoway has no host-based authentication";
constexpr std::string_view not_yet = "not supported yet";
constexpr std::string_view deprecated = "OpenSSH ignores it too: deprecated";
// Every ssh_config keyword of OpenSSH 9.2 that twoway does not implement, with docs/CONFIG.md's
// client table saying why each is where it is.
constexpr std::array foreign_keywords{
    ForeignKeyword{"AddressFamily", only_any, "not supported yet: use -4 or -6"},
    ForeignKeyword{"CanonicalDomains", any_value, no_canonical},
    ForeignKeyword{"CanonicalizeFallbackLocal", any_value, no_canonical},
    ForeignKeyword{"CanonicalizeHostname", only_no, no_canonical},
    ForeignKeyword{"CanonicalizeMaxDots", any_value, no_canonical},
    ForeignKeyword{"CanonicalizePermittedCNAMEs", any_value, no_canonical},
    ForeignKeyword{"ChallengeResponseAuthentication", any_value, "twoway has no keyboard-interactive authentication"},
    ForeignKeyword{"CheckHostIP", any_value, "twoway checks the host key by the host's name only"},
    ForeignKeyword{"Compression", any_value, "twoway does not compress"},
    ForeignKeyword{"ControlMaster", any_value, no_sharing},
    ForeignKeyword{"ControlPath", any_value, no_sharing},
    ForeignKeyword{"ControlPersist", any_value, no_sharing},
    ForeignKeyword{"EnableSSHKeysign", any_value, no_hostbased},
    ForeignKeyword{"FingerprintHash", only_sha256, "twoway shows SHA256 fingerprints only"},
    ForeignKeyword{"ForkAfterAuthentication", only_no, "not supported yet"},
    ForeignKeyword{"ForwardAgent", only_no, "twoway has no agent forwarding"},
    ForeignKeyword{"ForwardX11", only_no, no_x11},
    ForeignKeyword{"ForwardX11Timeout", any_value, no_x11},
    ForeignKeyword{"ForwardX11Trusted", any_value, no_x11},
    ForeignKeyword{"GatewayPorts", only_no, "not supported yet: forwarded ports listen on the loopback only"},
    ForeignKeyword{"GSSAPIAuthentication", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIClientIdentity", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIDelegateCredentials", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIKexAlgorithms", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIKeyExchange", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIRenewalForcesRekey", any_value, no_gssapi},
    ForeignKeyword{"GSSAPIServerIdentity", any_value, no_gssapi},
    ForeignKeyword{"GSSAPITrustDns", any_value, no_gssapi},
    ForeignKeyword{"HostbasedAcceptedAlgorithms", any_value, no_hostbased},
    ForeignKeyword{"HostbasedAuthentication", any_value, no_hostbased},
    ForeignKeyword{"IPQoS", any_value, "twoway sets no IP type of service"},
    ForeignKeyword{"KbdInteractiveAuthentication", any_value, "twoway has no keyboard-interactive authentication"},
    ForeignKeyword{"KbdInteractiveDevices", any_value, "twoway has no keyboard-interactive authentication"},
    ForeignKeyword{"KnownHostsCommand", only_none, "not supported yet"},
    ForeignKeyword{"LocalCommand", any_value, "twoway runs no LocalCommand"},
    ForeignKeyword{"LogVerbose", any_value, "twoway has no per-function logging"},
    ForeignKeyword{"MACs", any_value, "twoway's one cipher, ChaCha20-Poly1305, carries its own tag"},
    ForeignKeyword{"NoHostAuthenticationForLocalhost", any_value, "twoway always authenticates the host"},
    ForeignKeyword{"PermitLocalCommand", any_value, "twoway runs no LocalCommand"},
    ForeignKeyword{"PermitRemoteOpen", any_value, "twoway has no remote dynamic forwarding"},
    ForeignKeyword{"PKCS11Provider", only_none, "not supported yet"},
    ForeignKeyword{"ProxyUseFdpass", only_no, "not supported yet: twoway talks through the ProxyCommand's standard input and output"},
    ForeignKeyword{"PubkeyAuthentication", only_yes, "not supported yet: use PreferredAuthentications password"},
    ForeignKeyword{"RekeyLimit", any_value, "twoway does not rekey: records are numbered by a 64-bit sequence under one session key"},
    ForeignKeyword{"RemoteCommand", only_none, "not supported yet: give the command on the command line"},
    ForeignKeyword{"RequiredRSASize", any_value, "twoway uses no RSA keys"},
    ForeignKeyword{"SecurityKeyProvider", any_value, "twoway uses no security keys"},
    ForeignKeyword{"SessionType", only_default, "not supported yet: use -N or -s"},
    ForeignKeyword{"StdinNull", only_no, "not supported yet: use -n"},
    ForeignKeyword{"StreamLocalBindMask", any_value, "twoway forwards no Unix sockets"},
    ForeignKeyword{"StreamLocalBindUnlink", any_value, "twoway forwards no Unix sockets"},
    ForeignKeyword{"SyslogFacility", any_value, "twoway logs to standard error only"},
    ForeignKeyword{"TCPKeepAlive", any_value, "twoway sets no TCP keep-alives: see ServerAliveInterval"},
    ForeignKeyword{"Tunnel", only_no, "twoway has no tun device forwarding"},
    ForeignKeyword{"TunnelDevice", any_value, "twoway has no tun device forwarding"},
    ForeignKeyword{"VerifyHostKeyDNS", any_value, "twoway trusts host keys from known_hosts only"},
    ForeignKeyword{"VisualHostKey", any_value, "twoway shows no host key art"},
    ForeignKeyword{"XAuthLocation", any_value, no_x11},
    // Keywords OpenSSH 9.2 still reads and ignores itself ("Deprecated option"/"Unsupported option"), so
    // that an old file works: twoway does the same.
    ForeignKeyword{"Cipher", any_value, deprecated},
    ForeignKeyword{"CompressionLevel", any_value, deprecated},
    ForeignKeyword{"FallBackToRsh", any_value, deprecated},
    ForeignKeyword{"Protocol", any_value, deprecated},
    ForeignKeyword{"RhostsRSAAuthentication", any_value, deprecated},
    ForeignKeyword{"RSAAuthentication", any_value, deprecated},
    ForeignKeyword{"UsePrivilegedPort", any_value, deprecated},
    ForeignKeyword{"UseRoaming", any_value, deprecated},
    ForeignKeyword{"UseRsh", any_value, deprecated},
};

// Keywords refused whatever their value: each asks for something twoway does not do yet, and ignoring it
// would change what was asked for (a forward not set up, another name looked up in known_hosts...).
struct RefusedKeyword {
    std::string_view name;
    std::string_view why;
};
constexpr std::array refused_keywords{
    RefusedKeyword{"BindAddress", not_yet},
    RefusedKeyword{"BindInterface", not_yet},
    // Ignoring it would trust twoway's fixed global file where another (or none) was asked for.
    RefusedKeyword{"GlobalKnownHostsFile", "not supported yet: twoway's global file is /etc/twoway/known_hosts"},
};

// ssh's algorithm lists. twoway's suite is fixed (X25519, Ed25519, ChaCha20-Poly1305: docs/PROTOCOL.md),
// so nothing is negotiated and nothing can be widened; a list is accepted when it still allows what
// twoway uses (named as ssh names it), and refused when it excludes it, since twoway cannot honour a
// restriction that leaves out its only suite.
struct AlgorithmKeyword {
    std::string_view name;
    std::array<std::string_view, 2> uses;  // what twoway uses, by ssh's names ("" for none)
};
constexpr std::array algorithm_keywords{
    AlgorithmKeyword{"Ciphers", {"chacha20-poly1305@openssh.com", ""}},
    AlgorithmKeyword{"KexAlgorithms", {"curve25519-sha256", "curve25519-sha256@libssh.org"}},
    AlgorithmKeyword{"HostKeyAlgorithms", {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"}},
    AlgorithmKeyword{"PubkeyAcceptedAlgorithms", {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"}},
    AlgorithmKeyword{"PubkeyAcceptedKeyTypes", {"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"}},
    AlgorithmKeyword{"CASignatureAlgorithms", {"ssh-ed25519", ""}},
};

// Whether ssh's algorithm list (with its "+", "-" and "^" forms on the defaults, which hold twoway's)
// still allows one of uses.
bool allows(std::string_view list, const std::array<std::string_view, 2>& uses) {
    const bool remove = list.starts_with('-');
    if (list.starts_with('+') || list.starts_with('^')) return true;
    if (remove) list.remove_prefix(1);
    bool any = false;
    std::string_view rest = list;
    while (true) {
        const auto comma = rest.find(',');
        const std::string lower = twoway::ascii_lower(rest.substr(0, comma));
        for (auto u : uses) any = any || (!u.empty() && twoway::match_pattern(lower, u));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return remove ? !any : any;
}

template <class Table>
const typename Table::value_type* find_in(const Table& table, std::string_view word) {
    for (const auto& k : table) {
        if (twoway::iequals(k.name, word)) return &k;
    }
    return nullptr;
}

const ForeignKeyword* find_foreign_keyword(std::string_view word) {
    for (const auto& k : foreign_keywords) {
        if (twoway::iequals(k.name, word)) return &k;
    }
    return nullptr;
}

constexpr std::size_t max_patterns = 256;  // patterns on one Host line
constexpr std::string_view path_tokens = "dhpru";

const Keyword* find_keyword(std::string_view word) {
    for (const auto& k : keywords) {
        if (twoway::iequals(k.name, word)) return &k;
    }
    return nullptr;
}

// A file name for IdentityFile, UserKnownHostsFile or RevokedHostKeys. Empty when fine, else the problem.
std::string check_path(std::string_view path) {
    if (path.empty()) return "empty argument";
    if (path.starts_with('~') && path.size() > 1 && path[1] != '/') {
        return "~user is not supported, only ~ for your own home: " + twoway::quoted(path);
    }
    return config::check_tokens(path, path_tokens);
}

// Validates one directive's arguments into out. Empty when fine, else the message (without location).
// ProxyCommand's tokens: ssh's (%h %n %p %r, and %k, which its code expands too), and those of
// the other command keywords that mean something here (%d %u %l %L %i). %C and %j are refused.
constexpr std::string_view proxy_tokens = "dhikLlnpru";

std::string parse_value(const Keyword& kw, const std::vector<std::string>& args, std::string_view rest,
                        ClientDirective& out) {
    out.keyword = kw.directive;
    const std::string& arg = args.front();
    const std::string name(kw.name);
    switch (kw.directive) {
        case ClientKeyword::host_name: {
            if (auto problem = config::check_tokens(arg, "h"); !problem.empty()) return name + ": " + problem;
            // Check the host name with the tokens stood in for, so "%h.example.com" passes.
            auto sample = config::expand_tokens(arg, std::array{config::Token{'h', "h"}});
            if (!sample || !twoway::valid_host_name(*sample)) return name + ": invalid host name " + twoway::quoted(arg);
            out.text = arg;
            return {};
        }
        case ClientKeyword::port: {
            auto p = twoway::parse_port(arg);
            if (!p) return name + ": bad port number " + twoway::quoted(arg) + " (expected 1-65535)";
            out.number = *p;
            return {};
        }
        case ClientKeyword::user:
            if (arg.empty() || arg.find_first_of(" \t") != std::string::npos) {
                return name + ": invalid user name " + twoway::quoted(arg);
            }
            out.text = arg;
            return {};
        case ClientKeyword::identity_file:
        case ClientKeyword::certificate_file:
            if (auto problem = check_path(arg); !problem.empty()) return name + ": " + problem;
            out.text = arg;
            return {};
        case ClientKeyword::strict_host_key_checking:
            if (twoway::iequals(arg, "yes") || twoway::iequals(arg, "true")) {
                out.strict = StrictHostKeyChecking::yes;
            } else if (twoway::iequals(arg, "no") || twoway::iequals(arg, "false") || twoway::iequals(arg, "off")) {
                out.strict = StrictHostKeyChecking::no;
            } else if (twoway::iequals(arg, "ask")) {
                out.strict = StrictHostKeyChecking::ask;
            } else if (twoway::iequals(arg, "accept-new")) {
                out.strict = StrictHostKeyChecking::accept_new;
            } else {
                return name + ": unsupported option " + twoway::quoted(arg) +
                       " (expected yes, accept-new, no, off or ask)";
            }
            return {};
        case ClientKeyword::user_known_hosts_file:
            if (args.size() > max_known_hosts_files) {
                return name + ": too many files (max " + std::to_string(max_known_hosts_files) + ")";
            }
            for (const auto& a : args) {
                if (a == "none") {
                    if (args.size() != 1) return name + ": \"none\" must appear alone";
                    continue;
                }
                if (auto problem = check_path(a); !problem.empty()) return name + ": " + problem;
                out.files.push_back(a);
            }
            return {};
        case ClientKeyword::revoked_host_keys:
            if (arg == "none") return {};  // text stays empty
            if (auto problem = check_path(arg); !problem.empty()) return name + ": " + problem;
            out.text = arg;
            return {};
        case ClientKeyword::preferred_authentications: {
            // A comma list; names twoway does not know are left out, as ssh leaves them out. A method
            // named twice counts once (its first place).
            std::string_view rest = arg;
            while (true) {
                const auto comma = rest.find(',');
                const std::string_view piece = rest.substr(0, comma);
                if (piece.empty()) return name + ": empty method name in " + twoway::quoted(arg);
                std::optional<AuthMethod> m;
                if (piece == "publickey") m = AuthMethod::publickey;
                if (piece == "password") m = AuthMethod::password;
                if (m && std::find(out.methods.begin(), out.methods.end(), *m) == out.methods.end()) {
                    out.methods.push_back(*m);
                }
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
            return {};
        }
        case ClientKeyword::number_of_password_prompts: {
            auto n = twoway::parse_decimal(arg, 1000);
            if (!n) return name + ": invalid number " + twoway::quoted(arg);
            out.number = static_cast<std::uint32_t>(*n);
            return {};
        }
        case ClientKeyword::local_forward: {
            // ssh's: "[bind_address:]port host:hostport" (a local socket path is not supported).
            if (args.size() != 2) return name + ": expected [bind_address:]port host:hostport";
            std::string_view listen = args[0];
            const auto colon = listen.rfind(':');
            const std::string_view port = colon == std::string_view::npos ? listen : listen.substr(colon + 1);
            if (colon != std::string_view::npos && colon == 0) return name + ": bad bind address in " + twoway::quoted(arg);
            if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos ||
                !twoway::parse_decimal(port, 65535)) {
                return name + ": bad listen port " + twoway::quoted(arg);
            }
            if (!twoway::session::parse_destination(args[1])) {
                return name + ": bad destination " + twoway::quoted(args[1]) + " (expected host:port)";
            }
            out.text = args[0] + ":" + args[1];
            return {};
        }
        case ClientKeyword::identity_agent:
            // A socket path (~ and %d, %u expanded later), "SSH_AUTH_SOCK" or "none".
            if (auto problem = config::check_tokens(arg, "dhpru"); !problem.empty()) return name + ": " + problem;
            out.text = arg;
            return {};
        case ClientKeyword::add_keys_to_agent: {
            // ssh's readconf.c: no, yes, confirm (optionally followed by a time), ask, or a time alone.
            const bool two = args.size() == 2;
            if (twoway::iequals(arg, "no") && !two) return {};
            if (twoway::iequals(arg, "yes") && !two) {
                out.add_keys.add = true;
                return {};
            }
            if (twoway::iequals(arg, "ask")) {
                return name + ": \"ask\" is not supported (twoway has no ssh-askpass dialog; use confirm)";
            }
            const bool confirm = twoway::iequals(arg, "confirm");
            const std::string& time = confirm ? (two ? args[1] : std::string()) : arg;
            if (!confirm && two) return name + ": unsupported option " + twoway::quoted(arg);
            out.add_keys.add = true;
            out.add_keys.confirm = confirm;
            if (!time.empty()) {
                auto t = config::parse_time(time);
                if (!t || *t == 0) {
                    return name + ": unsupported option " + twoway::quoted(time) +
                           " (expected yes, no, confirm or a time interval)";
                }
                out.add_keys.lifetime = *t;
            }
            return {};
        }
        case ClientKeyword::identities_only:
        case ClientKeyword::batch_mode:
        case ClientKeyword::password_authentication:
        case ClientKeyword::update_host_keys_by_password:
        case ClientKeyword::hash_known_hosts: {
            auto v = config::parse_yes_no(arg, true);
            if (!v) return name + ": unsupported option " + twoway::quoted(arg) + " (expected yes or no)";
            out.flag = *v;
            return {};
        }
        case ClientKeyword::update_host_keys:
            // ssh's values: yes/true, no/false, ask.
            if (twoway::iequals(arg, "yes") || twoway::iequals(arg, "true")) {
                out.update = UpdateHostKeys::yes;
            } else if (twoway::iequals(arg, "no") || twoway::iequals(arg, "false")) {
                out.update = UpdateHostKeys::no;
            } else if (twoway::iequals(arg, "ask")) {
                out.update = UpdateHostKeys::ask;
            } else {
                return name + ": unsupported option " + twoway::quoted(arg) + " (expected yes, no or ask)";
            }
            return {};
        case ClientKeyword::connect_timeout: {
            if (arg == "none") {
                out.number = 0;
                return {};
            }
            auto t = config::parse_time(arg);
            if (!t) return name + ": invalid time value " + twoway::quoted(arg);
            out.number = *t;
            return {};
        }
        case ClientKeyword::server_alive_interval: {
            // ssh reads a time value; 0 is off.
            auto t = config::parse_time(arg);
            if (!t) return name + ": invalid time value " + twoway::quoted(arg);
            out.number = *t;
            return {};
        }
        case ClientKeyword::request_tty:
            // ssh's values: no, yes, force, auto (and true/false for yes/no).
            if (twoway::iequals(arg, "no") || twoway::iequals(arg, "false")) {
                out.tty = RequestTty::no;
            } else if (twoway::iequals(arg, "yes") || twoway::iequals(arg, "true")) {
                out.tty = RequestTty::yes;
            } else if (twoway::iequals(arg, "force")) {
                out.tty = RequestTty::force;
            } else if (twoway::iequals(arg, "auto")) {
                out.tty = RequestTty::automatic;
            } else {
                return name + ": unsupported option " + twoway::quoted(arg) + " (expected no, yes, force or auto)";
            }
            return {};
        case ClientKeyword::send_env:
            for (const auto& a : args) {
                std::string_view p = a;
                if (p.starts_with('-')) p.remove_prefix(1);
                // A variable name pattern: what ENV may carry ([A-Za-z_][A-Za-z0-9_]*) and wildcards.
                const bool ok = !p.empty() && p.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                  "0123456789_*?") == std::string_view::npos;
                if (!ok) return name + ": invalid variable name pattern " + twoway::quoted(a);
                out.files.push_back(a);
            }
            return {};
        case ClientKeyword::remote_forward: {
            // ssh's: "[bind_address:]port host:hostport", read as -R's spec once joined. The one-argument
            // form (remote dynamic forwarding) and Unix-domain sockets are refused with the reason.
            const std::string joined = args.size() == 2 ? args[0] + ":" + args[1] : args[0];
            auto r = parse_remote_forward(joined);
            if (!r.forward) return name + ": " + r.error;
            out.text = joined;
            return {};
        }
        case ClientKeyword::dynamic_forward: {
            auto f = parse_forward_listen(arg);
            if (!f) return name + ": bad dynamic forwarding specification " + twoway::quoted(arg);
            out.text = forward_listen_text(*f);
            return {};
        }
        case ClientKeyword::clear_all_forwardings:
        case ClientKeyword::exit_on_forward_failure:
        case ClientKeyword::enable_escape_commandline: {
            auto v = config::parse_yes_no(arg, true);
            if (!v) return name + ": unsupported option " + twoway::quoted(arg) + " (expected yes or no)";
            out.flag = *v;
            return {};
        }
        case ClientKeyword::escape_char:
            // As ssh's -e and EscapeChar: one character, "^X" for a control character, or "none".
            if (twoway::iequals(arg, "none")) {
                out.escape = -1;
            } else if (arg.size() == 1) {
                out.escape = static_cast<unsigned char>(arg[0]);
            } else if (arg.size() == 2 && arg[0] == '^' && static_cast<unsigned char>(arg[1]) >= 0x40 &&
                       static_cast<unsigned char>(arg[1]) <= 0x7f) {
                out.escape = static_cast<unsigned char>(arg[1]) & 0x1f;
            } else {
                return name + ": invalid escape character " + twoway::quoted(arg) + " (one character, ^X or none)";
            }
            return {};
        case ClientKeyword::log_level: {
            struct Level {
                std::string_view name;
                LogLevel level;
            };
            constexpr std::array levels{
                Level{"QUIET", LogLevel::quiet},   Level{"FATAL", LogLevel::quiet},   Level{"ERROR", LogLevel::quiet},
                Level{"INFO", LogLevel::info},     Level{"VERBOSE", LogLevel::info},  Level{"DEBUG", LogLevel::debug1},
                Level{"DEBUG1", LogLevel::debug1}, Level{"DEBUG2", LogLevel::debug2}, Level{"DEBUG3", LogLevel::debug3},
            };
            for (const auto& l : levels) {
                if (twoway::iequals(l.name, arg)) {
                    out.log = l.level;
                    out.text = std::string(l.name);
                    return {};
                }
            }
            return name + ": unsupported log level " + twoway::quoted(arg);
        }
        case ClientKeyword::connection_attempts: {
            // As ssh, at least one; a bound so that a typo cannot keep twoway retrying for days.
            auto n = twoway::parse_decimal(arg, 1000);
            if (!n || *n == 0) return name + ": invalid number " + twoway::quoted(arg) + " (expected 1-1000)";
            out.number = static_cast<std::uint32_t>(*n);
            return {};
        }
        case ClientKeyword::set_env:
            if (args.size() > twoway::session::max_env_count) {
                return name + ": too many variables (max " + std::to_string(twoway::session::max_env_count) + ")";
            }
            for (const auto& a : args) {
                const auto eq = a.find('=');
                // What ENV can carry: a name of [A-Za-z_][A-Za-z0-9_]*, a value without NUL.
                if (eq == std::string::npos || !twoway::session::valid_env_name(std::string_view(a).substr(0, eq)) ||
                    !twoway::session::valid_env_value(std::string_view(a).substr(eq + 1))) {
                    return name + ": invalid NAME=value " + twoway::quoted(a);
                }
                out.files.push_back(a);
            }
            return {};
        case ClientKeyword::host_key_alias:
            // The name goes into known_hosts lines, so it must be one a line can hold and read back.
            if (!twoway::valid_host_name(arg)) return name + ": invalid host name " + twoway::quoted(arg);
            out.text = arg;
            return {};
        case ClientKeyword::proxy_command:
            // As ssh: the rest of the line as written (quotes and all: the shell reads it), "none" alone
            // for a direct connection.
            if (args.size() == 1 && twoway::iequals(arg, "none")) return {};
            if (auto problem = config::check_tokens(rest, proxy_tokens); !problem.empty()) return name + ": " + problem;
            out.text = std::string(rest);
            return {};
        case ClientKeyword::proxy_jump: {
            JumpSpec spec = parse_jump_spec(arg);
            if (!spec.error.empty()) return name + " " + twoway::quoted(arg) + ": " + spec.error;
            out.jumps = std::move(spec.hops);
            return {};
        }
        case ClientKeyword::server_alive_count_max: {
            auto n = twoway::parse_decimal(arg, 0x7fffffff);
            if (!n) return name + ": invalid number " + twoway::quoted(arg);
            out.number = static_cast<std::uint32_t>(*n);
            return {};
        }
    }
    return name + ": unhandled keyword";
}

// A Match block that applies to no host ("!all"): what a broken Match line starts.
HostBlock never_block() {
    HostBlock block;
    block.match = true;
    MatchCondition never;
    never.negated = true;
    block.conditions.push_back(std::move(never));
    return block;
}

class Parser {
public:
    Parser(std::string_view path, bool command_line, const ParseOptions* options)
        : config_(), errors_(path), command_line_(command_line), options_(options), path_(path) {
        config_.path = std::string(path);
        if (options != nullptr) ignore_ = options->ignore_unknown;
    }

    void file(std::string_view text);
    void line(std::size_t number, std::string_view text);
    [[nodiscard]] bool full() const noexcept { return errors_.full() || stop_; }
    ParsedClientConfig finish() && {
        config_.errors = std::move(errors_).take();
        return std::move(config_);
    }

private:
    void error(std::string message) { errors_.add(path_, number_, std::move(message)); }
    void note(std::string message) {
        if (config_.notes.size() < config::max_errors) {
            config_.notes.push_back(twoway::Diagnostic{Location{path_, number_}, std::move(message)});
        }
    }
    void foreign(const ForeignKeyword& fk, const config::Directive& d);
    void host(const std::vector<std::string>& args);
    void match(const std::vector<std::string>& args);
    void include(const std::vector<std::string>& args);
    void ignore_unknown(const std::string& arg);
    [[nodiscard]] bool ignored(std::string_view keyword) const;
    void new_block(HostBlock block) {
        block.where = Location{path_, number_};
        block.parent = include_parent_;
        block.first_directive = config_.directives.size();
        config_.blocks.push_back(std::move(block));
        block_ = config_.blocks.size() - 1;
    }

    ParsedClientConfig config_;
    config::ErrorList errors_;
    bool command_line_;
    const ParseOptions* options_;
    std::string path_;                    // the file being read (an included one while it is)
    std::size_t number_ = 0;
    std::size_t block_ = 0;               // the block the next directive belongs to
    std::size_t include_parent_ = no_parent;  // the block of the Include line being read, if any
    std::size_t depth_ = 0;               // Include nesting
    std::size_t included_ = 0;            // files included in all
    bool stop_ = false;                   // an Include failed: ssh ends there, so do we
    std::vector<std::string> ignore_;     // IgnoreUnknown patterns in force (lower case)
    std::size_t identity_files_ = 0;
    std::size_t certificate_files_ = 0;
};

void Parser::file(std::string_view text) {
    TextLines lines(text, std::string_view::npos);  // split_line refuses over-long lines itself
    while (auto l = lines.next()) {
        if (full()) break;
        line(l->number, l->text);
    }
}

bool Parser::ignored(std::string_view keyword) const {
    const std::string lower = twoway::ascii_lower(keyword);
    return std::any_of(ignore_.begin(), ignore_.end(), [&](const std::string& p) {
        return twoway::match_pattern(p, lower);
    });
}

void Parser::line(std::size_t number, std::string_view text) {
    number_ = number;
    auto split = config::split_line(text);
    if (split.kind == config::SplitLine::Kind::empty) {
        if (command_line_) error("empty option");
        return;
    }
    if (split.kind == config::SplitLine::Kind::error) return error(split.error);
    const auto& d = split.directive;

    const Keyword* kw = find_keyword(d.keyword);
    if (kw == nullptr) {
        if (const auto* fk = find_foreign_keyword(d.keyword)) return foreign(*fk, d);
        if (const auto* rk = find_in(refused_keywords, d.keyword)) {
            return error(std::string(rk->name) + ": " + std::string(rk->why));
        }
        if (const auto* ak = find_in(algorithm_keywords, d.keyword)) {
            if (d.args.empty()) return error("no argument after keyword \"" + d.keyword + "\"");
            if (!allows(d.args.front(), ak->uses)) {
                return error(std::string(ak->name) + " " + twoway::quoted(d.args.front()) + ": twoway uses " +
                             std::string(ak->uses[0]) + " only (by ssh's name), which this list excludes");
            }
            return note(std::string(ak->name) + ": ignored (twoway's algorithms are fixed, and this list allows them)");
        }
        // As ssh: an unknown keyword an earlier IgnoreUnknown names is skipped (with a note for -v).
        if (ignored(d.keyword)) return note("Ignored unknown option \"" + d.keyword + "\"");
        return error("Bad configuration option: " + d.keyword);
    }
    if (command_line_ && (kw->key == Key::host || kw->key == Key::match || kw->key == Key::include)) {
        return error(std::string(kw->name) + " directive not supported as a command-line option");
    }
    if (d.args.empty()) {
        error("no argument after keyword \"" + d.keyword + "\"");
        // Even a broken Host or Match line ends the block before it: what follows applies to no host.
        if (kw->key == Key::host) new_block(HostBlock{});
        if (kw->key == Key::match) new_block(never_block());
        return;
    }
    if (kw->key == Key::host) return host(d.args);
    if (kw->key == Key::match) return match(d.args);
    if (kw->key == Key::include) return include(d.args);
    if (kw->max_args != 0 && d.args.size() > kw->max_args) {
        return error("keyword " + std::string(kw->name) + " extra arguments at end of line");
    }
    if (kw->key == Key::ignore_unknown) return ignore_unknown(d.args.front());

    ClientDirective directive;
    directive.where = Location{path_, number};
    directive.block = block_;
    if (auto problem = parse_value(*kw, d.args, d.rest, directive); !problem.empty()) return error(std::move(problem));
    if (directive.keyword == ClientKeyword::identity_file && ++identity_files_ > max_identity_files) {
        return error("IdentityFile: too many identity files (max " + std::to_string(max_identity_files) + ")");
    }
    if (directive.keyword == ClientKeyword::certificate_file && ++certificate_files_ > max_identity_files) {
        return error("CertificateFile: too many certificate files (max " + std::to_string(max_identity_files) + ")");
    }
    config_.directives.push_back(std::move(directive));
}

void Parser::foreign(const ForeignKeyword& fk, const config::Directive& d) {
    if (d.args.empty()) return error("no argument after keyword \"" + d.keyword + "\"");
    const std::string& arg = d.args.front();
    if (!fk.accepted.empty()) {
        bool ok = false;
        for (auto v : fk.accepted) ok = ok || twoway::iequals(v, arg);
        if (!ok) return error(std::string(fk.name) + " " + twoway::quoted(arg) + ": " + std::string(fk.why));
    }
    note(std::string(fk.name) + ": ignored (" + std::string(fk.why) + ")");
}

// Splits a comma-separated pattern list ("a,!b*") into patterns; false on an empty piece or too many.
bool pattern_list(std::string_view arg, bool lower, std::vector<HostPattern>& out) {
    std::string_view rest = arg;
    while (true) {
        const auto comma = rest.find(',');
        std::string_view piece = rest.substr(0, comma);
        HostPattern p;
        if (piece.starts_with('!')) {
            p.negated = true;
            piece.remove_prefix(1);
        }
        if (piece.empty() || out.size() == max_patterns) return false;
        p.pattern = lower ? twoway::ascii_lower(piece) : std::string(piece);
        out.push_back(std::move(p));
        if (comma == std::string_view::npos) return true;
        rest.remove_prefix(comma + 1);
    }
}

void Parser::host(const std::vector<std::string>& args) {
    // The block starts here even if a pattern is bad: its directives then apply to no host at all,
    // rather than to whatever block came before.
    HostBlock block;
    bool bad = false;
    for (const auto& arg : args) {
        // ssh_config separates Host patterns by blanks; commas are accepted too, as in pattern-lists.
        if (!pattern_list(arg, true, block.patterns)) {
            error(block.patterns.size() == max_patterns
                      ? "Host: too many patterns (limit " + std::to_string(max_patterns) + ")"
                      : "Host: empty pattern in " + twoway::quoted(arg));
            bad = true;
            break;
        }
    }
    if (bad) block.patterns.clear();  // a Host line with no pattern matches nothing
    new_block(std::move(block));
}

// Match's criteria, as ssh's match_cfg_line() reads them.
constexpr std::string_view exec_tokens = "dhlLnpru";

void Parser::match(const std::vector<std::string>& args) {
    HostBlock block;
    block.match = true;
    std::string problem;
    for (std::size_t i = 0; i < args.size() && problem.empty(); ++i) {
        MatchCondition c;
        std::string_view name = args[i];
        if (name.starts_with('!')) {
            c.negated = true;
            name.remove_prefix(1);
        }
        if (twoway::iequals(name, "all")) {
            // ssh: "all" stands alone, or after canonical or final.
            const bool alone = i + 1 == args.size() &&
                               std::all_of(block.conditions.begin(), block.conditions.end(), [](const MatchCondition& m) {
                                   return m.criterion == MatchCriterion::canonical || m.criterion == MatchCriterion::final;
                               });
            if (!alone) problem = "'" + args[i] + "' cannot be combined with other Match attributes";
            c.criterion = MatchCriterion::all;
        } else if (twoway::iequals(name, "canonical")) {
            c.criterion = MatchCriterion::canonical;
        } else if (twoway::iequals(name, "final")) {
            c.criterion = MatchCriterion::final;
        } else {
            if (twoway::iequals(name, "host")) {
                c.criterion = MatchCriterion::host;
            } else if (twoway::iequals(name, "originalhost")) {
                c.criterion = MatchCriterion::original_host;
            } else if (twoway::iequals(name, "user")) {
                c.criterion = MatchCriterion::user;
            } else if (twoway::iequals(name, "localuser")) {
                c.criterion = MatchCriterion::local_user;
            } else if (twoway::iequals(name, "exec")) {
                c.criterion = MatchCriterion::exec;
            } else {
                problem = "Unsupported Match attribute " + std::string(name);
                break;
            }
            if (i + 1 == args.size()) {
                problem = "Missing Match criteria for " + std::string(name);
                break;
            }
            const std::string& arg = args[++i];
            if (c.criterion == MatchCriterion::exec) {
                if (auto bad = config::check_tokens(arg, exec_tokens); !bad.empty()) problem = "Match exec: " + bad;
                c.command = arg;
            } else {
                const bool host_names = c.criterion == MatchCriterion::host || c.criterion == MatchCriterion::original_host;
                if (!pattern_list(arg, host_names, c.patterns)) problem = "Match: bad pattern list " + twoway::quoted(arg);
            }
        }
        block.conditions.push_back(std::move(c));
    }
    if (problem.empty() && block.conditions.empty()) problem = "One or more attributes required for Match";
    if (!problem.empty()) {
        error(std::move(problem));
        block = never_block();
    }
    new_block(std::move(block));
}

void Parser::include(const std::vector<std::string>& args) {
    if (options_ == nullptr || !options_->read_include) return error("Include: no files can be included here");
    for (const auto& arg : args) {
        if (arg.starts_with('~') && arg.size() > 1 && arg[1] != '/') {
            return error("Include: ~user is not supported, only ~ for your own home: " + twoway::quoted(arg));
        }
        // As ssh: ~ is the home, a relative path is in the user's directory (~/.twoway, ssh's ~/.ssh).
        std::string pattern = arg == "~" || arg.starts_with("~/") ? options_->home + arg.substr(1)
                              : arg.starts_with('/')              ? arg
                                                                  : options_->user_dir + "/" + arg;
        if (depth_ + 1 > max_include_depth) {
            stop_ = true;
            return error("Include " + twoway::quoted(arg) + ": too many recursive configuration includes (max " +
                         std::to_string(max_include_depth) + ")");
        }
        IncludeResult got = options_->read_include(pattern);
        if (!got.error.empty()) {
            stop_ = true;
            return error("Include " + twoway::quoted(arg) + ": " + got.error);
        }
        if (got.files.empty()) note("Include " + twoway::quoted(arg) + " matched no files");
        for (auto& f : got.files) {
            note("Including file " + f.path + " depth " + std::to_string(depth_ + 1));
            if (++included_ > max_included_files) {
                stop_ = true;
                return error("Include: too many included files (max " + std::to_string(max_included_files) + ")");
            }
            // The included file's lines before its first Host or Match belong to this block; its own
            // blocks apply only when this one does; afterwards this file goes on in this block, as ssh
            // keeps an included file's Match from changing the including file's state.
            const std::string saved_path = std::exchange(path_, std::move(f.path));
            const std::size_t saved_number = number_;
            const std::size_t saved_block = block_;
            const std::size_t saved_parent = std::exchange(include_parent_, block_);
            ++depth_;
            file(f.text);
            --depth_;
            path_ = saved_path;
            number_ = saved_number;
            block_ = saved_block;
            include_parent_ = saved_parent;
            if (full()) return;
        }
    }
}

void Parser::ignore_unknown(const std::string& arg) {
    // ssh takes the first IgnoreUnknown that applies; every block is validated here whichever host it
    // applies to, so the patterns of every IgnoreUnknown line count from that line on.
    std::vector<HostPattern> patterns;
    if (!pattern_list(arg, true, patterns)) return error("IgnoreUnknown: bad pattern list " + twoway::quoted(arg));
    for (auto& p : patterns) {
        if (p.negated) return error("IgnoreUnknown: negated patterns are not supported: " + twoway::quoted(arg));
        if (ignore_.size() < max_patterns) ignore_.push_back(p.pattern);
        if (config_.ignore_unknown.size() < max_patterns) config_.ignore_unknown.push_back(std::move(p.pattern));
    }
}

}  // namespace

const char* auth_method_name(AuthMethod m) noexcept {
    switch (m) {
        case AuthMethod::publickey: return "publickey";
        case AuthMethod::password: return "password";
    }
    return "?";
}

ParsedClientConfig parse_client_config(std::string_view path, std::string_view text) {
    Parser parser(path, false, nullptr);
    parser.file(text);
    return std::move(parser).finish();
}

ParsedClientConfig parse_client_config(std::string_view path, std::string_view text, const ParseOptions& options) {
    Parser parser(path, false, &options);
    parser.file(text);
    return std::move(parser).finish();
}

ParsedClientConfig parse_client_options(std::span<const std::string> options) {
    Parser parser("command-line", true, nullptr);
    for (const auto& option : options) {
        if (parser.full()) break;
        parser.line(0, option);
    }
    return std::move(parser).finish();
}

ParsedClientConfig parse_client_option(std::string_view option) {
    const std::string one(option);
    return parse_client_options(std::span<const std::string>(&one, 1));
}

}  // namespace twoway_client
