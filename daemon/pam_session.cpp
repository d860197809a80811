// The PAM session phase (pam.hpp): the session helper, which the session's child executes as root
// instead of the account's program, and the daemon's side of it (its arguments, its report).
//
// The helper is what sshd's session process is for a PAM session: it opens the session, stays the
// parent of the account's program for the program's life, and closes the session once it exits. It
// leads the session's terminal (or holds its pipes) and its process group, and the program stays in
// that group, so the client's signals (sent to the group with the account's rights, which cannot touch
// the root helper) and the daemon's SIGHUP reach the program directly, as without PAM.
#include "pam.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "log.hpp"
#include "pam_conv.hpp"

namespace twowayd {

namespace {

// The helper's steps in the report (child.cpp's are below 100; a report is {step, errno or PAM code}).
enum PamStep : int {
    step_arguments = 100,
    step_account,
    step_pam_start,
    step_pam_set_item,
    step_groups,
    step_open_session,
    step_start,
};

bool pam_code_step(int step) {
    return step == step_pam_start || step == step_pam_set_item || step == step_open_session;
}

const char* pam_step_text(int step) {
    switch (step) {
        case step_arguments: return "PAM session helper: bad arguments";
        case step_account: return "PAM session helper: no such account";
        case step_pam_start: return "PAM: pam_start()";
        case step_pam_set_item: return "PAM: pam_set_item()";
        case step_groups: return "PAM session helper: setgroups";
        case step_open_session: return "PAM: pam_open_session()";
        case step_start: return "PAM session helper: cannot start the program";
        default: return nullptr;
    }
}

constexpr std::string_view helper_path = "/usr/sbin:/usr/bin:/sbin:/bin";

// The signals the helper passes on to the program (those a client may send that can be caught).
constexpr int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM};

volatile sig_atomic_t program_pid = 0;
volatile sig_atomic_t daemon_pid = 0;

// What the daemon sends to the session's process group (SIGHUP when it ends a session) and what the
// terminal sends to its foreground group or on hang-up reach the program by themselves: passing them
// on would deliver them twice. Anything else (an administrator's kill of the helper) is passed on.
extern "C" void forward_signal(int sig, siginfo_t* info, void*) {
    const pid_t pid = program_pid;
    if (pid <= 0) return;
    if (info != nullptr && (info->si_code == SI_KERNEL || (info->si_code == SI_USER && info->si_pid == daemon_pid))) return;
    const int saved = errno;
    ::kill(pid, sig);
    errno = saved;
}

void report(int step, int code) {
    const int r[2] = {step, code};
    (void)!::write(session_helper_report_fd, r, sizeof r);
}

// "NAME=value" entries: set (replace or add) one.
void set_variable(std::vector<std::string>& env, const std::string& entry) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) return;
    const std::string prefix = entry.substr(0, eq + 1);
    for (auto& e : env) {
        if (e.starts_with(prefix)) {
            e = entry;
            return;
        }
    }
    env.push_back(entry);
}

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// An open PAM transaction; pam_end on every path.
class PamSession {
public:
    PamSession() = default;
    PamSession(const PamSession&) = delete;
    PamSession& operator=(const PamSession&) = delete;
    ~PamSession() { end(); }
    // Closes the session and deletes the credentials, as sshd's sshpam_cleanup.
    void end() {
        if (pamh_ == nullptr) return;
        if (open_) ::pam_close_session(pamh_, PAM_SILENT);
        if (cred_) ::pam_setcred(pamh_, PAM_DELETE_CRED | PAM_SILENT);
        ::pam_end(pamh_, last_);
        pamh_ = nullptr;
    }
    pam_handle_t* pamh_ = nullptr;
    int last_ = PAM_SUCCESS;
    bool cred_ = false;
    bool open_ = false;
};

