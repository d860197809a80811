#include "daemon_config.hpp"

#include <array>
#include <cstddef>
#include <utility>

#include <arpa/inet.h>

#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "config_syntax.hpp"
#include <twoway/text.hpp>

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
    count_,
};

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
};

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

class Parser {
public:
    explicit Parser(std::string_view path) : path_(path), errors_(path) {}

    void line(std::size_t number, std::string_view text);
    DaemonConfigResult finish() && { return DaemonConfigResult{std::move(config_), std::move(errors_).take()}; }
    [[nodiscard]] bool full() const noexcept { return errors_.full(); }

private:
    void error(std::string message) { errors_.add(number_, std::move(message)); }
    void value_error(const Keyword& kw, std::string problem) { error(std::string(kw.name) + ": " + problem); }
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

    std::string path_;
    config::ErrorList errors_;
    DaemonConfig config_;
    std::array<bool, static_cast<std::size_t>(Key::count_)> seen_{};
    std::size_t number_ = 0;
};

void Parser::line(std::size_t number, std::string_view text) {
    number_ = number;
    auto split = config::split_line(text);
    if (split.kind == config::SplitLine::Kind::empty) return;
    if (split.kind == config::SplitLine::Kind::error) return error(split.error);
    const auto& d = split.directive;

    const Keyword* kw = nullptr;
    for (const auto& k : keywords) {
        if (twoway::iequals(k.name, d.keyword)) kw = &k;
    }
    if (kw == nullptr) return error("Bad configuration option: " + d.keyword);
    if (kw->key == Key::match) return error("Match blocks are not supported yet");
    if (d.args.empty()) return error("no argument after keyword \"" + d.keyword + "\"");
    if (kw->max_args != 0 && d.args.size() > kw->max_args) {
        return error("keyword " + std::string(kw->name) + " extra arguments at end of line");
    }
    const std::string& arg = d.args.front();

    switch (kw->key) {
        case Key::port: return port(*kw, arg);
        case Key::listen_address: return listen_address(*kw, arg);
        case Key::host_key: return host_key(*kw, arg);
        case Key::authorized_keys_file: return authorized_keys_file(*kw, d.args);
        case Key::revoked_keys: return revoked_keys(*kw, d.args);
        case Key::strict_modes: {
            auto v = config::parse_yes_no(arg, false);
            if (!v) return value_error(*kw, "unsupported option " + twoway::quoted(arg) + " (expected yes or no)");
            if (first(kw->key)) config_.strict_modes = *v;
            return;
        }
        case Key::stealth_mode: {
            auto v = config::parse_yes_no(arg, false);
            if (!v) return value_error(*kw, "unsupported option " + twoway::quoted(arg) + " (expected yes or no)");
            if (first(kw->key)) config_.stealth_mode = *v;
            return;
        }
        case Key::login_grace_time: {
            auto v = config::parse_time(arg);
            if (!v) return value_error(*kw, "invalid time value " + twoway::quoted(arg));
            if (first(kw->key)) config_.login_grace_time = *v;
            return;
        }
        case Key::max_startups: return max_startups(*kw, arg);
        case Key::per_source_max_startups: return count_or_none(*kw, arg, config_.per_source_max_startups);
        case Key::max_sessions_total: return count_or_none(*kw, arg, config_.max_sessions_total);
        case Key::per_user_max_sessions: return count_or_none(*kw, arg, config_.per_user_max_sessions);
        case Key::per_session_max_buffer:
            // The window a session grants its client is a 32-bit number.
            return size(*kw, arg, std::uint64_t{1} << 30, config_.per_session_max_buffer);
        case Key::max_buffer_total: return size(*kw, arg, std::uint64_t{1} << 40, config_.max_buffer_total);
        case Key::per_source_net_block_size: return net_block_size(*kw, arg);
        case Key::per_source_penalties: return penalties(*kw, d.args);
        case Key::per_source_penalty_exempt_list: return penalty_exempt_list(*kw, d.args);
        case Key::log_level: {
            for (const auto& [name, level] : log_levels) {
                if (twoway::iequals(name, arg)) {
                    if (first(kw->key)) config_.log_level = level;
                    return;
                }
            }
            return value_error(*kw, "unsupported log level " + twoway::quoted(arg));
        }
        case Key::service: return service(*kw, d.args);
        case Key::match:
        case Key::count_: break;
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

DaemonConfigResult parse_daemon_config(std::string_view path, std::string_view text) {
    Parser parser(path);
    // Config lines are not capped here: split_line refuses over-long ones with a message.
    twoway::TextLines lines(text, std::string_view::npos);
    while (auto line = lines.next()) {
        if (parser.full()) break;
        parser.line(line->number, line->text);
    }
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

std::string format_daemon_config(const DaemonConfig& c) {
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
