// twoway-passwd's terminal: the password is read from /dev/tty (not standard input, so that a password
// is typed by the person at the console and never piped in from a file or a script), with echo off.
// Echo comes back on every way out: the normal return, an error, and the signals that end or stop the
// program (SIGINT from Ctrl-C among them), whose handler restores the terminal and then re-raises.
#pragma once

#include <string>
#include <system_error>

#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway_passwd {

// The longest password read; a longer line is refused (errc::length_too_large), not cut, so that what
// is registered is what was typed.
inline constexpr std::size_t max_password = 1023;

class Tty {
public:
    // Opens /dev/tty for reading and writing; ok() tells whether it worked, error() why not.
    Tty();
    ~Tty();
    Tty(const Tty&) = delete;
    Tty& operator=(const Tty&) = delete;

    [[nodiscard]] bool ok() const noexcept { return fd_ >= 0; }
    [[nodiscard]] std::error_code error() const noexcept { return error_; }

    // Writes prompt, reads one line with echo off (the line break not included). Errors: io_error at
    // end of input (Ctrl-D) or on a read error, length_too_large past max_password.
    [[nodiscard]] twoway::Result<twoway::SecretBuffer> read_secret(const std::string& prompt);

private:
    int fd_ = -1;
    std::error_code error_;
};

}  // namespace twoway_passwd
