#include "daemon_config.hpp"

#include <array>
#include <cstddef>
#include <utility>

#include <arpa/inet.h>

#include <twoway/session.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "config_parser.hpp"

namespace twowayd {

namespace parser_detail {

bool valid_service_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// An address literal must be a valid one; anything else must at least look like a host name.
// A file name in /etc/pam.d: no '/', no leading '.', nothing a shell or a log would mangle.
bool valid_pam_service_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

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
        if (kw->key == Key::password_authentication) {
            // sshd allows it in Match: the block's value applies to the connections it matches (the first
            // applying block's, as for the connection keywords).
            auto v = config::parse_yes_no(d.args.front(), false);
            if (!v) {
                return value_error(*kw, "unsupported option " + twoway::quoted(d.args.front()) + " (expected yes or no)");
            }
            auto& setting = config_.matches[*block_].password_authentication;
            if (!setting) setting = Setting<bool>{*v, here()};
            return;
        }
        if (kw->key == Key::authorized_keys_file || kw->key == Key::revoked_keys || kw->key == Key::log_level) {
            return error(std::string(kw->name) + " is not supported inside a Match block yet");
        }
        return error("Directive '" + std::string(kw->name) + "' is not allowed within a Match block");
    }
    global_only(*kw, d);
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
        case Key::password_authentication: return yes_no(config_.password_authentication);
        case Key::opaque_key:
        case Key::opaque_records:
            // The daemon's own files, as HostKey: absolute, since a pure parser has no directory to
            // resolve a relative path against.
            if (!arg.starts_with('/')) return value_error(kw, "must be an absolute path: " + twoway::quoted(arg));
            if (first(kw.key)) (kw.key == Key::opaque_key ? config_.opaque_key : config_.opaque_records) = arg;
            return;
        case Key::host_certificate:
            // sshd takes a relative path from its working directory; as HostKey, twowayd wants it absolute.
            if (!arg.starts_with('/')) return value_error(kw, "must be an absolute path: " + twoway::quoted(arg));
            if (room(kw, config_.host_certificates.size())) config_.host_certificates.push_back(arg);
            return;
        case Key::authorized_keys_command_timeout: {
            auto v = config::parse_time(arg);
            if (!v || *v == 0 || *v > 3600) return value_error(kw, "invalid time value " + twoway::quoted(arg) + " (1s to 1h)");
            if (first(kw.key)) config_.authorized_keys_command_timeout = *v;
            return;
        }
        case Key::per_user_max_password_failures: {
            const auto n = arg == "none" ? std::optional<std::uint64_t>(0) : twoway::parse_decimal(arg, 1000);
            if (!n) return value_error(kw, "invalid count " + twoway::quoted(arg) + " (0 to 1000, or none)");
            std::uint32_t window = 600;
            if (d.args.size() > 1) {
                auto w = config::parse_time(d.args[1]);
                if (!w || *w == 0 || *w > 86400) {
                    return value_error(kw, "invalid time value " + twoway::quoted(d.args[1]) + " (1s to 1d)");
                }
                window = *w;
            }
            if (first(kw.key)) {
                config_.per_user_max_password_failures = static_cast<std::uint32_t>(*n);
                config_.password_failure_window = window;
            }
            return;
        }
        case Key::login_grace_time: {
            auto v = config::parse_time(arg);
            if (!v) return value_error(kw, "invalid time value " + twoway::quoted(arg));
            if (first(kw.key)) config_.login_grace_time = *v;
            return;
        }
        case Key::max_auth_tries: {
            auto v = twoway::parse_decimal(arg, max_auth_tries_limit);
            if (!v || *v == 0) {
                return value_error(kw, "invalid value " + twoway::quoted(arg) + " (expected a number from 1 to " +
                                           std::to_string(max_auth_tries_limit) + ")");
            }
            if (first(kw.key)) config_.max_auth_tries = static_cast<std::uint32_t>(*v);
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
        case Key::subsystem: return subsystem(kw, d.args);
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
        case Key::use_pam: return yes_no(config_.use_pam);
        case Key::pam_service_name:
            // twowayd's own keyword: a PAM service is a file name in /etc/pam.d.
            if (!valid_pam_service_name(arg)) {
                return value_error(kw, "invalid PAM service name " + twoway::quoted(arg) +
                                           " (letters, digits, '.', '_', '-'; at most 64)");
            }
            if (first(kw.key)) config_.pam_service_name = arg;
            return;
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

void Parser::subsystem(const Keyword& kw, const std::vector<std::string>& args) {
    const std::string& name = args[0];
    if (!twoway::session::valid_command(twoway::session::RequestKind::subsystem, name)) {
        return value_error(kw, "invalid subsystem name " + twoway::quoted(name) +
                                   " (printable ASCII without blanks, at most 64)");
    }
    if (args.size() < 2 || args[1].empty()) return value_error(kw, "missing subsystem command after " + twoway::quoted(name));
    // sshd 9.2 (Debian 12) refuses a second definition of a name (9.5 and later keep the first).
    for (const auto& s : config_.subsystems) {
        if (s.name == name) {
            return value_error(kw, "subsystem " + twoway::quoted(name) + " already defined at " + s.where.text());
        }
    }
    if (args[1] == "internal-sftp") {
        // sshd's in-process SFTP server; twowayd runs programs only, and a chroot then needs the program
        // inside it. Refused rather than run as a command that does not exist.
        return value_error(kw, "internal-sftp is not supported: name the program, e.g. /usr/lib/openssh/sftp-server");
    }
    if (room(kw, config_.subsystems.size())) {
        config_.subsystems.push_back(SubsystemSpec{name, std::vector<std::string>(args.begin() + 1, args.end()),
                                                   twoway::Location{path_, number_}});
    }
}

}  // namespace parser_detail

std::string SubsystemSpec::command_line() const {
    // As sshd: the words joined by single spaces (the shell splits them again).
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

using parser_detail::Parser;
using parser_detail::log_levels;

// The programs' config lexer and text helpers (common/), shared with the client's parser.
namespace config = twoway_common::config;


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

DaemonConfigResult parse_daemon_config(std::string_view path, std::string_view text, const IncludeReader* include) {
    Parser parser(path, include);
    parser.file(text, 0);
    return std::move(parser).finish();
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

std::optional<std::vector<std::string>> split_command_line(std::string_view s) {
    return config::argv_split(s, false);  // sshd splits AuthorizedKeysCommand with no comments
}

}  // namespace twowayd
