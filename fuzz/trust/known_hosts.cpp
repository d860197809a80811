// Fuzz target: known_hosts text through the reader, the whole-file parser and check_host.
//
// Beyond "no crash", it checks the parser's promises: the reader and parse_known_hosts agree line for
// line; every entry's names would be written back by format_known_hosts_line into a line that parses to
// the same names and key (one format, one parser); every entry is "known" for its own key at each of
// its plain names (unless a negated pattern of the line excludes the name, or a bad name of the line
// may mean it) and a different key there is "changed" at that line, unless an @revoked line holds the
// key, which makes it "revoked" for every host and keeps it out of known_host_keys, or an @revoked line
// cannot be read, which makes every verdict "uncertain" and known_host_keys empty. Patterns are lower
// case; a pattern read as a host (wildcards dropped, '?' as 'a') matches its line when the line has no
// negation, and a negated one never does.
//
// An @cert-authority entry never vouches for a key (its names are never "unknown" through it, and
// never "known" through it alone), and check_host_certificate allows a certificate only through such a
// line that names the host for certain with the certificate's CA key, and never when an @revoked line
// holds the CA key or the certified key.
//
// Hashed names: a well-formed hashed line for a probe host says exactly what the plain line for that
// host says (every verdict with it equals the verdict with the plain line instead).
//
// And fail closed: the input's last line, added to the lines before it, never makes "known" what was
// not known unless that line alone vouches for the key, and never makes "unknown" what was not; a
// hashed line that does not read (a malformed |1|salt|hash field), added to the file, never turns any
// verdict into "unknown", nor into "known" when it was not.
#include <algorithm>
#include <array>
#include <span>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/trust.hpp>

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

using namespace twoway;

struct Probe {
    HostPort host;
    PublicKey key;
};

// A fixed Rng: the fuzzer's runs must be reproducible.
class CountingRng final : public Rng {
public:
    void fill(std::span<std::byte> out) override {
        for (auto& b : out) b = static_cast<std::byte>(++n_);
    }

private:
    unsigned n_ = 0;
};

// The CA of the seeds' @cert-authority lines (seed bytes 0x42; its public key line is in
// fuzz/corpus/known_hosts/cert_authority), and a host certificate it signed for "web.example.com",
// valid from 2026 to 2027, for the host key of seed 0x43.
PrivateKey seeded_key(std::uint8_t n) {
    std::array<std::byte, 32> seed{};
    seed.fill(std::byte{n});
    return PrivateKey::from_seed(seed);
}

const Certificate& host_certificate() {
    static const Certificate cert = [] {
        CertificateFields f;
        f.key = seeded_key(0x43).public_key();
        f.type = CertificateType::host;
        f.key_id = "fuzz";
        f.principals = {"web.example.com"};
        f.valid_after = 1767225600;
        f.valid_before = 1798761600;
        CountingRng rng;
        return *sign_certificate(f, seeded_key(0x42), rng);
    }();
    return cert;
}

HostStatus status(const KnownHostsFile& file, const Probe& p) {
    const std::vector<KnownHostsFile> files{file};
    return check_host(files, p.host.host, p.host.port, p.key).status;
}

// Every plain name and key of the file, crossed, plus a host and a key no line is likely to hold.
std::vector<Probe> probes(const KnownHostsFile& file) {
    std::vector<HostPort> hosts{{"any.example", default_port}, {"any.example", 22}};
    std::vector<PublicKey> keys;
    PublicKey::Raw other{};
    other.fill(std::byte{0x5a});
    keys.emplace_back(other);
    for (const auto& e : file.entries) {
        for (const auto& hp : e.hosts) {
            if (hosts.size() < 6 && std::find(hosts.begin(), hosts.end(), hp) == hosts.end()) hosts.push_back(hp);
        }
        if (keys.size() < 4 && std::find(keys.begin(), keys.end(), e.key) == keys.end()) keys.push_back(e.key);
    }
    for (const auto& u : file.unusable) {
        for (const auto& hp : u.hosts) {
            if (hosts.size() < 8 && std::find(hosts.begin(), hosts.end(), hp) == hosts.end()) hosts.push_back(hp);
        }
    }
    std::vector<Probe> out;
    for (const auto& h : hosts) {
        for (const auto& k : keys) out.push_back(Probe{h, k});
    }
    return out;
}

