// The session protocol's vocabulary, shared by SessionClient and SessionServer: what a client asks for
// (a shell, a command or a named service, with or without a PTY, plus environment variables), the data
// streams, the options that size the flow-control windows, and the events feed() reports. The wire
// encoding is in messages.hpp; the specification is docs/PROTOCOL.md, "Session protocol".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace twoway::session {

// A data stream. `in` flows client -> server (the remote stdin, or the bytes for a service); `out` and
// `err` flow server -> client (the remote stdout and stderr, or the bytes from a service).
// (Not stdin/stdout/stderr: those are macros in <cstdio>.)
enum class Stream : std::uint8_t { in = 0, out = 1, err = 2 };

enum class RequestKind : std::uint8_t {
    shell = 1,    // the account's login shell
    exec = 2,     // a command line, run by the account's shell
    service = 3,  // a named TCP service the daemon forwards to (twoway -W / -L)
};

// Terminal size in character cells and (0 = unknown) pixels, as SSH's pty-req / window-change.
struct TermSize {
    std::uint32_t cols = 80;
    std::uint32_t rows = 24;
    std::uint32_t width_px = 0;
    std::uint32_t height_px = 0;
    friend bool operator==(const TermSize&, const TermSize&) = default;
};

struct Pty {
    std::string term;  // the TERM value, e.g. "xterm-256color"; may be empty
    TermSize size;
    friend bool operator==(const Pty&, const Pty&) = default;
};

struct EnvVar {
    std::string name;
    std::string value;
    friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

struct Request {
    RequestKind kind = RequestKind::shell;
    // exec: the command line; service: the service name; shell: empty.
    std::string command;
    std::optional<Pty> pty;  // never for a service
    // Variables the client would like set. The server reports all of them; which it applies is the
    // caller's policy (like sshd's AcceptEnv).
    std::vector<EnvVar> env;
    friend bool operator==(const Request&, const Request&) = default;
};

// Reason codes in REJECT. A client must accept codes it does not know (reported as the raw number).
namespace reject {
inline constexpr std::uint32_t prohibited = 1;         // not permitted for this account / key
inline constexpr std::uint32_t unknown_service = 2;    // no service of that name
inline constexpr std::uint32_t start_failed = 3;       // the shell, command or connection could not start
inline constexpr std::uint32_t pty_failed = 4;         // no PTY could be allocated
inline constexpr std::uint32_t resource_shortage = 5;  // the server is out of some resource
}  // namespace reject

// 2 MiB per stream: enough in flight to keep a fast link busy (OpenSSH uses the same for sessions).
inline constexpr std::uint32_t default_window = 2u << 20;

struct Options {
    // The receive window this side grants the peer on each stream it receives (client: out and err;
    // server: in). Also how much of the peer's data this side may have to hold unconsumed. >= 1.
    std::uint32_t window = default_window;
    // send_data() accepts nothing more while take_output() holds at least this many bytes, so a caller
    // that keeps sending while the transport is slow sees back-pressure instead of a growing buffer.
    // At least one maximal message (65536).
    std::size_t max_pending_output = std::size_t{1} << 20;
};

// ---- events reported by feed() ----
struct RequestReceived {  // server: the client's request (with all its ENV); answer with accept/reject
    Request request;
};
struct Accepted {};  // client: the server accepted; data may flow
struct Rejected {    // client: the server refused; the session is over
    std::uint32_t code = 0;
    std::string text;
};
struct Data {  // bytes on a stream; report them consumed() once the application has disposed of them
    Stream stream = Stream::in;
    std::vector<std::byte> bytes;
};
struct Eof {  // the peer will send nothing more on this stream
    Stream stream = Stream::in;
};
struct WindowAdjusted {  // the peer granted more credit: send_data() on `stream` may accept more
    Stream stream = Stream::in;
    std::uint32_t available = 0;
};
struct WindowChange {  // server: the client's terminal changed size
    TermSize size;
};
struct Signal {  // server: deliver this signal (name without "SIG", e.g. "INT") to the process
    std::string name;
};
struct ExitStatus {  // client: the remote process exited with this status
    std::uint32_t status = 0;
};
struct ExitSignal {  // client: the remote process was killed by a signal
    std::string name;
    bool core_dumped = false;
    std::string message;
};
struct Closed {};  // the peer sent CLOSE (our CLOSE has been queued in reply if it was not yet sent)

using Event = std::variant<RequestReceived, Accepted, Rejected, Data, Eof, WindowAdjusted, WindowChange, Signal,
                           ExitStatus, ExitSignal, Closed>;

}  // namespace twoway::session
