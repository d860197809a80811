/// @file
/// Trust files shared with OpenSSH: known_hosts (which server keys the client trusts) and authorized_keys
/// (which client keys an account trusts). The parsers are pure: text in, entries and per-line diagnostics
/// out. A bad line never voids a file; it is skipped with a diagnostic naming path:line and why, for the
/// caller to log. The decisions (check_host, check_authorized) are pure functions returning a verdict.
/// The only file I/O is the small edge at the bottom of this header (lib/src/trust/trust_files.cpp).
///
/// Supported today (see docs/CONFIG.md): plain ssh-ed25519 key lines; in known_hosts, host names
/// and [host]:port entries in comma-separated lists with OpenSSH's patterns (* ? and ! negation), hashed
/// names (`|1|salt|hash`, HashKnownHosts), `@revoked` lines (the key is refused for every host) and
/// `@cert-authority` lines (check_host_certificate); authorized_keys options (KeyOptions). A known_hosts
/// line twoway cannot read never makes a host look new (check_host's "uncertain").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/krl.hpp>
#include <twoway/pattern.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>

namespace twoway {

/// twoway's default TCP port. As OpenSSH does for port 22, known_hosts entries for this port are written
/// as a bare host name and entries for any other port as "[host]:port".
inline constexpr std::uint16_t default_port = 4422;

/// Where a line came from, for messages: "path:line".
struct TWOWAY_API Location {
    std::string path;      ///< the file's path as the caller named it
    std::size_t line = 0;  ///< 1-based; 0 when there is no line (command-line options)

    /// "path:line", or "path" when line is 0.
    [[nodiscard]] std::string text() const;
    /// Memberwise.
    friend bool operator==(const Location&, const Location&) = default;
};

/// A message about one line: a skipped trust-file line, or a configuration error.
struct TWOWAY_API Diagnostic {
    Location where;        ///< the line it is about
    std::string message;   ///< what is wrong with it

    [[nodiscard]] std::string text() const;  ///< "path:line: message"
};

/// Bounds for one trust file, so a hostile or corrupt file cannot make us allocate without limit.
struct TrustLimits {
    std::size_t max_line_length = 8192;   ///< OpenSSH's documented limit for authorized_keys lines
    std::size_t max_lines = 1'000'000;    ///< lines looked at; the rest of the file is ignored
    std::size_t max_entries = 100'000;    ///< entries kept; the rest of the file is ignored
    std::size_t max_diagnostics = 100;    ///< diagnostics kept (all skipped lines are still counted)
};

/// The line iterator under both trust-file readers: numbered lines without their `"\n"` or `"\r\n"`.
/// It views text, which must outlive it and the lines it returns.
class TWOWAY_API TextLines {
public:
    /// One line.
    struct Line {
        std::size_t number = 0;  ///< 1-based
        std::string_view text;  ///< the whole line, even when too_long
        bool too_long = false;  ///< longer than max_line_length: the caller is to skip it
    };

    /// Lines of text; those longer than max_line_length bytes are marked too_long.
    TextLines(std::string_view text, std::size_t max_line_length) noexcept
        : rest_(text), max_line_length_(max_line_length) {}

