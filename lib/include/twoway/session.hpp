/// @file
/// The session protocol (docs/PROTOCOL.md, "Session protocol"), sans-I/O: what runs on the authenticated
/// byte stream a handshake and a channel (or twoway::stream) provide, the way twoway and twowayd use it.
/// The client asks for a shell, a command or a named service; the server accepts or refuses; then the two
/// exchange the data streams, terminal size changes, signals and the remote exit, until both have closed.
/// One session per connection.
///
/// Neither side touches a socket. The caller moves bytes:
/// - every byte read from the stream goes into feed(), in any chunking; feed() returns the events the
///     bytes completed, in order;
/// - after every call (feed, send_*, consumed, accept, ...) take_output() may hold bytes: write them to
///     the stream, in order, before anything that call's successors produce.
/// Both directions are flow-controlled per data stream, as SSH's channel windows: send_data() takes only
/// what the peer has granted (send_capacity() says how much; a WindowAdjusted event says it grew), and
/// received data is granted back to the peer only as the caller reports it consumed(). So a slow consumer
/// (a blocked terminal, a full pipe) stops the peer instead of filling memory on either side.
///
/// Driving a client, e.g. to run a command (examples/run_command.cpp does exactly this):
/// @verbatim
///   auto sc = SessionClient::start(Request{RequestKind::exec, "uname -a"});   // queues the request
///   write take_output(); then, for each read from the stream, feed(bytes) and handle the events:
///     Accepted          the command runs: send_data(Stream::in, ...) what send_capacity allows, and
///                       send_eof(Stream::in) once there is no more input (at once, if there is none)
///     Rejected          refused (code, text); the session is over: finished() is true
///     Data{out|err}     the command's output: dispose of it, then consumed(stream, n)
///     Eof{out|err}      nothing more will come on that stream
///     ExitStatus        (or ExitSignal) how the command ended; arrives after EOF on out and err
///     Closed            the server closed the session; our CLOSE is queued in reply: write
///                       take_output(), then finished() is true and the stream can be shut down
/// @endverbatim
///   A service (RequestKind::service) or a direct connection (RequestKind::direct) is the same without
///   exit events: in carries the bytes to the service, out the bytes from it.
///
/// Driving a server: create(), feed() until RequestReceived, decide (start the process or connect the
/// service), then accept() or reject(code, text). After accept(): feed in (Data{in} -> write to the
/// process, then consumed(in, n)), send_data(out|err) what the process writes, send_eof on out and err
/// when it ends, then one send_exit_status() or send_exit_signal() (not for a service), then close();
/// answer WindowChange and Signal events as the request allows. finished() once both CLOSEs are through.
///
/// Keep-alive: either side may send_ping() to ask the peer for a sign of life, e.g. when it has heard
/// nothing for a while (twowayd's ClientAliveInterval, twoway's ServerAliveInterval). The peer's
/// session answers every PING by itself with a PONG in its next take_output(), and neither PING nor PONG
/// is reported as an event: a caller that wants to know whether the peer is alive watches whether any
/// bytes arrive (a PONG is bytes), and may look at unanswered_pings(). A peer that answers a PING this
/// side never sent fails the session (unexpected_message). A peer older than PING fails on it just the
/// same: send PINGs only when configured to (docs/PROTOCOL.md, "Keep-alive").
///
/// Every failure is sticky: the first protocol error (the peer's: malformed, unexpected_message,
/// window_exceeded, ...) is reported by that feed() and by every later call, and the connection should
/// then be closed. Misuse by the caller is invalid_argument (a bad value) or bad_state (a call the state
/// does not allow, e.g. send_data before Accepted) and changes nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/result.hpp>

