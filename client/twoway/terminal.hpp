// The local terminal and the process's standard descriptors, put back as they were on every way out.
//
// What is saved and restored: the terminal settings of stdin while in raw mode, those of /dev/tty while
// a prompt has echo off, and the file status flags (O_NONBLOCK) of descriptors 0, 1 and 2, which the
// event loop changes and which are shared with the parent shell. restore_all() is async-signal-safe;
// it runs from the destructors and exit paths of normal operation, from an atexit() hook, and from the
// handlers install_exit_handlers() sets for SIGINT, SIGTERM, SIGHUP and SIGQUIT, which then end the
// process with status 255 as ssh does when killed ("Killed by signal N." with -v).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway_client::terminal {

// Records fds 0-2's flags, installs the signal handlers and the atexit hook, ignores SIGPIPE. Once.
void install_exit_handlers(int verbosity);
// Puts every saved setting back. Async-signal-safe, idempotent.
void restore_all() noexcept;

// Raw mode on stdin, as ssh's enter_raw_mode (no echo, no line editing, no signals from keys, no
// output post-processing). False if stdin is not a terminal or the settings could not be changed.
bool enter_raw_mode();
void leave_raw_mode() noexcept;
[[nodiscard]] bool raw_mode() noexcept;

struct WindowSize {
    std::uint32_t cols = 0;
    std::uint32_t rows = 0;
    std::uint32_t width_px = 0;
    std::uint32_t height_px = 0;
};
// The size of the terminal on fd, or nothing when fd is not a terminal.
[[nodiscard]] std::optional<WindowSize> window_size(int fd);

[[nodiscard]] bool is_terminal(int fd) noexcept;

// A conversation with the person at the controlling terminal (/dev/tty), as ssh holds it for
// passphrases and host keys: prompts go to the terminal, answers come from it, so neither mixes with
// the data on stdin/stdout.
class Tty {
public:
    // Nothing when the process has no controlling terminal.
    [[nodiscard]] static std::optional<Tty> open();
    ~Tty();
    Tty(Tty&& o) noexcept;
    Tty& operator=(Tty&&) = delete;
    Tty(const Tty&) = delete;

    void write(std::string_view text);
    // One line, with echo on; the line break is not included. Nothing at end of input or on an error.
    // At most max bytes are kept (the rest of a longer line is read and dropped).
    [[nodiscard]] std::optional<std::string> read_line(std::size_t max = 256);
    // One line with echo off, into secure memory (passphrases). io_error at end of input.
    [[nodiscard]] twoway::Result<twoway::SecretBuffer> read_secret(std::string_view prompt);

private:
    explicit Tty(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace twoway_client::terminal
