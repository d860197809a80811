// known_hosts in OpenSSH's syntax (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT):
//   [marker] hostnames keytype base64-key [comment]
// twoway honours plain host names and "[host]:port" in a comma-separated list, OpenSSH's patterns
// in that list (* and ? wildcards, ! negation, matched as match_hostname does), hashed fields
// (|1|salt|hash, matched as match_maybe_hashed does), @revoked lines (for every host: see
// KnownHostEntry::revoked) and @cert-authority lines (read here, decided by check_host_certificate in
// known_hosts_ca.cpp). Names are read one by one, so one bad name does not void the line's good ones.
// What cannot be read (a malformed hashed field, a CA key that is a certificate, binary junk) is never
// half-understood and accepted: it becomes an UnusableHostLine, which check_host turns into "uncertain"
// (or, for a readable key of another type, a changed key), never into "unknown".
#include <algorithm>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "crypto/crypto.hpp"
#include "text/text_util.hpp"
#include "trust/trust_lines.hpp"

namespace twoway {

namespace {

// What one line became: an entry, an unusable line (which may concern hosts), or neither (a line that
// concerns no Ed25519 key of any host: an @revoked key of another type). reason: why the line is
// skipped, or a note on an entry's bad names.
struct Parsed {
    std::optional<KnownHostEntry> entry;
    std::optional<UnusableHostLine> unusable;
    std::string reason;
};

UnusableHostLine unusable_line(const Location& where, UnusableKind kind, std::string reason) {
    UnusableHostLine u;
    u.where = where;
    u.kind = kind;
    u.reason = std::move(reason);
    return u;
}

Parsed unusable(const Location& where, UnusableKind kind, std::string reason) {
    Parsed p;
    p.unusable = unusable_line(where, kind, reason);
    p.reason = std::move(reason);
    return p;
}

constexpr std::string_view hash_magic = "|1|";
const char* const bad_hash_reason =
    "malformed hashed host name (not |1|salt|hash with a 20-byte salt and hash): it may name any host";

constexpr std::size_t max_pattern_length = 512;

bool is_pattern(std::string_view name) {
    return name.starts_with('!') || name.find_first_of("*?") != std::string_view::npos;
}

// "[x]:4422" is "x": names and patterns for the default port are matched bare, as OpenSSH writes them.
std::string bare_default_port(std::string lowered) {
    const std::string suffix = "]:" + std::to_string(default_port);
    if (lowered.size() > suffix.size() + 1 && lowered.front() == '[' && lowered.ends_with(suffix)) {
        return lowered.substr(1, lowered.size() - 1 - suffix.size());
    }
    return lowered;
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
        if (!ok) return "invalid host pattern " + quoted(name);
    }
    const auto colon = body.find(':');
    if (body.front() != '[' && colon != std::string_view::npos &&
        body.find(':', colon + 1) == std::string_view::npos) {
        return "a host with a port must be written [host]:port: " + quoted(name);
    }
    out = (name.starts_with('!') ? "!" : "") + bare_default_port(ascii_lower(body));
    return {};
}

// One name of the host list. The reason is empty when it parsed.
std::string parse_host(std::string_view name, HostPort& out) {
    if (name.empty()) return "empty host name in the list";
    if (is_pattern(name)) return "a host pattern, not a host name: " + quoted(name);
    if (name.front() == '[') {
        auto hp = split_host_port(name);
        if (!hp || !hp->port) return "invalid [host]:port entry " + quoted(name);
        auto port = parse_port(*hp->port);
        if (!port) return "invalid port in " + quoted(name);
        if (!valid_host_name(hp->host)) return "invalid host name " + quoted(name);
        out = HostPort{ascii_lower(hp->host), *port};
        return {};
    }
    const auto colon = name.find(':');
    if (colon != std::string_view::npos && name.find(':', colon + 1) == std::string_view::npos) {
        // One colon is not an IPv6 address: someone wrote host:port, which OpenSSH would take as a
        // literal name that never matches. Say so instead of keeping a dead entry.
        return "a host with a port must be written [host]:port: " + quoted(name);
    }
    if (!valid_host_name(name)) return "invalid host name " + quoted(name);
    out = HostPort{ascii_lower(name), default_port};
    return {};
}

std::string key_problem(std::error_code ec, std::string_view key_text) {
    std::string_view rest = key_text;
    std::string_view type = text::next_word(rest);
    if (type.empty()) return "no key after the host names";
    if (ec == errc::unsupported_key_type) {
        return "key type " + quoted(type) + " is not supported (only ssh-ed25519)";
    }
    if (ec == errc::malformed) return "invalid ssh-ed25519 key data";
    if (type == ssh_ed25519_name) return "missing ssh-ed25519 key data";
    return "not a key: " + quoted(type);
}

// The names of one line, read one by one: good ones into hosts and patterns (each once), the others
// into bad_names. The reason is empty when every name parsed, else it says what was wrong with the
// first bad one.
struct HostList {
    std::vector<HostPort> hosts;
    std::vector<std::string> patterns;
    std::vector<std::string> bad_names;
    std::optional<HashedHostName> hashed;
};

std::string parse_host_list(std::string_view names, HostList& out) {
    std::string first_problem;
    while (true) {
        const auto comma = names.find(',');
        const std::string_view name = names.substr(0, comma);
        std::string problem;
        if (!name.empty() && is_pattern(name)) {
            std::string pattern;
            problem = parse_pattern(name, pattern);
            if (problem.empty() && std::find(out.patterns.begin(), out.patterns.end(), pattern) == out.patterns.end()) {
                out.patterns.push_back(std::move(pattern));
            }
        } else {
            HostPort hp;
            problem = parse_host(name, hp);
            if (problem.empty() && std::find(out.hosts.begin(), out.hosts.end(), hp) == out.hosts.end()) {
                out.hosts.push_back(std::move(hp));
            }
        }
        if (!problem.empty()) {
            out.bad_names.push_back(ascii_lower(name));
            if (first_problem.empty()) first_problem = std::move(problem);
        }
        if (comma == std::string_view::npos) break;
        names.remove_prefix(comma + 1);
    }
    if (out.bad_names.size() > 1) {
        first_problem += " (and " + std::to_string(out.bad_names.size() - 1) + " more bad name" +
                         (out.bad_names.size() > 2 ? "s" : "") + ")";
    }
    return first_problem;
}

template <class Line>
void take_names(HostList&& list, Line& line) {
    line.hosts = std::move(list.hosts);
    line.patterns = std::move(list.patterns);
    line.bad_names = std::move(list.bad_names);
    line.hashed = list.hashed;
}

// The host field: one hashed name (the whole field, as OpenSSH's match_maybe_hashed reads a field that
// starts with '|'), or a list of names. False for a hashed field that does not read (then it may name
// any host); note: as parse_host_list's.
bool read_names(std::string_view field, HostList& out, std::string& note) {
    if (field.starts_with('|')) {
        out.hashed = parse_hashed_host_name(field);
        return out.hashed.has_value();
    }
    note = parse_host_list(field, out);
    return true;
}

// "host" for default_port, "[host]:port" otherwise (host already lower-cased): what format_host_port
// writes, and the name a host list's patterns are matched against, as OpenSSH builds it.
std::string match_name(const HostPort& hp) {
    if (hp.port == default_port) return hp.host;
    return "[" + hp.host + "]:" + std::to_string(hp.port);
}

// Whether a name twoway refused (lower-cased, without its '!') could mean the host called `name`: read
// as OpenSSH reads it (a pattern over the whole name; literal unless it has wildcards), or as the
// "[host]:port" its writer probably meant when written "host:port" without brackets.
bool bad_name_may_mean(std::string_view bad, const std::string& name) {
    if (bad.empty()) return false;
    if (match_pattern(bad, name)) return true;
    const std::string bare = bare_default_port(std::string(bad));
    if (bare != bad && match_pattern(bare, name)) return true;
    const auto colon = bad.find(':');
    if (bad.front() != '[' && colon != std::string_view::npos && bad.find(':', colon + 1) == std::string_view::npos) {
        const std::string meant = bare_default_port("[" + std::string(bad.substr(0, colon)) + "]" +
                                                    std::string(bad.substr(colon)));
        return match_pattern(meant, name);
    }
    return false;
}

// Whether a hashed field names wanted: the hash of the name ssh would hash ("host", "[host]:port"), and
// for default_port of "[host]:4422" too, which twoway reads as "host" when written plainly.
bool hashed_names(const HashedHostName& hashed, const HostPort& wanted, const std::string& name) {
    if (hashed_host_name_matches(hashed, name)) return true;
    return wanted.port == default_port &&
           hashed_host_name_matches(hashed, "[" + wanted.host + "]:" + std::to_string(default_port));
}

template <class Line>
HostNaming naming(const Line& line, const HostPort& wanted, const std::string& name) {
    if (line.hashed) return hashed_names(*line.hashed, wanted, name) ? HostNaming::yes : HostNaming::no;
    const auto& hosts = line.hosts;
    const auto& patterns = line.patterns;
    const auto& bad_names = line.bad_names;
    bool positive = std::find(hosts.begin(), hosts.end(), wanted) != hosts.end();
    for (const auto& p : patterns) {
        if (p.starts_with('!')) {
            // A negation that matches takes the line out for this host, whatever else is on it.
            if (match_pattern(std::string_view(p).substr(1), name)) return HostNaming::no;
        } else if (!positive && match_pattern(p, name)) {
            positive = true;
        }
    }
    bool maybe = false;
    for (const auto& b : bad_names) {
        const bool negated = b.starts_with('!');
        if (!bad_name_may_mean(std::string_view(b).substr(negated ? 1 : 0), name)) continue;
        // A bad negation may have been meant to take the host out; a bad positive name only matters
        // when no good name already names the host.
        if (negated || !positive) maybe = true;
    }
    if (maybe) return HostNaming::maybe;
    return positive ? HostNaming::yes : HostNaming::no;
}

// The first word of a plain line, or the host field of an @revoked or @cert-authority line, is a key
// type and the word after it is not: the line reads "type key", so it has no host names (they were
// forgotten). Only the exact names count ("ssh-gw.example" and "ecdsa-web.example" are host names), and
// only when no key type follows: in "ssh-dss ssh-ed25519 AAAA..." the host is named ssh-dss, as OpenSSH,
// which always reads the first field as host names, reads it (and as format_known_hosts_line writes it).
bool looks_like_key_type(std::string_view word, std::string_view rest) {
    return trust::is_key_type_name(word) && !trust::is_key_type_name(text::next_word(rest));
}

Parsed parse_revoked(std::string_view rest, const Location& where) {
    // The host field is required but not interpreted: the key is refused for every host. A line twoway
    // cannot read here may revoke the very key offered, so it makes every verdict uncertain.
    const std::string_view hosts = text::next_word(rest);
    if (hosts.empty()) return unusable(where, UnusableKind::revocation, "no host names after @revoked");
    if (looks_like_key_type(hosts, rest)) {
        return unusable(where, UnusableKind::revocation,
                        "@revoked needs host names before the key (\"*\" for every host)");
    }
    KnownHostEntry entry;
    entry.where = where;
    entry.revoked = true;
    // Read for the tools that show a host's lines (a malformed hashed field names nothing they can show).
    HostList list;
    std::string note;
    if (read_names(hosts, list, note)) take_names(std::move(list), entry);
    auto key = parse_public_key_line(rest);
    if (!key) {
        // A revoked certificate revokes the key it certifies (OpenSSH compares them by that key).
        if (auto certified = trust::certified_ed25519_key(rest)) {
            entry.key = *certified;
            return Parsed{std::move(entry), std::nullopt, {}};
        }
        std::string why = "@revoked: " + key_problem(key.error(), rest);
        // A revoked key of another type cannot be an Ed25519 key: it concerns no host twoway meets.
        if (trust::other_key_type(rest)) return Parsed{std::nullopt, std::nullopt, std::move(why)};
        return unusable(where, UnusableKind::revocation, std::move(why));
    }
    entry.key = key->key;
    entry.comment = std::move(key->comment);
    return Parsed{std::move(entry), std::nullopt, {}};
}

// "@cert-authority names key": the CA key must be a plain Ed25519 key. A line twoway cannot use still
// says how the hosts it names prove themselves, so for them no plain key is taken as new (check_host).
Parsed parse_cert_authority(std::string_view rest, const Location& where) {
    const auto unusable_ca = [&](UnusableKind kind, std::string why, HostList&& list) {
        Parsed p = unusable(where, kind, "@cert-authority: " + std::move(why));
        p.unusable->cert_authority = true;
        take_names(std::move(list), *p.unusable);
        return p;
    };
    const std::string_view hosts = text::next_word(rest);
    if (hosts.empty()) return unusable_ca(UnusableKind::any_host, "no host names", {});
    if (looks_like_key_type(hosts, rest)) {
        return unusable_ca(UnusableKind::any_host, "host names needed before the CA key (\"*\" for every host)", {});
    }
    HostList list;
    std::string note;
    if (!read_names(hosts, list, note)) return unusable_ca(UnusableKind::any_host, bad_hash_reason, {});
    auto key = parse_public_key_line(rest);
    if (!key) {
        // As OpenSSH (a CA key must not be a certificate): such a line vouches for nothing.
        std::string_view type_word = rest;
        if (trust::certified_ed25519_key(rest) || text::next_word(type_word).ends_with("-cert-v01@openssh.com")) {
            return unusable_ca(UnusableKind::named, "the CA key is a certificate, which cannot be a CA",
                               std::move(list));
        }
        return unusable_ca(UnusableKind::named, key_problem(key.error(), rest), std::move(list));
    }
    KnownHostEntry entry;
    entry.where = where;
    entry.cert_authority = true;
    take_names(std::move(list), entry);
    entry.key = key->key;
    entry.comment = std::move(key->comment);
    if (!note.empty() && (!entry.hosts.empty() || !entry.patterns.empty())) {
        note += "; the line's other names still count";
    }
    return Parsed{std::move(entry), std::nullopt, std::move(note)};
}

Parsed parse_line(std::string_view line, const Location& where) {
    std::string_view rest = line;
    const std::string_view first = text::next_word(rest);
    if (first == "@revoked") return parse_revoked(rest, where);
    if (first == "@cert-authority") return parse_cert_authority(rest, where);
    if (first.starts_with('@')) return unusable(where, UnusableKind::any_host, "unknown marker " + quoted(first));
    if (looks_like_key_type(first, rest)) {
        return unusable(where, UnusableKind::any_host, "no host names before the key");
    }

    HostList list;
    std::string note;
    if (!read_names(first, list, note)) return unusable(where, UnusableKind::any_host, bad_hash_reason);
    auto key = parse_public_key_line(rest);
    if (key) {
        KnownHostEntry entry;
        entry.where = where;
        take_names(std::move(list), entry);
        entry.key = key->key;
        entry.comment = std::move(key->comment);
        if (!note.empty() && (!entry.hosts.empty() || !entry.patterns.empty())) {
            note += "; the line's other names still count";
        }
        return Parsed{std::move(entry), std::nullopt, std::move(note)};
    }
    std::string why = key_problem(key.error(), rest);
    Parsed p;
    if (auto type = trust::other_key_type(rest)) {
        p = unusable(where, UnusableKind::other_key_type, std::move(why));
        p.unusable->key_type = std::string(*type);
    } else {
        p = unusable(where, UnusableKind::named, std::move(why));
    }
    if (!note.empty()) p.reason += "; " + note;
    p.unusable->reason = p.reason;
    take_names(std::move(list), *p.unusable);
    return p;
}

}  // namespace