namespace twoway::session {

// ---- requests -------------------------------------------------------------------------------------

/// A data stream. `in` flows client -> server (the remote stdin, or the bytes for a service); `out` and
/// `err` flow server -> client (the remote stdout and stderr, or the bytes from a service). With a PTY
/// all terminal output is on out, and err only ends.
/// (Not stdin/stdout/stderr: those are macros in `<cstdio>`.)
enum class Stream : std::uint8_t { in = 0, out = 1, err = 2 };

/// What the client asks for.
enum class RequestKind : std::uint8_t {
    shell = 1,    ///< the account's login shell
    exec = 2,     ///< a command line, run by the account's shell (as its -c argument)
    service = 3,  ///< a named TCP service the server forwards to (twoway -W / -L)
    /// a subsystem the server names (SSH's "subsystem" request, ssh -s: sftp), run as the server's
    /// configuration says; otherwise like exec (a PTY is allowed, an exit status ends it)
    subsystem = 4,
    /// a TCP connection from the server to "host:port" (SSH's direct-tcpip: twoway -W host:port, -L
    /// port:host:hostport), where the server's policy allows it; otherwise like a service
    direct = 5,
    /// a port the server listens on for the client (SSH's tcpip-forward: twoway -R): command is the
    /// listen address (parse_listen_address()); once accepted, out carries ListenRecords
    listen = 6,
    /// one connection a listen session announced, taken over by a new connection of the same account
    /// (command is pickup_text() of its token); once accepted, like a direct connection
    pickup = 7,
};

/// True for the kinds whose session is a TCP stream, not a process (service, direct, listen, pickup):
/// no PTY, no signals, no exit status; err carries nothing.
[[nodiscard]] constexpr bool is_connection(RequestKind k) noexcept {
    return k == RequestKind::service || k == RequestKind::direct || k == RequestKind::listen ||
           k == RequestKind::pickup;
}

/// Terminal size in character cells and (0 = unknown) pixels, as SSH's pty-req / window-change.
struct TermSize {
    std::uint32_t cols = 80;      ///< columns
    std::uint32_t rows = 24;      ///< rows
    std::uint32_t width_px = 0;   ///< width in pixels, 0 if unknown
    std::uint32_t height_px = 0;  ///< height in pixels, 0 if unknown
    /// Memberwise.
    friend bool operator==(const TermSize&, const TermSize&) = default;
};

/// A pseudo-terminal for a shell or command, as SSH's pty-req.
struct Pty {
    std::string term;  ///< the TERM value, e.g. "xterm-256color"; may be empty
    TermSize size;     ///< the initial size
    /// Memberwise.
    friend bool operator==(const Pty&, const Pty&) = default;
};

/// An environment variable the client asks for (see Request::env).
struct EnvVar {
    std::string name;   ///< valid_env_name()
    std::string value;  ///< valid_env_value()
    /// Memberwise.
    friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

/// What the client asks the server for; valid_request() says whether the protocol allows it.
struct Request {
    RequestKind kind = RequestKind::shell;  ///< a shell, a command or a service
    /// exec: the command line; service: the service name; subsystem: its name; direct: the
    /// destination, "host:port" (destination_text()); shell: empty.
    std::string command;
    std::optional<Pty> pty;  ///< never for a service or a direct connection
    /// Variables the client would like set. The server reports all of them; which it applies is the
    /// caller's policy (like sshd's AcceptEnv).
    std::vector<EnvVar> env;
    /// Memberwise.
    friend bool operator==(const Request&, const Request&) = default;
};

/// Field limits, as docs/PROTOCOL.md gives them with the messages; the valid_* functions check them.
inline constexpr std::size_t max_env_count = 64;
inline constexpr std::size_t max_env_name = 255;       ///< bytes of an ENV name
inline constexpr std::size_t max_env_value = 4096;     ///< bytes of an ENV value
inline constexpr std::size_t max_command = 32768;      ///< bytes of an exec command line
inline constexpr std::size_t max_service_name = 64;    ///< bytes of a service name
inline constexpr std::size_t max_subsystem_name = 64;  ///< bytes of a subsystem name
inline constexpr std::size_t max_destination_host = 253;  ///< bytes of a direct destination's host (a DNS name's most)
inline constexpr std::size_t max_term = 255;           ///< bytes of a TERM value
inline constexpr std::size_t max_signal_name = 32;     ///< bytes of a signal name
inline constexpr std::size_t max_text = 1024;  ///< REJECT text, EXIT_SIGNAL message
/// The largest session message on the wire (it always fits one channel record). An incomplete message is
/// all a side ever buffers of its input, so this bounds that buffer.
inline constexpr std::size_t max_message_size = 65536;

/// What the protocol allows, checked the same way on both sides: SessionClient::start refuses a request
/// valid_request() refuses (invalid_argument), and a server fails a peer that sends one (malformed). A
/// caller filling a request from outside input (the TERM variable, a user's command line) checks first.
[[nodiscard]] TWOWAY_API bool valid_request(const Request& r) noexcept;  ///< the whole request, env included
/// The command field for kind: empty for a shell; for exec 1..max_command bytes, no NUL; for a service
/// a name of 1..max_service_name characters from [A-Za-z0-9._-], starting with a letter or digit; for a
/// subsystem 1..max_subsystem_name bytes of visible ASCII (0x21..0x7e), as SSH's names ("sftp"); for
/// a direct connection a destination parse_destination() takes.
[[nodiscard]] TWOWAY_API bool valid_command(RequestKind kind, std::string_view s) noexcept;

/// Where a direct connection goes (RequestKind::direct).
struct Destination {
    /// A host name or IPv4 address: 1..max_destination_host characters of [A-Za-z0-9._-], not
    /// starting with '-' or '.'; or an IPv6 address: hex digits, ':' and '.' (written in brackets).
    std::string host;
    std::uint16_t port = 0;  ///< 1..65535
    /// Memberwise.
    friend bool operator==(const Destination&, const Destination&) = default;
};
/// "host:port" or "[v6]:port", the port in decimal without a sign or leading zeros: the destination, or
/// nothing when s is not one (docs/PROTOCOL.md 15, REQUEST).
[[nodiscard]] TWOWAY_API std::optional<Destination> parse_destination(std::string_view s);
/// The form parse_destination() reads (brackets around an IPv6 address); d must be valid.
[[nodiscard]] TWOWAY_API std::string destination_text(const Destination& d);
/// A permitted destination, as sshd_config's PermitOpen and authorized_keys' permitopen= write one:
/// "host:port" as parse_destination() reads it, except that the port may be "*" (any port) and, with
/// host_wildcard (PermitOpen, not permitopen=), the host may be "*" (any host).
[[nodiscard]] TWOWAY_API bool valid_permit_open(std::string_view entry, bool host_wildcard) noexcept;
/// Whether a valid_permit_open() entry admits d. As sshd: the host is compared exactly as written (no
/// name lookup, no case folding: "localhost" does not admit "127.0.0.1"), the port equal or "*".
[[nodiscard]] TWOWAY_API bool permit_open_matches(std::string_view entry, const Destination& d) noexcept;
// ---- remote forwarding (RequestKind::listen and pickup; docs/PROTOCOL.md 15, "Remote forwarding") ----

/// Where a listen session asks the server to listen (ssh -R's [bind_address:]port).
struct ListenAddress {
    /// Empty: no address asked for (the server's default, twowayd: the loopback); "*": every interface;
    /// otherwise a host name or an address as Destination::host.
    std::string host;
    std::uint16_t port = 0;  ///< 0: the server chooses one (and reports it in ListenBound)
    /// Memberwise.
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};
/// "port", "host:port", "[v6]:port" or "*:port", the port 0..65535 in decimal without a sign or leading
/// zeros: the listen address, or nothing when s is not one.
[[nodiscard]] TWOWAY_API std::optional<ListenAddress> parse_listen_address(std::string_view s);
/// The form parse_listen_address() reads; a must be valid.
[[nodiscard]] TWOWAY_API std::string listen_address_text(const ListenAddress& a);
/// A permitted listen address, as sshd_config's PermitListen and authorized_keys' permitlisten= write
/// one: "[host:]port", the port 0..65535 or "*", the host a name, an address or "*".
[[nodiscard]] TWOWAY_API bool valid_permit_listen(std::string_view entry) noexcept;
/// Whether a valid_permit_listen() entry admits a, as sshd's: the port equal or "*" (so port 0 needs
/// "*" or an entry for 0); an entry without a host, or with "*", admits every host; otherwise the host
/// is compared exactly, ignoring case (a request without a host matches only those).
[[nodiscard]] TWOWAY_API bool permit_listen_matches(std::string_view entry, const ListenAddress& a) noexcept;

/// The one-time secret that names a connection a listen session announced (ListenConnection).
using PickupToken = std::array<std::uint8_t, 32>;
/// The pickup request's command: the token in 64 lower-case hex digits.
[[nodiscard]] TWOWAY_API std::string pickup_text(const PickupToken& t);
/// The token of a pickup command, or nothing when s is not 64 lower-case hex digits.
[[nodiscard]] TWOWAY_API std::optional<PickupToken> parse_pickup(std::string_view s);
/// Whether two tokens are equal, in constant time (sodium_memcmp): how a server looks a pickup up.
[[nodiscard]] TWOWAY_API bool same_pickup_token(const PickupToken& a, const PickupToken& b) noexcept;

/// The first record on a listen session's out stream: the server listens, on this port.
struct ListenBound {
    std::uint16_t port = 0;  ///< 1..65535
    /// Memberwise.
    friend bool operator==(const ListenBound&, const ListenBound&) = default;
};
/// A connection came to the listening port; pick it up with a pickup session within the server's time.
struct ListenConnection {
    PickupToken token{};      ///< the pickup session's token
    std::string originator;   ///< who connected, "address:port" (valid_text()); the peer's: escape it
    /// Memberwise.
    friend bool operator==(const ListenConnection&, const ListenConnection&) = default;
};
/// One record of a listen session's out stream.
using ListenRecord = std::variant<ListenBound, ListenConnection>;
inline constexpr std::size_t max_originator = 64;  ///< bytes of ListenConnection::originator
/// The longest record: a connection with the longest originator.
inline constexpr std::size_t max_listen_record = 1 + 32 + 4 + max_originator;
/// The record's bytes, to send as DATA on out. ListenBound's port must not be 0 and the originator
/// valid: invalid_argument otherwise.
[[nodiscard]] TWOWAY_API Result<std::vector<std::byte>> encode_listen_record(const ListenRecord& r);
/// What parse_listen_records() found.
struct ListenRecords {
    std::vector<ListenRecord> records;  ///< the complete records, in order
    std::size_t consumed = 0;  ///< bytes they took; the rest (< max_listen_record) is an incomplete record
};
/// The complete records at the start of bytes, as the client reads a listen session's out stream: keep
/// the bytes after `consumed` and call again with more appended. `bound_seen`: whether an earlier call
/// returned the ListenBound (the stream's first record must be one, and no later record may be). A
/// record that cannot be valid fails (malformed, length_too_large, unexpected_message) as soon as its
/// first bytes show it, however many bytes follow.
[[nodiscard]] TWOWAY_API Result<ListenRecords> parse_listen_records(std::span<const std::byte> bytes,
                                                                   bool bound_seen);


[[nodiscard]] TWOWAY_API bool valid_env_name(std::string_view s) noexcept;   ///< [A-Za-z_][A-Za-z0-9_]*
[[nodiscard]] TWOWAY_API bool valid_env_value(std::string_view s) noexcept;  ///< no NUL
[[nodiscard]] TWOWAY_API bool valid_term(std::string_view s) noexcept;       ///< visible ASCII
[[nodiscard]] TWOWAY_API bool valid_signal_name(std::string_view s) noexcept;  ///< "INT", "USR1": [A-Z0-9]+
[[nodiscard]] TWOWAY_API bool valid_text(std::string_view s) noexcept;  ///< printable: no control characters

/// Reason codes in REJECT. A client must accept codes it does not know (reported as the raw number).
namespace reject {
inline constexpr std::uint32_t prohibited = 1;         ///< not permitted for this account / key
inline constexpr std::uint32_t unknown_service = 2;    ///< no service (or subsystem) of that name
inline constexpr std::uint32_t start_failed = 3;       ///< the shell, command or connection could not start
inline constexpr std::uint32_t pty_failed = 4;         ///< no PTY could be allocated
inline constexpr std::uint32_t resource_shortage = 5;  ///< the server is out of some resource
}  // namespace reject

/// 2 MiB per stream: enough in flight to keep a fast link busy (OpenSSH uses the same for sessions).
inline constexpr std::uint32_t default_window = 2u << 20;

/// Flow-control settings for either side.
struct Options {
    /// The receive window this side grants the peer on each stream it receives (client: out and err;
    /// server: in). Also how much of the peer's data this side may have to hold unconsumed. >= 1.
    std::uint32_t window = default_window;
    /// send_data() accepts nothing more while take_output() holds at least this many bytes, so a caller
    /// that keeps sending while the transport is slow sees back-pressure instead of a growing buffer.
    /// At least max_message_size.
    std::size_t max_pending_output = std::size_t{1} << 20;
};

// ---- events reported by feed() --------------------------------------------------------------------
/// server: the client's request (with all its ENV); answer with accept/reject
struct RequestReceived {
    Request request;  ///< valid_request() holds
};
/// client: the server accepted; data may flow
struct Accepted {};
/// client: the server refused; the session is over (no CLOSE follows)
struct Rejected {
    std::uint32_t code = 0;  ///< a session::reject code, or one this library does not know
    std::string text;        ///< the server's words; valid_text(), but still the peer's: escape before logging
};
/// bytes on a stream; report them consumed() once the application has disposed of them
struct Data {
    Stream stream = Stream::in;  ///< the stream the bytes came on
    std::vector<std::byte> bytes;  ///< never empty
};
/// the peer will send nothing more on this stream
struct Eof {
    Stream stream = Stream::in;  ///< the stream that ended
};
/// the peer granted more credit: send_data() on `stream` may accept more
struct WindowAdjusted {
    Stream stream = Stream::in;     ///< the stream this side sends on
    std::uint32_t available = 0;    ///< the credit the peer has granted now, in bytes
};
/// server: the client's terminal changed size
struct WindowChange {
    TermSize size;  ///< the new size
};
/// server: deliver this signal (name without "SIG", e.g. "INT") to the process
struct Signal {
    std::string name;  ///< valid_signal_name(), but not necessarily a signal this system knows
};
/// client: the remote process exited with this status (above 255: exit with 255)
struct ExitStatus {
    std::uint32_t status = 0;  ///< as the server reported it
};
/// client: the remote process was killed by a signal
struct ExitSignal {
    std::string name;           ///< without "SIG", e.g. "KILL"; the peer's: escape before printing
    bool core_dumped = false;   ///< the process left a core dump
    std::string message;        ///< the server's words (valid_text()), possibly empty
};
/// the peer sent CLOSE (our CLOSE has been queued in reply if it was not yet sent)
struct Closed {};
/// The most host keys one HOSTKEYS message carries (docs/PROTOCOL.md 15, "Host key rotation").
inline constexpr std::size_t max_host_keys = 16;
/// One announced host key and the signature that proves it, both as they came (SSH wire blobs).
struct HostKeyProof {
    std::vector<std::byte> key;        ///< a plain ssh-ed25519 key blob (checked by the parser)
    std::vector<std::byte> signature;  ///< an ssh-ed25519 signature blob, not yet verified
    /// Memberwise.
    friend bool operator==(const HostKeyProof&, const HostKeyProof&) = default;
};
/// client: the server's HOSTKEYS (only after SessionClient::allow_host_keys()): every host key it holds,
/// each with a proof of possession bound to this session. Nothing here is trusted before
/// verify_host_keys() has checked the proofs.
struct HostKeysAnnounced {
    std::vector<HostKeyProof> keys;  ///< 1..max_host_keys distinct keys
    /// Memberwise.
    friend bool operator==(const HostKeysAnnounced&, const HostKeysAnnounced&) = default;
};
/// The keys of a HOSTKEYS message, if every proof verifies for this session (session_id: the
/// handshake's, HandshakeResult::session_id or twoway::stream::session_id()); bad_signature if any does
/// not (a proof made for another session included: then ignore the whole message), malformed for a blob
/// that does not parse. The caller decides what to trust: docs/PROTOCOL.md 15 says what twoway does.
[[nodiscard]] TWOWAY_API Result<std::vector<PublicKey>> verify_host_keys(const HostKeysAnnounced& announced,
                                                                        std::span<const std::byte, 32> session_id);
/// The HOSTKEYS entry for one host key: its blob and its signature over the host key proof of this
/// session (docs/PROTOCOL.md 6.5). SessionServer::accept_with_host_keys makes these itself; this is
/// for tests and for a server that signs elsewhere.
[[nodiscard]] TWOWAY_API HostKeyProof prove_host_key(const PrivateKey& key, std::span<const std::byte, 32> session_id);

/// One thing feed() found, in the order the peer sent it.
using Event = std::variant<RequestReceived, Accepted, Rejected, Data, Eof, WindowAdjusted, WindowChange, Signal,
                           ExitStatus, ExitSignal, Closed, HostKeysAnnounced>;
/// What one feed() call found.
using Events = std::vector<Event>;

// ---- the two sides --------------------------------------------------------------------------------
/// The client side of a session. Move-only (a moved-from side may only be destroyed or assigned to);
/// used from one thread at a time.
class TWOWAY_API SessionClient {
public:
    /// Validates the request (invalid_argument unless valid_request()) and the options, and queues the
    /// opening messages (ENV for each variable, then REQUEST): write take_output() to the stream.
    [[nodiscard]] static Result<SessionClient> start(const Request& request, const Options& options = {});

