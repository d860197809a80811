// Revoked key lists, as OpenSSH's text form of RevokedKeys (sshd) and RevokedHostKeys (ssh): public key
// lines, read with the authorized_keys reader (the same framing, limits and key parsing). The policy is
// the list's own: OpenSSH refuses every key when a list cannot be read or understood, because a
// revocation that can be skipped protects nothing; here that is a non-empty `problems`.
#include <algorithm>
#include <array>
#include <string_view>

#include <twoway/keys.hpp>
#include <twoway/trust.hpp>

#include "crypto/crypto.hpp"
#include "trust/text_util.hpp"
#include "wire/reader.hpp"

namespace twoway {

namespace {

// The magic at the start of an OpenSSH key revocation list (PROTOCOL.krl), which is binary.
constexpr std::string_view krl_magic{"SSHKRL\n\0", 8};

// OpenSSH's public key types other than ssh-ed25519: a line of one of them cannot name an Ed25519 key.
constexpr std::array<std::string_view, 15> other_types{
    "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com", "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com"};


// Whether a line the Ed25519 reader skipped is a well-formed key of another OpenSSH type, which is
// harmless in the list. Anything else (options before the key, a comment first, a misspelt type, bad
// base64, a blob of another type than the line says) is a problem: a typo must not quietly drop a
// revocation. sshd is stricter still: it refuses every key on any line it cannot read.
bool other_key_line(std::string_view line) {
    std::string_view rest = line;
    const std::string_view type = text::next_word(rest);
    const std::string_view b64 = text::next_word(rest);
    if (std::find(other_types.begin(), other_types.end(), type) == other_types.end()) return false;
    if (b64.size() > 65536) return false;  // far larger than any OpenSSH public key or certificate
    auto blob = crypto::base64_decode(b64);
    if (!blob) return false;
    wire::Reader r(*blob);
    const std::string_view inner = r.text(64);
    return r.ok() && inner == type;
}

}  // namespace

RevocationList parse_revocation_list(std::string_view path, std::string_view text, const TrustLimits& limits) {
    RevocationList out;
    out.path = std::string(path);
    // Counted apart from the (capped) messages, so that no limit can make a bad list look usable.
    const auto problem = [&](std::string why) {
        ++out.problem_count;
        if (out.problems.size() < limits.max_diagnostics) out.problems.push_back(std::move(why));
    };
    if (text.starts_with(krl_magic)) {
        problem(out.path + ": an OpenSSH KRL, which twoway cannot read (list public keys, one per line)");
        return out;
    }
    AuthorizedKeysReader reader(path, text, limits);
    while (auto line = reader.next()) {
        if (line->status == LineStatus::entry) {
            out.keys.push_back(std::move(*line->entry));
        } else if (line->status == LineStatus::skipped &&
                   (line->text.size() > limits.max_line_length || text::has_control(line->text) ||
                    !other_key_line(line->text))) {
            // A line the reader refused as text (too long, binary bytes) is junk, whatever it starts with.
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
