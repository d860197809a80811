#include "child.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include "descriptors.hpp"
#include "log.hpp"

namespace twowayd {

namespace {

// The steps the child reports when one fails (the first int of the report).
enum Step : int {
    step_setsid = 1,
    step_ctty,
    step_dup,
    step_setgroups,
    step_setgid,
    step_setuid,
    step_verify,
    step_exec,
    step_chroot,
};

const char* step_text(int step) {
    switch (step) {
        case step_setsid: return "setsid";
        case step_ctty: return "cannot make the PTY the controlling terminal";
        case step_dup: return "dup2";
        case step_setgroups: return "setgroups";
        case step_setgid: return "setgid";
        case step_setuid: return "setuid";
        case step_verify: return "the account switch did not stick";
        case step_exec: return "exec";
        case step_chroot: return "chroot";
        default: return "unknown step";
    }
}

bool set_flags(int fd, bool nonblocking) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return false;
    if (!nonblocking) return true;
    const int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

std::optional<gid_t> tty_group() {
    struct group gr {};
    struct group* result = nullptr;
    std::array<char, 4096> buf{};
    if (::getgrnam_r("tty", &gr, buf.data(), buf.size(), &result) != 0 || result == nullptr) return std::nullopt;
    return gr.gr_gid;
}

unsigned short clamp16(std::uint32_t v) {
    return static_cast<unsigned short>(std::min<std::uint32_t>(v, std::numeric_limits<unsigned short>::max()));
}

// Everything the child uses, laid out before fork(): the child only reads it.
struct ChildPlan {
    const char* path = nullptr;
    std::vector<char*> argv;
    std::vector<char*> envp;
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // the child's ends
    int pty_slave = -1;
    int report_fd = -1;
    bool session_helper = false;
    bool inherit_stdio = false;
    bool switch_identity = false;
    const std::vector<gid_t>* groups = nullptr;
    uid_t uid = 0;
    gid_t gid = 0;
    const char* home = "/";
    std::string chdir_message;  // shown to the user when the home directory is unusable
    unsigned long fd_limit = 1024;
    std::optional<rlimit> nofile;  // the soft descriptor limit the daemon started with, for the program
    mode_t umask = 022;
    bool print_motd = false;
    std::string hushlogin;  // the account's ~/.hushlogin, for print_motd
    const char* chroot = nullptr;  // ChrootDirectory, already checked; nothing: none
};

[[noreturn]] void child_fail(const ChildPlan& p, int step) {
    const int report[2] = {step, errno};
    (void)!::write(p.report_fd, report, sizeof report);
    ::_exit(step == step_exec ? 127 : 1);
}

// Closes every descriptor from 3 up except the report pipe (close-on-exec, so it closes at execve).
void close_other_fds(const ChildPlan& p) {
    const unsigned keep = static_cast<unsigned>(p.report_fd);
    bool done = false;
#ifdef SYS_close_range
    done = (keep <= 3 || ::syscall(SYS_close_range, 3U, keep - 1, 0U) == 0) &&
           ::syscall(SYS_close_range, keep + 1, ~0U, 0U) == 0;
#endif
    if (done) return;
    for (unsigned long fd = 3; fd < p.fd_limit; ++fd) {
        if (fd != keep) ::close(static_cast<int>(fd));
    }
}

// PrintMotd, as sshd's do_motd: /etc/motd (a regular file; at most 64 KiB of it) to the terminal,
// unless the account has a ~/.hushlogin. Async-signal-safe calls only, into a buffer on the stack.
void show_motd(const ChildPlan& p) {
    struct stat st {};
    if (::stat(p.hushlogin.c_str(), &st) == 0) return;
    const int fd = ::open("/etc/motd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[4096];
        std::size_t total = 0;
        for (ssize_t n; total < 64 * 1024 && (n = ::read(fd, buf, sizeof buf)) > 0; total += static_cast<std::size_t>(n)) {
            for (ssize_t off = 0; off < n;) {
                const ssize_t w = ::write(1, buf + off, static_cast<std::size_t>(n - off));
                if (w <= 0) break;
                off += w;
            }
        }
    }
    ::close(fd);
}

[[noreturn]] void child_main(ChildPlan& p) {
    // A clean signal state: nothing blocked, nothing ignored (the daemon ignores SIGPIPE, and ignored
    // signals would stay ignored across execve).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }

    if (p.inherit_stdio) {
        // Already in the session, with 0, 1 and 2 in place (SpawnRequest::inherit_stdio).
    } else if (::setsid() < 0) {
        child_fail(p, step_setsid);
    } else if (p.pty_slave >= 0) {
        if (::ioctl(p.pty_slave, TIOCSCTTY, 0) != 0) child_fail(p, step_ctty);
        if (::dup2(p.pty_slave, 0) < 0 || ::dup2(p.pty_slave, 1) < 0 || ::dup2(p.pty_slave, 2) < 0) {
            child_fail(p, step_dup);
        }
    } else if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.stdout_fd, 1) < 0 || ::dup2(p.stderr_fd, 2) < 0) {
        child_fail(p, step_dup);
    }