    /// Moves the session; the moved-from side may only be destroyed or assigned to.
    SessionClient(SessionClient&&) noexcept;
    /// @copydoc SessionClient(SessionClient&&)
    SessionClient& operator=(SessionClient&&) noexcept;
    ~SessionClient();

    /// Application bytes from the stream, in any chunking; the events they complete.
    [[nodiscard]] Result<Events> feed(std::span<const std::byte> input);

    /// Stream::in only, after Accepted. Returns how many bytes were taken: at most send_capacity(in), so
    /// 0 when the server's window or the output is full (wait for WindowAdjusted, or write the output).
    [[nodiscard]] Result<std::size_t> send_data(Stream s, std::span<const std::byte> bytes);
    [[nodiscard]] Status send_eof(Stream s);                        ///< Stream::in, once
    [[nodiscard]] Status send_window_change(const TermSize& size);  ///< only if the request had a PTY
    [[nodiscard]] Status send_signal(std::string_view name);        ///< not for a service
    /// Ends the session from this side (the user gave up). Not needed after Closed: feed() has answered
    /// the server's CLOSE already.
    [[nodiscard]] Status close();
    /// Queues a PING (before Accepted too); bad_state after close() or once the session is over.
    [[nodiscard]] Status send_ping();
    /// PINGs sent whose PONG has not arrived (one PONG may answer several).
    [[nodiscard]] std::uint32_t unanswered_pings() const noexcept;
    /// The application disposed of n bytes it received on out or err; credit goes back to the server.
    [[nodiscard]] Status consumed(Stream s, std::size_t n);

