// known_hosts in OpenSSH's syntax (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT):
//   [marker] hostnames keytype base64-key [comment]
// This step honours plain host names and "[host]:port" in a comma-separated list, OpenSSH's patterns
// in that list (* and ? wildcards, ! negation, matched as match_hostname does), and @revoked lines (for
// every host: see KnownHostEntry::revoked). What would need more (hashed names, @cert-authority) is
// skipped with a reason, so it can never be half-understood and accepted by mistake.
#include <algorithm>

#include <twoway/keys.hpp>
#include <twoway/trust.hpp>

#include "trust/text_util.hpp"
#include "trust/trust_lines.hpp"

namespace twoway {

namespace {

struct Parsed {
    std::optional<KnownHostEntry> entry;
    std::string reason;  // when !entry
};

Parsed skip(std::string reason) { return Parsed{std::nullopt, std::move(reason)}; }


constexpr std::size_t max_pattern_length = 512;

bool is_pattern(std::string_view name) {
    return name.starts_with('!') || name.find_first_of("*?") != std::string_view::npos;
}

// A pattern of the host list ("*.example.com", "!old.example.com", "[10.0.0.*]:2222"), lower-cased
// into out. The reason is empty when it parsed. The characters are a host name's, the wildcards and
// the brackets of [host]:port; as for plain names, one ':' outside brackets is refused, since OpenSSH
// would take "host:port" literally and it would never match.
std::string parse_pattern(std::string_view name, std::string& out) {
    const std::string_view body = name.starts_with('!') ? name.substr(1) : name;
    if (body.empty()) return "empty negated pattern \"!\"";
    if (body.size() > max_pattern_length) return "host pattern longer than 512 characters";
    for (char c : body) {
        const bool ok = text::is_host_char(c) || c == '*' || c == '?' || c == '[' || c == ']';
        if (!ok) return "invalid host pattern " + text::quoted(name);
    }
    const auto colon = body.find(':');
    if (body.front() != '[' && colon != std::string_view::npos &&
        body.find(':', colon + 1) == std::string_view::npos) {
        return "a host with a port must be written [host]:port: " + text::quoted(name);
    }
    // As for plain names, "[pattern]:4422" is the pattern itself: default-port names are matched bare.
    std::string lowered = text::ascii_lower(body);
    const std::string suffix = "]:" + std::to_string(default_port);
    if (lowered.size() > suffix.size() + 1 && lowered.front() == '[' && lowered.ends_with(suffix)) {
        lowered = lowered.substr(1, lowered.size() - 1 - suffix.size());
    }
    out = (name.starts_with('!') ? "!" : "") + lowered;
    return {};
}

// One name of the host list. The reason is empty when it parsed.
std::string parse_host(std::string_view name, HostPort& out) {
    if (name.empty()) return "empty host name in the list";
    if (is_pattern(name)) return "a host pattern, not a host name: " + text::quoted(name);
    if (name.front() == '[') {
        auto hp = text::split_host_port(name);
        if (!hp || !hp->port) return "invalid [host]:port entry " + text::quoted(name);
        auto port = text::parse_port(*hp->port);
        if (!port) return "invalid port in " + text::quoted(name);
        if (!text::valid_host_name(hp->host)) return "invalid host name " + text::quoted(name);
        out = HostPort{text::ascii_lower(hp->host), *port};
        return {};
    }
    const auto colon = name.find(':');
    if (colon != std::string_view::npos && name.find(':', colon + 1) == std::string_view::npos) {
        // One colon is not an IPv6 address: someone wrote host:port, which OpenSSH would take as a
        // literal name that never matches. Say so instead of keeping a dead entry.
        return "a host with a port must be written [host]:port: " + text::quoted(name);
    }
    if (!text::valid_host_name(name)) return "invalid host name " + text::quoted(name);
    out = HostPort{text::ascii_lower(name), default_port};
    return {};
}

std::string key_problem(std::error_code ec, std::string_view key_text) {
    std::string_view rest = key_text;
    std::string_view type = text::next_word(rest);
    if (type.empty()) return "no key after the host names";
    if (ec == errc::unsupported_key_type) {
        return "key type " + text::quoted(type) + " is not supported (only ssh-ed25519)";
    }
    if (ec == errc::malformed) return "invalid ssh-ed25519 key data";
    if (type == ssh_ed25519_name) return "missing ssh-ed25519 key data";
    return "not a key: " + text::quoted(type);
}

// The comma-separated host list into entry.hosts and entry.patterns (each name once). The reason is
// empty when every name parsed.
std::string parse_host_list(std::string_view names, KnownHostEntry& entry) {
    while (true) {
        const auto comma = names.find(',');
        const std::string_view name = names.substr(0, comma);
        if (!name.empty() && is_pattern(name)) {
            std::string pattern;
            std::string problem = parse_pattern(name, pattern);
            if (!problem.empty()) return problem;
            if (std::find(entry.patterns.begin(), entry.patterns.end(), pattern) == entry.patterns.end()) {
                entry.patterns.push_back(std::move(pattern));
            }
        } else {
            HostPort hp;
            std::string problem = parse_host(name, hp);
            if (!problem.empty()) return problem;
            if (std::find(entry.hosts.begin(), entry.hosts.end(), hp) == entry.hosts.end()) {
                entry.hosts.push_back(std::move(hp));
            }
        }
        if (comma == std::string_view::npos) return {};
        names.remove_prefix(comma + 1);
    }
}

// "host" for default_port, "[host]:port" otherwise (host already lower-cased): what format_host_port
// writes, and the name a host list's patterns are matched against, as OpenSSH builds it.
std::string match_name(const HostPort& hp) {
    if (hp.port == default_port) return hp.host;
    return "[" + hp.host + "]:" + std::to_string(hp.port);
}

bool matches(const KnownHostEntry& entry, const HostPort& wanted, const std::string& name) {
    bool positive = false;
    for (const auto& p : entry.patterns) {
        if (p.starts_with('!')) {
            if (text::match_pattern(std::string_view(p).substr(1), name)) return false;
        } else if (!positive && text::match_pattern(p, name)) {
            positive = true;
        }
    }
    return positive || std::find(entry.hosts.begin(), entry.hosts.end(), wanted) != entry.hosts.end();
}

Parsed parse_line(std::string_view line, const Location& where) {
    std::string_view rest = line;
    std::string_view first = text::next_word(rest);
    KnownHostEntry entry;
    entry.where = where;
    if (first.starts_with('@')) {
        if (first == "@cert-authority") return skip("@cert-authority lines are not supported yet");
        if (first != "@revoked") return skip("unknown marker " + text::quoted(first));
        // The host field is required but not interpreted: the key is refused for every host.
        const std::string_view hosts = text::next_word(rest);
        if (hosts.empty()) return skip("no host names after @revoked");
        if (hosts.starts_with("ssh-") || hosts.starts_with("ecdsa-") || hosts.starts_with("sk-")) {
            return skip("@revoked needs host names before the key (\"*\" for every host)");
        }
        entry.revoked = true;
        // Read for the tools that show a host's lines; a field twoway cannot read leaves them empty and
        // the key still revoked (for every host).
        if (!parse_host_list(hosts, entry).empty()) {
            entry.hosts.clear();
            entry.patterns.clear();
        }
    } else {
        if (first.starts_with('|')) return skip("hashed host names are not supported yet");
        std::string problem = parse_host_list(first, entry);
        if (!problem.empty()) return skip(std::move(problem));
    }

    auto key = parse_public_key_line(rest);
    if (!key) return skip((entry.revoked ? "@revoked: " : "") + key_problem(key.error(), rest));
    entry.key = key->key;
    entry.comment = std::move(key->comment);
    return Parsed{std::move(entry), {}};
}

}  // namespace

KnownHostsReader::KnownHostsReader(std::string_view path, std::string_view text, const TrustLimits& limits)
    : path_(path), lines_(text, limits.max_line_length), limits_(limits) {}

std::optional<KnownHostsLine> KnownHostsReader::next() {
    return trust::next_line<KnownHostsLine>(lines_, limits_, path_, entries_, truncated_, parse_line);
}

KnownHostsFile parse_known_hosts(std::string_view path, std::string_view text, const TrustLimits& limits) {
    KnownHostsReader reader(path, text, limits);
    return trust::parse_all<KnownHostsFile>(path, reader, limits);
}

HostVerdict check_host(std::span<const KnownHostsFile> files, std::string_view host, std::uint16_t port,
                       const PublicKey& key) {
    HostVerdict verdict;
    const HostPort wanted{text::ascii_lower(host), port};
    const std::string name = match_name(wanted);
    for (const auto& file : files) {
        if (file.truncated) verdict.incomplete = true;
        for (const auto& entry : file.entries) {
            if (entry.revoked) {
                if (!verdict.revoked && entry.key == key) verdict.revoked = entry.where;
                continue;
            }
            if (!matches(entry, wanted, name)) continue;
            if (entry.key == key) {
                if (!verdict.matched) verdict.matched = entry.where;
            } else {
                verdict.mismatches.push_back(HostKeyMismatch{entry.where, entry.key});
            }
        }
    }
    if (verdict.revoked) {
        verdict.status = HostStatus::revoked;
        verdict.matched.reset();
        verdict.mismatches.clear();
    } else if (verdict.matched) {
        verdict.status = HostStatus::known;
        verdict.mismatches.clear();
    } else if (!verdict.mismatches.empty()) {
        verdict.status = HostStatus::changed;
    } else {
        verdict.status = HostStatus::unknown;
    }
    return verdict;
}

std::vector<PublicKey> known_host_keys(std::span<const KnownHostsFile> files, std::string_view host,
                                       std::uint16_t port) {
    std::vector<PublicKey> keys;
    std::vector<PublicKey> revoked;
    const HostPort wanted{text::ascii_lower(host), port};
    const std::string name = match_name(wanted);
    for (const auto& file : files) {
        for (const auto& entry : file.entries) {
            if (entry.revoked) {
                revoked.push_back(entry.key);
                continue;
            }
            if (!matches(entry, wanted, name)) continue;
            if (std::find(keys.begin(), keys.end(), entry.key) == keys.end()) keys.push_back(entry.key);
        }
    }
    std::erase_if(keys, [&](const PublicKey& k) {
        return std::find(revoked.begin(), revoked.end(), k) != revoked.end();
    });
    return keys;
}

bool known_host_matches(const KnownHostEntry& entry, std::string_view host, std::uint16_t port) {
    const HostPort wanted{text::ascii_lower(host), port};
    return matches(entry, wanted, match_name(wanted));
}

std::optional<HostPort> parse_host_port(std::string_view name) {
    HostPort hp;
    if (!parse_host(name, hp).empty()) return std::nullopt;
    return hp;
}

Result<std::string> format_host_port(std::string_view host, std::uint16_t port) {
    if (port == 0 || !text::valid_host_name(host)) return fail(errc::invalid_argument);
    return match_name(HostPort{text::ascii_lower(host), port});
}

Result<std::string> format_known_hosts_line(std::string_view host, std::uint16_t port, const PublicKey& key) {
    auto name = format_host_port(host, port);
    if (!name) return fail(name.error());
    return *name + " " + format_public_key_line(key);
}

}  // namespace twoway