    /// The next line, or nothing at the end of the text (a last line without a newline counts).
    [[nodiscard]] std::optional<Line> next() noexcept;

private:
    std::string_view rest_;
    std::size_t max_line_length_;
    std::size_t number_ = 0;
};

/// What became of one line of a trust file.
enum class LineStatus {
    entry,    ///< a usable entry
    blank,    ///< empty or only blanks
    comment,  ///< '#' after optional blanks
    skipped,  ///< not used; reason says why
};

// ---- known_hosts ------------------------------------------------------------------------------

/// A host name and port, as a known_hosts name ("host" or "[host]:port") gives them.
struct HostPort {
    std::string host;  ///< lower case, without brackets
    std::uint16_t port = default_port;  ///< default_port for a bare name
    /// Memberwise.
    friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// The size of a hashed known_hosts name's salt and of its hash (HMAC-SHA1's output).
inline constexpr std::size_t hashed_host_name_size = 20;

/// A hashed known_hosts host field, as OpenSSH writes it under HashKnownHosts and ssh-keygen -H:
/// `|1|` base64(salt) `|` base64(HMAC-SHA1(key = salt, message = name)), where name is the one host name
/// the plain field would hold ("host", or "[host]:port"), in lower case. The field is one name: a hashed
/// field has no list, no pattern and no negation. HMAC-SHA1 comes from Nettle (docs/LIBRARY.md).
struct HashedHostName {
    std::array<std::byte, hashed_host_name_size> salt{};  ///< the random salt, the HMAC's key
    std::array<std::byte, hashed_host_name_size> hash{};  ///< HMAC-SHA1(salt, name)
    /// Memberwise.
    friend bool operator==(const HashedHostName&, const HashedHostName&) = default;
};

/// Reads a hashed host field: exactly `|1|`, the padded standard base64 of a 20-byte salt, `|`, and the
/// padded standard base64 of a 20-byte hash, nothing else (OpenSSH's extract_salt, and the exact
/// comparison of match_maybe_hashed: a field in any other form never matches there). Nothing for
/// anything else; a known_hosts line whose field starts with `|` and does not read is "uncertain" for
/// every host (check_host).
[[nodiscard]] TWOWAY_API std::optional<HashedHostName> parse_hashed_host_name(std::string_view field);

/// The hashed field for name with this salt (OpenSSH's host_hash). name is hashed as given: give it as
/// a plain field would hold it, lower-cased ("host", "[host]:port").
[[nodiscard]] TWOWAY_API HashedHostName hash_host_name(std::string_view name,
                                                       std::span<const std::byte, hashed_host_name_size> salt);
/// The same with a salt of 20 bytes from rng (system_rng() for files; a fixed Rng in tests).
[[nodiscard]] TWOWAY_API HashedHostName hash_host_name(std::string_view name, Rng& rng);

/// The field's text: `|1|salt|hash`.
[[nodiscard]] TWOWAY_API std::string format_hashed_host_name(const HashedHostName& name);

/// Whether hashed is the hash of name exactly (no lower-casing, no port rule: see known_host_naming).
[[nodiscard]] TWOWAY_API bool hashed_host_name_matches(const HashedHostName& hashed, std::string_view name);

/// A usable known_hosts line: host names (and patterns) with an Ed25519 key.
struct KnownHostEntry {
    Location where;  ///< the line
    /// The comma-separated host list, split in two: plain names ("host", "[host]:port") and patterns,
    /// the names with wildcards (* ?) or a leading ! (negation), kept lower-cased as written:
    /// "*.example.com", "!old.example.com", "[10.0.0.*]:2222". known_host_matches says what they match.
    std::vector<HostPort> hosts;
    std::vector<std::string> patterns;  ///< see hosts
    /// The names of the list twoway refuses ("host:port" without brackets, characters no host name has,
    /// an empty name ...), lower-cased as written. Names are read one by one, so these vouch for no host
    /// while the line's good names still count; but a host one of them may mean (known_host_naming) is
    /// "uncertain" for this line, since the line's writer may have meant it.
    std::vector<std::string> bad_names;
    /// A hashed host field (`|1|salt|hash`): the line names the one host whose name hashes to it, and
    /// hosts, patterns and bad_names are empty.
    std::optional<HashedHostName> hashed;
    PublicKey key;        ///< the line's key (for a cert_authority line, the CA's)
    std::string comment;  ///< what follows the key, possibly empty
    /// An `@revoked` line: the key must never be accepted, for any host. OpenSSH applies such a line to
    /// the hosts its list matches; twoway refuses the key whatever the host field says (a stolen key is
    /// better refused everywhere), and fills hosts and patterns from the field only for tools that show
    /// the lines written for a host (twoway-keygen -F). The field must be present.
    bool revoked = false;
    /// An `@cert-authority` line: key is a CA's, trusted to sign host certificates for the hosts the line
    /// names (check_host_certificate), never a host key itself. check_host does not take a plain key as
    /// new for a host such a line names ("uncertain"): the host is to present a certificate.
    bool cert_authority = false;
};

/// A known_hosts line that is not a usable Ed25519 entry but may still speak about a host. check_host
/// never lets one make a host look new (docs/CONFIG.md, known_hosts, has the whole table).
enum class UnusableKind {
    /// names read, a well-formed key of another OpenSSH type (ssh-rsa ...): for the hosts it names, a
    /// recorded key that is not the one offered (a changed key, as in OpenSSH)
    other_key_type,
    /// names read, the rest not usable (bad key data, no key, an `@cert-authority` line whose CA key is a
    /// certificate or not an Ed25519 key): uncertain for the hosts it may name
    named,
    /// the names cannot be read (a malformed hashed field, an unknown marker, no host field, binary
    /// bytes, an over-long line): uncertain for every host
    any_host,
    /// an `@revoked` line whose key cannot be read: it may revoke the key offered, so the verdict is
    /// uncertain for every host and key, even a known one
    revocation,
};

/// A known_hosts line that twoway cannot use as an entry but that may concern a host (see UnusableKind).
struct UnusableHostLine {
    Location where;  ///< the line
    UnusableKind kind = UnusableKind::any_host;  ///< what it may say about which hosts
    std::string reason;  ///< why twoway cannot use it, as in the line's diagnostic
    /// other_key_type and named: the line's names, as in KnownHostEntry.
    std::vector<HostPort> hosts;
    std::vector<std::string> patterns;   ///< see hosts
    std::vector<std::string> bad_names;  ///< see hosts
    std::optional<HashedHostName> hashed;  ///< other_key_type and named: a hashed field, as in KnownHostEntry
    std::string key_type;         ///< other_key_type: the line's key type ("ssh-rsa")
    /// An `@cert-authority` line (kind named, or any_host for a host field that cannot be read).
    bool cert_authority = false;
};

/// Whether a line names host:port (the name is "host" for default_port and "[host]:port" otherwise,
/// lower-cased), as OpenSSH's match_hostname decides on the names twoway reads: patterns match the name
/// as a whole ('*' any run of characters, '?' one), and a matching negated pattern excludes it whatever
/// else matches (no). maybe: no good negation excludes it, and a bad name could mean it, read as
/// OpenSSH would read it (lower-cased, wildcards, the whole name) or as the "[host]:port" its writer
/// probably meant ("host:port" without brackets); a bad negation that could mean it makes a matching
/// line maybe too. A hashed field names host:port when it is the hash of that name (for default_port,
/// of "host" or of "[host]:4422", the two plain spellings twoway reads alike), and nothing else (no).
/// An UnusableHostLine of kind any_host or revocation may name every host (maybe).
/// (An entry's revoked flag is not looked at: check_host refuses a revoked key for every host.)
enum class HostNaming { no, yes, maybe };
/// Whether entry names host:port (see HostNaming).
[[nodiscard]] TWOWAY_API HostNaming known_host_naming(const KnownHostEntry& entry, std::string_view host,
                                                      std::uint16_t port);
/// Whether line may name host:port (see HostNaming).
[[nodiscard]] TWOWAY_API HostNaming known_host_naming(const UnusableHostLine& line, std::string_view host,
                                                      std::uint16_t port);

/// known_host_naming(...) == HostNaming::yes.
[[nodiscard]] TWOWAY_API bool known_host_matches(const KnownHostEntry& entry, std::string_view host,
                                                 std::uint16_t port);

/// One known_hosts line as KnownHostsReader reads it.
struct KnownHostsLine {
    Location where;  ///< the line
    std::string_view text;  ///< the line as in the file (a view into the parsed text)
    LineStatus status = LineStatus::blank;  ///< what became of it
    std::optional<KnownHostEntry> entry;       ///< when status == entry
    std::optional<UnusableHostLine> unusable;  ///< when status == skipped and the line may concern hosts
    /// skipped: why. entry: empty, or a note on the names it ignored (bad_names).
    std::string reason;
};

/// Reads known_hosts lines one at a time (for tools that rewrite the file line by line). The reader and
/// the lines it returns view text, which must outlive them.
class TWOWAY_API KnownHostsReader {
public:
    /// Lines of text, the contents of the file at path (used only in Locations).
    KnownHostsReader(std::string_view path, std::string_view text, const TrustLimits& limits = {});

