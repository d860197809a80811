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

// The key's fingerprint as OpenSSH prints it: "SHA256:" then the unpadded base64 of SHA-256 over the
// SSH wire blob.
[[nodiscard]] TWOWAY_API std::string fingerprint_sha256(const PublicKey& key);

// OpenSSH's randomart picture ("drunken bishop" walk over the SHA-256 digest), byte-identical to the
// one `ssh-keygen -lv` prints: 11 lines of 19 characters joined by "\n", no trailing newline.
[[nodiscard]] TWOWAY_API std::string randomart(const PublicKey& key);

// One line as `ssh-keygen -l` prints it: "256 SHA256:... comment (ED25519)", with "no comment" in place
// of an empty comment (no trailing newline).
[[nodiscard]] TWOWAY_API std::string fingerprint_line(const PublicKey& key, std::string_view comment);

}  // namespace twoway
