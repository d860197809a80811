// Revoked key lists, as OpenSSH's text form of RevokedKeys (sshd) and RevokedHostKeys (ssh): public key
// lines, read with the authorized_keys reader (the same framing, limits and key parsing). The policy is
// the list's own: OpenSSH refuses every key when a list cannot be read or understood, because a
// revocation that can be skipped protects nothing; here that is a non-empty `problems`.
#include <string_view>

#include <twoway/key.hpp>
#include <twoway/trust.hpp>

#include "text/text_util.hpp"
#include "trust/trust_lines.hpp"

namespace twoway {

RevocationList parse_revocation_list(std::string_view path, std::string_view text, const TrustLimits& limits) {
    RevocationList out;
    out.path = std::string(path);
    // Counted apart from the (capped) messages, so that no limit can make a bad list look usable.
    const auto problem = [&](std::string why) {
        ++out.problem_count;
        if (out.problems.size() < limits.max_diagnostics) out.problems.push_back(std::move(why));
    };
    if (text.starts_with(krl_magic)) {
        problem(out.path + ": an OpenSSH KRL, not a text list (parse_revocation_file reads both)");
        return out;
    }
    AuthorizedKeysReader reader(path, text, limits);
    while (auto line = reader.next()) {
        if (line->status == LineStatus::entry && !line->entry->options.text.empty()) {
            // A list names keys; options (copied from authorized_keys) are not its syntax, as in OpenSSH.
            problem(line->where.text() + ": options are not allowed in a key list: " +
                    quoted(line->entry->options.text));
        } else if (line->status == LineStatus::entry) {
            out.keys.push_back(std::move(*line->entry));
        } else if (auto certified = trust::certified_ed25519_key(line->text);
                   certified && line->status == LineStatus::skipped && !has_control(line->text) &&
                   line->text.size() <= limits.max_line_length) {
            // A listed certificate revokes the key it certifies, as in OpenSSH.
            out.keys.push_back(AuthorizedKey{line->where, *certified, {}, {}});
        } else if (line->status == LineStatus::skipped &&
                   (line->text.size() > limits.max_line_length || has_control(line->text) ||
                    !trust::other_key_type(line->text))) {
            // A well-formed key of another OpenSSH type is harmless in the list; anything else (options
            // before the key, a comment first, a misspelt type, bad base64) is a problem, since a typo must
            // not quietly drop a revocation (sshd is stricter still: it refuses every key on any line it
            // cannot read). A line the reader refused as text (too long, binary bytes) is junk, whatever
            // it starts with.
            problem(line->where.text() + ": " + line->reason);
        }
    }
    if (reader.truncated()) problem(out.path + ": over the limits for a key list (lines or entries)");
    return out;
}

std::optional<Location> find_revoked(const RevocationList& list, const PublicKey& key) {
    for (const auto& entry : list.keys) {
        if (entry.key == key) return entry.where;
    }
    return std::nullopt;
}

}  // namespace twoway