KnownHostsReader::KnownHostsReader(std::string_view path, std::string_view text, const TrustLimits& limits)
    : path_(path), lines_(text, limits.max_line_length), limits_(limits) {}

std::optional<KnownHostsLine> KnownHostsReader::next() {
    auto framed = trust::next_framed(lines_, limits_, truncated_);
    if (!framed) return std::nullopt;
    KnownHostsLine out;
    out.where = Location{path_, framed->line.number};
    out.text = framed->line.text;
    Parsed parsed;
    if (framed->status == LineStatus::entry) {
        parsed = parse_line(framed->line.text, out.where);
        if (!parsed.entry) {
            framed->status = LineStatus::skipped;
            framed->reason = parsed.reason;
        }
    } else if (framed->status == LineStatus::skipped && !truncated_) {
        // Binary bytes or an over-long line: nothing in it can be read, so it may name any host.
        parsed.unusable = unusable_line(out.where, UnusableKind::any_host, framed->reason);
    }
    if (parsed.entry || parsed.unusable) {
        // Unusable lines are kept (check_host needs them), so they count against the same limit.
        trust::count_entry(*framed, limits_, entries_, truncated_);
        if (truncated_) parsed = Parsed{};
    }
    out.status = framed->status;
    out.entry = std::move(parsed.entry);
    out.unusable = std::move(parsed.unusable);
    out.reason = out.status == LineStatus::entry ? std::move(parsed.reason) : std::move(framed->reason);
    return out;
}

