#include "proxy.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <twoway/text.hpp>

extern char** environ;

namespace twoway_client {

namespace {

// A word of the -v display, in single quotes when the shell would read it otherwise.
std::string shell_word(const std::string& w) {
    if (!w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./-_") ==
                          std::string::npos) {
        return w;
    }
    std::string out = "'";
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void sleep_ms(long ms) {
    struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

}  // namespace

ProxyPlanResult proxy_plan(const ClientSettings& settings, const cli::CommandLine& line, const std::string& self,
                           unsigned depth) {
    ProxyPlanResult out;
    if (settings.proxy_command) {
        // As ssh: "exec" so that no shell lingers between us and the command.
        ProxyPlan plan;
        plan.label = "ProxyCommand";
        plan.argv = {"/bin/sh", "-c", "exec " + *settings.proxy_command};
        plan.display = "exec " + *settings.proxy_command;
        out.plan = std::move(plan);
        return out;
    }
    if (settings.proxy_jump.empty()) return out;
    // ssh.c: the last hop is the one the inner program connects to; the hops before it become its -J.
    const JumpHost& last = settings.proxy_jump.back();
    const std::string last_user = last.user.empty() ? settings.user : last.user;
    if (settings.proxy_jump.size() == 1 && twoway::ascii_lower(last.host) == settings.host_alias &&
        last_user == settings.user && last.port.value_or(settings.port) == settings.port) {
        out.error = "jumphost loop via " + last.spec;
        return out;
    }
    if (depth >= max_jump_hops) {
        out.error = "too many nested ProxyJump hops (" + std::to_string(depth) + "): a ProxyJump loop in the configuration?";
        return out;
    }
    ProxyPlan plan;
    plan.label = "ProxyJump";
    plan.jump_depth = depth + 1;
    plan.argv.push_back(self);
    if (!last.user.empty()) plan.argv.insert(plan.argv.end(), {"-l", last.user});
    if (last.port) plan.argv.insert(plan.argv.end(), {"-p", std::to_string(*last.port)});
    if (settings.proxy_jump.size() > 1) {
        std::string earlier;
        for (std::size_t i = 0; i + 1 < settings.proxy_jump.size(); ++i) {
            earlier += (i > 0 ? "," : "") + settings.proxy_jump[i].spec;
        }
        plan.argv.insert(plan.argv.end(), {"-J", earlier});
    }
    if (line.config_file) plan.argv.insert(plan.argv.end(), {"-F", *line.config_file});
    if (line.verbosity > 0) plan.argv.push_back("-" + std::string(static_cast<std::size_t>(line.verbosity), 'v'));
    plan.argv.insert(plan.argv.end(), {"-W", "[" + settings.host_name + "]:" + std::to_string(settings.port), last.host});
    for (const auto& w : plan.argv) plan.display += (plan.display.empty() ? "" : " ") + shell_word(w);
    out.plan = std::move(plan);
    return out;
}

unsigned jump_depth() {
    const char* v = std::getenv(jump_depth_variable);
    if (v == nullptr) return 0;
    const auto n = twoway::parse_decimal(v, max_jump_hops);
    return n ? static_cast<unsigned>(*n) : static_cast<unsigned>(max_jump_hops);
}

std::string self_executable() {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf - 1) return "twoway";
    return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<ProxyProcess> ProxyProcess::start(const ProxyPlan& plan, int& fd, std::string& error) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        error = std::string("socketpair: ") + std::strerror(errno);
        return std::nullopt;
    }
    // The child's end above the standard descriptors, so that dup2 onto 0 and 1 always copies it (a
    // dup2 of a descriptor onto itself would keep its close-on-exec flag).
    int child = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
    ::close(sv[1]);
    if (child < 0) {
        error = std::string("fcntl: ") + std::strerror(errno);
        ::close(sv[0]);
        return std::nullopt;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, child, STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, child, STDOUT_FILENO);
    ::posix_spawnattr_init(&attr);
    // The command starts with the default disposition of the signals we may ignore or catch, and none
    // blocked.
    sigset_t defaults;
    sigset_t none;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGCHLD}) sigaddset(&defaults, s);
    sigemptyset(&none);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> argv;
    for (const auto& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The environment, with the inner twoway's jump depth for ProxyJump.
    std::vector<std::string> env_strings;
    std::vector<char*> envp;
    const std::string prefix = std::string(jump_depth_variable) + "=";
    for (char** e = environ; *e != nullptr; ++e) {
        if (plan.jump_depth && std::string_view(*e).starts_with(prefix)) continue;
        envp.push_back(*e);
    }
    if (plan.jump_depth) {
        env_strings.push_back(prefix + std::to_string(*plan.jump_depth));
        envp.push_back(env_strings.back().data());
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    // posix_spawnp: ProxyJump falls back to "twoway" in PATH when /proc/self/exe cannot be read.
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    ::close(child);  // the command holds its copies: its exit is our end of input
    if (rc != 0) {
        error = "cannot run " + plan.argv[0] + ": " + std::strerror(rc);
        ::close(sv[0]);
        return std::nullopt;
    }
    fd = sv[0];
    return ProxyProcess(pid);
}

ProxyProcess::ProxyProcess(ProxyProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

ProxyProcess::~ProxyProcess() {
    if (pid_ <= 0 || status_) return;
    hang_up();
    for (int i = 0; i < 10 && !reap(); ++i) sleep_ms(10);
    kill_and_reap();
}

bool ProxyProcess::reap() noexcept {
    if (status_) return true;
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) status_ = status;
    if (r < 0 && errno == ECHILD) status_ = 0;  // not ours to wait for any more
    return status_.has_value();
}

void ProxyProcess::hang_up() noexcept {
    if (pid_ > 0 && !status_) ::kill(pid_, SIGHUP);
}

void ProxyProcess::kill_and_reap() noexcept {
    if (pid_ <= 0 || reap()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
}

std::string ProxyProcess::describe_exit() const {
    if (!status_) return "is still running";
    if (WIFEXITED(*status_)) return "exited with status " + std::to_string(WEXITSTATUS(*status_));
    if (WIFSIGNALED(*status_)) return "was killed by signal " + std::to_string(WTERMSIG(*status_));
    return "ended";
}

}  // namespace twoway_client
