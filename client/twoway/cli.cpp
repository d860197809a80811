#include "cli.hpp"

#include <charconv>
#include <string_view>

#include <twoway/session.hpp>
#include <twoway/text.hpp>

#include "client_config.hpp"

namespace twoway_client::cli {

namespace {

// OpenSSH 9.6's rule (CVE-2023-51385): a host or user name from the command line may reach a shell
// through %h and %r in ProxyCommand or Match exec, so it may hold none of the shell's metacharacters, no
// blank and no control character. (Names from the configuration are the user's own, as for ssh.)
bool shell_safe_name(std::string_view s) {
    constexpr std::string_view special = "'`\"$\\;&<>|(){} ";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || special.find(ch) != std::string_view::npos) return false;
    }
    return true;
}

// getopt letters: flags, and (in with_arg) the letters that take an argument.
constexpr std::string_view flags = "46aCGNnqsTtVvx";
constexpr std::string_view with_arg = "DFeiJLloRWp";

std::optional<std::uint16_t> parse_port_number(std::string_view s, bool allow_zero) {
    unsigned value = 0;
    if (s.empty() || s.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value > 65535) return std::nullopt;
    if (value == 0 && !allow_zero) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// An ssh_config argument: quoted when it holds blanks (the config lexer splits on them). A value that
// cannot be quoted (it holds a double quote or a control character) is refused.
std::optional<std::string> config_argument(std::string_view value) {
    for (char c : value) {
        if (c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
    if (value.find_first_of(" \t\\'#") == std::string_view::npos && !value.empty()) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

class Parser {
public:
    explicit Parser(const std::vector<std::string>& args) : args_(args) {}

    ParseResult run() {
        // Options, then the destination, then options again, then the command (ssh's "goto again").
        if (!options()) return fail();
        if (line_.version) return ParseResult{std::move(line_), {}};  // -V needs no destination
        if (index_ >= args_.size()) return usage_error();
        if (auto s = destination(args_[index_++]); !s.empty()) return fail(std::move(s));
        if (!terminated_ && !options()) return fail();
        for (; index_ < args_.size(); ++index_) line_.command.push_back(args_[index_]);
        return ParseResult{std::move(line_), {}};
    }

private:
    ParseResult fail(std::string why = {}) { return ParseResult{std::nullopt, why.empty() ? error_ : why}; }
    ParseResult usage_error() { return ParseResult{std::nullopt, {}}; }

    // Parses options from index_ until a non-option or "--". False on an error (error_ set; empty for
    // the plain usage text).
    bool options() {
        while (index_ < args_.size()) {
            const std::string& a = args_[index_];
            if (a == "--") {
                ++index_;
                terminated_ = true;
                return true;
            }
            if (a.size() < 2 || a[0] != '-') return true;
            ++index_;
            for (std::size_t i = 1; i < a.size(); ++i) {
                const char c = a[i];
                if (flags.find(c) != std::string_view::npos) {
                    flag(c);
                    continue;
                }
                if (with_arg.find(c) == std::string_view::npos) {
                    error_ = "unknown option -- " + std::string(1, c);
                    return false;
                }
                std::string value;
                if (i + 1 < a.size()) {
                    value = a.substr(i + 1);
                } else if (index_ < args_.size()) {
                    value = args_[index_++];
                } else {
                    error_ = "option requires an argument -- " + std::string(1, c);
                    return false;
                }
                if (!option(c, value)) return false;
                break;  // the rest of this word was the argument
            }
        }
        return true;
    }

    void flag(char c) {
        switch (c) {
            case '4': line_.family = AddressFamily::inet; break;
            case '6': line_.family = AddressFamily::inet6; break;
            case 'G': line_.print_config = true; break;
            case 'N': line_.no_command = true; break;
            case 'n': line_.stdin_null = true; break;
            case 'q': line_.quiet = true; break;
            case 'T': line_.tty = TtyRequest::no; break;
            case 't':
                line_.tty = line_.tty == TtyRequest::yes || line_.tty == TtyRequest::force ? TtyRequest::force
                                                                                             : TtyRequest::yes;
                break;
            case 'V': line_.version = true; break;
            case 's': line_.subsystem = true; break;
            // What scp, sftp and rsync pass to their transport. X11 and agent forwarding are never on in
            // twoway, so turning them off changes nothing; -C asks for compression, which twoway does not
            // do (the transfer is the same, only not compressed).
            case 'x': note("-x: twoway has no X11 forwarding"); break;
            case 'a': note("-a: twoway has no agent forwarding"); break;
            case 'C': note("-C: twoway does not compress"); break;
            case 'v':
                if (line_.verbosity < 3) ++line_.verbosity;
                break;
            default: break;
        }
    }

    bool option(char c, const std::string& value) {
        switch (c) {
            case 'F': line_.config_file = value; return true;
            case 'e': {
                auto e = parse_escape_char(value);
                if (!e) return set_error("Bad escape character '" + value + "'.");
                line_.escape_char = *e;
                return true;
            }
            case 'i': return setting("IdentityFile", value);
            case 'l':
                if (!shell_safe_name(value)) return set_error("remote username contains invalid characters");
                return setting("User", value);
            case 'p':
                if (!parse_port_number(value, false)) return set_error("Bad port '" + value + "'");
                return setting("Port", value);
            case 'o': line_.options.push_back(value); return true;
            case 'J': return jump(value);
            case 'W': {
                if (value.empty()) return set_error("Bad stdio forwarding specification '" + value + "'");
                if (!is_destination(value)) {
                    line_.stdio_service = value;
                    return true;
                }
                // As ssh's -W host:port: "[host]:port" for any host (ProxyJump's inner twoway is run
                // with -W '[%h]:%p'), sent as parse_destination's form.
                const auto parts = twoway::split_host_port(value);
                std::optional<twoway::session::Destination> dest;
                if (parts && parts->port) {
                    const std::string host(parts->host);
                    const bool v6 = host.find(':') != std::string::npos;
                    dest = twoway::session::parse_destination((v6 ? "[" + host + "]" : host) + ":" + std::string(*parts->port));
                }
                if (!dest) return set_error("Bad stdio forwarding specification '" + value + "'");
                line_.stdio_service = twoway::session::destination_text(*dest);
                return true;
            }
            case 'D': {
                auto f = parse_dynamic_forward(value);
                if (!f) return set_error("Bad dynamic forwarding specification '" + value + "'");
                line_.local_forwards.push_back(std::move(*f));
                return true;
            }
            case 'R': {
                auto r = parse_remote_forward(value);
                if (!r.forward) return set_error(r.error);
                line_.remote_forwards.push_back(std::move(*r.forward));
                return true;
            }
            case 'L': {
                auto f = parse_local_forward(value);
                if (!f) return set_error("Bad local forwarding specification '" + value + "'");
                line_.local_forwards.push_back(std::move(*f));
                return true;
            }
            default: return set_error("unknown option -- " + std::string(1, c));
        }
    }

    // -J, as ssh's: one only; after a -o ProxyCommand (or ProxyJump) it is an error, and before one it
    // wins (a ProxyJump option in its place: the first of the two keywords obtained wins).
    bool jump(const std::string& value) {
        if (line_.jump || earlier_option("ProxyJump")) {
            return set_error("Only a single -J option is permitted (use commas to separate multiple jump hops)");
        }
        if (earlier_option("ProxyCommand")) return set_error("Cannot specify -J with ProxyCommand");
        const JumpSpec spec = parse_jump_spec(value);
        if (!spec.error.empty()) return set_error("Invalid -J argument '" + value + "': " + spec.error);
        line_.jump = value;
        return setting("ProxyJump", value);
    }

    bool earlier_option(std::string_view keyword) const {
        for (const auto& o : line_.options) {
            const auto end = o.find_first_of(" \t=");
            if (twoway::iequals(std::string_view(o).substr(0, end), keyword)) return true;
        }
        return false;
    }

    bool setting(std::string_view keyword, const std::string& value) {
        auto arg = config_argument(value);
        if (!arg) {
            return set_error("invalid argument for " + std::string(keyword) +
                             ": double quotes and control characters are not allowed");
        }
        line_.options.push_back(std::string(keyword) + " " + *arg);
        return true;
    }

    void note(std::string text) {
        for (const auto& n : line_.notes) {
            if (n == text) return;
        }
        line_.notes.push_back(std::move(text));
    }

    bool set_error(std::string why) {
        error_ = std::move(why);
        return false;
    }

    std::string destination(const std::string& d) {
        line_.destination = d;
        const auto at = d.rfind('@');
        if (at == std::string::npos) {
            line_.host = d;
        } else {
            if (at == 0) return "invalid destination '" + d + "' (no user before '@')";
            line_.host = d.substr(at + 1);
            if (!shell_safe_name(d.substr(0, at))) return "remote username contains invalid characters";
            // As ssh: user@host counts only if -l did not come first (the first value wins).
            if (!setting("User", d.substr(0, at))) return error_;
        }
        if (line_.host.empty()) return "invalid destination '" + d + "' (no host)";
        if (line_.host.front() == '-') return "invalid destination '" + d + "'";
        if (!shell_safe_name(line_.host)) return "hostname contains invalid characters";
        return {};
    }

    const std::vector<std::string>& args_;
    std::size_t index_ = 0;
    bool terminated_ = false;
    CommandLine line_;
    std::string error_;
};

}  // namespace

std::string CommandLine::command_line() const {
    std::string out;
    for (const auto& w : command) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

ParseResult parse(const std::vector<std::string>& args) { return Parser(args).run(); }

const char* usage() {
    return "usage: twoway [-46aCGNnqsTtVvx] [-D [bind_address:]port] [-e escape_char]\n"
           "              [-F configfile] [-i identity_file] [-J destination]\n"
           "              [-L address] [-l login_name] [-o option] [-p port] [-R address]\n"
           "              [-W host:port]\n"
           "              destination [command [argument ...]]\n";
}

bool is_destination(const std::string& target) { return target.find(':') != std::string::npos; }

std::optional<LocalForward> parse_local_forward(const std::string& spec) {
    // Split on ':' outside brackets: [bind:]port:service, bind may be "[v6]" or "*".
    std::vector<std::string> parts;
    std::string cur;
    bool bracket = false;
    for (char c : spec) {
        if (c == '[' && cur.empty()) {
            bracket = true;
            continue;
        }
        if (c == ']' && bracket) {
            bracket = false;
            continue;
        }
        if (c == ':' && !bracket) {
            parts.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (bracket) return std::nullopt;
    parts.push_back(std::move(cur));
    LocalForward f;
    f.spec = spec;
    const auto all_digits = [](const std::string& p) {
        return !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
    };
    // Four parts, or three that read as port:host:hostport, are ssh's form: a direct connection.
    // (Three parts whose first is not a port are bind:port:service; a service named only by digits
    // cannot be reached with three parts, since "8080:db:5432" means what it means to ssh.)
    const bool direct = parts.size() == 4 || (parts.size() == 3 && all_digits(parts[0]) && all_digits(parts[2]));
    if (parts.size() == 4 || (parts.size() == 3 && !direct)) {
        if (parts[0].empty()) return std::nullopt;
        f.bind_address = parts[0] == "*" ? "0.0.0.0" : parts[0];
        parts.erase(parts.begin());
    }
    auto port = parse_port_number(parts.empty() ? std::string() : parts[0], true);
    if (!port) return std::nullopt;
    f.port = *port;
    if (direct) {
        if (parts.size() != 3) return std::nullopt;
        const std::string& host = parts[1];
        const bool v6 = host.find(':') != std::string::npos;
        auto dest = twoway::session::parse_destination((v6 ? "[" + host + "]" : host) + ":" + parts[2]);
        if (!dest) return std::nullopt;
        f.destination = twoway::session::destination_text(*dest);
        return f;
    }
    if (parts.size() != 2 || parts[1].empty()) return std::nullopt;
    f.service = parts[1];
    return f;
}

std::optional<LocalForward> parse_dynamic_forward(const std::string& spec) {
    auto listen = parse_forward_listen(spec);
    if (!listen) return std::nullopt;
    LocalForward f;
    f.spec = spec;
    f.dynamic = true;
    f.port = listen->port;
    if (listen->bind_address) {
        f.bind_given = true;
        f.bind_address = *listen->bind_address == "*" ? "0.0.0.0" : *listen->bind_address;
    }
    return f;
}

std::optional<int> parse_escape_char(const std::string& arg) {
    if (arg == "none") return -1;
    if (arg.size() == 1) return static_cast<unsigned char>(arg[0]);
    if (arg.size() == 2 && arg[0] == '^') {
        const unsigned char c = static_cast<unsigned char>(arg[1]);
        if (c >= 0x40 && c <= 0x7f) return c & 0x1f;  // ^A .. ^_, as ssh computes it
    }
    return std::nullopt;
}

}  // namespace twoway_client::cli
