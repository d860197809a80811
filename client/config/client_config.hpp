// ~/.twoway/config: the client's configuration, in ssh_config(5)'s syntax. Host blocks select the
// directives that follow by patterns ('*' '?' wildcards, '!' negation), Match blocks by ssh's criteria
// (evaluated by resolve(), in file order); Include reads other files in place through an injected
// reader, so the parser stays pure; for each keyword the first value
// obtained wins, command-line -o options first, so specific blocks belong above general ones; only
// IdentityFile adds up. The parser is pure (text in, so it can be fuzzed) and validates every value with
// path:line, whichever host it would apply to; resolve() then computes the effective settings for one
// host. Reading the file is the edge function at the bottom. Every keyword is described in docs/CONFIG.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/session.hpp>
#include <twoway/trust.hpp>

namespace twoway_client {

enum class StrictHostKeyChecking {
    yes,         // never add keys; refuse unknown and changed hosts
    accept_new,  // add unknown hosts' keys without asking; refuse changed ones
    no,          // add unknown hosts' keys; ("no" and "off")
    ask,         // ask before adding an unknown host's key; refuse changed ones (the default)
};

enum class ClientKeyword {
    host_name,
    port,
    user,
    identity_file,
    strict_host_key_checking,
    user_known_hosts_file,
    revoked_host_keys,
    batch_mode,
    hash_known_hosts,
    connect_timeout,
    server_alive_interval,
    server_alive_count_max,
    certificate_file,
    update_host_keys,
    password_authentication,
    preferred_authentications,
    number_of_password_prompts,
    update_host_keys_by_password,
    request_tty,
    clear_all_forwardings,
    send_env,
    host_key_alias,
    set_env,
    connection_attempts,
    log_level,
    escape_char,
    enable_escape_commandline,
    proxy_command,
    proxy_jump,
    identities_only,
    identity_agent,
    add_keys_to_agent,
    local_forward,
    dynamic_forward,
    remote_forward,
    exit_on_forward_failure,
};

// AddKeysToAgent (ssh's): after a key read from a file has logged in, add it to the agent; confirm:
// the agent asks before each use; lifetime: seconds until the agent forgets it (0: never).
struct AddKeysToAgent {
    bool add = false;
    bool confirm = false;
    std::uint32_t lifetime = 0;
};

// One hop of ProxyJump or -J: [user@]host[:port], or ssh's URI form ssh://[user@]host[:port].
struct JumpHost {
    std::string spec;  // as written, passed on to the inner twoway's -J for the earlier hops
    std::string user;  // empty: not given (the inner twoway's own config or local user decides)
    std::string host;  // brackets removed
    std::optional<std::uint16_t> port;  // nothing: not given
};

inline constexpr std::size_t max_jump_hops = 32;

// What a ProxyJump value or a -J argument gives: the hops in the order they are visited (empty for
// "none"), or an error (the one-line reason, without location).
struct JumpSpec {
    std::vector<JumpHost> hops;
    std::string error;
};
[[nodiscard]] JumpSpec parse_jump_spec(std::string_view text);

// Where a forward listens, as -D and DynamicForward write it (ssh's): "[bind_address:]port", the
// address possibly in brackets (an IPv6 one) or "*" (every address). Port 0 (the system chooses) is
// taken, as twoway's -L takes it. Nothing when malformed.
inline constexpr std::size_t max_dynamic_forwards = 64;  // DynamicForward lines kept
struct ForwardListen {
    std::optional<std::string> bind_address;  // brackets removed; "*" as written; nothing: not given
    std::uint16_t port = 0;
};
[[nodiscard]] std::optional<ForwardListen> parse_forward_listen(std::string_view text);
// As ssh -G writes one: "port", or "[bind_address]:port".
[[nodiscard]] std::string forward_listen_text(const ForwardListen& f);

// A remote forward, as -R and RemoteForward write it (ssh's, for a TCP port):
// "[bind_address:]port:host:hostport", the addresses possibly in brackets (IPv6 ones). The server listens
// on [bind_address:]port (ListenAddress: no bind address sends just the port, the server's default; an
// empty one or "*" sends "*", every interface; port 0: the server chooses); each connection it hands over
// is connected from here to host:hostport. ssh's other -R forms are refused with the reason: its
// dynamic one ("[bind_address:]port" alone, a SOCKS proxy on the server side) and every Unix-domain
// socket form (a field with a '/').
inline constexpr std::size_t max_remote_forwards = 64;  // RemoteForward lines kept
struct RemoteForwardSpec {
    std::optional<std::string> bind_address;  // as written, brackets removed ("", "*", a name or address)
    twoway::session::ListenAddress listen;    // what the listen request asks for
    std::string host;                         // where connections go from here, brackets removed
    std::uint16_t host_port = 0;              // 1..65535
    std::string spec;                         // as given, for messages
    // "host:hostport" as ssh's messages write it (no brackets).
    [[nodiscard]] std::string target() const { return host + ":" + std::to_string(host_port); }
};
struct RemoteForwardParse {
    std::optional<RemoteForwardSpec> forward;
    std::string error;  // when !forward: the one-line reason
};
[[nodiscard]] RemoteForwardParse parse_remote_forward(std::string_view text);
// As ssh -G writes one: "port host:hostport" or "[bind_address]:port [host]:hostport".
[[nodiscard]] std::string remote_forward_text(const RemoteForwardSpec& f);

// The authentication methods twoway knows, by ssh's names ("publickey", "password"). A handshake
// carries one; PreferredAuthentications orders them.
enum class AuthMethod { publickey, password };

// ssh's name of a method.
[[nodiscard]] const char* auth_method_name(AuthMethod m) noexcept;

// RequestTTY (ssh's): whether to ask for a PTY when neither -t nor -T was given.
enum class RequestTty { automatic, no, yes, force };

// LogLevel (ssh's), on twoway's levels: QUIET, FATAL and ERROR as -q; INFO and VERBOSE the default
// (twoway has no VERBOSE lines of its own); DEBUG and DEBUG1 as -v, DEBUG2 -vv, DEBUG3 -vvv.
enum class LogLevel { quiet, info, debug1, debug2, debug3 };

// UpdateHostKeys (ssh's): learn the keys a server announces after authentication (HOSTKEYS).
enum class UpdateHostKeys { no, yes, ask };

struct HostPattern {
    std::string pattern;  // lower case, without the '!'
    bool negated = false;
};

// A Match criterion (ssh's): host, originalhost, user and localuser take a pattern list, exec a
// command; all, canonical and final take nothing.
enum class MatchCriterion { all, canonical, final, host, original_host, user, local_user, exec };

struct MatchCondition {
    MatchCriterion criterion = MatchCriterion::all;
    bool negated = false;               // "!criterion"
    std::vector<HostPattern> patterns;  // the comma-separated pattern list (host names lower case)
    std::string command;                // exec: the command, tokens unexpanded
};

inline constexpr std::size_t no_parent = static_cast<std::size_t>(-1);

struct HostBlock {
    twoway::Location where;                    // the Host line (line 0 for the implicit block at the top)
    std::vector<HostPattern> patterns;  // empty for the implicit block, which applies to every host
    bool match = false;                 // a Match block: conditions instead of patterns
    std::vector<MatchCondition> conditions;
    // The block an Include line stood in (no_parent at the top level of the main file): a block of an
    // included file applies only when that one does, as ssh's Include inside a Host or Match block.
    std::size_t parent = no_parent;
    // The number of directives before this block's line: resolve() evaluates the block at that point of
    // the file, when the settings a Match criterion looks at (HostName, User) are the ones obtained so far.
    std::size_t first_directive = 0;
};

// One validated directive. Which member is used depends on the keyword.
struct ClientDirective {
    twoway::Location where;
    std::size_t block = 0;  // index into ParsedClientConfig::blocks
    ClientKeyword keyword = ClientKeyword::host_name;
    std::string text;                // HostName, User, IdentityFile, CertificateFile, RevokedHostKeys (unexpanded; "" for none), HostKeyAlias
    std::vector<std::string> files;  // UserKnownHostsFile (unexpanded; empty for "none"); SendEnv patterns; SetEnv NAME=value
    std::uint32_t number = 0;        // Port; ConnectTimeout, ServerAliveInterval seconds (0 = none); ServerAliveCountMax; ConnectionAttempts
    int escape = '~';                // EscapeChar: the character, or -1 for none
    bool flag = false;               // BatchMode, HashKnownHosts
    StrictHostKeyChecking strict = StrictHostKeyChecking::ask;
    UpdateHostKeys update = UpdateHostKeys::no;  // UpdateHostKeys
    std::vector<AuthMethod> methods{};  // PreferredAuthentications: the names twoway knows, in order
    RequestTty tty = RequestTty::automatic;      // RequestTTY
    LogLevel log = LogLevel::info;               // LogLevel (text: the name, upper case)
    std::vector<JumpHost> jumps{};               // ProxyJump (empty: none); ProxyCommand: text ("" for none)
    AddKeysToAgent add_keys{};                   // AddKeysToAgent
};

// Not "ClientConfig", which names the handshake's twoway::ClientConfig (twoway/handshake.hpp). When this
// parser lived in the library's namespace, two classes of that one name in one program were an ODR
// violation (a -O3 build freed one with the other's destructor); the program's own namespace,
// twoway_client, is what keeps its types from ever colliding with the library's again.
struct ParsedClientConfig {
    std::string path;
    std::vector<HostBlock> blocks{HostBlock{}};  // blocks[0]: the lines before the first Host
    std::vector<ClientDirective> directives;     // in file order
    std::vector<twoway::Diagnostic> errors;              // every error, in file order
    // ssh_config keywords that mean nothing for twoway, accepted: one line each, shown with -v.
    std::vector<twoway::Diagnostic> notes;
    // IgnoreUnknown patterns (of -o options: they cover the file too, as ssh reads them first).
    std::vector<std::string> ignore_unknown;
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// One file an Include pattern matched: its path and text.
struct IncludedFile {
    std::string path;
    std::string text;
};
// What an include reader gives for one pattern (already anchored: ~ and relative paths resolved): the
// files matched, sorted (none is fine, as ssh), or the error that ends the parse ("path: Bad owner or
// permissions"...), at most max_included_files of them.
struct IncludeResult {
    std::vector<IncludedFile> files;
    std::string error;
};
using IncludeReader = std::function<IncludeResult(const std::string& pattern)>;

inline constexpr std::size_t max_include_depth = 16;     // as ssh's READCONF_MAX_DEPTH
inline constexpr std::size_t max_included_files = 256;  // files included in all, so a parse stays bounded

struct ParseOptions {
    // Include's directory for relative paths (ssh: ~/.ssh, for the user's file and for -F alike) and
    // the home for a leading ~.
    std::string user_dir;
    std::string home;
    IncludeReader read_include;  // empty: Include lines are refused
    // IgnoreUnknown patterns already in force (those of -o options).
    std::vector<std::string> ignore_unknown;
};

// Parses config text; path is only used in messages.
[[nodiscard]] ParsedClientConfig parse_client_config(std::string_view path, std::string_view text);
// The same, with Include lines read through options.read_include.
[[nodiscard]] ParsedClientConfig parse_client_config(std::string_view path, std::string_view text,
                                                     const ParseOptions& options);

// Parses -o arguments ("Keyword=value" or "Keyword value") with the same keyword parser, as one config
// whose directives all apply. Host and Match are refused, as ssh refuses them on the command line.
// Errors are located at "command-line".
[[nodiscard]] ParsedClientConfig parse_client_options(std::span<const std::string> options);
[[nodiscard]] ParsedClientConfig parse_client_option(std::string_view option);


// Whether a Host line applies: some positive pattern matches and no negated one does. Case-insensitive.
[[nodiscard]] bool host_matches(std::span<const HostPattern> patterns, std::string_view host);

// What resolve() needs to know about the local side.
// Runs a Match exec command (through /bin/sh -c): its exit status, or nothing when it could not run
// or did not exit normally (an error, as for ssh).
using ExecRunner = std::function<std::optional<int>(const std::string& command)>;

struct ClientContext {
    std::string home;        // the local user's home directory (~ and %d)
    std::string local_user;  // %u, and the default User
    std::string local_host{};  // Match exec's %l (and %L, up to the first dot)
    ExecRunner run_exec{};     // empty: a Match exec criterion never matches
    std::string local_uid{};   // ProxyCommand's %i
};

inline constexpr std::size_t max_identity_files = 100;  // as ssh's SSH_MAX_IDENTITY_FILES
inline constexpr std::size_t max_known_hosts_files = 32;

struct ClientSettings {
    std::string host_alias;  // as matched against Host patterns (lower case)
    std::string host_name;   // HostName with %h expanded, else the alias
    std::uint16_t port = twoway::default_port;
    std::string user;
    std::vector<std::string> identity_files;          // expanded; default ~/.twoway/id_ed25519, ~/.ssh/id_ed25519
    // IdentitiesOnly (ssh's): of the agent's keys, only those that are also an IdentityFile are offered.
    bool identities_only = false;
    // IdentityAgent (ssh's), expanded: the agent's socket; "SSH_AUTH_SOCK" (the default) reads the
    // environment, "none" uses no agent.
    std::string identity_agent = "SSH_AUTH_SOCK";
    AddKeysToAgent add_keys_to_agent{};
    // LocalForward lines (all of them add up, after -L): "[bind_address:]port:host:hostport", -L's form,
    // as ssh joins the keyword's two arguments.
    std::vector<std::string> local_forwards;
    // CertificateFile: certificates for the identity keys, expanded, in order (as IdentityFile: they add up).
    // Besides these, an identity's "<file>-cert.pub" is used when it exists, as ssh does.
    std::vector<std::string> certificate_files;
    std::vector<std::string> user_known_hosts_files;  // expanded; default ~/.twoway/known_hosts; empty: none
    std::optional<std::string> revoked_host_keys;     // RevokedHostKeys, expanded; nothing: none (the default)
    StrictHostKeyChecking strict_host_key_checking = StrictHostKeyChecking::ask;
    bool batch_mode = false;
    // HashKnownHosts: new hosts are recorded with hashed names (|1|salt|hash). Default no, as OpenSSH's
    // (Debian's ssh_config says yes); docs/CONFIG.md says why.
    bool hash_known_hosts = false;
    // UpdateHostKeys: add the host keys a server proves after authentication to the first
    // UserKnownHostsFile. As ssh: default yes unless UserKnownHostsFile was set (then no).
    UpdateHostKeys update_host_keys = UpdateHostKeys::yes;
    std::optional<std::uint32_t> connect_timeout;  // seconds; nothing: the system's TCP timeout
    // ConnectionAttempts (ssh's): rounds over the host's addresses, a second apart, before giving up.
    std::uint32_t connection_attempts = 1;
    // LogLevel: applies only when neither -v nor -q was given (they come first, as for ssh). Nothing: unset.
    std::optional<LogLevel> log_level;
    std::string log_level_name = "INFO";  // as written (upper case), for -G
    std::uint32_t server_alive_interval = 0;  // seconds of silence from the server before a PING; 0 = off
    std::uint32_t server_alive_count_max = 3;  // PINGs unanswered before giving up (0: at the first silence)
    // PasswordAuthentication (ssh's; default yes): the password method (OPAQUE, docs/twoway.md) may be used.
    bool password_authentication = true;
    // PreferredAuthentications: the methods in the order tried, names twoway does not know left out
    // (as ssh ignores them). Default publickey,password.
    std::vector<AuthMethod> preferred_authentications{AuthMethod::publickey, AuthMethod::password};
    // NumberOfPasswordPrompts (ssh's; default 3): password tries, and passphrase tries per key.
    std::uint32_t number_of_password_prompts = 3;
    // UpdateHostKeysByPassword (twoway's; default no): a host whose key changed may be proven by the
    // password instead of refused, its old key lines then replaced.
    bool update_host_keys_by_password = false;
    RequestTty request_tty = RequestTty::automatic;  // RequestTTY: used when neither -t nor -T is given
    bool clear_all_forwardings = false;              // ClearAllForwardings: -L, -D (and config forwards) dropped
    // DynamicForward: "[bind_address]:port" or "port" (forward_listen_text()), every line adding, in order.
    std::vector<std::string> dynamic_forwards;
    // RemoteForward lines (every line adds, a duplicate adds nothing): -R's form, "listen:host:hostport",
    // as ssh joins the keyword's two arguments (parse_remote_forward() reads it).
    std::vector<std::string> remote_forwards;
    // ExitOnForwardFailure (ssh's): a remote forward the server refuses ends twoway (255), before the
    // session starts. (-L and -D listeners that cannot be set up always do.)
    bool exit_on_forward_failure = false;
    // SendEnv: patterns of local variable names to send (ssh's: every line adds, "-pattern" removes
    // what earlier lines added). The list starts as Debian's ssh has it, "LANG LC_*" (its
    // /etc/ssh/ssh_config), before the command line and the file, so "SendEnv -LC_*" removes it.
    std::vector<std::string> send_env{"LANG", "LC_*"};
    // EscapeChar (ssh's): the escape character when -e is not given; -1 for none.
    int escape_char = '~';
    // EnableEscapeCommandline: whether ~C opens the command line. twoway's default is yes (OpenSSH
    // 9.2's is no, for its pledge(2) sandbox; docs/twoway.md says why twoway differs).
    bool enable_escape_commandline = true;
    // HostKeyAlias (ssh's): the name host keys are looked up and recorded under in known_hosts, instead of
    // the host name and port ("[host]:port"); as ssh, the alias is used alone, without the port.
    std::optional<std::string> host_key_alias;
    // SetEnv (ssh's): "NAME=value" variables sent with the request, after SendEnv's (a name in both is
    // sent with SetEnv's value). As ssh, the first SetEnv line obtained gives them all; a name repeated
    // on it counts once (its first value).
    std::vector<std::string> set_env;
    // ProxyCommand and ProxyJump (ssh's), one setting: the first of the two obtained wins, "none" too.
    // proxy_command is the command with its tokens expanded (%h %n %p %r %k %d %u %l %L %i), run as
    // /bin/sh -c "exec ..."; proxy_command_text as written (for -G). proxy_jump: the hops, in order.
    std::optional<std::string> proxy_command;
    std::string proxy_command_text;
    std::vector<JumpHost> proxy_jump;
    // Errors met while resolving (a Match exec command that could not run): path:line: message.
    std::vector<twoway::Diagnostic> errors;
};

// The effective settings for host_alias: command-line options first, then the file's directives from
// the blocks that match (Host and Match lines evaluated in file order, with the settings obtained so
// far; when a reached Match line asks for "final", a second pass as ssh's, docs/CONFIG.md), the first value of each keyword winning (IdentityFile: all of them, in that
// order, duplicates dropped, at most max_identity_files). Tokens in IdentityFile, UserKnownHostsFile and
// RevokedHostKeys (%d home, %h host name, %p port, %r remote user, %u local user, %%) and a leading ~ are expanded.
[[nodiscard]] ClientSettings resolve(const ParsedClientConfig& config, std::string_view host_alias,
                                     const ParsedClientConfig& cli_overrides, const ClientContext& context);

// ---- Edge: reads the file (at most 1 MiB) and parses it. A missing file is an empty config, as for ssh;
// a file writable by group or others, or owned by another user (not root), is refused as ssh refuses it
// ("Bad owner or permissions"), since it decides which keys and hosts are trusted.
// Include lines are read the same way (glob(3), sorted, the same check and bound), relative to
// user_dir (~/.twoway).
[[nodiscard]] ParsedClientConfig load_client_config(const std::string& path, const std::string& home = {},
                                                    const std::vector<std::string>& ignore_unknown = {});

// The edge's include reader: glob(3) of the pattern, each file checked and read as the main file.
[[nodiscard]] IncludeResult read_include_files(const std::string& pattern);

// The edge's exec runner: /bin/sh -c command, stdin and stdout on /dev/null; the exit status.
[[nodiscard]] std::optional<int> run_match_exec(const std::string& command);

}  // namespace twoway_client