[[noreturn]] void exit_as(int status) {
    if (WIFSIGNALED(status)) {
        // The same end as the program's, so that the daemon reports EXIT_SIGNAL. No core of the helper
        // (it is not dumpable anyway: main.cpp).
        const int sig = WTERMSIG(status);
        const rlimit none{0, 0};
        (void)::setrlimit(RLIMIT_CORE, &none);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(sig, &dfl, nullptr);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::kill(::getpid(), sig);
        ::_exit(128 + sig);
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

}  // namespace

namespace {
// The PTY variables' names travel as one argument, comma-joined: they are the daemon's own constants.
std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
}

std::optional<std::vector<std::string>> split_names(std::string_view joined) {
    std::vector<std::string> out;
    if (joined.empty()) return out;
    for (;;) {
        const auto comma = joined.find(',');
        const std::string_view name = joined.substr(0, comma);
        if (name.empty() || name.find('=') != std::string_view::npos) return std::nullopt;
        out.emplace_back(name);
        if (comma == std::string_view::npos) return out;
        joined.remove_prefix(comma + 1);
    }
}
}  // namespace

std::vector<std::string> pam_session_argv(const PamSessionArgs& a) {
    std::vector<std::string> out{"twowayd",
                                 std::string(pam_session_mode),
                                 a.facts.service,
                                 a.user,
                                 a.facts.rhost,
                                 a.facts.connection,
                                 a.password_expired ? "1" : "0",
                                 join_names(a.tty_variables),
                                 a.path,
                                 a.chroot,
                                 a.print_motd ? "1" : "0",
                                 std::to_string(a.argv.size())};
    out.insert(out.end(), a.argv.begin(), a.argv.end());
    return out;
}

namespace {
constexpr std::string_view session_env_prefix = "TWOWAYD_SESSION_ENV_";
}  // namespace

std::vector<std::string> pam_session_environment(const std::vector<std::string>& program_env) {
    std::vector<std::string> out{"PATH=" + std::string(helper_path)};
    for (std::size_t i = 0; i < program_env.size(); ++i) {
        out.push_back(std::string(session_env_prefix) + std::to_string(i) + "=" + program_env[i]);
    }
    return out;
}

std::vector<std::string> program_environment_from(const std::vector<std::string>& helper_env) {
    std::vector<std::pair<std::size_t, std::string>> found;
    for (const auto& e : helper_env) {
        if (!e.starts_with(session_env_prefix)) continue;
        const std::string_view rest = std::string_view(e).substr(session_env_prefix.size());
        const auto eq = rest.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + eq, n);
        if (ec != std::errc() || end != rest.data() + eq) continue;
        found.emplace_back(n, std::string(rest.substr(eq + 1)));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& [n, entry] : found) out.push_back(std::move(entry));
    return out;
}

std::optional<PamSessionArgs> parse_pam_session_argv(const std::vector<std::string>& w) {
    constexpr std::size_t fixed = 12;
    if (w.size() < fixed || w[1] != pam_session_mode) return std::nullopt;
    PamSessionArgs a;
    a.facts = PamFacts{w[2], w[4], w[5]};
    a.user = w[3];
    if (w[6] != "0" && w[6] != "1") return std::nullopt;
    a.password_expired = w[6] == "1";
    auto tty_variables = split_names(w[7]);
    if (!tty_variables) return std::nullopt;
    a.tty_variables = std::move(*tty_variables);
    a.path = w[8];
    a.chroot = w[9];
    if (!a.chroot.empty() && a.chroot.front() != '/') return std::nullopt;
    if (w[10] != "0" && w[10] != "1") return std::nullopt;
    a.print_motd = w[10] == "1";
    std::size_t n = 0;
    const auto& count = w[11];
    const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc() || end != count.data() + count.size() || n == 0 || n != w.size() - fixed) return std::nullopt;
    a.argv.assign(w.begin() + fixed, w.end());
    if (a.user.empty() || a.path.empty() || a.facts.service.empty()) return std::nullopt;
    return a;
}

