#include "terminal.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "log.hpp"

namespace twoway_client::terminal {

using twoway::errc;
using twoway::fail;
using twoway::Result;
using twoway::SecretBuffer;

namespace {

// Everything the signal handlers may need lives in plain globals, set before the flags that say they
// are valid (and cleared after), so a handler never reads a half-written value.
struct termios stdin_saved {};
volatile std::sig_atomic_t stdin_raw = 0;

struct termios tty_saved {};
volatile std::sig_atomic_t tty_fd = -1;  // the /dev/tty descriptor whose echo is off, or -1

std::array<int, 3> fd_flags{-1, -1, -1};  // F_GETFL of 0, 1, 2 at start (-1: closed or unknown)
volatile std::sig_atomic_t flags_saved = 0;
volatile std::sig_atomic_t handler_verbosity = 0;

constexpr std::array exit_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void restore_fd_flags() noexcept {
    if (flags_saved == 0) return;
    for (int fd = 0; fd < 3; ++fd) {
        if (fd_flags[static_cast<std::size_t>(fd)] >= 0) (void)::fcntl(fd, F_SETFL, fd_flags[static_cast<std::size_t>(fd)]);
    }
}

// "Killed by signal N.", built without allocating (we are in a signal handler).
void say_killed(int sig) noexcept {
    char buf[64];
    const char head[] = "debug1: Killed by signal ";
    std::size_t n = 0;
    for (char c : head) {
        if (c != '\0') buf[n++] = c;
    }
    char digits[8];
    std::size_t d = 0;
    for (unsigned v = static_cast<unsigned>(sig); d == 0 || v != 0; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
    while (d > 0) buf[n++] = digits[--d];
    buf[n++] = '.';
    buf[n++] = '\r';
    buf[n++] = '\n';
    (void)!::write(STDERR_FILENO, buf, n);
}

extern "C" void on_exit_signal(int sig) {
    restore_all();
    if (handler_verbosity > 0) say_killed(sig);
    ::_exit(255);
}

extern "C" void on_atexit() { restore_all(); }

}  // namespace

void install_exit_handlers(int verbosity) {
    static bool done = false;
    if (done) return;
    done = true;
    handler_verbosity = verbosity;
    for (int fd = 0; fd < 3; ++fd) fd_flags[static_cast<std::size_t>(fd)] = ::fcntl(fd, F_GETFL);
    flags_saved = 1;
    struct sigaction sa {};
    sa.sa_handler = on_exit_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : exit_signals) sigaddset(&sa.sa_mask, s);  // one handler at a time
    for (int s : exit_signals) (void)::sigaction(s, &sa, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    (void)::sigaction(SIGPIPE, &ign, nullptr);
    (void)std::atexit(on_atexit);
}

void restore_all() noexcept {
    if (stdin_raw != 0) {
        (void)::tcsetattr(STDIN_FILENO, TCSADRAIN, &stdin_saved);
        stdin_raw = 0;
    }
    if (const int fd = tty_fd; fd >= 0) {
        (void)::tcsetattr(fd, TCSAFLUSH, &tty_saved);
        tty_fd = -1;
    }
    restore_fd_flags();
}

bool enter_raw_mode() {
    if (stdin_raw != 0) return true;
    struct termios t {};
    if (::tcgetattr(STDIN_FILENO, &t) != 0) return false;
    stdin_saved = t;
    // The same changes as ssh: bytes pass untouched both ways; the remote side's PTY does the
    // line editing, echo and signal keys.
    t.c_iflag |= IGNPAR;
    t.c_iflag &= ~static_cast<tcflag_t>(ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXANY | IXOFF | IUCLC);
    t.c_lflag &= ~static_cast<tcflag_t>(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHONL | IEXTEN);
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    stdin_raw = 1;  // set first: a signal between here and tcsetattr restores harmlessly
    if (::tcsetattr(STDIN_FILENO, TCSADRAIN, &t) != 0) {
        stdin_raw = 0;
        return false;
    }
    return true;
}

void leave_raw_mode() noexcept {
    if (stdin_raw == 0) return;
    (void)::tcsetattr(STDIN_FILENO, TCSADRAIN, &stdin_saved);
    stdin_raw = 0;
}

bool raw_mode() noexcept { return stdin_raw != 0; }

std::optional<WindowSize> window_size(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
    return WindowSize{ws.ws_col, ws.ws_row, ws.ws_xpixel, ws.ws_ypixel};
}

bool is_terminal(int fd) noexcept { return ::isatty(fd) == 1; }

// ---- Tty ------------------------------------------------------------------------------------------

std::optional<Tty> Tty::open() {
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    return Tty(fd);
}

Tty::~Tty() {
    if (fd_ >= 0) ::close(fd_);
}

Tty::Tty(Tty&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

void Tty::write(std::string_view text) { log::write_all(fd_, text); }

std::optional<std::string> Tty::read_line(std::size_t max) {
    std::string out;
    bool any = false;
    for (;;) {
        char c = 0;
        const ssize_t r = ::read(fd_, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return any ? std::optional<std::string>(out) : std::nullopt;
        any = true;
        if (c == '\n') break;
        if (c == '\r') continue;
        if (out.size() < max) out += c;
    }
    return out;
}

Result<SecretBuffer> Tty::read_secret(std::string_view prompt) {
    constexpr std::size_t max_secret = 1023;
    struct termios t {};
    const bool terminal = ::tcgetattr(fd_, &t) == 0;
    // Echo off before the prompt appears, so nothing typed in answer to it is ever shown.
    if (terminal) {
        tty_saved = t;
        tty_fd = fd_;
        struct termios quiet = t;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        (void)::tcsetattr(fd_, TCSAFLUSH, &quiet);
    }
    write(prompt);
    SecretBuffer buf(max_secret);
    std::size_t n = 0;
    bool any = false, ok = true;
    for (;;) {
        char c = 0;
        const ssize_t r = ::read(fd_, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            ok = any;
            break;
        }
        any = true;
        if (c == '\n') break;
        if (c == '\r') continue;
        if (n < max_secret) buf.data()[n++] = static_cast<std::byte>(c);
        c = 0;
    }
    if (terminal) {
        (void)::tcsetattr(fd_, TCSAFLUSH, &tty_saved);
        tty_fd = -1;
    }
    write("\n");  // the Enter was not echoed
    if (!ok) return fail(errc::io_error);
    return SecretBuffer(buf.span().first(n));
}

}  // namespace twoway_client::terminal
