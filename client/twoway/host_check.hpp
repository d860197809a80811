// The client's verdict on the host key a server proved it holds: known_hosts lookup (trust.hpp's pure
// check_host), then StrictHostKeyChecking, the first-contact challenge and the recording of new hosts.
// Everything the person must see (the changed-key warning, "Host key verification failed.", "Permanently
// added ...") is printed here.
//
// Policy (docs/twoway.md):
//   a key in the RevokedHostKeys list, or any key when that list cannot be used: refused in every mode
//   known    accepted in every mode
//   changed  refused in every mode, with the warning, both fingerprints and each offending file:line
//   uncertain  (lines twoway cannot read may name the host or revoke the key) refused in every mode,
//            nothing recorded, the lines named with file:line and what to do
//   unknown  yes: refused; accept-new and no/off: recorded and accepted; ask: the first-contact
//            challenge on /dev/tty (refused without a terminal or with BatchMode)
// A known_hosts file cut short by a limit, one that could not be read, or one owned by another user than
// us or root (not used at all) makes "unknown" doubtful: then nothing is recorded without the person's
// answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/session.hpp>
#include <twoway/trust.hpp>

#include "client_config.hpp"

namespace twoway_client {

// The read-only, system-wide known_hosts (as ssh's /etc/ssh/ssh_known_hosts).
inline constexpr const char* global_known_hosts_file = "/etc/twoway/known_hosts";

struct HostCheck {
    std::string host;  // the HostName we connect to
    std::uint16_t port = twoway::default_port;
    std::vector<std::string> user_files;  // UserKnownHostsFile; new hosts go to the first
    std::vector<std::string> global_files{global_known_hosts_file};
    std::optional<std::string> revoked_file;  // RevokedHostKeys
    StrictHostKeyChecking strict = StrictHostKeyChecking::ask;
    bool batch_mode = false;
    bool hash_known_hosts = false;  // HashKnownHosts: record new hosts with hashed names
};

// What the policy above does with a verdict, before anything is asked or recorded.
enum class HostAction {
    accept,  // known
    record,  // unknown, and StrictHostKeyChecking adds new keys without asking (accept-new, no)
    ask,     // unknown with ask, or with accept-new and no when doubtful: only a person at a terminal may add it
    refuse,  // revoked, changed, uncertain, unknown with yes; or a RevokedHostKeys list that cannot be used
};

// The policy table. doubtful: a known_hosts file could not be read (or was cut short, or refused for its
// owner), so "unknown" may be wrong. Pure.
[[nodiscard]] HostAction host_action(twoway::HostStatus status, StrictHostKeyChecking strict, bool doubtful) noexcept;

struct HostAssessment {
    HostAction action = HostAction::refuse;
    twoway::HostVerdict verdict;  // check_host's; or revoked by the RevokedHostKeys list (then nothing else read)
    std::vector<std::string> revocation_problems;  // the RevokedHostKeys list cannot be used: every key is refused
    std::string revocation_detail;  // revoked by a RevokedHostKeys KRL: how (the serial, key id, key or hash)
    bool doubtful = false;
};

// Reads the RevokedHostKeys list and the known_hosts files and applies the policy, without asking or
// recording anything. Known_hosts files it cannot use are reported on stderr, lines it skips with -v.
// certificate: the host certificate the key came with, if any, for the RevokedHostKeys check (its
// serial, key id and CA key count too, as in ssh); known_hosts is asked about the key alone.
[[nodiscard]] HostAssessment assess_host_key(const HostCheck& check, const twoway::PublicKey& key,
                                             const twoway::Certificate* certificate = nullptr);

// assess_host_key, then what its action says: the warnings, the first-contact challenge, the recording
// of a new key. True when the connection may go on.
// With a host certificate (the server presented one), ssh's rule first: revoked (the certificate, its key
// or its CA, by RevokedHostKeys or an @revoked line) refuses; an @cert-authority line for the host whose
// CA signed it, with the certificate fitting (check_host_certificate: type, window, the host name a
// principal), accepts without asking or recording anything; otherwise the reason is said when a CA line
// was found, and the certified key is checked as a plain key.
[[nodiscard]] bool verify_host_key(const HostCheck& check, const twoway::PublicKey& key,
                                   const twoway::Certificate* certificate = nullptr);

// ---- password mode (docs/twoway.md, "First contact by password") ----------------------------------
// What a password login does with the host key: accept it (known: accept_with_password), let the
// password's proof decide (defer_to_password), or refuse.
enum class PasswordHostAction { accept, defer, refuse };

// The policy table for password mode. Pure.
//   known      accept
//   unknown    defer (no TOFU prompt, no first-contact challenge: the password proves the host), except
//              with StrictHostKeyChecking yes: refuse, as ssh (the password does not override an explicit yes)
//   changed    refuse, unless UpdateHostKeysByPassword: defer (the old lines are then replaced)
//   revoked, uncertain: refuse whatever the password
[[nodiscard]] PasswordHostAction password_host_action(twoway::HostStatus status, StrictHostKeyChecking strict,
                                                      bool update_by_password) noexcept;

struct PasswordHostDecision {
    PasswordHostAction action = PasswordHostAction::refuse;
    bool changed = false;  // defer for a changed key: on success the host's old lines are replaced
};

// assess_host_key (RevokedHostKeys first; a host certificate whose CA known_hosts trusts counts as
// known), then password_host_action; refusals are explained on stderr as verify_host_key explains them.
[[nodiscard]] PasswordHostDecision verify_host_key_for_password(const HostCheck& check, const twoway::PublicKey& key,
                                                                const twoway::Certificate* certificate,
                                                                bool update_by_password);

// The comment a host key proven by a password gets in known_hosts: "proven by password for ACCOUNT
// YYYY-MM-DD" (the UTC date of `now`). Pure.
[[nodiscard]] std::string proven_by_password_comment(std::string_view account, std::int64_t now);

// After a login whose password proved the host key (host_proven_by_password): appends the key to the
// first UserKnownHostsFile with proven_by_password_comment (HashKnownHosts honoured), atomically and
// under the lock append_known_host takes; with `replace`, the lines of that file that name the host with
// another key go in the same rewrite. Says so in one line on stderr. False when nothing was written
// (why is said; the connection is already authenticated, so it goes on).
// text without the lines (numbered from 1) in numbers; the other lines byte for byte. Pure.
[[nodiscard]] std::string remove_lines(std::string_view text, const std::vector<std::size_t>& numbers);

bool record_proven_host_key(const HostCheck& check, const twoway::PublicKey& key, std::string_view account,
                            bool replace);

// The first key the known_hosts files hold for the host, if any: the client proves knowledge of it in
// client_hello (host_key_mac), which a daemon in stealth mode requires. Unreadable files count as empty;
// only lines that name the host for certain count (known_host_keys).
[[nodiscard]] std::optional<twoway::PublicKey> expected_host_key(const HostCheck& check);

// UpdateHostKeys (ssh's; docs/twoway.md): the server's HOSTKEYS after authentication. Every proof must
// verify for this session and the list must hold the key the handshake authenticated, or the whole
// message is ignored (said at debug level). Then, only for a host trusted through a plain key line in
// the first UserKnownHostsFile (not a certificate, not a global file, not a key only pinned), the keys
// that file lacks for the host are appended (HashKnownHosts honoured), each said at -v as ssh's
// "Learned new hostkey"; with ask, only after the person says yes at a terminal. Keys the server no
// longer lists stay (ssh removes them; twoway.md says why twoway does not yet).
struct HostKeysUpdate {
    UpdateHostKeys mode = UpdateHostKeys::no;
    twoway::PublicKey handshake_key;  // the key the handshake authenticated
    bool host_certificate = false;    // the server presented a certificate
    std::span<const std::byte, 32> session_id;
};
void learn_host_keys(const HostCheck& check, const HostKeysUpdate& update,
                     const twoway::session::HostKeysAnnounced& announced);

}  // namespace twoway_client
