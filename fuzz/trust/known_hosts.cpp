// Fuzz target: known_hosts text through the reader, the whole-file parser and check_host.
//
// Beyond "no crash", it checks the parser's promises: the reader and parse_known_hosts agree line for
// line; every entry's names would be written back by format_known_hosts_line into a line that parses to
// the same names and key (one format, one parser); every entry is "known" for its own key at each of
// its plain names (unless a negated pattern of the line excludes the name) and a different key there is
// "changed" at that line, unless an @revoked line holds the key, which makes it "revoked" for every host
// and keeps it out of known_host_keys. Patterns are lower case; a pattern read as a host (wildcards
// dropped, '?' as 'a') matches its line when the line has no negation, and a negated one never does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/trust.hpp>

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Small limits, so the fuzzer reaches them.
    TrustLimits limits;
    limits.max_line_length = 512;
    limits.max_entries = 8;
    limits.max_lines = 64;
    limits.max_diagnostics = 4;

    auto file = parse_known_hosts("kh", text, limits);
    check(file.entries.size() <= limits.max_entries);
    check(file.diagnostics.size() <= limits.max_diagnostics);
    check(file.diagnostics.size() <= file.skipped);

    KnownHostsReader reader("kh", text, limits);
    std::size_t entries = 0;
    std::size_t skipped = 0;
    std::size_t last = 0;
    while (auto line = reader.next()) {
        check(line->where.line == last + 1);
        last = line->where.line;
        check((line->status == LineStatus::entry) == line->entry.has_value());
        check((line->status == LineStatus::skipped) == !line->reason.empty());
        if (line->entry) {
            check(entries < file.entries.size());
            check(file.entries[entries].where == line->where);
            ++entries;
        }
        if (line->status == LineStatus::skipped) ++skipped;
    }
    check(entries == file.entries.size());
    check(skipped == file.skipped);
    check(reader.truncated() == file.truncated);

    const std::vector<KnownHostsFile> files{file};
    const auto is_revoked = [&](const PublicKey& k) {
        return std::any_of(file.entries.begin(), file.entries.end(),
                           [&](const KnownHostEntry& r) { return r.revoked && r.key == k; });
    };
    for (const auto& e : file.entries) {
        bool negation = false;
        for (const auto& p : e.patterns) {
            check(!p.empty() && p != "!");
            check(std::none_of(p.begin(), p.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
            negation = negation || p.front() == '!';
        }
        for (const auto& p : e.patterns) {
            // The pattern as a host: '*' as nothing, '?' as 'a'.
            std::string as_host;
            for (char c : std::string_view(p).substr(p.front() == '!' ? 1 : 0)) {
                if (c != '*') as_host += c == '?' ? 'a' : c;
            }
            auto hp = parse_host_port(as_host);
            if (!hp) continue;
            auto written = format_host_port(hp->host, hp->port);
            if (!written || *written != as_host) continue;
            if (p.front() == '!') {
                check(!known_host_matches(e, hp->host, hp->port));
            } else if (!negation) {
                check(known_host_matches(e, hp->host, hp->port));
            }
        }
        if (e.revoked) {
            auto v = check_host(files, "any.example", 22, e.key);
            check(v.status == HostStatus::revoked && v.revoked.has_value() && !v.matched && v.mismatches.empty());
            check(v.revoked->line <= e.where.line);
            continue;
        }
        check(!e.hosts.empty() || !e.patterns.empty());
        const bool revoked = is_revoked(e.key);
        const HostPort* listed = nullptr;  // a plain name the line matches
        for (const auto& hp : e.hosts) {
            if (!known_host_matches(e, hp.host, hp.port)) {
                check(negation);  // only a negated pattern can exclude one of the line's own names
                continue;
            }
            if (listed == nullptr) listed = &hp;
            auto v = check_host(files, hp.host, hp.port, e.key);
            if (revoked) {
                check(v.status == HostStatus::revoked && v.revoked.has_value() && !v.matched);
            } else {
                check(v.status == HostStatus::known && v.matched.has_value() && v.mismatches.empty());
            }
            for (const auto& k : known_host_keys(files, hp.host, hp.port)) check(!is_revoked(k));

            auto line = format_known_hosts_line(hp.host, hp.port, e.key);
            check(line.has_value());
            auto back = parse_known_hosts("rt", *line);
            check(back.entries.size() == 1 && back.diagnostics.empty());
            check(back.entries[0].hosts.size() == 1 && back.entries[0].hosts[0] == hp);
            check(back.entries[0].key == e.key);
        }
        if (listed == nullptr) continue;
        PublicKey::Raw other = e.key.raw();
        other[0] ^= std::byte{1};
        auto v = check_host(files, listed->host, listed->port, PublicKey(other));
        if (is_revoked(PublicKey(other))) {
            check(v.status == HostStatus::revoked);
        } else if (v.status == HostStatus::changed) {
            bool found = false;
            for (const auto& m : v.mismatches) found = found || m.where == e.where;
            check(found);
        } else {
            check(v.status == HostStatus::known);  // another line holds the flipped key
        }
    }
    return 0;
}
