#include "trust/trust_lines.hpp"

#include <algorithm>
#include <array>

#include "crypto/crypto.hpp"
#include "text/text_util.hpp"
#include "wire/reader.hpp"

namespace twoway::trust {

namespace {

// OpenSSH's public key types other than ssh-ed25519.
constexpr std::array<std::string_view, 15> other_types{
    "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com", "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com"};

}  // namespace

bool is_key_type_name(std::string_view word) noexcept {
    return word == ssh_ed25519_name || std::find(other_types.begin(), other_types.end(), word) != other_types.end();
}

std::optional<std::string_view> other_key_type(std::string_view text) {
    std::string_view rest = text;
    const std::string_view type = text::next_word(rest);
    const std::string_view b64 = text::next_word(rest);
    if (std::find(other_types.begin(), other_types.end(), type) == other_types.end()) return std::nullopt;
    // A certificate for an Ed25519 key is not a key of another type: it stands for the Ed25519 key it
    // certifies (certified_ed25519_key), so a reader must not pass over one it cannot read.
    if (type == "ssh-ed25519-cert-v01@openssh.com") return std::nullopt;
    if (b64.size() > 65536) return std::nullopt;  // far larger than any OpenSSH public key or certificate
    auto blob = crypto::base64_decode(b64);
    if (!blob) return std::nullopt;
    wire::Reader r(*blob);
    const std::string_view inner = r.text(64);
    if (!r.ok() || inner != type) return std::nullopt;
    return type;
}

std::optional<PublicKey> certified_ed25519_key(std::string_view text) {
    constexpr std::string_view cert_type = "ssh-ed25519-cert-v01@openssh.com";
    std::string_view rest = text;
    if (text::next_word(rest) != cert_type) return std::nullopt;
    const std::string_view b64 = text::next_word(rest);
    if (b64.size() > 65536) return std::nullopt;
    auto blob = crypto::base64_decode(b64);
    if (!blob) return std::nullopt;
    wire::Reader r(*blob);
    const std::string_view inner = r.text(64);
    (void)r.string(1024);  // the nonce
    const wire::Bytes pk = r.string(32);
    if (!r.ok() || inner != cert_type || pk.size() != 32) return std::nullopt;
    PublicKey::Raw raw{};
    std::copy(pk.begin(), pk.end(), raw.begin());
    return PublicKey(raw);
}

std::optional<FramedLine> next_framed(TextLines& lines, const TrustLimits& limits, bool& truncated) {
    if (truncated) return std::nullopt;
    auto line = lines.next();
    if (!line) return std::nullopt;
    FramedLine out{*line, LineStatus::entry, {}};
    if (line->number > limits.max_lines) {
        truncated = true;
        out.status = LineStatus::skipped;
        out.reason = "too many lines (limit " + std::to_string(limits.max_lines) + "); the rest of the file is ignored";
        return out;
    }
    if (line->too_long) {
        out.status = LineStatus::skipped;
        out.reason = "line too long (" + std::to_string(line->text.size()) + " bytes, limit " +
                     std::to_string(limits.max_line_length) + ")";
        return out;
    }
    std::size_t i = 0;
    while (i < line->text.size() && is_blank(line->text[i])) ++i;
    if (i == line->text.size()) {
        out.status = LineStatus::blank;
    } else if (line->text[i] == '#') {
        out.status = LineStatus::comment;
    } else if (has_control(line->text)) {
        out.status = LineStatus::skipped;
        out.reason = "line contains control characters";
    }
    return out;
}

void count_entry(FramedLine& framed, const TrustLimits& limits, std::size_t& entries, bool& truncated) {
    if (entries >= limits.max_entries) {
        truncated = true;
        framed.status = LineStatus::skipped;
        framed.reason =
            "too many entries (limit " + std::to_string(limits.max_entries) + "); the rest of the file is ignored";
        return;
    }
    ++entries;
}

}  // namespace twoway::trust
