// The pure half of `twoway-keygen -k`: ssh-keygen's (OpenSSH 9.2, update_krl_from_file) reading of a KRL
// revocation spec, line by line, into a twoway::Krl. No files: the caller reads them and names them.
// Errors are ssh-keygen's own words where it has them, "path:line: ..." as there.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <twoway/key.hpp>
#include <twoway/krl.hpp>

namespace twoway_keygen {

// Whose certificates `serial:` and `id:` lines revoke: -s ca_public_key (ca), -s none (any CA: wild),
// or neither, when such lines are an error.
struct KrlSpecCa {
    std::optional<twoway::PublicKey> ca;
    bool wild = false;
};

// Adds the revocations of one spec file's text (path: its name in messages) to krl, as ssh-keygen -k:
//   serial: N | serial: N-M   certificates of the CA by serial (strtoull base 0: decimal, 0x hex, 0 octal)
//   id: KEY_ID                certificates of the CA by key id
//   key: KEY | sha1: KEY | sha256: KEY   a public key line (or a certificate's key) by blob / SHA-1 / SHA-256
//   hash: SHA256:...          a key by its SHA-256 fingerprint
//   KEY                       a plain public key line (revoked by its blob, as ssh-keygen 9.2 does) or a
//                             certificate line (its serial, or its key id when the serial is 0, under its CA)
// Prefixes are case-insensitive; '#' starts a comment anywhere on a line; blanks around are ignored.
// Returns an empty string, or the first error (nothing more is added after it). Key lines must be
// Ed25519 keys or Ed25519 certificates (whose signature must verify): the only keys twoway reads.
[[nodiscard]] std::string update_krl_from_spec(twoway::Krl& krl, const std::string& path, std::string_view text,
                                               const KrlSpecCa& ca);

}  // namespace twoway_keygen
