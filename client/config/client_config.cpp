// Parsing ~/.twoway/config and -o options: one keyword parser for both, validating every value where it
// is written (whichever hosts it would apply to), so a typo is reported even in a block not used now.
#include "client_config.hpp"

#include <algorithm>
#include <array>
#include <optional>

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

enum class Key { host, match, directive };

struct Keyword {
    std::string_view name;
    Key key;
    ClientKeyword directive;
    std::size_t max_args;  // 0: any number
};

constexpr std::array keywords{
    Keyword{"Host", Key::host, ClientKeyword::host_name, 0},
    Keyword{"Match", Key::match, ClientKeyword::host_name, 0},
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
    Keyword{"SendEnv", Key::directive, ClientKeyword::send_env, 0},
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
constexpr std::array<std::string_view, 1> only_none{"none"};
constexpr std::string_view no_sharing = "twoway has no connection sharing: every connection is its own";
constexpr std::array foreign_keywords{
    ForeignKeyword{"Compression", any_value, "twoway does not compress"},
    ForeignKeyword{"ControlMaster", any_value, no_sharing},
    ForeignKeyword{"ControlPath", any_value, no_sharing},
    ForeignKeyword{"ControlPersist", any_value, no_sharing},
    ForeignKeyword{"ForwardAgent", only_no, "twoway has no agent forwarding"},
    ForeignKeyword{"ForwardX11", only_no, "twoway has no X11 forwarding"},
    ForeignKeyword{"ForwardX11Trusted", any_value, "twoway has no X11 forwarding"},
    ForeignKeyword{"PermitLocalCommand", any_value, "twoway runs no LocalCommand"},
    ForeignKeyword{"RemoteCommand", only_none, "not supported yet: give the command on the command line"},
};

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
std::string parse_value(const Keyword& kw, const std::vector<std::string>& args, ClientDirective& out) {
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
        case ClientKeyword::clear_all_forwardings: {
            auto v = config::parse_yes_no(arg, true);
            if (!v) return name + ": unsupported option " + twoway::quoted(arg) + " (expected yes or no)";
            out.flag = *v;
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

class Parser {
public:
    Parser(std::string_view path, bool command_line) : config_(), errors_(path), command_line_(command_line) {
        config_.path = std::string(path);
    }

    void line(std::size_t number, std::string_view text);
    [[nodiscard]] bool full() const noexcept { return errors_.full(); }
    ParsedClientConfig finish() && {
        config_.errors = std::move(errors_).take();
        return std::move(config_);
    }

private:
    void error(std::string message) { errors_.add(number_, std::move(message)); }
    void foreign(const ForeignKeyword& fk, const config::Directive& d);
    void host(const std::vector<std::string>& args);

    ParsedClientConfig config_;
    config::ErrorList errors_;
    bool command_line_;
    std::size_t number_ = 0;
    std::size_t identity_files_ = 0;
    std::size_t certificate_files_ = 0;
};

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
        return error("Bad configuration option: " + d.keyword);
    }
    if (command_line_ && kw->key != Key::directive) {
        return error(std::string(kw->name) + " directive not supported as a command-line option");
    }
    if (kw->key == Key::match) return error("Match blocks are not supported yet");
    if (d.args.empty()) {
        error("no argument after keyword \"" + d.keyword + "\"");
        // Even a broken Host line ends the block before it: what follows applies to no host.
        if (kw->key == Key::host) config_.blocks.push_back(HostBlock{Location{config_.path, number}, {}});
        return;
    }
    if (kw->key == Key::host) return host(d.args);
    if (kw->max_args != 0 && d.args.size() > kw->max_args) {
        return error("keyword " + std::string(kw->name) + " extra arguments at end of line");
    }

    ClientDirective directive;
    directive.where = Location{config_.path, number};
    directive.block = config_.blocks.size() - 1;
    if (auto problem = parse_value(*kw, d.args, directive); !problem.empty()) return error(std::move(problem));
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
    if (config_.notes.size() < config::max_errors) {
        config_.notes.push_back(twoway::Diagnostic{Location{config_.path, number_},
                                                   std::string(fk.name) + ": ignored (" + std::string(fk.why) + ")"});
    }
}

void Parser::host(const std::vector<std::string>& args) {
    // The block starts here even if a pattern is bad: its directives then apply to no host at all,
    // rather than to whatever block came before.
    HostBlock block;
    block.where = Location{config_.path, number_};
    bool bad = false;
    for (const auto& arg : args) {
        // ssh_config separates Host patterns by blanks; commas are accepted too, as in pattern-lists.
        std::string_view rest = arg;
        while (true) {
            const auto comma = rest.find(',');
            std::string_view piece = rest.substr(0, comma);
            HostPattern p;
            if (piece.starts_with('!')) {
                p.negated = true;
                piece.remove_prefix(1);
            }
            if (piece.empty()) {
                if (!bad) error("Host: empty pattern in " + twoway::quoted(arg));
                bad = true;
            } else if (block.patterns.size() == max_patterns) {
                if (!bad) error("Host: too many patterns (limit " + std::to_string(max_patterns) + ")");
                bad = true;
            } else {
                p.pattern = twoway::ascii_lower(piece);
                block.patterns.push_back(std::move(p));
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    if (bad) block.patterns.clear();  // a Host line with no pattern matches nothing
    config_.blocks.push_back(std::move(block));
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
    Parser parser(path, false);
    TextLines lines(text, std::string_view::npos);  // split_line refuses over-long lines itself
    while (auto line = lines.next()) {
        if (parser.full()) break;
        parser.line(line->number, line->text);
    }
    return std::move(parser).finish();
}

ParsedClientConfig parse_client_options(std::span<const std::string> options) {
    Parser parser("command-line", true);
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
