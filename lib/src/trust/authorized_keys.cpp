// authorized_keys in OpenSSH's syntax (sshd(8), AUTHORIZED_KEYS FILE FORMAT):
//   [options] keytype base64-key [comment]
// twoway accepts ssh-ed25519 lines, with or without options (key_options.cpp reads and decides them).
// A line whose options cannot be read is skipped, never accepted without them: options restrict a key
// (from=, command=, restrict ...), so ignoring them would widen access.
#include <twoway/key.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "text/text_util.hpp"
#include "trust/trust_lines.hpp"

namespace twoway {

namespace {

// The options field: up to the first blank outside double quotes (a backslash escapes a quote inside
// them, as sshd allows in command="..."). Nothing when a quote is left open.
std::optional<std::size_t> options_end(std::string_view line) {
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (in_quotes) {
            if (c == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
                ++i;
            } else if (c == '"') {
                in_quotes = false;
            }
        } else if (c == '"') {
            in_quotes = true;
        } else if (is_blank(c)) {
            return i;
        }
    }
    if (in_quotes) return std::nullopt;
    return line.size();
}

struct Parsed {
    std::optional<AuthorizedKey> entry;
    std::string reason;
};

// Why a line starting with text could not be read as a key, when parse_public_key_line said why.
std::string key_problem(std::string_view text, const std::error_code& error) {
    std::string_view rest = text;
    const std::string_view type = text::next_word(rest);
    if (error == errc::unsupported_key_type) {
        return "key type " + quoted(type) + " is not supported (only ssh-ed25519)";
    }
    if (error == errc::malformed) return "invalid ssh-ed25519 key data";
    if (type == ssh_ed25519_name) return "missing ssh-ed25519 key data";
    return "not a key line";
}

Parsed parse_line(std::string_view line, const Location& where) {
    auto key = parse_public_key_line(line);
    if (key) return Parsed{AuthorizedKey{where, key->key, std::move(key->comment), {}}, {}};
    // A line that starts with a key type's name is a key line, good or bad; anything else may be options
    // (as sshd, which reads options when the line does not start with a key; a word with an '@' in it,
    // from="a@b" say, is options, not a key type).
    std::string_view rest = line;
    const std::string_view first = text::next_word(rest);
    if (first == ssh_ed25519_name || trust::is_key_type_name(first)) {
        return Parsed{std::nullopt, key_problem(line, key.error())};
    }

    // Not a key at the start of the line: options, then a key (as sshd, which tries the key first).
    std::size_t start = 0;
    while (start < line.size() && is_blank(line[start])) ++start;
    const std::string_view body = line.substr(start);
    const auto end = options_end(body);
    if (!end) return Parsed{std::nullopt, "not a key line"};
    const std::string_view field = body.substr(0, *end);
    auto after = parse_public_key_line(body.substr(*end));
    if (!after) {
        if (after.error() == errc::bad_key_format) return Parsed{std::nullopt, "not a key line"};
        return Parsed{std::nullopt, key_problem(body.substr(*end), after.error())};
    }
    auto options = parse_key_options(field);
    if (!options.options) return Parsed{std::nullopt, "bad options: " + options.error};
    return Parsed{AuthorizedKey{where, after->key, std::move(after->comment), std::move(*options.options)}, {}};
}

}  // namespace

AuthorizedKeysReader::AuthorizedKeysReader(std::string_view path, std::string_view text, const TrustLimits& limits)
    : path_(path), lines_(text, limits.max_line_length), limits_(limits) {}

std::optional<AuthorizedKeysLine> AuthorizedKeysReader::next() {
    return trust::next_line<AuthorizedKeysLine>(lines_, limits_, path_, entries_, truncated_, parse_line);
}

AuthorizedKeysFile parse_authorized_keys(std::string_view path, std::string_view text, const TrustLimits& limits) {
    AuthorizedKeysReader reader(path, text, limits);
    return trust::parse_all<AuthorizedKeysFile>(path, reader, limits);
}

}  // namespace twoway