    /// The next line, or nothing at the end. After a limit is reached one last skipped line says so and
    /// the rest of the file is ignored (truncated() is then true).
    [[nodiscard]] std::optional<KnownHostsLine> next();
    /// A limit cut the file short.
    [[nodiscard]] bool truncated() const noexcept { return truncated_; }

private:
    std::string path_;
    TextLines lines_;
    TrustLimits limits_;
    std::size_t entries_ = 0;
    bool truncated_ = false;
};

/// A parsed known_hosts file: what check_host and known_host_keys decide on.
struct KnownHostsFile {
    std::string path;                        ///< as given to the parser
    std::vector<KnownHostEntry> entries;     ///< the usable lines, in file order
    std::vector<UnusableHostLine> unusable;  ///< count against TrustLimits::max_entries, as entries do
    std::vector<Diagnostic> diagnostics;     ///< at most limits.max_diagnostics of them
    std::size_t skipped = 0;                 ///< every skipped line, kept in diagnostics or not
    bool truncated = false;                  ///< a limit cut the file short
};

/// Parses a whole known_hosts file (text, read from path); never fails: bad lines are diagnostics.
[[nodiscard]] TWOWAY_API KnownHostsFile parse_known_hosts(std::string_view path, std::string_view text,
                                                          const TrustLimits& limits = {});

/// check_host's verdict on a server key.
enum class HostStatus {
    known,      ///< an entry for this host and port holds this key
    unknown,    ///< no line for this host and port, and none that may be for it
    changed,    ///< lines for this host and port exist, none with this key: possible man in the middle
    revoked,    ///< an `@revoked` line holds this key: refuse it, whatever else the files say
    /// no readable line decides, and some line that may name this host (or revoke this key) cannot be
    /// read: it may hold another key, so the host must not be treated as new
    uncertain,
};

/// A line that names the host with another key (HostVerdict::mismatches).
struct HostKeyMismatch {
    Location where;  ///< the line
    PublicKey key;  ///< the key on that line (the one the user trusted before), when key_type is ssh-ed25519
    std::string key_type{ssh_ed25519_name};  ///< otherwise the line's key type ("ssh-rsa"), key unset
};

/// What check_host decided, and the lines that decided it (for the messages a client shows).
struct HostVerdict {
    HostStatus status = HostStatus::unknown;  ///< the verdict
    std::optional<Location> matched;          ///< known: the first line with this host and key
    std::optional<Location> revoked;          ///< revoked: the first `@revoked` line with this key
    std::vector<HostKeyMismatch> mismatches;  ///< changed: every line for this host with another key
    /// uncertain, and changed: every line that may name this host (or revoke this key) and cannot be
    /// read, and every `@cert-authority` line that names it, with why, in file and line order.
    std::vector<Diagnostic> unreadable;
    bool revocation_unreadable = false;  ///< among them, an `@revoked` line (uncertain even for a known host)
    /// Some file was cut short by a limit, so "unknown" may be wrong: callers must not add the key
    /// without asking (no accept-new) when this is set.
    bool incomplete = false;
};

/// The verdict for a server key, over the files in the order given (user file, then the global one).
/// host is the name or address as the user gave it (or HostName), without brackets. In order:
/// @verbatim
///   revoked    an `@revoked` line holds the key (for every host, whatever its host field says);
///   uncertain  an `@revoked` line's key cannot be read (it may be this one);
///   known      a readable Ed25519 line names the host with this key (even if others hold other keys,
///              as in OpenSSH, and whatever lines twoway cannot read say); hashed names count as plain;
///   changed    readable lines name the host with other keys, of any type (as OpenSSH: a host recorded
///              with an RSA key only, offered an Ed25519 key, is a changed key);
///   uncertain  a line that may name the host cannot be read (a malformed hashed field, a bad name that
///              could mean it, bad key data), or an `@cert-authority` line names it (the host is to
///              present a certificate: a plain key is not taken as new; OpenSSH would ask as for a new host);
///   unknown    otherwise.
/// @endverbatim
/// Host names compare case-insensitively; the port must match exactly (bare names mean default_port).
[[nodiscard]] TWOWAY_API HostVerdict check_host(std::span<const KnownHostsFile> files, std::string_view host,
                                                std::uint16_t port, const PublicKey& key);

/// Every key the files hold for this host and port, in file order, each once, leaving out revoked keys.
/// A client that knows the key before connecting proves it to a server in stealth mode (PROTOCOL.md 4.1.1).
/// Only lines that name the host for certain count (known_host_naming yes), and none at all when an
/// `@revoked` line cannot be read: a host whose verdict can only be "uncertain" gets no proof.
[[nodiscard]] TWOWAY_API std::vector<PublicKey> known_host_keys(std::span<const KnownHostsFile> files,
                                                                std::string_view host, std::uint16_t port);

/// A host name or address literal twoway accepts for a known_hosts entry (and, so that every host twoway
/// is told to reach can be recorded there, in HostName and the daemon's ListenAddress): letters, digits,
/// '.', '-', '_', ':' (IPv6) and '%' (IPv6 zone), 1 to 255 bytes, not starting with '-' (it could pass
/// for a command-line option), and with no ':' or at least two (one ':' is "host:port" written without
/// brackets). No blanks, commas, brackets, wildcards or '!'. For checking a name a person gave before
/// format_host_port or append_known_host refuse it.
[[nodiscard]] TWOWAY_API bool valid_host_name(std::string_view host) noexcept;

/// One name of a known_hosts host list, as format_host_port writes it and ssh-keygen -F/-R take it:
/// "host" (default_port) or "[host]:port", lower-cased. Nothing for a pattern, a hashed name, "host:port"
/// without brackets or anything else that is not a usable host name.
[[nodiscard]] TWOWAY_API std::optional<HostPort> parse_host_port(std::string_view name);

/// "host" for default_port, "[host]:port" otherwise, with the host lower-cased. Fails with
/// invalid_argument for an empty or unusable host name (blanks, commas, wildcards, control bytes ...)
/// or port 0.
[[nodiscard]] TWOWAY_API Result<std::string> format_host_port(std::string_view host, std::uint16_t port);

/// One known_hosts line as ssh writes it: "host ssh-ed25519 AAAA..." (no trailing newline).
[[nodiscard]] TWOWAY_API Result<std::string> format_known_hosts_line(std::string_view host, std::uint16_t port,
                                                                     const PublicKey& key);

/// The same line with its name hashed, as ssh writes it under HashKnownHosts yes: "|1|salt|hash
/// ssh-ed25519 AAAA...", the hash of format_host_port(host, port) with a salt from rng. Fails as
/// format_host_port.
[[nodiscard]] TWOWAY_API Result<std::string> format_hashed_known_hosts_line(std::string_view host, std::uint16_t port,
                                                                            const PublicKey& key, Rng& rng);

// ---- @cert-authority: host certificates ---------------------------------------------------------

/// check_host_certificate's verdict.
struct HostCertificateVerdict {
    bool allowed = false;  ///< an `@cert-authority` line for this host names the CA and the certificate fits
    /// The first `@cert-authority` line that names this host (for certain) with the certificate's CA key:
    /// the line that decided (allowed, or refused by the certificate's own checks), for the log.
    std::optional<Location> authority;
    /// Refused by an `@revoked` line holding the CA key or the certified key: the first such line.
    std::optional<Location> revoked;
    /// refused: why, in one line ("no @cert-authority line for example.com names the certificate's CA
    /// SHA256:...", check_certificate_use's reason ...).
    std::string reason;
    /// `@cert-authority` lines that may name this host and cannot be used (a CA key that is a certificate
    /// or of another type, a host field that cannot be read), and lines that may revoke a key and cannot
    /// be read, with why: shown when the verdict is a refusal, as they may be why.
    std::vector<Diagnostic> unreadable;
    /// allowed.
    explicit operator bool() const noexcept { return allowed; }
};

/// Whether a server certificate (whose CA signature parse_certificate checked) is trusted for host:port
/// through the files' `@cert-authority` lines, as OpenSSH's ssh decides: some `@cert-authority` line
/// whose host field names host:port for certain (known_host_naming yes: patterns, negation and hashed
/// names as for any line) holds the certificate's signature_key; then check_certificate_use with role
/// host, principals {host lower-cased} (a principal may be a pattern), and now. Refused, whatever else:
/// an `@revoked` line holding the CA key or the certified key (for every host, as check_host), or an
/// `@revoked` line that cannot be read (it may revoke either). host is the name as the user typed it (or
/// HostName), without brackets; the certificate's principals must name it, not an address it resolves to.
[[nodiscard]] TWOWAY_API HostCertificateVerdict check_host_certificate(std::span<const KnownHostsFile> files,
                                                                       std::string_view host, std::uint16_t port,
                                                                       const Certificate& certificate,
                                                                       std::int64_t now);

// ---- authorized_keys --------------------------------------------------------------------------

/// An authorized_keys line's expiry-time= ("YYYYMMDD[HHMM[SS]]", with a trailing "Z" or "UTC" for UTC),
/// as written: OpenSSH reads a time without the suffix in the system's time zone (mktime), so the
/// library keeps the civil time and key_options_allow compares it with the local time the caller gives.
struct ExpiryTime {
    int year = 1970;  ///< 1970..9999
    int month = 1;    ///< 1..12
    int day = 1;      ///< 1..the month's last day
    int hour = 0;     ///< 0..23
    int minute = 0;   ///< 0..59
    int second = 0;   ///< 0..60 (strptime allows a leap second)
    bool utc = false;  ///< written with "Z" or "UTC"
    /// Seconds since 1970-01-01 00:00:00 of this civil time read as UTC (the time itself when utc).
    [[nodiscard]] std::int64_t civil_seconds() const noexcept;
    /// Memberwise.
    friend bool operator==(const ExpiryTime&, const ExpiryTime&) = default;
};

/// The options of an authorized_keys line, in OpenSSH's syntax (sshd(8), AUTHORIZED_KEYS FILE FORMAT):
/// a comma-separated list with no blanks outside double quotes; names case-insensitive; every value
/// double-quoted, `\"` standing for a quote inside it (no other escape). parse_key_options reads them;
/// what twoway does with each (docs/twowayd.md, AUTHORIZED_KEYS):
/// @verbatim
///   restrict                      no pty, no services or direct connections (and none of OpenSSH's
///                                 other forwardings); a later pty or port-forwarding turns one back on
///   [no-]port-forwarding          twoway's services, direct connections and listens (-W, -L, -D, -R)
///   [no-]pty                      a PTY for a shell or command
///   command="..."                 run this instead of what the client asks (once only)
///   from="pattern-list"           client address patterns (once only)
///   expiry-time="YYYYMMDD[HHMM[SS]][Z]"  not after this time (each of several)
///   environment="NAME=value"      recorded (twowayd sets none: PermitUserEnvironment no)
///   permit-service="name"         only the services named (repeatable; twoway's own option)
///   permitopen="host:port"        direct connections only to these (repeatable; port may be "*"), as
///                                 sshd, on top of the daemon's PermitOpen
///   principals="list"             recorded, only with cert-authority (once only)
///   cert-authority                recorded: the line names a CA and never authorizes its key itself
///   permitlisten="[host:]port"    listen requests (-R) only for these (repeatable; either may be
///                                 "*"), as sshd, on top of the daemon's PermitListen
///   [no-]agent-forwarding, [no-]x11-forwarding, [no-]user-rc, [no-]touch-required,
///   tunnel="n"                    recorded: features twoway lacks; they grant nothing
///   [no-]verify-required          refused (the line is unusable): twoway has no FIDO keys to verify,
///                                 and cannot honour the restriction it writes
/// @endverbatim
struct KeyOptions {
    std::string text;  ///< the options field as written; empty for a line without options
    bool restricted = false;       ///< `restrict` was given
    bool cert_authority = false;   ///< `cert-authority`
    bool port_forwarding = true;   ///< services and direct connections (restrict, no-port-forwarding: off)
    bool pty = true;               ///< a PTY may be allocated (restrict, no-pty turn it off)
    bool agent_forwarding = true;  ///< recorded only: twoway has no agent forwarding
    bool x11_forwarding = true;    ///< recorded only: twoway has no X11 forwarding
    bool user_rc = true;           ///< recorded only: twoway runs no ~/.ssh/rc
    bool touch_required = true;    ///< recorded only (no-touch-required): twoway has no FIDO keys
    std::optional<std::string> command;     ///< command=, dequoted
    std::optional<std::string> from;        ///< from=, dequoted: the pattern list
    std::optional<std::string> principals;  ///< principals=, dequoted
    /// expiry-time= values, in order (at most max_key_option_values): each must hold, so the earliest decides.
    std::vector<ExpiryTime> expiry_times;
    /// environment= values ("NAME=value"), the first for each name (as OpenSSH), in order.
    std::vector<std::string> environment;
    /// permit-service= names, each once, in order; empty: every service (when port_forwarding).
    std::vector<std::string> permit_services;
    /// permitopen= entries (session::valid_permit_open without a host wildcard), each once, in order;
    /// empty: whatever the daemon's PermitOpen allows (when port_forwarding).
    std::vector<std::string> permit_open;
    std::vector<std::string> permit_listen;  ///< permitlisten= values (session::valid_permit_listen)
    std::optional<std::string> tunnel;       ///< tunnel=, recorded only
    /// Memberwise.
    friend bool operator==(const KeyOptions&, const KeyOptions&) = default;
};

/// Bounds on one options field, beyond the line length cap.
/// environment=, permit-service=, permitopen=, permitlisten= and expiry-time= values of one line, each.
inline constexpr std::size_t max_key_option_values = 64;

/// parse_key_options' result: options, or why the field is unusable.
struct KeyOptionsParse {
    std::optional<KeyOptions> options;  ///< set when the field is well-formed
    std::string error;                  ///< otherwise what is wrong ("unknown option \"foo\"")
};

/// Reads an authorized_keys options field (the text before the key type, without blanks outside
/// quotes; see KeyOptions). An unknown option, a malformed value, an unterminated quote, an empty option,
/// a repeated command=, from= or principals=, principals= without cert-authority, or more than
/// max_key_option_values values of one kind make it unusable. Never throws for any input.
[[nodiscard]] TWOWAY_API KeyOptionsParse parse_key_options(std::string_view field);

/// A usable authorized_keys line (also a revoked key list's line).
struct AuthorizedKey {
    Location where;       ///< the line
    PublicKey key;        ///< the line's key
    std::string comment;  ///< what follows the key, possibly empty
    KeyOptions options;   ///< the line's options (all defaults for a line without)
};

/// What key_options_allow needs to know about the connection.
struct ConnectionFacts {
    IpAddress address{};       ///< the client's address
    std::int64_t now = 0;      ///< the time, in seconds since the epoch
    /// local time minus UTC at now, in seconds (tm_gmtoff): expiry-time without "Z" is local time
    std::int32_t utc_offset = 0;
};

/// key_options_allow's verdict.
struct KeyOptionsVerdict {
    bool allowed = false;  ///< the options let this connection use the line
    /// refused: "path:line: why" ("from= mismatch: 127.0.0.1 not in \"10.0.0.0/8\"", "expiry-time passed").
    std::string reason;
    /// allowed.
    explicit operator bool() const noexcept { return allowed; }
};

/// Whether the options of entry (a line whose key matched) let this connection log in, as OpenSSH's
/// auth_authorise_keyopts decides: a cert-authority line never authorizes a plain key; expiry-time
/// refuses once its time is before now (for a local time: before now + utc_offset as civil time, so
/// around a daylight-saving change it may be an hour off); from= must match the address
/// (match_host_and_ip: twoway does no reverse DNS, so host names are the address's text), and a
/// list that cannot be read refuses (fail closed).
[[nodiscard]] TWOWAY_API KeyOptionsVerdict key_options_allow(const AuthorizedKey& entry, const ConnectionFacts& facts);

/// One authorized_keys line as AuthorizedKeysReader reads it.
struct AuthorizedKeysLine {
    Location where;                          ///< the line
    std::string_view text;                   ///< the line as in the file (a view into the parsed text)
    LineStatus status = LineStatus::blank;   ///< what became of it
    std::optional<AuthorizedKey> entry;      ///< when status == entry
    std::string reason;                      ///< skipped: why
};

/// As KnownHostsReader, for authorized_keys.
class TWOWAY_API AuthorizedKeysReader {
public:
    /// Lines of text, the contents of the file at path (used only in Locations).
    AuthorizedKeysReader(std::string_view path, std::string_view text, const TrustLimits& limits = {});

