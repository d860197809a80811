// May this key log in to this account? Reads the account's AuthorizedKeysFile(s) with the account's
// own rights (TemporaryIdentity), refuses files that others could have written (StrictModes, as
// sshd's auth_secure_path), parses them with the library's parser and asks check_authorized.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include <twoway/file.hpp>
#include <twoway/key.hpp>
#include <twoway/trust.hpp>

#include "account.hpp"
#include "daemon_config.hpp"

namespace twowayd {

struct KeyDecision {
    bool authorized = false;
    std::optional<twoway::Location> matched;     // the authorized_keys line that decided (holds the key, options allow)
    twoway::KeyOptions options;                  // authorized: that line's options
    std::vector<std::string> option_refusals;    // "path:line: why" for lines holding the key whose options refused
    std::vector<std::string> skipped_lines;      // "path:line: why", for the log
    std::vector<std::string> refused_files;      // StrictModes and open failures ("Authentication refused: ...")
    // A file could not be read for want of descriptors or memory (or the switch to the account failed):
    // the daemon's trouble, not the client's. Unless another file authorized the key, the caller logs
    // "Cannot check user" and neither a failed key nor a penalty.
    bool server_fault = false;
};

// The check in two halves, so that the second can leave the event loop (decision_pool.hpp): opening
// the account's files is done as the account (TemporaryIdentity, which switches the calling thread, the
// loop's), with StrictModes checked on what was opened; reading, parsing and deciding are
// pure work on those descriptors, for any thread.
struct OpenedKeyFile {
    std::string path;
    twoway::UniqueFd fd;
};
struct OpenedKeyFiles {
    std::vector<OpenedKeyFile> files;
    std::vector<std::string> refused_files;  // as KeyDecision's
    bool server_fault = false;
    std::size_t bytes = 0;  // the opened files' sizes when opened (for DecisionPool's lanes)
};
[[nodiscard]] OpenedKeyFiles open_authorized_keys(const twowayd::DaemonConfig& config, const Account& account);
// The files at paths, opened as the account with StrictModes, `what` naming them in the log ("authorized keys").
[[nodiscard]] OpenedKeyFiles open_account_files(const twowayd::DaemonConfig& config, const Account& account,
                                                const std::vector<std::string>& paths, const std::string& what);
// The policy's AuthorizedPrincipalsFile, opened so (none: nothing opened).
[[nodiscard]] OpenedKeyFiles open_authorized_principals(const twowayd::DaemonConfig& config,
                                                        const twowayd::ConnectionConfig& policy, const Account& account);
// facts: the connection, for the lines' from= and expiry-time= (without them such lines refuse).
[[nodiscard]] KeyDecision decide_authorized_key(OpenedKeyFiles opened, const twoway::PublicKey& key,
                                                const std::optional<twoway::ConnectionFacts>& facts);
// A user certificate against the cert-authority lines of the opened files (sshd's
// auth_check_authkey_line): only lines naming its CA count, principals= or the account must be a
// principal, options merged. The prefilter for large files looks for the CA's key.
[[nodiscard]] KeyDecision decide_authorized_certificate(OpenedKeyFiles opened, const twoway::Certificate& certificate,
                                                        const std::string& account, const twoway::ConnectionFacts& facts);
// The same against AuthorizedKeysCommand's output.
[[nodiscard]] KeyDecision decide_command_certificate(std::string_view label, std::string_view text,
                                                     const twoway::Certificate& certificate, const std::string& account,
                                                     const twoway::ConnectionFacts& facts);
// TrustedUserCAKeys: the line of the daemon's file that lists `ca` as a bare key, read at each login;
// problems (an unreadable file) for the log: the CA is then not trusted (nothing widens).
struct TrustedCa {
    std::optional<twoway::Location> where;
    std::vector<std::string> problems;
    bool server_fault = false;
};
[[nodiscard]] TrustedCa find_trusted_user_ca(const std::string& path, const twoway::PublicKey& ca);
// sshd's user_cert_trusted_ca once the CA is trusted: with principals (AuthorizedPrincipalsFile opened,
// or a command's output) the files decide which principal counts; without, the account must be one.
// principals_output: AuthorizedPrincipalsCommand's output when it is configured ("" when it failed:
// it then names no principal). Either one configured means the principals decide.
[[nodiscard]] KeyDecision decide_trusted_certificate(std::optional<OpenedKeyFiles> principals,
                                                     std::optional<std::string> principals_output,
                                                     const twoway::Certificate& certificate, const std::string& account,
                                                     const twoway::Location& ca_where, const twoway::ConnectionFacts& facts);
// The next way's decision after an earlier one that did not authorize (sshd's order: files, then a CA,
// then a command): `next` decides, and the earlier way's log lines come first; a server fault in either
// stays a server fault.
void then_decide(KeyDecision& decision, KeyDecision next);
// AuthorizedKeysCommand's output, read as an authorized_keys file named `label` in the log.
[[nodiscard]] KeyDecision decide_command_keys(std::string_view label, std::string_view text, const twoway::PublicKey& key,
                                              const std::optional<twoway::ConnectionFacts>& facts);

// Both halves at once, on the calling thread.
[[nodiscard]] KeyDecision check_authorized_key(const twowayd::DaemonConfig& config, const Account& account,
                                               const twoway::PublicKey& key,
                                               const std::optional<twoway::ConnectionFacts>& facts = std::nullopt);

// RevokedKeys: does one of the revocation files revoke this key, for every account? Each file is an
// OpenSSH KRL or a text list of keys (twoway::RevocationFile, read as sshd reads it), read at every
// authentication, as sshd does, so an edit takes effect without a reload (a parsed file is reused while
// its inode, size and times stay the same). It fails closed, as sshd does: a file that cannot be read
// or understood refuses every key, since a revocation list is useless if it can be skipped. With a
// certificate, the certificate is checked too (its serial, key id and CA key: twoway::check_revoked).
struct RevocationDecision {
    bool refused = false;                         // revoked, or a list could not be used
    std::optional<twoway::Location> revoked_by;   // the file (and for a text list the line) that revokes the key
    std::string revoked_detail;                   // how: "key", "CA key", or a KRL's "serial 42 (CA SHA256:...)"
    std::vector<std::string> problems;            // "path: why" / "path:line: why", for the log
    bool server_fault = false;                    // a list could not be read for want of descriptors or memory
};

// EMFILE, ENFILE, ENOMEM, ENOBUFS: the daemon ran short, whatever the file says.
[[nodiscard]] bool resource_shortage(int err) noexcept;

[[nodiscard]] RevocationDecision check_revoked_key(const twowayd::DaemonConfig& config, const twoway::PublicKey& key,
                                                   const twoway::Certificate* certificate = nullptr);

// sshd's auth_secure_path: the file (already opened; st is its fstat) must be a regular file owned by
// root or uid and not writable by group or others, and so must every directory above it up to the
// home directory (or / when the file is outside the home). Returns the problem, or nothing.
[[nodiscard]] std::optional<std::string> secure_path_problem(const std::string& path, const struct stat& st,
                                                             const std::string& home, uid_t uid);

}  // namespace twowayd