KnownHostsFile parse_known_hosts(std::string_view path, std::string_view text, const TrustLimits& limits) {
    KnownHostsReader reader(path, text, limits);
    KnownHostsFile file;
    file.path = std::string(path);
    while (auto line = reader.next()) {
        if (line->status == LineStatus::skipped) ++file.skipped;
        if (!line->reason.empty() && file.diagnostics.size() < limits.max_diagnostics) {
            file.diagnostics.push_back(Diagnostic{line->where, std::move(line->reason)});
        }
        if (line->entry) file.entries.push_back(std::move(*line->entry));
        if (line->unusable) file.unusable.push_back(std::move(*line->unusable));
    }
    file.truncated = reader.truncated();
    return file;
}

HostNaming known_host_naming(const KnownHostEntry& entry, std::string_view host, std::uint16_t port) {
    const HostPort wanted{ascii_lower(host), port};
    return naming(entry, wanted, match_name(wanted));
}

HostNaming known_host_naming(const UnusableHostLine& line, std::string_view host, std::uint16_t port) {
    if (line.kind == UnusableKind::any_host || line.kind == UnusableKind::revocation) return HostNaming::maybe;
    const HostPort wanted{ascii_lower(host), port};
    return naming(line, wanted, match_name(wanted));
}

bool known_host_matches(const KnownHostEntry& entry, std::string_view host, std::uint16_t port) {
    return known_host_naming(entry, host, port) == HostNaming::yes;
}