    /// The next line, or nothing at the end (as KnownHostsReader::next).
    [[nodiscard]] std::optional<AuthorizedKeysLine> next();
    /// A limit cut the file short.
    [[nodiscard]] bool truncated() const noexcept { return truncated_; }

private:
    std::string path_;
    TextLines lines_;
    TrustLimits limits_;
    std::size_t entries_ = 0;
    bool truncated_ = false;
};

/// A parsed authorized_keys file: what check_authorized decides on.
struct AuthorizedKeysFile {
    std::string path;                     ///< as given to the parser
    std::vector<AuthorizedKey> entries;   ///< the usable lines, in file order
    std::vector<Diagnostic> diagnostics;  ///< at most limits.max_diagnostics of them
    std::size_t skipped = 0;              ///< every skipped line, kept in diagnostics or not
    bool truncated = false;               ///< a limit cut the file short
};

/// Parses a whole authorized_keys file (text, read from path); never fails: bad lines, including lines
/// with unknown or malformed options (parse_key_options), are diagnostics.
[[nodiscard]] TWOWAY_API AuthorizedKeysFile parse_authorized_keys(std::string_view path, std::string_view text,
                                                                  const TrustLimits& limits = {});

/// check_authorized's verdict.
struct AuthVerdict {
    bool authorized = false;          ///< some line holds the key and its options allow the connection
    std::optional<Location> matched;  ///< the line that decided: the first holding the key whose options allow
    KeyOptions options;               ///< authorized: that line's options, for the session
    /// Lines that hold the key but whose options refused it (key_options_allow's reasons), in order.
    std::vector<std::string> refusals;
    /// authorized.
    explicit operator bool() const noexcept { return authorized; }
};

/// Whether any of files holds key on a line whose options allow this connection, and which line: as
/// OpenSSH, a line whose options refuse (from=, expiry-time=, cert-authority) does not end the search,
/// and the first line that allows decides.
[[nodiscard]] TWOWAY_API AuthVerdict check_authorized(std::span<const AuthorizedKeysFile> files,
                                                      const PublicKey& key, const ConnectionFacts& facts);

/// As check_authorized with facts, for callers that have no connection: a line with from= or
/// expiry-time= refuses (it cannot be checked), so nothing is granted that the file does not grant.
[[nodiscard]] TWOWAY_API AuthVerdict check_authorized(std::span<const AuthorizedKeysFile> files,
                                                      const PublicKey& key);

// ---- certificates: does a certificate fit its use ----------------------------------------------

/// How long before its valid_after a certificate is already taken: a CA whose clock runs a little ahead
/// issues certificates valid "from now" that a server a little behind would otherwise refuse for their
/// first minute. There is no allowance past valid_before: an expired certificate never logs in.
inline constexpr std::int64_t certificate_clock_skew = 60;

/// What a certificate (whose signature parse_certificate checked) is presented for. Whether its CA is
/// trusted for this use is the caller's to decide first (TrustedUserCAKeys, a cert-authority line,
/// an \@cert-authority line).
struct CertificateUse {
    CertificateType role = CertificateType::user;  ///< user: a login; host: a server's identity
    /// The names that would do. user: any one of them listed as a principal (exactly: the account, or a
    /// principals= / AuthorizedPrincipalsFile name); host: the host name the client connects to (in
    /// lower case), which a principal matches as a pattern (`*.example.com`), as OpenSSH's ssh does.
    std::vector<std::string> principals;
    std::int64_t now = 0;  ///< seconds since the epoch
    /// user: the client's address, for the source-address critical option. Without it a certificate
    /// that has source-address is refused (it cannot be checked).
    std::optional<IpAddress> source;
};

/// check_certificate_use's verdict.
struct CertificateVerdict {
    bool allowed = false;  ///< the certificate fits the use
    /// refused: why, in one line ("Certificate invalid: expired at 2026-01-01T00:00:00Z, now
    /// 2026-03-01T12:00:00Z").
    std::string reason;
    /// allowed, user certificates: the session's permissions, as OpenSSH gives them: `restrict`, then
    /// each permit-* extension turns its permission back on (permit-pty, permit-port-forwarding,
    /// permit-agent-forwarding, permit-X11-forwarding, permit-user-rc; no-touch-required), and the
    /// force-command option is the command. Unknown extensions are ignored.
    KeyOptions options;
    /// allowed.
    explicit operator bool() const noexcept { return allowed; }
};

/// The checks OpenSSH makes on a certificate for a use (sshkey_cert_check_authority and
/// sshauthopt_from_cert), and one more: the type must be the role's (a host certificate never logs a
/// user in, a user certificate is never a host's identity); now must be in [valid_after -
/// certificate_clock_skew, valid_before); a certificate without principals is refused always (OpenSSH
/// takes it as "any principal" where no principal is required: the fail-open of CVE-2024-7594); a listed
/// principal must be one of use.principals; every critical option must be known (user certificates:
/// force-command and source-address; host certificates: none) and well formed, and source-address (a
/// comma list of addresses or CIDR blocks, nothing else) must hold use.source.
[[nodiscard]] TWOWAY_API CertificateVerdict check_certificate_use(const Certificate& certificate,
                                                                  const CertificateUse& use);

/// "2026-01-01T00:00:00Z" for seconds since the epoch; "forever" for certificate_forever, as the reasons
/// and `-L` print valid_before.
[[nodiscard]] TWOWAY_API std::string format_certificate_time(std::uint64_t seconds);

// ---- certificates: may a user certificate log in (sshd's two ways) ---------------------------------

/// Combines a line's options (a cert-authority line, an AuthorizedPrincipalsFile line) with those
/// check_certificate_use gave the certificate, as OpenSSH's sshauthopt_merge: a permission holds only
/// when both allow it; a forced command from either applies, and two different ones refuse (nothing,
/// with `why` = "Forced command options do not match"). The line's from=, expiry-time=,
/// permit-service= and environment= are kept.
[[nodiscard]] TWOWAY_API std::optional<KeyOptions> merge_certificate_options(const KeyOptions& line,
                                                                            const KeyOptions& certificate,
                                                                            std::string* why = nullptr);

/// sshd's check of authorized_keys for a certificate (auth_check_authkey_line): only `cert-authority`
/// lines whose key is the certificate's CA (signature_key) count; a plain line holding the certified
/// key does not (a caller that wants ssh's "then offer the key alone" asks check_authorized for
/// certificate.key). For each such line, in order: its from= and expiry-time= must allow the
/// connection; the certificate must pass check_certificate_use for a user login with principals = the
/// line's principals= names (a comma list, exact) or, without principals=, the account; the line's and
/// the certificate's options are merged (merge_certificate_options). The first line that allows decides
/// (matched, merged options); every refusal is in refusals as "path:line: certificate ID "id" (serial
/// N): why".
[[nodiscard]] TWOWAY_API AuthVerdict check_authorized_certificate(std::span<const AuthorizedKeysFile> files,
                                                                  const Certificate& certificate,
                                                                  std::string_view account,
                                                                  const ConnectionFacts& facts);

/// One usable AuthorizedPrincipalsFile line: `[options] principal`.
struct AuthorizedPrincipal {
    Location where;       ///< the line
    std::string name;     ///< the principal: the line's last word
    KeyOptions options;   ///< the options before it (all defaults without)
};

/// A parsed AuthorizedPrincipalsFile (or AuthorizedPrincipalsCommand's output).
struct AuthorizedPrincipalsFile {
    std::string path;                         ///< as given to the parser
    std::vector<AuthorizedPrincipal> entries;  ///< the usable lines, in file order
    std::vector<Diagnostic> diagnostics;      ///< at most limits.max_diagnostics of them
    std::size_t skipped = 0;                  ///< every skipped line, kept in diagnostics or not
    bool truncated = false;                   ///< a limit cut the file short
};

/// Parses an AuthorizedPrincipalsFile as sshd's auth_process_principals reads one: everything from a
/// `#` on is a comment (anywhere on the line), blanks around are dropped, the last blank-separated word
/// is the principal, and what comes before it is an authorized_keys options field (parse_key_options;
/// cert-authority and principals= make no sense here and make the line unusable, as a malformed field
/// does). Limits and diagnostics as parse_authorized_keys; never fails.
[[nodiscard]] TWOWAY_API AuthorizedPrincipalsFile parse_authorized_principals(std::string_view path,
                                                                              std::string_view text,
                                                                              const TrustLimits& limits = {});

/// sshd's user_cert_trusted_ca, once the certificate's CA was found in TrustedUserCAKeys (at ca_where).
/// Without principals (AuthorizedPrincipalsFile and Command not configured, nullptr): the account must
/// be one of the certificate's principals. With them: the first line, in file order, whose name is one of
/// the certificate's principals decides: its from= and expiry-time= must allow the connection, then
/// check_certificate_use with that name, then the options are merged; no such line refuses ("Certificate
/// does not contain an authorized principal"). The verdict names the deciding line (the principals line,
/// or ca_where) and the refusals as check_authorized_certificate's.
[[nodiscard]] TWOWAY_API AuthVerdict check_trusted_certificate(const Certificate& certificate, std::string_view account,
                                                               const std::vector<AuthorizedPrincipalsFile>* principals,
                                                               const Location& ca_where, const ConnectionFacts& facts);

// ---- revoked key lists (twowayd's RevokedKeys, twoway's RevokedHostKeys) ----------------------

/// Public keys that must never be accepted, in OpenSSH's text form: key lines as in authorized_keys but
/// without options ("ssh-ed25519 base64 [comment]"); blank and '#' lines are ignored, and so are
/// well-formed keys of OpenSSH's other types (ssh-rsa, ecdsa-sha2-*, sk-*, certificates: they cannot name
/// an Ed25519 key). It fails closed, as OpenSSH's lists do: any other line (options, a misspelt type, bad
/// base64), an OpenSSH KRL (binary: parse_revocation_file reads those), a list cut short by a limit or a
/// file that cannot be read make it unusable, and the caller must then refuse every key.
struct RevocationList {
    std::string path;                   ///< as given to the parser
    std::vector<AuthorizedKey> keys;    ///< the listed Ed25519 keys, with their lines
    std::vector<std::string> problems;  ///< "path:line: why" or "path: why" (at most max_diagnostics)
    std::size_t problem_count = 0;      ///< all of them, shown or not
    std::error_code read_error;         ///< load_revocation_list: why the file could not be read, if it could not
    /// No problem at all: only then may the list be relied on.
    [[nodiscard]] bool usable() const noexcept { return problem_count == 0; }
};

/// Parses a revoked key list (text, read from path); never fails: problems make it unusable.
[[nodiscard]] TWOWAY_API RevocationList parse_revocation_list(std::string_view path, std::string_view text,
                                                              const TrustLimits& limits = {});

/// The first line that lists key, if any (look at usable() first).
[[nodiscard]] TWOWAY_API std::optional<Location> find_revoked(const RevocationList& list, const PublicKey& key);

/// A file named by RevokedKeys (twowayd) or RevokedHostKeys (twoway), read as OpenSSH reads one
/// (sshkey_check_revoked): an OpenSSH KRL (<twoway/krl.hpp>) when it starts with the KRL magic, a text
/// list (RevocationList) otherwise. It fails closed: a file that cannot be read, a KRL that parse_krl
/// refuses (a signed one too) or a text list with any problem is unusable, and check_revoked then
/// refuses every key.
struct RevocationFile {
    /// The path, the problems ("path: why", "path:line: why") and read_error, for a KRL too; the keys of
    /// a text list (none for a KRL).
    RevocationList list;
    std::optional<Krl> krl;  ///< the KRL, when the file is one and it parsed
    /// No problem: only then may the file be relied on.
    [[nodiscard]] bool usable() const noexcept { return list.usable(); }
};

/// Reads a revocation file's contents (data, read from path): parse_krl when data starts with
/// krl_magic, parse_revocation_list otherwise. Never fails: a KRL that does not parse becomes one
/// problem, "path: an OpenSSH KRL twoway cannot use: why" (parse_krl's reason).
[[nodiscard]] TWOWAY_API RevocationFile parse_revocation_file(std::string_view path, std::span<const std::byte> data,
                                                              const TrustLimits& limits = {});

/// What check_revoked found.
enum class RevocationStatus {
    not_revoked,  ///< the file is usable and revokes neither the key nor the certificate
    revoked,      ///< the file revokes it
    unusable,     ///< the file cannot be used: refuse, whatever the key
};

/// check_revoked's verdict.
struct RevocationVerdict {
    RevocationStatus status = RevocationStatus::unusable;  ///< see RevocationStatus
    /// revoked: the file, and for a text list the line that lists the key (line 0 for a KRL).
    Location where;
    /// revoked: how, for the log. A text list: "key" (the key, or the key a certificate certifies, is
    /// listed) or "CA key" (the certificate's CA key is). A KRL: KrlMatch::detail (`serial 42 (CA
    /// SHA256:...)`, `key id "alice" (any CA)`, `hash SHA256:...`, `its CA key: key SHA256:...`).
    std::string detail;
    std::optional<KrlMatchKind> krl_match;  ///< revoked by a KRL: how
    std::vector<std::string> problems;      ///< unusable: why (the file's problems)
    std::error_code read_error;             ///< unusable because the file could not be read: why
    /// Not not_revoked: the key must be refused.
    [[nodiscard]] bool refused() const noexcept { return status != RevocationStatus::not_revoked; }
};

/// Whether the revocation file revokes a key, or the certificate it was presented with, as sshd
/// (auth_key_is_revoked, twice for a certificate: the certificate and its CA key) and ssh (RevokedHostKeys)
/// decide. `key` is the key presented (for a certificate, the key it certifies); `certificate`, when
/// not null, the certificate that came with it. An unusable file refuses every key (unusable). A text
/// list revokes a key it lists; with a certificate, also when it lists the certificate's CA key. A KRL
/// revokes a key by its blob or its SHA-1 or SHA-256 hash (krl_match); with a certificate, also by its
/// serial or key id under its CA or under any CA, and when its CA key is revoked as a plain key
/// (krl_match for certificates, OpenSSH's ssh_krl_check_key). The certificate's signature, validity and
/// principals are not looked at here (check_certificate_use).
[[nodiscard]] TWOWAY_API RevocationVerdict check_revoked(const RevocationFile& file, const PublicKey& key,
                                                         const Certificate* certificate = nullptr);

// ---- Edge: file I/O (lib/src/trust/trust_files.cpp, the only I/O in lib/src/trust, on lib/src/io) ----

inline constexpr std::size_t max_trust_file_size = 16u << 20;  ///< larger files are refused, not cut

/// Read and parse; a file that does not exist is an empty file (as in OpenSSH). Other failures come back
/// as errno codes (std::generic_category), or length_too_large above max_trust_file_size.
[[nodiscard]] TWOWAY_API Result<KnownHostsFile> load_known_hosts(const std::string& path,
                                                                 const TrustLimits& limits = {});
/// @copydoc load_known_hosts()
[[nodiscard]] TWOWAY_API Result<AuthorizedKeysFile> load_authorized_keys(const std::string& path,
                                                                         const TrustLimits& limits = {});

/// Read and parse a revoked key list. Unlike the trust files, a missing or unreadable file is not empty:
/// it comes back unusable, with the reason in problems ("path: cannot read: ...").
[[nodiscard]] TWOWAY_API RevocationList load_revocation_list(const std::string& path, const TrustLimits& limits = {});

/// Read a revocation file (RevokedKeys, RevokedHostKeys) and parse it with parse_revocation_file. As for
/// load_revocation_list, a missing or unreadable file is unusable ("path: cannot read: ..."), never empty.
/// A KRL may be up to max_krl_size, a text list up to max_trust_file_size.
[[nodiscard]] TWOWAY_API RevocationFile load_revocation_file(const std::string& path, const TrustLimits& limits = {});

/// Adds format_known_hosts_line(host, port, key) to the file atomically: the old contents plus the new line
/// go to a temporary file in the same directory, which is fsync'd and renamed over the file. A missing file
/// is created 0600 and a missing parent directory 0700 (one level only); an existing file keeps its mode.
/// A symbolic link is followed, so the file it points at is the one replaced. When the file already holds
/// this key for this host and port, nothing is written; when it now says anything else than "unknown"
/// for them (another client added another key meanwhile, say), nothing is written and the call fails with
/// host_key_rejected. A file owned by another user than the effective one is never replaced (the rename
/// would make it ours): operation_not_permitted. Concurrent calls, from threads or processes, are
/// serialised by an flock(2) on the directory, so none loses another's line (best effort: where the
/// directory cannot be locked, as on some network file systems, the call goes on unlocked).
[[nodiscard]] TWOWAY_API Status append_known_host(const std::string& path, std::string_view host,
                                                  std::uint16_t port, const PublicKey& key);

/// How append_known_host writes the host's name (the client's HashKnownHosts).
enum class KnownHostNameForm {
    plain,   ///< "host" or "[host]:port" (format_known_hosts_line)
    hashed,  ///< `|1|salt|hash` (format_hashed_known_hosts_line)
};

/// append_known_host, writing the name as form says; rng gives a hashed name's salt (system_rng()).
[[nodiscard]] TWOWAY_API Status append_known_host(const std::string& path, std::string_view host,
                                                  std::uint16_t port, const PublicKey& key,
                                                  KnownHostNameForm form, Rng& rng);

/// Another key for a host the file already trusts (UpdateHostKeys: a key the server proved it holds,
/// docs/PROTOCOL.md 15): as append_known_host, atomically and under the same lock, but the file must
/// say `trusted` is known for this host and port (else host_key_rejected), and `key` may be "changed"
/// by the host's other keys; already known: nothing is written; revoked or uncertain: host_key_rejected.
[[nodiscard]] TWOWAY_API Status add_known_host_key(const std::string& path, std::string_view host,
                                                   std::uint16_t port, const PublicKey& key, const PublicKey& trusted,
                                                   KnownHostNameForm form, Rng& rng);

}  // namespace twoway
