// One session over one SecureConnection: SessionClient (sans-I/O) between the connection and a local
// side (stdin/stdout/stderr, or a socket for -L). Coroutines on the one event loop:
//   reader  connection -> SessionClient::feed, without pause (so PINGs are answered and CLOSE seen
//           while the local side is slow); received data is queued for local_writer
//   local_writer  the queue -> local writes (then consumed(), so the server's window reopens only as
//           fast as the local side takes the bytes, which also bounds the queue)
//   writer  SessionClient output -> connection (woken when there is output)
//   input   local reads -> escape filter (interactive) -> send_data (only while the window allows)
//   alive   with ServerAliveInterval: a PING after each interval in which nothing came from the server;
//           "Timeout, server H not responding." and the connection dropped when a silent interval would
//           make the count exceed ServerAliveCountMax (ssh's server_alive_check)
// With a PTY, SIGWINCH becomes a window change and the escape character is active.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>

#include <twoway/session.hpp>

#include "transport.hpp"

namespace twoway_client {

// The local end of a session.
class LocalIo {
public:
    virtual ~LocalIo() = default;
    // Bytes for the remote; 0 bytes (or an error) is the end of the local input.
    virtual asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte> buf) = 0;
    // Bytes from the remote on out or err.
    virtual asio::awaitable<std::error_code> write(twoway::session::Stream s, std::span<const std::byte> bytes) = 0;
    // The remote sends nothing more on s.
    virtual void end_of(twoway::session::Stream) {}
    // The server accepted the request; called before any data of the session is written (-D answers
    // its SOCKS client here).
    virtual asio::awaitable<void> accepted() { co_return; }
    // Ends a pending read() and write() (the session is over).
    virtual void cancel() noexcept = 0;
};

// Lets code outside a session end it, as ~. does: CLOSE sent (the connection dropped when the server
// has not answered within a grace period, or at once before ACCEPT). Set while run_session() runs; close()
// does nothing before or after. -R's listen sessions (~C -KR, the main session's end) use it.
class SessionControl {
public:
    void close() {
        if (close_) close_();
    }

private:
    friend class Pump;
    std::function<void()> close_;
};

struct PumpOptions {
    bool interactive = false;  // a PTY on our terminal: SIGWINCH, escapes
    int escape_char = -1;      // with interactive; -1 for none
    std::uint32_t alive_interval = 0;   // ServerAliveInterval, seconds; 0 = off
    std::uint32_t alive_count_max = 3;  // ServerAliveCountMax
    // ~C: runs one command line (what was typed after the prompt) and returns what to print (may be
    // empty); unset (EnableEscapeCommandline no): "commandline disabled", ssh's words.
    std::function<std::string(const std::string&)> command_line;
    // The server's HOSTKEYS (UpdateHostKeys); without it the message is ignored.
    std::function<void(const twoway::session::HostKeysAnnounced&)> on_host_keys;
    // Filled in while the session runs (SessionControl).
    std::shared_ptr<SessionControl> control;
};

struct SessionOutcome {
    std::optional<std::uint32_t> exit_status;
    std::optional<twoway::session::ExitSignal> exit_signal;
    std::optional<twoway::session::Rejected> rejected;
    bool closed = false;        // the session ended with CLOSE both ways
    bool disconnected = false;  // the person typed ~.
    bool failed = false;        // connection or protocol failure (reported)
};

[[nodiscard]] asio::awaitable<SessionOutcome> run_session(SecureConnection& connection,
                                                          const twoway::session::Request& request, LocalIo& local,
                                                          const PumpOptions& options);

// The REJECT code's name, for messages, and the server's text after it, escaped for the terminal.
[[nodiscard]] std::string reject_reason(const twoway::session::Rejected& r);

}  // namespace twoway_client
