// What the daemon runs with: the parsed twowayd.conf, the command-line overrides applied, and the host
// keys loaded. Built at start, by `-t`, and again on every SIGHUP; a Settings is immutable once built,
// and each connection keeps the one it started with (shared_ptr), so a reload never changes the rules
// under a connection that is already in its handshake.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>

#include "daemon_config.hpp"

namespace twowayd {

// The flags that override the file (sshd's -p and -h).
struct Overrides {
    std::vector<std::uint16_t> ports;       // -p: replaces Port (0: any free port, for tests)
    std::vector<std::string> host_keys;     // -h: replaces HostKey
};

struct HostKey {
    std::string path;
    twoway::PrivateKey key;
    // HostCertificate: a host certificate for this key, presented in the handshake instead of the bare
    // key (clients that trust the host CA need no known_hosts line for this host).
    std::optional<twoway::Certificate> certificate;
    std::string certificate_path;
};

struct Settings {
    std::string config_path;
    twowayd::DaemonConfig config;
    // Every HostKey that loaded, in order. The handshake presents one identity, so the first is the
    // one in use; the others are checked (so -t reports them) and logged as unused.
    std::vector<HostKey> host_keys;

    // The Banner file's contents (sshd's Banner), read when the settings are built (at start and on
    // SIGHUP), at most twoway::max_banner_size bytes; empty for `Banner none` or a file that cannot be
    // used (a warning says why). Sent in server_auth to every client, before it names its account.
    std::string banner;

    // PasswordAuthentication yes: the OPAQUE key (OpaqueKey), loaded or created when the settings are
    // built; the handshake of every connection that keeps these settings points at it.
    std::optional<twoway::PasswordServerKeys> password_keys;

    [[nodiscard]] const twoway::PrivateKey& host_key() const { return host_keys.front().key; }
    [[nodiscard]] const twowayd::ServiceSpec* find_service(std::string_view name) const;
};

struct LoadResult {
    std::shared_ptr<const Settings> settings;  // set only when problems is empty
    std::vector<std::string> problems;         // "path:line: message" or "path: message", in order
    // Files the daemon reads later and can start without, but that would refuse every login as they are
    // now (a RevokedKeys file missing or not understood): -t fails on them, the daemon logs them.
    std::vector<std::string> warnings;
    // sshd_config keywords accepted because they mean nothing for twoway: one line each ("path:line: ...").
    std::vector<std::string> notes;
};

// HostCertificate files, as sshd loads them: each must be an Ed25519 host certificate for one of the
// loaded host keys, which it is then attached to; one that is not is left out with a warning (sshd logs
// an error and goes on without it). One that is not valid now is attached, with a warning too.
void attach_host_certificates(Settings& settings, std::int64_t now, std::vector<std::string>& warnings);
// The Banner file's contents: the file as it is when it is a regular file of at most max_banner_size
// bytes; otherwise nothing, and `why` says what is wrong (a missing or unreadable file, another kind of
// file, too large). sshd silently sends no banner in those cases; twowayd logs why, and -t fails.
[[nodiscard]] std::optional<std::string> read_banner(const std::string& path, std::string& why);

// Reads the config file, applies the overrides and loads the host keys (and, with PasswordAuthentication
// yes, the OPAQUE key), collecting every problem. create_opaque_key: a missing OpaqueKey file is created
// (mode 0600) as the daemon does at start and on SIGHUP; -t passes false, checks only, and notes that
// the file will be created.
[[nodiscard]] LoadResult load_settings(const std::string& config_path, const Overrides& overrides,
                                       bool create_opaque_key = true);

// "ED25519 SHA256:..." as sshd prints keys in its log.
[[nodiscard]] std::string key_fingerprint_text(const twoway::PublicKey& key);

}  // namespace twowayd