    /// The bytes to write to the stream, in order; empty when there are none.
    [[nodiscard]] std::vector<std::byte> take_output();
    /// The same into `batch` (replacing its contents), whose old storage becomes the next batch's: a
    /// loop of take -> write -> take moves bulk data through two buffers instead of one per batch.
    void take_output(std::vector<std::byte>& batch) noexcept;
    /// How many bytes take_output() would return now.
    [[nodiscard]] std::size_t pending_output() const noexcept;
    /// How many bytes send_data(s, ...) would take now (0 for out and err, before Accepted, after EOF).
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;

    /// The server has accepted the request (an Accepted event has been reported).
    [[nodiscard]] bool accepted() const noexcept;
    /// Nothing more will be sent or received: rejected, or CLOSE sent and received. Write any output,
    /// then shut the stream down.
    [[nodiscard]] bool finished() const noexcept;
    [[nodiscard]] std::error_code error() const noexcept;  ///< the sticky failure, if any
    /// The request given to start().
    [[nodiscard]] const Request& request() const noexcept;
    /// This client's client_hello carried the host_keys extension (ClientConfig::host_keys): accept one
    /// HOSTKEYS right after ACCEPT and report it as HostKeysAnnounced. Without this call HOSTKEYS is
    /// unexpected_message, as for a client that predates it. bad_state once Accepted has been reported.
    [[nodiscard]] Status allow_host_keys();

private:
    struct Impl;
    explicit SessionClient(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

/// The server side of a session. Move-only (a moved-from side may only be destroyed or assigned to);
/// used from one thread at a time.
class TWOWAY_API SessionServer {
public:
    /// Checks the options (invalid_argument); options.window is the window announced for `in`.
    [[nodiscard]] static Result<SessionServer> create(const Options& options = {});

    /// Moves the session; the moved-from side may only be destroyed or assigned to.
    SessionServer(SessionServer&&) noexcept;
    /// @copydoc SessionServer(SessionServer&&)
    SessionServer& operator=(SessionServer&&) noexcept;
    ~SessionServer();

    /// Application bytes from the stream, in any chunking; the events they complete.
    [[nodiscard]] Result<Events> feed(std::span<const std::byte> input);

    /// The answer to RequestReceived, exactly one (bad_state at any other time). Accept once the shell,
    /// command or connection has started; reject with a session::reject code (>= 1) and a valid_text().
    [[nodiscard]] Status accept();
    /// @copydoc accept()
    [[nodiscard]] Status reject(std::uint32_t code, std::string_view text);
    /// accept(), then HOSTKEYS (docs/PROTOCOL.md 15, "Host key rotation"): every key in host_keys
    /// (1..max_host_keys, distinct; invalid_argument otherwise) with its proof for session_id. Only for a
    /// client whose client_hello carried host_keys (HandshakeResult::client_accepts_host_keys): any
    /// other client fails its session on the message.
    [[nodiscard]] Status accept_with_host_keys(std::span<const PrivateKey* const> host_keys,
                                               std::span<const std::byte, 32> session_id);

    /// Stream::out or Stream::err, after accept(). Returns how many bytes were taken: at most
    /// send_capacity(s), so 0 when the client's window or the output is full.
    [[nodiscard]] Result<std::size_t> send_data(Stream s, std::span<const std::byte> bytes);
    [[nodiscard]] Status send_eof(Stream s);  ///< out or err, once each
    /// Exactly one of these, for a shell or command, after EOF on out and err, before close().
    [[nodiscard]] Status send_exit_status(std::uint32_t status);
    /// @copydoc send_exit_status()
    /// name must be valid_signal_name() and message valid_text() (invalid_argument otherwise).
    [[nodiscard]] Status send_exit_signal(std::string_view name, bool core_dumped, std::string_view message = {});
    /// Sends CLOSE: nothing more can be sent. finished() once the client's CLOSE has arrived too.
    [[nodiscard]] Status close();
    /// Queues a PING (from create() on, before the request too); bad_state after close() or reject().
    [[nodiscard]] Status send_ping();
    /// As SessionClient's.
    [[nodiscard]] std::uint32_t unanswered_pings() const noexcept;
    /// The application disposed of n bytes it received on `in`; credit goes back to the client.
    [[nodiscard]] Status consumed(Stream s, std::size_t n);

    /// As SessionClient's.
    [[nodiscard]] std::vector<std::byte> take_output();
    /// As SessionClient's.
    void take_output(std::vector<std::byte>& batch) noexcept;
    /// How many bytes take_output() would return now.
    [[nodiscard]] std::size_t pending_output() const noexcept;
    /// How many bytes send_data(s, ...) would take now (0 for in, before accept(), after EOF on s).
    [[nodiscard]] std::size_t send_capacity(Stream s) const noexcept;

    /// accept() has been called.
    [[nodiscard]] bool accepted() const noexcept;
    /// Nothing more will be sent or received: rejected, or CLOSE sent and received.
    [[nodiscard]] bool finished() const noexcept;
    [[nodiscard]] std::error_code error() const noexcept;  ///< the sticky failure, if any
    /// Bytes of an incomplete message held from feed() (never above max_message_size).
    [[nodiscard]] std::size_t buffered_input() const noexcept;

private:
    struct Impl;
    explicit SessionServer(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace twoway::session