HostVerdict check_host(std::span<const KnownHostsFile> files, std::string_view host, std::uint16_t port,
                       const PublicKey& key) {
    HostVerdict verdict;
    for (const auto& file : files) {
        if (file.truncated) verdict.incomplete = true;
        std::vector<Diagnostic> unreadable;  // this file's, put in line order below
        for (const auto& entry : file.entries) {
            if (entry.revoked) {
                if (!verdict.revoked && entry.key == key) verdict.revoked = entry.where;
                continue;
            }
            if (entry.cert_authority) {
                // The host proves itself with a certificate from this CA: a plain key is not taken as new.
                if (known_host_naming(entry, host, port) != HostNaming::no) {
                    unreadable.push_back(Diagnostic{
                        entry.where, "@cert-authority: this host is to present a certificate from this CA, "
                                     "not a plain key"});
                }
                continue;
            }
            switch (known_host_naming(entry, host, port)) {
                case HostNaming::no: break;
                case HostNaming::yes:
                    if (entry.key == key) {
                        if (!verdict.matched) verdict.matched = entry.where;
                    } else {
                        verdict.mismatches.push_back(HostKeyMismatch{entry.where, entry.key});
                    }
                    break;
                case HostNaming::maybe:
                    unreadable.push_back(
                        Diagnostic{entry.where, "a host name on this line cannot be read and may mean this host"});
                    break;
            }
        }
        for (const auto& line : file.unusable) {
            const HostNaming n = known_host_naming(line, host, port);
            if (n == HostNaming::no) continue;
            if (line.kind == UnusableKind::other_key_type && n == HostNaming::yes) {
                // As OpenSSH: a host recorded with a key of another type has a recorded key, and the one
                // offered is not it.
                verdict.mismatches.push_back(HostKeyMismatch{line.where, PublicKey{}, line.key_type});
                continue;
            }
            if (line.kind == UnusableKind::revocation) verdict.revocation_unreadable = true;
            unreadable.push_back(Diagnostic{line.where, line.reason});
        }
        std::stable_sort(unreadable.begin(), unreadable.end(),
                         [](const Diagnostic& a, const Diagnostic& b) { return a.where.line < b.where.line; });
        for (auto& d : unreadable) verdict.unreadable.push_back(std::move(d));
    }
    if (verdict.revoked) {
        verdict.status = HostStatus::revoked;
        verdict.matched.reset();
        verdict.mismatches.clear();
        verdict.unreadable.clear();
    } else if (verdict.revocation_unreadable) {
        // Even a known host: the line may revoke the very key its other lines hold.
        verdict.status = HostStatus::uncertain;
        verdict.matched.reset();
        verdict.mismatches.clear();
    } else if (verdict.matched) {
        verdict.status = HostStatus::known;
        verdict.mismatches.clear();
        verdict.unreadable.clear();
    } else if (!verdict.mismatches.empty()) {
        verdict.status = HostStatus::changed;
    } else if (!verdict.unreadable.empty()) {
        verdict.status = HostStatus::uncertain;
    } else {
        verdict.status = HostStatus::unknown;
    }
    return verdict;
}

