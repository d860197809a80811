// Key text formats shared with OpenSSH: public key lines (`ssh-ed25519 <base64 blob> comment`, as in
// id_ed25519.pub, authorized_keys and known_hosts), fingerprints and randomart.
#pragma once

#include <string>
#include <string_view>

#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/result.hpp>

namespace twoway {

struct PublicKeyLine {
    PublicKey key;
    std::string comment;  // may be empty; may contain spaces
};

// Parses one public key line: optional leading blanks, the key type, blanks, the base64 SSH wire blob,
// then optionally blanks and a comment running to the end of the line. One trailing "\n" or "\r\n" is
// allowed. The type word must match the type inside the blob. Errors: bad_key_format (not a key line),
// unsupported_key_type (a well-formed line of another key type), malformed (bad base64 or blob).
[[nodiscard]] TWOWAY_API Result<PublicKeyLine> parse_public_key_line(std::string_view line);

// Formats a key line exactly as ssh-keygen writes a .pub file (no trailing newline).
[[nodiscard]] TWOWAY_API std::string format_public_key_line(const PublicKey& key, std::string_view comment = {});

}  // namespace twoway
