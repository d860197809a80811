#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace adversary {

namespace {

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, remaining_ms(deadline));
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return false;
    }
}

sockaddr_in loopback(std::uint16_t port, const char* ip = "127.0.0.1") {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

}  // namespace

const char* end_text(End e) {
    switch (e) {
        case End::open: return "open";
        case End::eof: return "closed";
        case End::reset: return "reset";
        case End::timeout: return "no answer (timeout)";
    }
    return "?";
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

std::optional<Socket> Socket::connect(std::uint16_t port, const std::string& source, milliseconds timeout) {
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid()) return std::nullopt;
    if (!source.empty()) {
        const sockaddr_in src = loopback(0, source.c_str());
        if (::bind(s.fd_, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) return std::nullopt;
    }
    const int one = 1;
    (void)::setsockopt(s.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const sockaddr_in to = loopback(port);
    if (::connect(s.fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        if (errno != EINPROGRESS) return std::nullopt;
        if (!wait_fd(s.fd_, POLLOUT, Clock::now() + timeout)) return std::nullopt;
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(s.fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return std::nullopt;
    }
    return s;
}

std::uint16_t Socket::local_port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

std::string Socket::local_ip() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return {};
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return buf;
}

bool Socket::send_all(const ByteVec& data, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd_, POLLOUT, deadline)) return false;
            continue;
        }
        return false;
    }
    return true;
}

End Socket::read_exact(ByteVec& out, std::size_t n, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::size_t target = out.size() + n;
    std::byte buf[65536];
    while (out.size() < target) {
        if (!wait_fd(fd_, POLLIN, deadline)) return End::timeout;
        const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, target - out.size()), 0);
        if (got > 0) {
            out.insert(out.end(), buf, buf + got);
            continue;
        }
        if (got == 0) return End::eof;
        if (errno == EINTR || errno == EAGAIN) continue;
        return End::reset;
    }
    return End::open;
}

End Socket::read_until_end(ByteVec& out, milliseconds timeout) {
    // A target that cannot be reached: read_exact then ends only at EOF, a reset or the deadline.
    return read_exact(out, SIZE_MAX - out.size(), timeout);
}

End Socket::read_message(ByteVec& out, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::size_t start = out.size();
    if (End e = read_exact(out, 4, milliseconds(remaining_ms(deadline))); e != End::open) return e;
    const std::size_t len = (std::to_integer<std::size_t>(out[start + 1]) << 16) |
                            (std::to_integer<std::size_t>(out[start + 2]) << 8) | std::to_integer<std::size_t>(out[start + 3]);
    if (len > 65536) return End::open;
    return read_exact(out, len, milliseconds(remaining_ms(deadline)));
}

void Socket::shutdown_write() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Socket::close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

std::optional<Listener> Listener::open() {
    Listener l;
    l.sock_ = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!l.sock_.valid()) return std::nullopt;
    const sockaddr_in a = loopback(0);
    if (::bind(l.sock_.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
    if (::listen(l.sock_.fd(), 16) != 0) return std::nullopt;
    l.port_ = l.sock_.local_port();
    return l;
}

std::optional<Socket> Listener::accept(milliseconds timeout) {
    if (!wait_fd(sock_.fd(), POLLIN, Clock::now() + timeout)) return std::nullopt;
    Socket s(::accept4(sock_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!s.valid()) return std::nullopt;
    const int one = 1;
    (void)::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

namespace {
// execve's argument form of strings: pointers into them, then a null pointer.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}
}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    int err_pipe[2];
    int out_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return;
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        ::close(err_pipe[0]);
        ::close(err_pipe[1]);
        return;
    }
    std::vector<char*> args = c_strings(argv);
    std::vector<char*> envp = c_strings(env);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::setsid();
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(err_pipe[1]);
    ::close(out_pipe[1]);
    err_fd_ = err_pipe[0];
    out_fd_ = out_pipe[0];
    if (pid < 0) return;
    pid_ = pid;
}

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& password) {
    std::vector<char*> args = c_strings(argv);
    std::vector<char*> envp = c_strings(env);
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    if (pid < 0) return;
    pid_ = pid;
    master_ = master;
    pty_thread_ = std::thread([this, password] { pty_loop(password); });
}

void Child::pty_loop(std::string password) {
    std::size_t answered = 0;  // prompts answered so far
    char buf[4096];
    while (!stop_) {
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) break;  // EIO: the terminal's last user has gone
        std::lock_guard lock(pty_mu_);
        pty_out_.append(buf, static_cast<std::size_t>(n));
        std::size_t prompts = 0;
        for (std::size_t at = pty_out_.find("password: "); at != std::string::npos; at = pty_out_.find("password: ", at + 1)) {
            ++prompts;
        }
        if (prompts > answered) {
            answered = prompts;
            const std::string line = password + "\n";
            (void)!::write(master_, line.data(), line.size());
        }
    }
    ended_ = true;
}

void Child::pty_done() {
    if (master_ < 0) return;
    // Its last words: read until the terminal reports that nobody holds it, or a short while.
    for (int i = 0; i < 50 && !ended_; ++i) std::this_thread::sleep_for(milliseconds(10));
    stop_ = true;
    if (pty_thread_.joinable()) pty_thread_.join();
    ::close(master_);
    master_ = -1;
    std::lock_guard lock(pty_mu_);
    err_ = pty_out_;
}

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pty_done();
    if (err_fd_ >= 0) ::close(err_fd_);
    if (out_fd_ >= 0) ::close(out_fd_);
}

void Child::drain(int timeout_ms) {
    if (master_ >= 0) {
        std::this_thread::sleep_for(milliseconds(timeout_ms));
        return;
    }
    pollfd p[2] = {{err_fd_, POLLIN, 0}, {out_fd_, POLLIN, 0}};
    if (::poll(p, 2, timeout_ms) <= 0) return;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
        if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n > 0) (i == 0 ? err_ : out_).append(buf, static_cast<std::size_t>(n));
    }
}

int Child::wait(milliseconds timeout, bool kill_on_timeout) {
    if (pid_ <= 0) return -1;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            pty_done();
            // Whatever it wrote last (its one-line error).
            for (int i = 0; i < 20; ++i) {
                const std::size_t before = err_.size() + out_.size();
                drain(10);
                if (err_.size() + out_.size() == before) break;
            }
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
        if (Clock::now() >= deadline) {
            if (!kill_on_timeout) return -2;
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            pty_done();
            return -1;
        }
        drain(20);
    }
}

std::size_t DaemonLog::size() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return 0;
    return static_cast<std::size_t>(st.st_size);
}

std::string DaemonLog::since(std::size_t from) const {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(from));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<std::string> DaemonLog::wait_for(const std::string& needle, std::size_t from, milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const std::string text = since(from);
        if (const auto pos = text.find(needle); pos != std::string::npos) {
            const auto begin = text.rfind('\n', pos);
            const auto end = text.find('\n', pos);
            return text.substr(begin == std::string::npos ? 0 : begin + 1,
                               (end == std::string::npos ? text.size() : end) - (begin == std::string::npos ? 0 : begin + 1));
        }
        if (Clock::now() >= deadline) return std::nullopt;
        sleep_for(milliseconds(20));
    }
}

std::string Sources::next() {
    do {
        ++n_;
    } while ((n_ & 0xff) == 0 || (n_ & 0xff) == 0xff);
    return "127.1." + std::to_string((n_ >> 8) & 0xff) + "." + std::to_string(n_ & 0xff);
}

void sleep_for(milliseconds d) { std::this_thread::sleep_for(d); }

}  // namespace adversary