    // As sshd's safely_chroot, after its checks (made before fork) and before the privileges go.
    if (p.chroot != nullptr && (::chdir(p.chroot) != 0 || ::chroot(p.chroot) != 0 || ::chdir("/") != 0)) {
        child_fail(p, step_chroot);
    }

    if (p.switch_identity) {
        if (::setgroups(p.groups->size(), p.groups->data()) != 0) child_fail(p, step_setgroups);
        if (::setgid(p.gid) != 0) child_fail(p, step_setgid);
        if (::setuid(p.uid) != 0) child_fail(p, step_setuid);
        // As sshd's permanently_set_uid: every id is the account's, and root cannot be regained.
        if (::getuid() != p.uid || ::geteuid() != p.uid || ::getgid() != p.gid || ::getegid() != p.gid) {
            errno = EPERM;
            child_fail(p, step_verify);
        }
        if (p.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
            errno = EPERM;
            child_fail(p, step_verify);
        }
    }

    if (p.session_helper) {
        // The helper reports through descriptor 3 once the program runs (SpawnRequest::session_helper).
        const int fd = p.report_fd == session_helper_report_fd ? p.report_fd : ::dup2(p.report_fd, session_helper_report_fd);
        if (fd < 0 || ::fcntl(fd, F_SETFD, 0) != 0) child_fail(p, step_dup);
        p.report_fd = fd;  // open across execve; close_other_fds closes the first copy
    } else if (::chdir(p.home) != 0) {
        // Chrooted, sshd says nothing about a home that is not there: the session starts in /.
        if (p.chroot == nullptr) (void)!::write(2, p.chdir_message.data(), p.chdir_message.size());
        (void)!::chdir("/");
    }
    if (p.print_motd) show_motd(p);
    close_other_fds(p);
    // The daemon raised its own soft limit (descriptors.hpp); the session's programs get the usual one.
    if (p.nofile) (void)::setrlimit(RLIMIT_NOFILE, &*p.nofile);
    // Whatever umask twowayd was started with (000 from a careless unit), the session gets login's.
    ::umask(p.umask);
    ::execve(p.path, p.argv.data(), p.envp.data());
    child_fail(p, step_exec);
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

std::optional<SpawnedChild> spawn_child(const SpawnRequest& req, SpawnFailure& failure) {
    const Account& account = *req.account;
    std::vector<std::string> argv = req.argv;
    std::vector<std::string> env = req.env;
    ChildPlan plan;
    plan.path = req.path.empty() ? account.shell.c_str() : req.path.c_str();
    for (auto& a : argv) plan.argv.push_back(a.data());
    plan.argv.push_back(nullptr);
    plan.switch_identity = req.switch_identity;
    plan.session_helper = req.session_helper;
    plan.inherit_stdio = req.inherit_stdio;
    plan.groups = &account.groups;
    plan.uid = account.uid;
    plan.gid = account.gid;
    plan.home = account.home.empty() ? "/" : account.home.c_str();
    plan.chdir_message = "Could not chdir to home directory " + account.home + "\n";
    plan.print_motd = req.print_motd;
    plan.hushlogin = (account.home.empty() ? std::string() : account.home) + "/.hushlogin";
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        plan.fd_limit = std::min<unsigned long>(rl.rlim_cur, 1u << 20);
    }
    plan.nofile = child_descriptor_limit();
    plan.umask = req.umask & 0777;
    if (!req.chroot.empty()) plan.chroot = req.chroot.c_str();

    SpawnedChild out;
    int report[2] = {-1, -1};
    if (::pipe2(report, O_CLOEXEC) != 0) {
        failure = {SpawnError::start_failed, "pipe: " + errno_text(errno)};
        return std::nullopt;
    }
    out.report_fd = twoway::UniqueFd(report[0]);
    plan.report_fd = report[1];

