// The adversary's edge: plain POSIX TCP sockets on loopback (each connection may pick its own source
// address in 127/8, so per-source limits and penalties earned by one case never touch another), child
// processes with a deadline, and a reader of twowayd's log. Every wait here has a timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace adversary {

using ByteVec = std::vector<std::byte>;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How a read from the peer ended.
enum class End { open, eof, reset, timeout };
[[nodiscard]] const char* end_text(End e);

class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    // Connects to 127.0.0.1:port from `source` (an address in 127/8; empty: the kernel's choice).
    [[nodiscard]] static std::optional<Socket> connect(std::uint16_t port, const std::string& source = {},
                                                       milliseconds timeout = milliseconds(3000));

    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] std::uint16_t local_port() const;
    [[nodiscard]] std::string local_ip() const;

    // False if the peer has gone (EPIPE, ECONNRESET) or the send did not finish in time.
    bool send_all(const ByteVec& data, milliseconds timeout = milliseconds(3000));
    // Reads until exactly n bytes are buffered in `out` (appending), or the peer ends, or the timeout.
    End read_exact(ByteVec& out, std::size_t n, milliseconds timeout);
    // Reads everything until the peer closes or the timeout passes.
    End read_until_end(ByteVec& out, milliseconds timeout);
    // Reads one handshake message (4-byte header + body; bodies above 64 KiB are not waited for).
    End read_message(ByteVec& out, milliseconds timeout);
    void shutdown_write();
    void close();

private:
    int fd_ = -1;
};

class Listener {
public:
    // Listens on 127.0.0.1 on a port the kernel picks.
    [[nodiscard]] static std::optional<Listener> open();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::optional<Socket> accept(milliseconds timeout);

private:
    Socket sock_;
    std::uint16_t port_ = 0;
};

// A process started with stdin from /dev/null and stderr (and stdout) captured.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::vector<std::string>& env);
    // On a pseudo-terminal (its controlling terminal, stdin, stdout and stderr): every time its output
    // ends in "password: ", `password` and a newline are typed. err() is then all it wrote there.
    Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& password);
    Child(Child&&) = delete;
    ~Child();
    // Waits for the exit and returns the status (128+n for a signal). On timeout: kills it (by its
    // pid) and reports -1, or, with kill_on_timeout false, leaves it running and reports -2.
    int wait(milliseconds timeout, bool kill_on_timeout = true);
    [[nodiscard]] const std::string& err() const noexcept { return err_; }
    [[nodiscard]] const std::string& out() const noexcept { return out_; }
    [[nodiscard]] bool started() const noexcept { return pid_ > 0; }

private:
    void drain(int timeout_ms);
    void pty_loop(std::string password);
    void pty_done();
    int pid_ = -1;
    int master_ = -1;
    std::thread pty_thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> ended_{false};
    std::mutex pty_mu_;
    std::string pty_out_;
    int err_fd_ = -1;
    int out_fd_ = -1;
    std::string err_;
    std::string out_;
};

// twowayd's log file, read from a mark onwards.
class DaemonLog {
public:
    explicit DaemonLog(std::string path) : path_(std::move(path)) {}
    [[nodiscard]] std::size_t size() const;
    // Waits until the text after `from` contains `needle`; returns the line that does.
    [[nodiscard]] std::optional<std::string> wait_for(const std::string& needle, std::size_t from,
                                                      milliseconds timeout) const;
    [[nodiscard]] std::string since(std::size_t from) const;

private:
    std::string path_;
};

// Distinct source addresses in 127/8 (127.0.0.1 is the good clients'): 127.1.0.1, 127.1.0.2, ...
class Sources {
public:
    std::string next();

private:
    std::uint32_t n_ = 0;
};

void sleep_for(milliseconds d);

}  // namespace adversary
