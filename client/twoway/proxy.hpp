// ProxyCommand and ProxyJump (ssh's): the connection to the host runs over the standard input and
// output of a command instead of a TCP socket. ProxyCommand runs /bin/sh -c "exec COMMAND" (tokens
// already expanded by resolve()); ProxyJump is ssh's implicit ProxyCommand, this same program run as
// `twoway [-l user] [-p port] [-J earlier,hops] [-F file] [-v...] -W [host]:port last-hop`, so each hop
// checks its own host key against known_hosts. The command's stdin and stdout are one end of a
// socketpair(AF_UNIX, SOCK_STREAM); its stderr is ours. Asio-free: transport.cpp runs the stream over
// the other end.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "cli.hpp"
#include "client_config.hpp"

namespace twoway_client {

// What to run, and how to name it in messages.
struct ProxyPlan {
    std::vector<std::string> argv;  // argv[0] is the program's path
    std::string label;              // "ProxyCommand" or "ProxyJump"
    std::string display;            // the command line, for -v (ssh: "Executing proxy command: ...")
    // ProxyJump: the inner twoway's nesting depth, passed in its environment (jump_depth_variable).
    std::optional<unsigned> jump_depth;
};

// How deep in a chain of ProxyJump processes this twoway runs (0: started by a person or script). A
// configuration can loop (Host a: ProxyJump b; Host b: ProxyJump a), which would start twoways without
// end; ssh has no bound, twoway refuses to start a jump deeper than max_jump_hops.
inline constexpr const char* jump_depth_variable = "TWOWAY_JUMP_DEPTH";

struct ProxyPlanResult {
    std::optional<ProxyPlan> plan;  // nothing and no error: a direct connection
    std::string error;              // why there is no plan (ssh's "jumphost loop via h")
};

// The proxy the settings ask for. self: the path of this program, for ProxyJump's inner twoway.
// depth: this process's jump depth (jump_depth()).
[[nodiscard]] ProxyPlanResult proxy_plan(const ClientSettings& settings, const cli::CommandLine& line,
                                         const std::string& self, unsigned depth = 0);

// This process's jump depth, from its environment (0 when unset or not a number).
[[nodiscard]] unsigned jump_depth();

// The path of the running program (/proc/self/exe), else "twoway" (looked up in PATH when run).
[[nodiscard]] std::string self_executable();

// A started proxy command. The destructor reaps it: a command still running then gets SIGHUP (as ssh
// sends it), and SIGKILL if it outlives that by 100 ms, so that no zombie stays behind a long-lived
// twoway (-L opens one proxy per forwarded connection).
class ProxyProcess {
public:
    // Starts the plan with its stdin and stdout on one end of a new socketpair; our end (close-on-exec)
    // goes to fd. Nothing on failure, with the reason in error.
    [[nodiscard]] static std::optional<ProxyProcess> start(const ProxyPlan& plan, int& fd, std::string& error);

    ProxyProcess(ProxyProcess&& other) noexcept;
    ProxyProcess& operator=(ProxyProcess&&) = delete;
    ProxyProcess(const ProxyProcess&) = delete;
    ProxyProcess& operator=(const ProxyProcess&) = delete;
    ~ProxyProcess();

    // Non-blocking waitpid: whether the command has exited (it is then reaped).
    [[nodiscard]] bool reap() noexcept;
    [[nodiscard]] bool exited() const noexcept { return status_.has_value(); }
    // SIGHUP, as ssh's ssh_kill_proxy_command().
    void hang_up() noexcept;
    // Reaps it now: SIGKILL when it has not exited, then a blocking waitpid.
    void kill_and_reap() noexcept;
    // "exited with status N" or "was killed by signal N" (after reap() returned true).
    [[nodiscard]] std::string describe_exit() const;
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    explicit ProxyProcess(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
    std::optional<int> status_;  // waitpid's status once reaped
};

}  // namespace twoway_client