SpawnRequest pam_session_request(const SpawnRequest& program, const PamFacts& facts, bool password_expired) {
    PamSessionArgs a;
    a.facts = facts;
    a.user = program.account->name;
    a.password_expired = password_expired;
    a.tty_variables = program.tty_variables;
    a.path = program.path.empty() ? program.account->shell : program.path;
    a.argv = program.argv;
    a.env = program.env;
    a.chroot = program.chroot;  // the helper chroots the program, after the PAM session opened
    a.print_motd = program.print_motd;  // after PAM's own messages, as sshd shows them
    SpawnRequest out;
    out.account = program.account;
    out.switch_identity = false;  // the helper stays root; the program becomes the account
    out.session_helper = true;
    out.path = "/proc/self/exe";
    out.argv = pam_session_argv(a);
    // The program's environment, out of sight of other users and of the loader (PamSessionArgs).
    out.env = pam_session_environment(program.env);
    out.pty = program.pty;
    out.umask = program.umask;  // pam_umask may change it in the helper; the program gets the result
    return out;
}

std::optional<std::string> decode_session_report(const std::vector<unsigned char>& bytes) {
    int r[2] = {0, 0};
    if (bytes.size() == sizeof r) {
        std::memcpy(r, bytes.data(), sizeof r);
        if (const char* text = pam_step_text(r[0])) {
            if (pam_code_step(r[0])) return std::string(text) + ": " + ::pam_strerror(nullptr, r[1]);
            return r[1] == 0 ? std::string(text) : std::string(text) + ": " + errno_text(r[1]);
        }
    }
    return decode_spawn_report(bytes);
}