std::vector<PublicKey> known_host_keys(std::span<const KnownHostsFile> files, std::string_view host,
                                       std::uint16_t port) {
    std::vector<PublicKey> keys;
    std::vector<PublicKey> revoked;
    for (const auto& file : files) {
        for (const auto& line : file.unusable) {
            // An @revoked line twoway cannot read may revoke any of them: prove knowledge of none.
            if (line.kind == UnusableKind::revocation) return {};
        }
        for (const auto& entry : file.entries) {
            if (entry.revoked) {
                revoked.push_back(entry.key);
                continue;
            }
            if (entry.cert_authority) continue;  // a CA's key, never a host's
            if (known_host_naming(entry, host, port) != HostNaming::yes) continue;
            if (std::find(keys.begin(), keys.end(), entry.key) == keys.end()) keys.push_back(entry.key);
        }
    }
    std::erase_if(keys, [&](const PublicKey& k) {
        return std::find(revoked.begin(), revoked.end(), k) != revoked.end();
    });
    return keys;
}

std::optional<HostPort> parse_host_port(std::string_view name) {
    HostPort hp;
    if (!parse_host(name, hp).empty()) return std::nullopt;
    return hp;
}

Result<std::string> format_host_port(std::string_view host, std::uint16_t port) {
    if (port == 0 || !valid_host_name(host)) return fail(errc::invalid_argument);
    return match_name(HostPort{ascii_lower(host), port});
}

