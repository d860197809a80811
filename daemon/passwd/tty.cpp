#include "tty.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <termios.h>
#include <unistd.h>

namespace twoway_passwd {

using twoway::errc;
using twoway::fail;

namespace {
// What the signal handler needs, in async-signal-safe form: the descriptor and the settings to restore.
volatile std::sig_atomic_t restore_fd = -1;
struct termios saved {};
constexpr int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
struct sigaction previous[std::size(fatal_signals)];

extern "C" void on_signal(int sig) {
    const int fd = restore_fd;
    if (fd >= 0) (void)::tcsetattr(fd, TCSAFLUSH, &saved);
    restore_fd = -1;
    // End (or stop) as the signal would have without us; SIGTSTP stops with echo on, as it should.
    (void)::signal(sig, SIG_DFL);
    (void)::raise(sig);
}

// Echo off on fd for this object's lifetime.
class Quiet {
public:
    explicit Quiet(int fd) : fd_(fd) {
        if (::tcgetattr(fd, &saved) != 0) return;
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(fatal_signals); ++i) (void)::sigaction(fatal_signals[i], &sa, &previous[i]);
        struct termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
        quiet.c_lflag |= ICANON;
        restore_fd = fd;
        active_ = ::tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
        if (!active_) restore_fd = -1;
    }
    ~Quiet() {
        if (active_) (void)::tcsetattr(fd_, TCSAFLUSH, &saved);
        restore_fd = -1;
        for (std::size_t i = 0; i < std::size(fatal_signals); ++i) (void)::sigaction(fatal_signals[i], &previous[i], nullptr);
    }
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;

private:
    int fd_;
    bool active_ = false;
};

void put(int fd, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}
}  // namespace

Tty::Tty() {
    fd_ = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) error_ = std::error_code(errno, std::generic_category());
}

Tty::~Tty() {
    if (fd_ >= 0) (void)::close(fd_);
}

twoway::Result<twoway::SecretBuffer> Tty::read_secret(const std::string& prompt) {
    // Read straight into secure memory, a byte at a time, so that no copy of the password is left in
    // a stdio buffer.
    twoway::SecretBuffer buf(max_password + 1);
    std::size_t n = 0;
    bool any = false, eof = false;
    {
        Quiet quiet(fd_);  // before the prompt, so nothing typed in answer to it is echoed
        put(fd_, prompt);
        for (;;) {
            char c = 0;
            const ssize_t r = ::read(fd_, &c, 1);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                eof = true;
                break;
            }
            any = true;
            if (c == '\n') break;
            if (c == '\r') continue;
            if (n < buf.size()) buf.data()[n++] = static_cast<std::byte>(c);
        }
    }
    put(fd_, "\n");  // the Enter was not echoed
    if (eof && !any) return fail(errc::io_error);
    if (n > max_password) return fail(errc::length_too_large);
    return twoway::SecretBuffer(buf.span().first(n));
}

}  // namespace twoway_passwd
