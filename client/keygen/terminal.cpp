#include "terminal.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <termios.h>
#include <unistd.h>

namespace twoway_keygen {

using twoway::errc;
using twoway::fail;
using twoway::Result;
using twoway::SecretBuffer;

namespace {
constexpr std::size_t max_passphrase = 1023;

// The terminal settings to put back if a signal arrives while echo is off.
struct termios saved_termios;
volatile std::sig_atomic_t echo_off = 0;
constexpr int restore_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
struct sigaction saved_actions[std::size(restore_signals)];

extern "C" void restore_and_reraise(int sig) {
    if (echo_off != 0) {
        (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        echo_off = 0;
    }
    // Die (or stop) the way the signal would have made us without our handler.
    std::signal(sig, SIG_DFL);
    (void)::raise(sig);
}

// Echo off for the lifetime of the object, with the handlers that undo it on a signal.
class EchoOff {
public:
    EchoOff() {
        if (::tcgetattr(STDIN_FILENO, &saved_termios) != 0) return;
        struct sigaction sa {};
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(restore_signals); ++i) {
            (void)::sigaction(restore_signals[i], &sa, &saved_actions[i]);
        }
        struct termios quiet = saved_termios;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        echo_off = 1;
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        if (!active_) echo_off = 0;
    }
    ~EchoOff() {
        if (active_) (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        echo_off = 0;
        for (std::size_t i = 0; i < std::size(restore_signals); ++i) {
            (void)::sigaction(restore_signals[i], &saved_actions[i], nullptr);
        }
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    bool active_ = false;
};

// Reads up to a line break into out (secure memory), returning how many bytes; -1 at end of input
// before anything was read, or on an error.
long read_line(std::byte* out, std::size_t cap) {
    std::size_t n = 0;
    bool any = false;
    for (;;) {
        char c = 0;
        const ssize_t r = ::read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return any ? static_cast<long>(n) : -1;
        any = true;
        if (c == '\n') break;
        if (c == '\r') continue;
        if (n < cap) out[n++] = static_cast<std::byte>(c);  // past the cap, the rest is dropped
    }
    return static_cast<long>(n);
}
}  // namespace

bool interactive() { return ::isatty(STDIN_FILENO) == 1; }

Result<SecretBuffer> read_passphrase(const std::string& prompt) {
    SecretBuffer buf(max_passphrase);
    long n = 0;
    {
        // Echo goes off (and typed-ahead input is discarded) before the prompt appears, so nothing
        // typed in answer to it can be echoed or lost.
        EchoOff quiet;
        std::fputs(prompt.c_str(), stderr);
        std::fflush(stderr);
        n = read_line(buf.data(), buf.size());
    }
    std::fputs("\n", stderr);  // the user's Enter was not echoed
    if (n < 0) return fail(errc::io_error);
    return SecretBuffer(buf.span().first(static_cast<std::size_t>(n)));
}

bool ask_yes_no(const std::string& question) {
    std::fputs(question.c_str(), stderr);
    std::fflush(stderr);
    char answer[16] = {};
    const long n = read_line(reinterpret_cast<std::byte*>(answer), sizeof answer);
    return n > 0 && (answer[0] == 'y' || answer[0] == 'Y');
}

}  // namespace twoway_keygen
