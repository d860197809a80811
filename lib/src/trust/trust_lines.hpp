// The framing both trust-file readers share: limits, blank and comment lines, over-long lines and lines
// of binary junk. What is left (LineStatus::entry, "to be parsed") goes to the format's own line parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <twoway/trust.hpp>

namespace twoway::trust {

struct FramedLine {
    TextLines::Line line;
    LineStatus status = LineStatus::entry;  // entry: parse it; skipped: reason says why
    std::string reason;
};

// The next line of the file, or nothing at its end or once a limit stopped the reading (which sets
// truncated; the line that hit the limit comes back skipped, saying so).
[[nodiscard]] std::optional<FramedLine> next_framed(TextLines& lines, const TrustLimits& limits, bool& truncated);

// The type of a well-formed public key of one of OpenSSH's types other than ssh-ed25519 ("ssh-rsa",
// "ecdsa-sha2-nistp256", "sk-...", certificates) at the start of text ("type base64 [comment]"), or
// nothing: another word, bad base64, a blob whose type is not the line's, or an ssh-ed25519
// certificate (which stands for an Ed25519 key). Such a key cannot be an Ed25519 key, which is all the
// readers need to know about it (revocation lists pass over it; in
// known_hosts it is a recorded key of another type).
[[nodiscard]] std::optional<std::string_view> other_key_type(std::string_view text);

// Whether word is exactly the name of an OpenSSH public key type (ssh-ed25519 or one of the others).
[[nodiscard]] bool is_key_type_name(std::string_view word) noexcept;

// The Ed25519 key an OpenSSH certificate certifies, from a line "ssh-ed25519-cert-v01@openssh.com
// base64 [comment]" (PROTOCOL.certkeys: string type | string nonce | string pk | ...; only these first
// three fields are read, with the bounded reader), or nothing for any other line. A revocation of a
// certificate revokes its key, as OpenSSH's sshkey_equal_public compares certificates by their key.
[[nodiscard]] std::optional<PublicKey> certified_ed25519_key(std::string_view text);

// Called by a reader when a line parsed into an entry: counts it against max_entries, and when over the
// limit turns the line into the "too many entries" one and stops the reading.
void count_entry(FramedLine& framed, const TrustLimits& limits, std::size_t& entries, bool& truncated);

// One step of a reader (KnownHostsReader, AuthorizedKeysReader): frames the next line, hands an entry
// line to the format's parser (parse(text, where) returns {std::optional<Entry> entry; std::string
// reason}) and counts what it accepted. Nothing at the end of the file or once a limit stopped it.
template <class Line, class Parse>
[[nodiscard]] std::optional<Line> next_line(TextLines& lines, const TrustLimits& limits, const std::string& path,
                                            std::size_t& entries, bool& truncated, Parse&& parse) {
    auto framed = next_framed(lines, limits, truncated);
    if (!framed) return std::nullopt;
    Line out;
    out.where = Location{path, framed->line.number};
    out.text = framed->line.text;
    if (framed->status == LineStatus::entry) {
        auto parsed = parse(framed->line.text, out.where);
        if (parsed.entry) {
            count_entry(*framed, limits, entries, truncated);
            if (framed->status == LineStatus::entry) out.entry = std::move(parsed.entry);
        } else {
            framed->status = LineStatus::skipped;
            framed->reason = std::move(parsed.reason);
        }
    }
    out.status = framed->status;
    out.reason = std::move(framed->reason);
    return out;
}

// Runs a reader (KnownHostsReader, AuthorizedKeysReader) over the whole file and collects the result.
template <class File, class Reader>
[[nodiscard]] File parse_all(std::string_view path, Reader& reader, const TrustLimits& limits) {
    File file;
    file.path = std::string(path);
    while (auto line = reader.next()) {
        if (line->status == LineStatus::entry) {
            file.entries.push_back(std::move(*line->entry));
        } else if (line->status == LineStatus::skipped) {
            ++file.skipped;
            if (file.diagnostics.size() < limits.max_diagnostics) {
                file.diagnostics.push_back(Diagnostic{std::move(line->where), std::move(line->reason)});
            }
        }
    }
    file.truncated = reader.truncated();
    return file;
}

}  // namespace twoway::trust
