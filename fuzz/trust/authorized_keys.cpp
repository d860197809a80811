// Fuzz target: authorized_keys text through the reader, the parser and check_authorized.
//
// Beyond "no crash": the reader and parse_authorized_keys agree; an entry's options are what
// parse_key_options reads from the text before its key; without connection facts every entry's key
// whose line needs none (no from=, expiry-time=, cert-authority) is authorized at or before that line;
// a line the parser skipped never authorizes a key that no entry holds. The same
// text as a revoked key list (parse_revocation_list, which shares the reader): its keys are exactly the
// entries without options and the keys of the ssh-ed25519 certificates it lists; it is usable only when every other
// skipped line was a key of another type, and a usable list revokes each entry's key at the first line
// holding it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "trust/trust_lines.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    TrustLimits limits;
    limits.max_line_length = 512;
    limits.max_entries = 8;
    limits.max_lines = 64;
    limits.max_diagnostics = 4;

    auto file = parse_authorized_keys("ak", text, limits);
    check(file.entries.size() <= limits.max_entries);
    check(file.diagnostics.size() <= limits.max_diagnostics);

    AuthorizedKeysReader reader("ak", text, limits);
    std::size_t entries = 0;
    while (auto line = reader.next()) {
        check((line->status == LineStatus::entry) == line->entry.has_value());
        if (line->entry) {
            check(entries < file.entries.size());
            check(file.entries[entries].where == line->where);
            // An accepted line is a key line: it starts (after blanks) with the key type, or with options
            // that parse_key_options reads as they were recorded.
            std::string_view t = line->text;
            while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
            const auto& options = line->entry->options;
            if (options.text.empty()) {
                check(t.starts_with("ssh-ed25519"));
            } else {
                check(t.starts_with(options.text));
                const auto again = parse_key_options(options.text);
                check(again.options && *again.options == options);
            }
            ++entries;
        } else if (line->status == LineStatus::skipped) {
            // Whatever the parser refused must not be a key line it should have taken.
            auto key = parse_public_key_line(line->text);
            check(!key.has_value() || line->reason.starts_with("line too long") ||
                  line->reason.starts_with("line contains control") || line->reason.starts_with("too many"));
        }
    }
    check(entries == file.entries.size());

    const std::vector<AuthorizedKeysFile> files{file};
    for (const auto& e : file.entries) {
        // Without connection facts, a line with from= or expiry-time= (or a CA line) never authorizes;
        // any other line holding the key does, and the first such line decides.
        auto v = check_authorized(files, e.key);
        const bool needs_facts = e.options.from || !e.options.expiry_times.empty() || e.options.cert_authority;
        if (!needs_facts) check(v.authorized && v.matched.has_value() && v.matched->line <= e.where.line);
        if (v.authorized) check(v.matched.has_value() && v.refusals.size() < file.entries.size());
        if (!v.authorized) check(!v.matched && needs_facts && !v.refusals.empty());
    }

    const auto list = parse_revocation_list("ak", text, limits);
    check(list.problems.size() <= limits.max_diagnostics);
    check(list.usable() || !list.problems.empty());
    const bool krl = text.starts_with(std::string_view("SSHKRL\n\0", 8));
    if (!krl) {
        // The entries, and the key each listed ssh-ed25519 certificate certifies, in line order.
        std::vector<AuthorizedKey> expected;
        AuthorizedKeysReader lines("ak", text, limits);
        while (auto line = lines.next()) {
            if (line->entry && line->entry->options.text.empty()) {
                expected.push_back(*line->entry);
            } else if (auto k = trust::certified_ed25519_key(line->text);
                       k && line->status == LineStatus::skipped && !twoway::has_control(line->text) &&
                       line->text.size() <= limits.max_line_length) {
                expected.push_back(AuthorizedKey{line->where, *k, {}, {}});
            }
        }
        check(list.keys.size() == expected.size());
        for (std::size_t i = 0; i < list.keys.size(); ++i) {
            check(list.keys[i].where == expected[i].where && list.keys[i].key == expected[i].key);
        }
    }
    if (list.usable()) {
        check(!krl && !file.truncated);
        AuthorizedKeysReader again("ak", text, limits);
        while (auto line = again.next()) {
            if (line->status != LineStatus::skipped) continue;
            // Only a key of another type may be passed over (a certificate's key is listed, not passed
            // over): never options, a comment first, ed25519.
            if (trust::certified_ed25519_key(line->text)) continue;
            auto key = parse_public_key_line(line->text);
            check(!key && key.error() == errc::unsupported_key_type);
            std::string_view t = line->text;
            while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
            const std::string_view type = t.substr(0, t.find_first_of(" \t"));
            check(type.find_first_of("=\",") == std::string_view::npos && !type.starts_with("ssh-ed25519 "));
            check(type.starts_with("ssh-") || type.starts_with("ecdsa-") || type.starts_with("sk-"));
        }
        for (const auto& e : file.entries) {
            auto where = find_revoked(list, e.key);
            check(where.has_value() && where->line <= e.where.line);
        }
    }
    return 0;
}