int pam_session_main(int argc, char** argv) {
    // The report pipe is ours only: the program must not inherit it (its end of file is our word).
    if (::fcntl(session_helper_report_fd, F_SETFD, FD_CLOEXEC) != 0) {
        std::fprintf(stderr, "twowayd: %s is for twowayd's own use\n", argv[1]);
        return 2;
    }
    daemon_pid = ::getppid();
    (void)::prctl(PR_SET_NAME, "twowayd-session", 0, 0, 0);  // in ps, rather than "exe"
    auto args = parse_pam_session_argv(std::vector<std::string>(argv, argv + argc));
    if (!args) {
        report(step_arguments, 0);
        return 1;
    }
    // The program's environment, then the helper's own: only PATH (PAM's modules run in this process).
    {
        std::vector<std::string> own;
        for (char** e = environ; *e != nullptr; ++e) own.emplace_back(*e);
        args->env = program_environment_from(own);
        ::clearenv();
        ::setenv("PATH", std::string(helper_path).c_str(), 1);
    }
    std::string reason;
    auto account = lookup_account(args->user, reason);
    if (!account) {
        report(step_account, 0);
        return 1;
    }
    const bool root = running_as_root();
    const bool terminal = ::isatty(0) != 0;
    std::string tty = "ssh";  // sshd's PAM_TTY_KLUDGE until a terminal's name is known
    if (char name[128]; terminal && ::ttyname_r(0, name, sizeof name) == 0) tty = name;

    PamMessages messages;
    const pam_conv conv{twowayd_pam_conversation, &messages};
    PamSession pam;
    int rc = ::pam_start(args->facts.service.c_str(), args->user.c_str(), &conv, &pam.pamh_);
    if (rc != PAM_SUCCESS) {
        pam.last_ = rc;
        report(step_pam_start, rc);
        return 1;
    }
    const std::string connection = "TWOWAY_CONNECTION=" + args->facts.connection;
    if ((rc = ::pam_set_item(pam.pamh_, PAM_RHOST, args->facts.rhost.c_str())) != PAM_SUCCESS ||
        (rc = ::pam_set_item(pam.pamh_, PAM_TTY, tty.c_str())) != PAM_SUCCESS ||
        (rc = ::pam_putenv(pam.pamh_, connection.c_str())) != PAM_SUCCESS) {
        pam.last_ = rc;
        report(step_pam_set_item, rc);
        return 1;
    }
    // As sshd's do_setusercontext: the account's groups first (initgroups), so that pam_group can add
    // to them, then the credentials; the program keeps the groups the modules leave.
    if (root && ::setgroups(account->groups.size(), account->groups.data()) != 0) {
        report(step_groups, errno);
        return 1;
    }
    // sshd's do_pam_setcred: for a key login (nothing authenticated through PAM) a failure is no refusal.
    pam.cred_ = ::pam_setcred(pam.pamh_, PAM_ESTABLISH_CRED) == PAM_SUCCESS;
    // As sshd's session.c, a session PAM did not open is not started ("PAM session not opened").
    if ((rc = ::pam_open_session(pam.pamh_, 0)) != PAM_SUCCESS) {
        pam.last_ = rc;
        report(step_open_session, rc);
        return 1;
    }
    pam.open_ = true;

    // PAM's environment (pam_env, pam_systemd's XDG_*) over ours, as sshd's do_setup_env copies it.
    if (char** list = ::pam_getenvlist(pam.pamh_)) {
        for (char** e = list; *e != nullptr; ++e) {
            set_variable(args->env, *e);
            std::free(*e);
        }
        std::free(list);
    }
    if (terminal) {
        for (const auto& name : args->tty_variables) set_variable(args->env, name + "=" + tty);
    }
    if (root) {
        const int n = ::getgroups(0, nullptr);
        std::vector<gid_t> groups(static_cast<std::size_t>(n > 0 ? n : 0));
        if (n > 0 && ::getgroups(n, groups.data()) == n) account->groups = std::move(groups);
    }
    // pam_motd's text and the modules' notes: shown on a terminal only, as sshd shows them for
    // interactive logins; a command's output stays the command's.
    if (terminal) write_all(1, messages.text);

    SpawnRequest req;
    req.account = &*account;
    req.switch_identity = root;
    req.inherit_stdio = true;
    req.path = args->path;
    req.argv = args->argv;
    req.env = args->env;
    req.chroot = args->chroot;
    req.print_motd = args->print_motd;
    const mode_t mask = ::umask(022);  // what login.defs and pam_umask left for the program
    ::umask(mask);
    req.umask = mask;
    if (args->password_expired) {
        // sshd's do_pwchange: a key let the account in, but its password must be changed first.
        write_all(2, "WARNING: Your password has expired.\n");
        if (!terminal) {
            ::close(session_helper_report_fd);  // the session starts, and ends at once
            write_all(2, "Password change required but no TTY available.\n");
            return 1;
        }
        write_all(2, "You must change your password now and login again!\n");
        req.path = "/usr/bin/passwd";
        req.argv = {"passwd"};
    }

    // The forwarded signals wait until the handler knows the program's pid; the child unblocks them.
    sigset_t forwarded, old;
    sigemptyset(&forwarded);
    for (int sig : forwarded_signals) sigaddset(&forwarded, sig);
    ::sigprocmask(SIG_BLOCK, &forwarded, &old);
    SpawnFailure failure;
    auto child = spawn_child(req, failure);
    if (!child) {
        report(step_start, errno != 0 ? errno : EAGAIN);
        return 1;
    }
    program_pid = child->pid;
    struct sigaction sa {};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig : forwarded_signals) ::sigaction(sig, &sa, nullptr);
    // A stop from the terminal is the program's business; the helper only waits.
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) ::sigaction(sig, &ign, nullptr);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);

    // The program's report: end of file once it runs, which becomes ours.
    std::vector<unsigned char> said;
    unsigned char buf[64];
    for (;;) {
        const ssize_t n = ::read(child->report_fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        said.insert(said.end(), buf, buf + n);
    }
    int status = 0;
    if (!said.empty()) {
        write_all(session_helper_report_fd, std::string_view(reinterpret_cast<const char*>(said.data()), said.size()));
        while (::waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
        }
        return 1;
    }
    ::close(session_helper_report_fd);
    // The terminal or pipes are the program's now: the daemon sees their end when the program's side ends.
    if (const int null = ::open("/dev/null", O_RDWR); null >= 0) {
        for (int fd = 0; fd <= 2; ++fd) (void)::dup2(null, fd);
        if (null > 2) ::close(null);
    }
    for (;;) {
        const pid_t r = ::waitpid(child->pid, &status, 0);
        if (r == child->pid) break;
        if (r < 0 && errno != EINTR) {
            status = 255 << 8;
            break;
        }
    }
    program_pid = 0;
    pam.end();
    exit_as(status);
}

}  // namespace twowayd
