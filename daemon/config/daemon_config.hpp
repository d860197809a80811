// twowayd.conf: the daemon's configuration, in sshd_config(5)'s syntax. Keywords are case-insensitive,
// "Keyword value" or "Keyword=value", '#' comments, quoted arguments; for each keyword the first value
// obtained is used, except the repeatable ones (Port, ListenAddress, HostKey, Service, Subsystem), which
// add up.
// The parser is pure (text in, so it can be fuzzed) and collects every error with its path:line, so
// `twowayd -t` can print them all; reading the file is the edge function at the bottom. Every keyword is
// described in docs/CONFIG.md.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/password.hpp>
#include <twoway/pattern.hpp>
#include <twoway/result.hpp>
#include <twoway/trust.hpp>

namespace twowayd {

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

// MaxStartups: the size of the table of unauthenticated connections. When it is full, the connection
// that has made the least progress for the longest time is shed to admit a new one (daemon/startups.hpp);
// sshd's start:rate:full is read as a table of `full` (docs/CONFIG.md says why). The default is sized
// from the measured cost of a stalled connection (docs/twowayd.md, LIMITS BEFORE AUTHENTICATION).
inline constexpr std::uint32_t default_max_startups = 1000;

// Authenticated sessions (one per connection in twoway: a forwarded connection is a session) and the
// bytes they may hold, twowayd's own keywords (sshd's MaxSessions counts sessions multiplexed on one
// connection, which twoway does not have). Sized from the measured cost of a session and the descriptor
// limit (docs/twowayd.md, SESSIONS AND RESOURCES).
inline constexpr std::uint32_t default_max_sessions_total = 1024;
inline constexpr std::uint32_t default_per_user_max_sessions = 256;
inline constexpr std::uint64_t default_per_session_max_buffer = 256 * 1024;
inline constexpr std::uint64_t default_max_buffer_total = 128 * 1024 * 1024;
// The least a session's buffer may be: one session DATA message (a smaller one could never move data).
inline constexpr std::uint64_t min_session_buffer = 64 * 1024;

// Addresses and blocks are the library's (<twoway/pattern.hpp>), shared with authorized_keys' from=.
using twoway::AddressBlock;
using twoway::format_address_block;
using twoway::IpAddress;
using twoway::parse_address_block;
using twoway::parse_ip_address;

// The block of `a` that PerSourceNetBlockSize groups it in, as text ("203.0.113.0/24"; a whole address
// without "/bits"): the key under which per-source limits and penalties count it.
[[nodiscard]] std::string source_key(const IpAddress& a, std::uint32_t bits4, std::uint32_t bits6);

// OpenSSH 9.8's PerSourcePenalties (the subset twowayd implements): how long a source is refused after
// each kind of bad behaviour, accumulated per source up to `max`, enforced once at least `min` has
// accrued. Durations in seconds.
struct PenaltyConfig {
    bool enabled = false;
    std::uint32_t authfail = 5;         // a client proved a key that is not authorized (or bad user)
    std::uint32_t noauth = 1;           // the connection ended before the client proved any key
    std::uint32_t grace_exceeded = 10;  // LoginGraceTime ran out
    std::uint32_t max = 600;
    std::uint32_t min = 15;
    std::uint32_t max_sources4 = 65536;  // tracked IPv4 / IPv6 blocks; past it the soonest to expire
    std::uint32_t max_sources6 = 65536;  // is forgotten (overflow:permissive)
    friend bool operator==(const PenaltyConfig&, const PenaltyConfig&) = default;
};

// A named service clients may reach through the daemon (`twoway -W name`, `-L port:name`).
struct ServiceSpec {
    std::string name;  // [a-z0-9._-]+, unique in the file
    std::string host;  // without brackets
    std::uint16_t port = 0;
    twoway::Location where;
};

// Subsystem NAME COMMAND [ARGS]: what a client's subsystem request (ssh -s, sftp) runs, as sshd_config's.
// The command line is the words joined with single spaces, run by the account's shell as its -c
// argument, as sshd runs it (so quoting inside the line is the shell's).
struct SubsystemSpec {
    std::string name;                   // as the client names it (printable ASCII, no blank), unique
    std::vector<std::string> words;     // COMMAND and ARGS as the file wrote them
    twoway::Location where;
    [[nodiscard]] std::string command_line() const;
};

// PermitRootLogin. For a daemon that knows only keys, prohibit-password (sshd's default, kept as
// twowayd's) lets root in with a key exactly as yes does; docs/CONFIG.md says why it is the default.
enum class PermitRootLogin { yes, prohibit_password, forced_commands_only, no };
enum class GatewayPorts { no, yes, clientspecified };
[[nodiscard]] std::string_view permit_root_login_name(PermitRootLogin v) noexcept;

// A pattern from AllowUsers, DenyUsers, AllowGroups or DenyGroups, with the line that wrote it (every
// refusal names the line that decided it).
struct AccessPattern {
    std::string pattern;
    twoway::Location where;
    friend bool operator==(const AccessPattern&, const AccessPattern&) = default;
};

// A value with the line that set it (no path: the default).
template <class T>
struct Setting {
    T value{};
    twoway::Location where;
    friend bool operator==(const Setting&, const Setting&) = default;
};

// The keywords sshd allows inside a Match block (those twowayd implements): the policy for one
// connection. The global values are DaemonConfig::connection; each Match block that applies to a
// connection overrides them (effective_config, access.hpp).
struct ConnectionConfig {
    Setting<PermitRootLogin> permit_root_login{PermitRootLogin::prohibit_password, {}};
    std::vector<AccessPattern> allow_users, deny_users, allow_groups, deny_groups;
    std::optional<Setting<std::string>> force_command;  // the rest of the line, as sshd takes it
    Setting<bool> permit_tty{true, {}};
    Setting<bool> disable_forwarding{false, {}};
    // AllowTcpForwarding: local forwarding is twoway's named services and direct connections (-W, -L,
    // -D): yes/all/local allow them; remote forwarding is listen requests (-R): yes/all/remote allow it.
    Setting<bool> allow_tcp_forwarding{true, {}};
    Setting<bool> allow_remote_forwarding{true, {}};  // from the same keyword (where: its line)
    // PermitService: nothing = "any"; an empty list = "none"; else the names a connection may reach.
    std::optional<std::vector<std::string>> permit_service;
    twoway::Location permit_service_where;
    // PermitOpen: where direct connections (-W host:port, -L port:host:hostport) may go, in sshd's
    // syntax (session::valid_permit_open, host wildcards allowed): nothing = "any"; an empty list =
    // "none", twowayd's default (sshd's is any). Services are PermitService's, not this.
    Setting<std::optional<std::vector<std::string>>> permit_open{std::vector<std::string>{}, {}};
    // PermitListen: where listen requests (-R) may listen, in sshd's syntax ([host:]port, either may be
    // "*"; session::valid_permit_listen): nothing = "any"; an empty list = "none", twowayd's default
    // (sshd's is any).
    Setting<std::optional<std::vector<std::string>>> permit_listen{std::vector<std::string>{}, {}};
    // GatewayPorts: which address a listen request binds. no (sshd's default): the loopback, whatever
    // the client asked; yes: every interface; clientspecified: what the client asked (none: every one).
    Setting<GatewayPorts> gateway_ports{GatewayPorts::no, {}};
    // AcceptEnv: twowayd's default is Debian's stock sshd_config's "AcceptEnv LANG LC_*".
    std::vector<std::string> accept_env{"LANG", "LC_*"};
    std::vector<std::string> set_env;  // NAME=value, first of each name
    std::string banner = "none";      // a path or "none"; only the global value is sent (settings.hpp)
    std::uint32_t client_alive_interval = 0;  // seconds of silence before a PING; 0 = no keep-alives
    std::uint32_t client_alive_count_max = 3;  // unanswered PINGs before the connection is dropped; 0 = never
    std::uint32_t max_sessions = 10;          // sshd's per-connection count; twoway has one (>= 1)
    std::string chroot_directory = "none";    // as written (~ and %-tokens expanded per session: chroot.hpp)
    std::string authorized_keys_command = "none";  // the command line as written (keys_command.hpp)
    std::string authorized_keys_command_user = "none";
    // TrustedUserCAKeys: a file of user CA keys (absolute), read at each certificate login; "none".
    std::string trusted_user_ca_keys = "none";
    // AuthorizedPrincipalsFile: the account's principals file (%% %h %u %U; relative to the home), "none".
    std::string authorized_principals_file = "none";
    std::string authorized_principals_command = "none";  // as AuthorizedKeysCommand, with sshd's tokens
    std::string authorized_principals_command_user = "none";
    friend bool operator==(const ConnectionConfig&, const ConnectionConfig&) = default;
};

// One criterion of a Match line: "User alice,bob", "Address 10.0.0.0/8,!10.1.2.3", "all", ...
struct MatchCriterion {
    enum class Kind { all, user, group, host, address, local_address, local_port };
    Kind kind = Kind::all;
    std::string list;  // the pattern list as written (empty for all)
    std::uint16_t port = 0;  // local_port
    friend bool operator==(const MatchCriterion&, const MatchCriterion&) = default;
};

// The settings a Match block makes: only the keywords it sets (set[i] for ConnectionKey i) replace the
// global ones, the first applying block's value of each keyword winning, as in sshd.
enum class ConnectionKey : std::size_t {
    permit_root_login, allow_users, deny_users, allow_groups, deny_groups, force_command, permit_tty,
    disable_forwarding, allow_tcp_forwarding, permit_service, permit_open, permit_listen, gateway_ports, accept_env,
    set_env, banner,
    client_alive_interval, client_alive_count_max, max_sessions, chroot_directory, authorized_keys_command,
    authorized_keys_command_user, trusted_user_ca_keys, authorized_principals_file, authorized_principals_command,
    authorized_principals_command_user, count_,
};
inline constexpr std::size_t connection_key_count = static_cast<std::size_t>(ConnectionKey::count_);

struct MatchBlock {
    std::vector<MatchCriterion> criteria;  // all must hold (ANDed)
    twoway::Location where;                // the Match line
    // A Match in a file Included from inside a Match block applies only when that block does, too.
    std::optional<std::size_t> parent;
    ConnectionConfig settings;
    std::array<bool, connection_key_count> set{};
    // PasswordAuthentication inside the block (sshd allows it there): the first applying block's value
    // wins over the global one (effective_password_authentication, access.hpp).
    std::optional<Setting<bool>> password_authentication{};
};

// Which criteria a Match line would evaluate and how it printed (for -T and the fuzzer).
[[nodiscard]] std::string format_match_criteria(const std::vector<MatchCriterion>& criteria);

// The effective configuration: a default-constructed one holds the defaults, and the parser replaces
// each default only where the file sets the keyword.
struct DaemonConfig {
    std::vector<std::uint16_t> ports{twoway::default_port};
    std::vector<ListenAddress> listen_addresses{{"0.0.0.0", 0}, {"::", 0}};
    std::vector<std::string> host_keys{std::string(default_host_key_path)};
    // HostCertificate: certificates for host keys (each must certify one of them), as sshd's.
    std::vector<std::string> host_certificates;
    std::vector<std::string> authorized_keys_files{std::string(default_authorized_keys_file)};  // empty: none
    // RevokedKeys: public keys refused for every account, read at each authentication (empty: none).
    std::vector<std::string> revoked_keys_files;
    bool strict_modes = true;
    // StealthMode: answer only clients whose client_hello proves they know the host key
    // (host_key_mac, PROTOCOL.md 4.1.1); everyone else gets silence until LoginGraceTime.
    bool stealth_mode = false;
    std::uint32_t login_grace_time = 120;  // seconds; 0 = no limit
    // client_auth messages one connection may send (keys offered one after the other, PROTOCOL.md
    // 4.1.3), as sshd's MaxAuthTries; global only (fixed when the handshake starts).
    std::uint32_t max_auth_tries = 6;
    std::uint32_t max_startups = default_max_startups;
    std::optional<std::uint32_t> per_source_max_startups;  // nothing: no limit ("none")
    std::uint32_t per_source_net_block_v4 = 32;  // PerSourceNetBlockSize: bits that make one "source"
    std::uint32_t per_source_net_block_v6 = 128;
    PenaltyConfig penalties;                      // PerSourcePenalties
    std::vector<AddressBlock> penalty_exempt;     // PerSourcePenaltyExemptList
    // MaxSessionsTotal and PerUserMaxSessions: authenticated sessions in all, and per account (uid);
    // nothing: no limit ("none").
    std::optional<std::uint32_t> max_sessions_total = default_max_sessions_total;
    std::optional<std::uint32_t> per_user_max_sessions = default_per_user_max_sessions;
    // PerSessionMaxBuffer: bytes one session may hold in each direction (output for the client, input
    // for its program or service; also the window it grants the client). MaxBufferTotal: all sessions'.
    std::uint64_t per_session_max_buffer = default_per_session_max_buffer;
    std::uint64_t max_buffer_total = default_max_buffer_total;
    LogLevel log_level = LogLevel::info;
    std::vector<ServiceSpec> services;
    std::vector<SubsystemSpec> subsystems;  // Subsystem lines, in file order (global only, as in sshd 9.2)
    // sshd_config's access policy (docs/CONFIG.md): the global values and the Match blocks, in order.
    ConnectionConfig connection;
    std::vector<MatchBlock> matches;
    std::string pid_file = "/run/twowayd.pid";  // "none": no PID file
    std::string syslog_facility = "AUTH";
    bool use_pam = false;                       // PAM's account and session phases (pam_account.hpp)
    std::string pam_service_name = "twowayd";   // PAMServiceName: the file in /etc/pam.d (sshd's is "sshd")
    std::string permit_user_environment = "no";  // parsed only: twowayd reads no ~/.ssh/environment
    bool print_motd = true;                      // /etc/motd for interactive logins (SpawnRequest::print_motd)
    // AuthorizedKeysCommandTimeout (twowayd's own): how long AuthorizedKeysCommand may take before it is
    // killed and the key refused (sshd waits without limit, in the connection's own process).
    std::uint32_t authorized_keys_command_timeout = 10;  // seconds, >= 1
    // Password mode (OPAQUE, issue 17): PasswordAuthentication lets clients log in by password (also
    // per Match block: MatchBlock::password_authentication); OpaqueKey and OpaqueRecords are read by
    // twowayd and by twoway-passwd --local (<twoway/password.hpp>).
    bool password_authentication = false;
    std::string opaque_key = std::string(twoway::default_opaque_key_path);
    std::string opaque_records = std::string(twoway::default_opaque_records_dir);
    // PerUserMaxPasswordFailures N [TIME] (twowayd's own): after N failed passwords for one account name
    // within TIME, its password attempts are refused at once until those failures age out (0: no limit).
    std::uint32_t per_user_max_password_failures = 10;
    std::uint32_t password_failure_window = 600;  // seconds
};

struct DaemonConfigResult {
    DaemonConfig config;             // meaningful only when errors is empty
    std::vector<twoway::Diagnostic> errors;  // every error, in file order ("path:line: message")
    // sshd_config keywords that mean nothing for twoway, accepted: one line each, for the log and -t.
    std::vector<twoway::Diagnostic> notes;
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// What an Include pattern named: each file in glob order, with its text or why it could not be read.
struct IncludedFile {
    std::string path;
    std::optional<std::string> text;
    std::string error;  // when text is empty
};
// The edge for Include: expands an absolute glob pattern into files (an empty list when nothing
// matches, as sshd accepts). `error` set: the glob itself failed.
struct IncludeReader {
    virtual ~IncludeReader() = default;
    [[nodiscard]] virtual std::vector<IncludedFile> expand(const std::string& pattern, std::string& error) const = 0;
};
// Include depth, as sshd's READCONF_MAX_DEPTH; relative Include patterns are taken from this directory
// (sshd's is /etc/ssh).
inline constexpr std::size_t max_include_depth = 16;
inline constexpr std::string_view include_base_directory = "/etc/twoway";

// Parses twowayd.conf text; path is only used in messages. Include reads through `include` (nothing:
// every Include is an error).
[[nodiscard]] DaemonConfigResult parse_daemon_config(std::string_view path, std::string_view text,
                                                     const IncludeReader* include = nullptr);

// The effective configuration as `twowayd -T` prints it, in the manner of sshd -T: one lower-case
// keyword per line with its value, every keyword present (defaults included), repeatable ones once per
// value, arguments quoted where needed. It parses back into the same configuration (ListenAddress as
// configured, a port only where the file gave one).
[[nodiscard]] std::string format_daemon_config(const DaemonConfig& config);
// The same for one connection's effective configuration (effective_config): the global keywords, then
// the connection's policy; no Match blocks (they have been applied), as sshd -T -C prints.
[[nodiscard]] std::string format_connection_config(const DaemonConfig& config, const ConnectionConfig& connection);

// A byte count as sshd writes sizes (RekeyLimit): a decimal number with an optional K, M or G suffix
// (1024-based, either case); parse_size returns nothing for anything else or above `max`.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text, std::uint64_t max);
// The shortest form parse_size reads back as the same number ("256K", "3M", "1000").
[[nodiscard]] std::string format_size(std::uint64_t bytes);

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
[[nodiscard]] twoway::Result<std::string> expand_authorized_keys_path(std::string_view pattern, const AccountInfo& account);

// Every AuthorizedKeysFile entry expanded for the account (empty for "none").
[[nodiscard]] twoway::Result<std::vector<std::string>> authorized_keys_paths(const DaemonConfig& config,
                                                                     const AccountInfo& account);

// OpenSSH's argv_split: blank-separated words, "double" or 'single' quotes group blanks, a backslash
// escapes a quote, a backslash, or (outside quotes) a blank; any other backslash stays. Nothing for an
// unterminated quote.
[[nodiscard]] std::optional<std::vector<std::string>> split_command_line(std::string_view text);

// ---- Edge: reads the file (at most 1 MiB) and parses it. A file that cannot be read is one error
// ("path: cannot read: reason"), as sshd refuses to start without its configuration.
[[nodiscard]] DaemonConfigResult load_daemon_config(const std::string& path);

}  // namespace twowayd
