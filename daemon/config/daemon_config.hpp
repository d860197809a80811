// twowayd.conf: the daemon's configuration, in sshd_config(5)'s syntax. Keywords are case-insensitive,
// "Keyword value" or "Keyword=value", '#' comments, quoted arguments; for each keyword the first value
// obtained is used, except the repeatable ones (Port, ListenAddress, HostKey, Service), which add up.
// The parser is pure (text in, so it can be fuzzed) and collects every error with its path:line, so
// `twowayd -t` can print them all; reading the file is the edge function at the bottom. Every keyword is
// described in docs/CONFIG.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/result.hpp>
#include <twoway/trust.hpp>

namespace twoway {

inline constexpr std::string_view default_daemon_config_path = "/etc/twoway/twowayd.conf";
inline constexpr std::string_view default_host_key_path = "/etc/twoway/host_ed25519_key";
inline constexpr std::string_view default_authorized_keys_file = "%h/.twoway/authorized_keys";

enum class LogLevel { quiet, fatal, error, info, verbose, debug1, debug2, debug3 };

// The name as sshd prints it ("INFO", "DEBUG1", ...).
[[nodiscard]] std::string_view log_level_name(LogLevel level) noexcept;

struct ListenAddress {
    std::string host;        // an address literal or a host name, without brackets
    std::uint16_t port = 0;  // 0: listen on every Port
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// sshd's random early drop of unauthenticated connections: from `start` of them, refuse new ones with
// probability rate/100, rising linearly to 100% at `full`.
struct MaxStartups {
    std::uint32_t start = 10;
    std::uint32_t rate = 30;
    std::uint32_t full = 100;
    friend bool operator==(const MaxStartups&, const MaxStartups&) = default;
};

// A named service clients may reach through the daemon (`twoway -W name`, `-L port:name`).
struct ServiceSpec {
    std::string name;  // [a-z0-9._-]+, unique in the file
    std::string host;  // without brackets
    std::uint16_t port = 0;
    Location where;
};

// The effective configuration: a default-constructed one holds the defaults, and the parser replaces
// each default only where the file sets the keyword.
struct DaemonConfig {
    std::vector<std::uint16_t> ports{default_port};
    std::vector<ListenAddress> listen_addresses{{"0.0.0.0", 0}, {"::", 0}};
    std::vector<std::string> host_keys{std::string(default_host_key_path)};
    std::vector<std::string> authorized_keys_files{std::string(default_authorized_keys_file)};  // empty: none
    bool strict_modes = true;
    std::uint32_t login_grace_time = 120;  // seconds; 0 = no limit
    MaxStartups max_startups;
    std::optional<std::uint32_t> per_source_max_startups;  // nothing: no limit ("none")
    LogLevel log_level = LogLevel::info;
    std::vector<ServiceSpec> services;
};

struct DaemonConfigResult {
    DaemonConfig config;             // meaningful only when errors is empty
    std::vector<Diagnostic> errors;  // every error, in file order ("path:line: message")
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// Parses twowayd.conf text; path is only used in messages.
[[nodiscard]] DaemonConfigResult parse_daemon_config(std::string_view path, std::string_view text);

// Where to listen: every ListenAddress, those without a port once per Port, duplicates removed, in
// file order.
[[nodiscard]] std::vector<Endpoint> listen_endpoints(const DaemonConfig& config);

// The account an AuthorizedKeysFile path is expanded for.
struct AccountInfo {
    std::string user;
    std::string home;
    std::uint32_t uid = 0;
};

// Expands %h (home), %u (user name), %U (numeric uid) and %% in one AuthorizedKeysFile entry; a relative
// result is taken relative to the home directory, as sshd does. invalid_argument for an unknown token.
[[nodiscard]] Result<std::string> expand_authorized_keys_path(std::string_view pattern, const AccountInfo& account);

// Every AuthorizedKeysFile entry expanded for the account (empty for "none").
[[nodiscard]] Result<std::vector<std::string>> authorized_keys_paths(const DaemonConfig& config,
                                                                     const AccountInfo& account);

// ---- Edge: reads the file (at most 1 MiB) and parses it. A file that cannot be read is one error
// ("path: cannot read: reason"), as sshd refuses to start without its configuration.
[[nodiscard]] DaemonConfigResult load_daemon_config(const std::string& path);

}  // namespace twoway
