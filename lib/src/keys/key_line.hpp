// The shape every public key line shares (OpenSSH's .pub, authorized_keys and known_hosts key fields,
// certificate lines): optional leading blanks, the type word, blanks, the base64 blob, and optionally
// blanks and a comment running to the end of the line. One trailing "\n" or "\r\n" is allowed.
#pragma once

#include <optional>
#include <string_view>

namespace twoway::keys {

struct KeyLineParts {
    std::string_view type;
    std::string_view base64;
    std::string_view comment;
};

// The parts; nothing when the line holds a NUL or a line break inside it, or lacks a type or a blob.
inline std::optional<KeyLineParts> split_key_line(std::string_view line) {
    const auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    for (char c : line) {
        if (c == '\0' || c == '\n' || c == '\r') return std::nullopt;
    }
    std::size_t i = 0;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t type_end = i;
    while (type_end < line.size() && !is_blank(line[type_end])) ++type_end;
    KeyLineParts out;
    out.type = line.substr(i, type_end - i);
    i = type_end;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t b64_end = i;
    while (b64_end < line.size() && !is_blank(line[b64_end])) ++b64_end;
    out.base64 = line.substr(i, b64_end - i);
    i = b64_end;
    while (i < line.size() && is_blank(line[i])) ++i;
    out.comment = line.substr(i);
    if (out.type.empty() || out.base64.empty()) return std::nullopt;
    return out;
}

}  // namespace twoway::keys