// The fail-closed promises for a file (before) and the same file with one more line (after), when that
// line was read (not cut by a limit); alone is what that line says by itself.
void check_added_line(const KnownHostsFile& before, const KnownHostsFile& after, const KnownHostsFile& alone) {
    for (const auto& p : probes(after)) {
        const HostStatus b = status(before, p);
        const HostStatus a = status(after, p);
        const HostStatus l = status(alone, p);
        // Never known unless it was, or the line itself vouches for the key.
        if (a == HostStatus::known) check(b == HostStatus::known || l == HostStatus::known);
        // Never unknown unless it was and the line says nothing about it.
        if (a == HostStatus::unknown) check(b == HostStatus::unknown && l == HostStatus::unknown);
        // What the line says about the host by itself is not lost in the file, unless something
        // stronger (a revocation, a line that vouches for the key) decides.
        if (l == HostStatus::uncertain || l == HostStatus::changed) check(a != HostStatus::unknown);
        if (l == HostStatus::revoked) check(a == HostStatus::revoked);
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Small limits, so the fuzzer reaches them.
    TrustLimits limits;
    limits.max_line_length = 512;
    limits.max_entries = 8;
    limits.max_lines = 64;
    limits.max_diagnostics = 4;

    auto file = parse_known_hosts("kh", text, limits);
    check(file.entries.size() + file.unusable.size() <= limits.max_entries);
    check(file.diagnostics.size() <= limits.max_diagnostics);

    KnownHostsReader reader("kh", text, limits);
    std::size_t entries = 0;
    std::size_t unusable = 0;
    std::size_t skipped = 0;
    std::size_t noted = 0;  // lines with a diagnostic
    std::size_t last = 0;
    while (auto line = reader.next()) {
        check(line->where.line == last + 1);
        last = line->where.line;
        check((line->status == LineStatus::entry) == line->entry.has_value());
        if (line->status == LineStatus::skipped) check(!line->reason.empty());
        if (line->status == LineStatus::blank || line->status == LineStatus::comment) check(line->reason.empty());
        if (line->unusable) {
            check(line->status == LineStatus::skipped);
            check(unusable < file.unusable.size());
            check(file.unusable[unusable].where == line->where);
            check(file.unusable[unusable].reason == line->reason);
            ++unusable;
        }
        if (line->entry) {
            check(entries < file.entries.size());
            check(file.entries[entries].where == line->where);
            ++entries;
        }
        if (line->status == LineStatus::skipped) ++skipped;
        if (!line->reason.empty()) ++noted;
    }
    check(entries == file.entries.size());
    check(unusable == file.unusable.size());
    check(skipped == file.skipped);
    check(file.diagnostics.size() == std::min(noted, limits.max_diagnostics));
    check(reader.truncated() == file.truncated);

    const std::vector<KnownHostsFile> files{file};
    const auto is_revoked = [&](const PublicKey& k) {
        return std::any_of(file.entries.begin(), file.entries.end(),
                           [&](const KnownHostEntry& r) { return r.revoked && r.key == k; });
    };
    const bool revocation_unreadable = std::any_of(file.unusable.begin(), file.unusable.end(), [](const auto& u) {
        return u.kind == UnusableKind::revocation;
    });
    for (const auto& u : file.unusable) {
        if (u.kind == UnusableKind::any_host || u.kind == UnusableKind::revocation) {
            check(u.hosts.empty() && u.patterns.empty() && u.bad_names.empty());
            check(known_host_naming(u, "any.example", 1) == HostNaming::maybe);
        }
        check((u.kind == UnusableKind::other_key_type) == !u.key_type.empty());
        for (const auto& hp : u.hosts) {
            // A host a line names with a key twoway cannot use is never known through it, nor unknown.
            if (known_host_naming(u, hp.host, hp.port) == HostNaming::no) continue;
            PublicKey::Raw raw{};
            raw.fill(std::byte{0xa5});
            auto v = check_host(files, hp.host, hp.port, PublicKey(raw));
            check(v.status != HostStatus::unknown && v.status != HostStatus::known);
        }
    }
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
            const HostNaming n = known_host_naming(e, hp->host, hp->port);
            if (p.front() == '!') {
                check(n == HostNaming::no);
            } else if (!negation) {
                check(n != HostNaming::no);  // yes, or maybe when a bad name could mean it too
            }
        }
        if (e.cert_authority) {
            // A CA's key is no host key: the hosts the line names are never "unknown" with any key, and
            // the CA key is never "known" through this line.
            for (const auto& hp : e.hosts) {
                if (known_host_naming(e, hp.host, hp.port) == HostNaming::no) continue;
                auto v = check_host(files, hp.host, hp.port, e.key);
                check(v.status != HostStatus::unknown);
                if (v.matched) check(!(v.matched->line == e.where.line));
            }
            continue;
        }
        if (e.revoked) {
            auto v = check_host(files, "any.example", 22, e.key);
            check(v.status == HostStatus::revoked && v.revoked.has_value() && !v.matched && v.mismatches.empty());
            check(v.revoked->line <= e.where.line);
            continue;
        }
        check(!e.hosts.empty() || !e.patterns.empty() || !e.bad_names.empty() || e.hashed.has_value());
        if (e.hashed) check(e.hosts.empty() && e.patterns.empty() && e.bad_names.empty());
        const bool revoked = is_revoked(e.key);
        const HostPort* listed = nullptr;  // a plain name the line names for certain
        for (const auto& hp : e.hosts) {
            const HostNaming n = known_host_naming(e, hp.host, hp.port);
            if (n == HostNaming::no) check(negation);  // only a negated pattern can exclude one of its names
            if (n != HostNaming::yes) continue;
            if (listed == nullptr) listed = &hp;
            auto v = check_host(files, hp.host, hp.port, e.key);
            if (revoked) {
                check(v.status == HostStatus::revoked && v.revoked.has_value() && !v.matched);
            } else if (revocation_unreadable) {
                check(v.status == HostStatus::uncertain && v.revocation_unreadable && !v.matched);
            } else {
                check(v.status == HostStatus::known && v.matched.has_value() && v.mismatches.empty());
            }
            const auto keys = known_host_keys(files, hp.host, hp.port);
            for (const auto& k : keys) check(!is_revoked(k));
            if (revocation_unreadable) check(keys.empty());

            auto line = format_known_hosts_line(hp.host, hp.port, e.key);
            check(line.has_value());
            auto back = parse_known_hosts("rt", *line);
            check(back.entries.size() == 1 && back.diagnostics.empty() && back.unusable.empty());
            check(back.entries[0].hosts.size() == 1 && back.entries[0].hosts[0] == hp);
            check(back.entries[0].key == e.key);
        }
        if (listed == nullptr) continue;
        PublicKey::Raw other = e.key.raw();
        other[0] ^= std::byte{1};
        auto v = check_host(files, listed->host, listed->port, PublicKey(other));
        if (is_revoked(PublicKey(other))) {
            check(v.status == HostStatus::revoked);
        } else if (revocation_unreadable) {
            check(v.status == HostStatus::uncertain);
        } else if (v.status == HostStatus::changed) {
            bool found = false;
            for (const auto& m : v.mismatches) found = found || m.where == e.where;
            check(found);
        } else {
            check(v.status == HostStatus::known);  // another line holds the flipped key
        }
    }

    // check_host_certificate: allowed only through an @cert-authority line naming the host with the CA key.
    {
        const Certificate& cert = host_certificate();
        std::vector<HostPort> hosts{{"web.example.com", default_port}};
        for (const auto& e : file.entries) {
            for (const auto& hp : e.hosts) {
                if (hosts.size() < 4) hosts.push_back(hp);
            }
        }
        for (const auto& hp : hosts) {
            const auto v = check_host_certificate(files, hp.host, hp.port, cert, 1767229200);
            check(v.allowed == v.reason.empty());
            if (!v.allowed) continue;
            check(v.authority.has_value() && !v.revoked && v.unreadable.empty());
            bool through = false;
            for (const auto& e : file.entries) {
                if (e.revoked) check(e.key != cert.key && e.key != cert.signature_key);
                if (e.cert_authority && e.where == *v.authority) {
                    through = e.key == cert.signature_key &&
                              known_host_naming(e, hp.host, hp.port) == HostNaming::yes;
                }
            }
            check(through);
            check(!revocation_unreadable);
        }
    }

    // A well-formed hashed line for a probe host says what the plain line says.
    if (!file.truncated && file.entries.size() + file.unusable.size() < limits.max_entries &&
        (text.empty() || text.back() == '\n')) {
        CountingRng rng;
        int done = 0;
        for (const auto& p : probes(file)) {
            if (done++ == 3) break;
            auto hashed_line = format_hashed_known_hosts_line(p.host.host, p.host.port, p.key, rng);
            auto plain_line = format_known_hosts_line(p.host.host, p.host.port, p.key);
            if (!hashed_line || !plain_line) continue;
            const auto hashed = parse_known_hosts("kh", std::string(text) + *hashed_line + "\n", limits);
            const auto plain = parse_known_hosts("kh", std::string(text) + *plain_line + "\n", limits);
            if (hashed.truncated || plain.truncated) continue;
            for (const auto& q : probes(plain)) check(status(hashed, q) == status(plain, q));
        }
    }

    // Fail closed, one added line at a time: the input's last line added to the lines before it.
    const std::size_t cut = text.find_last_of('\n', text.size() >= 2 ? text.size() - 2 : 0);
    if (cut != std::string_view::npos && !file.truncated) {
        const auto before = parse_known_hosts("kh", text.substr(0, cut + 1), limits);
        const auto alone = parse_known_hosts("kh", text.substr(cut + 1), limits);
        if (!before.truncated && !alone.truncated) check_added_line(before, file, alone);
    }
    // And a hashed field that does not read (the hash's padding lost), added at the end of the file.
    if (!file.truncated && file.entries.size() + file.unusable.size() < limits.max_entries &&
        (text.empty() || text.back() == '\n')) {
        std::string more(text);
        more += "|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM ";
        PublicKey::Raw raw{};
        raw.fill(std::byte{0x5a});  // the probes' own "other" key: a hashed line may hold the offered key
        more += format_public_key_line(PublicKey(raw)) + "\n";
        const auto hashed = parse_known_hosts("kh", more, limits);
        if (!hashed.truncated && hashed.unusable.size() == file.unusable.size() + 1) {
            for (const auto& p : probes(file)) {
                const HostStatus b = status(file, p);
                const HostStatus a = status(hashed, p);
                check(a != HostStatus::unknown);
                if (a == HostStatus::known) check(b == HostStatus::known);
                if (b != HostStatus::unknown) check(a == b);  // nothing else changes
            }
        }
    }
    return 0;
}