Result<std::string> format_known_hosts_line(std::string_view host, std::uint16_t port, const PublicKey& key) {
    auto name = format_host_port(host, port);
    if (!name) return fail(name.error());
    return *name + " " + format_public_key_line(key);
}

Result<std::string> format_hashed_known_hosts_line(std::string_view host, std::uint16_t port, const PublicKey& key,
                                                   Rng& rng) {
    auto name = format_host_port(host, port);
    if (!name) return fail(name.error());
    return format_hashed_host_name(hash_host_name(*name, rng)) + " " + format_public_key_line(key);
}

// ---- hashed names (OpenSSH's hostfile.c: host_hash, extract_salt, match_maybe_hashed) ----------------

std::optional<HashedHostName> parse_hashed_host_name(std::string_view field) {
    if (!field.starts_with(hash_magic)) return std::nullopt;
    field.remove_prefix(hash_magic.size());
    const auto bar = field.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    // Strict base64 (padding, no stray bits): the field must be what host_hash writes, since OpenSSH
    // compares the whole field with the one it computes.
    auto salt = crypto::base64_decode(field.substr(0, bar));
    auto hash = crypto::base64_decode(field.substr(bar + 1));
    if (!salt || !hash || salt->size() != hashed_host_name_size || hash->size() != hashed_host_name_size) {
        return std::nullopt;
    }
    HashedHostName out;
    std::copy(salt->begin(), salt->end(), out.salt.begin());
    std::copy(hash->begin(), hash->end(), out.hash.begin());
    return out;
}

HashedHostName hash_host_name(std::string_view name, std::span<const std::byte, hashed_host_name_size> salt) {
    HashedHostName out;
    std::copy(salt.begin(), salt.end(), out.salt.begin());
    out.hash = crypto::hmac_sha1(salt, std::as_bytes(std::span(name.data(), name.size())));
    return out;
}

HashedHostName hash_host_name(std::string_view name, Rng& rng) {
    const auto salt = crypto::random_array<hashed_host_name_size>(rng);
    return hash_host_name(name, salt);
}

std::string format_hashed_host_name(const HashedHostName& name) {
    return std::string(hash_magic) + crypto::base64_encode(name.salt) + "|" + crypto::base64_encode(name.hash);
}

bool hashed_host_name_matches(const HashedHostName& hashed, std::string_view name) {
    return hash_host_name(name, hashed.salt).hash == hashed.hash;
}

}  // namespace twoway