    int in[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    int master = -1;
    auto cleanup = [&] {
        close_fd(report[1]);
        for (int* fd : {&in[0], &in[1], &outp[0], &outp[1], &errp[0], &errp[1], &master, &plan.pty_slave}) {
            close_fd(*fd);
        }
    };

    if (req.inherit_stdio) {
        // 0, 1 and 2 are the caller's: nothing to create.
    } else if (req.pty) {
        struct winsize ws {};
        ws.ws_col = clamp16(req.pty->size.cols);
        ws.ws_row = clamp16(req.pty->size.rows);
        ws.ws_xpixel = clamp16(req.pty->size.width_px);
        ws.ws_ypixel = clamp16(req.pty->size.height_px);
        if (::openpty(&master, &plan.pty_slave, nullptr, nullptr, &ws) != 0) {
            failure = {SpawnError::pty_failed, "openpty: " + errno_text(errno)};
            cleanup();
            return std::nullopt;
        }
        char name[128];
        if (::ttyname_r(plan.pty_slave, name, sizeof name) == 0) out.tty = name;
        if (!out.tty.empty()) {
            for (const auto& name : req.tty_variables) {  // replacing any the client sent (AcceptEnv)
                std::erase_if(env, [&name](const std::string& e) { return e.starts_with(name + "="); });
                env.push_back(name + "=" + out.tty);
            }
        }
        if (!set_flags(master, true) || !set_flags(plan.pty_slave, false)) {
            failure = {SpawnError::pty_failed, "fcntl: " + errno_text(errno)};
            cleanup();
            return std::nullopt;
        }
        if (req.switch_identity || (req.session_helper && running_as_root())) {
            // As sshd's pty_setowner: the terminal belongs to the user, group tty may write to it.
            const auto tty_gid = tty_group();
            if (::fchown(plan.pty_slave, account.uid, tty_gid.value_or(account.gid)) != 0 ||
                ::fchmod(plan.pty_slave, tty_gid ? 0620 : 0600) != 0) {
                failure = {SpawnError::pty_failed, "cannot give " + out.tty + " to " + account.name + ": " +
                                                       errno_text(errno)};
                cleanup();
                return std::nullopt;
            }
        }
    } else {
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(outp, O_CLOEXEC) != 0 || ::pipe2(errp, O_CLOEXEC) != 0 ||
            !set_flags(in[1], true) || !set_flags(outp[0], true) || !set_flags(errp[0], true)) {
            failure = {SpawnError::start_failed, "pipe: " + errno_text(errno)};
            cleanup();
            return std::nullopt;
        }
        plan.stdin_fd = in[0];
        plan.stdout_fd = outp[1];
        plan.stderr_fd = errp[1];
    }

    // env no longer changes: its strings can be pointed at.
    plan.envp.clear();
    for (auto& e : env) plan.envp.push_back(e.data());
    plan.envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        failure = {SpawnError::start_failed, "fork: " + errno_text(errno)};
        cleanup();
        return std::nullopt;
    }
    if (pid == 0) child_main(plan);

    // Parent: keep only our ends. Holding the PTY slave would keep the master from ever seeing the end.
    out.pid = pid;
    close_fd(report[1]);
    close_fd(plan.pty_slave);
    close_fd(in[0]);
    close_fd(outp[1]);
    close_fd(errp[1]);
    if (req.inherit_stdio) {
        // Nothing of ours to keep but the report pipe.
    } else if (req.pty) {
        out.pty_master = twoway::UniqueFd(master);
    } else {
        out.stdin_fd = twoway::UniqueFd(in[1]);
        out.stdout_fd = twoway::UniqueFd(outp[0]);
        out.stderr_fd = twoway::UniqueFd(errp[0]);
    }
    return out;
}

std::optional<std::string> decode_spawn_report(const std::vector<unsigned char>& bytes) {
    if (bytes.empty()) return std::nullopt;
    int report[2] = {0, 0};
    if (bytes.size() != sizeof report) return std::string("the child failed before exec (malformed report)");
    std::memcpy(report, bytes.data(), sizeof report);
    return std::string(step_text(report[0])) + ": " + errno_text(report[1]);
}

namespace {
struct SignalName {
    std::string_view name;
    int sig;
};
// RFC 4254 section 6.10's list: the signals a client may send, and the names exits are reported with.
constexpr std::array<SignalName, 13> signal_names{{
    {"ABRT", SIGABRT},
    {"ALRM", SIGALRM},
    {"FPE", SIGFPE},
    {"HUP", SIGHUP},
    {"ILL", SIGILL},
    {"INT", SIGINT},
    {"KILL", SIGKILL},
    {"PIPE", SIGPIPE},
    {"QUIT", SIGQUIT},
    {"SEGV", SIGSEGV},
    {"TERM", SIGTERM},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
}};
}  // namespace

std::optional<int> signal_from_name(std::string_view name) {
    for (const auto& s : signal_names) {
        if (s.name == name) return s.sig;
    }
    return std::nullopt;
}

std::string signal_name(int sig) {
    for (const auto& s : signal_names) {
        if (s.sig == sig) return std::string(s.name);
    }
    return "SIG" + std::to_string(sig);
}

}  // namespace twowayd
