// ProxyCommand and ProxyJump (client/twoway/proxy.cpp): what is run for each (ssh's implicit
// ProxyCommand for ProxyJump, hop by hop), and the started command's life: its stdin and stdout on our
// socket, its exit seen as our end of input, and reaped.
#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../client/twoway/proxy.hpp"

using namespace twoway_client;

namespace {

using Argv = std::vector<std::string>;

ClientSettings target() {
    ClientSettings s;
    s.host_alias = "web";
    s.host_name = "web.internal";
    s.port = 2222;
    s.user = "alice";
    return s;
}

std::vector<JumpHost> hops(const std::string& spec) {
    auto j = parse_jump_spec(spec);
    REQUIRE(j.error.empty());
    return j.hops;
}

}  // namespace

TEST_CASE("proxy: none, ProxyCommand through /bin/sh with exec", "[client]") {
    cli::CommandLine line;
    auto s = target();
    auto r = proxy_plan(s, line, "/usr/bin/twoway");
    CHECK_FALSE(r.plan);
    CHECK(r.error.empty());

    s.proxy_command = "nc web.internal 2222";
    r = proxy_plan(s, line, "/usr/bin/twoway");
    REQUIRE(r.plan);
    CHECK(r.plan->argv == Argv{"/bin/sh", "-c", "exec nc web.internal 2222"});
    CHECK(r.plan->label == "ProxyCommand");
    CHECK(r.plan->display == "exec nc web.internal 2222");
}

TEST_CASE("proxy: ProxyJump is ssh's implicit ProxyCommand, the last hop outermost", "[client]") {
    cli::CommandLine line;
    auto s = target();
    s.proxy_jump = hops("bastion");
    auto r = proxy_plan(s, line, "/usr/bin/twoway");
    REQUIRE(r.plan);
    CHECK(r.plan->argv == Argv{"/usr/bin/twoway", "-W", "[web.internal]:2222", "bastion"});
    CHECK(r.plan->display == "/usr/bin/twoway -W '[web.internal]:2222' bastion");
    CHECK(r.plan->label == "ProxyJump");

    // Several hops: the inner twoway reaches the last one through the others (its -J); -l and -p only
    // when the hop names them; -F and the -v count passed on, as ssh passes them.
    s.proxy_jump = hops("a,bob@b:2200,ssh://carol@c:2201");
    line.config_file = "/etc/my config";
    line.verbosity = 2;
    r = proxy_plan(s, line, "/usr/bin/twoway");
    REQUIRE(r.plan);
    CHECK(r.plan->argv == Argv{"/usr/bin/twoway", "-l", "carol", "-p", "2201", "-J", "a,bob@b:2200", "-F",
                               "/etc/my config", "-vv", "-W", "[web.internal]:2222", "c"});
    CHECK(r.plan->display ==
          "/usr/bin/twoway -l carol -p 2201 -J a,bob@b:2200 -F '/etc/my config' -vv -W '[web.internal]:2222' c");

    // An IPv6 host name keeps its brackets in -W.
    s.host_name = "::1";
    s.proxy_jump = hops("[::2]:22");
    line = {};
    r = proxy_plan(s, line, "twoway");
    REQUIRE(r.plan);
    CHECK(r.plan->argv == Argv{"twoway", "-p", "22", "-W", "[::1]:2222", "::2"});
}

TEST_CASE("proxy: the inner twoway's jump depth is bounded", "[client]") {
    cli::CommandLine line;
    auto s = target();
    s.proxy_jump = hops("bastion");
    auto r = proxy_plan(s, line, "twoway", 3);
    REQUIRE(r.plan);
    CHECK(r.plan->jump_depth == std::optional<unsigned>(4));
    r = proxy_plan(s, line, "twoway", max_jump_hops);
    CHECK_FALSE(r.plan);
    CHECK(r.error == "too many nested ProxyJump hops (32): a ProxyJump loop in the configuration?");
    s.proxy_jump.clear();
    s.proxy_command = "nc %h %p";  // a ProxyCommand is the user's own: no depth
    r = proxy_plan(s, line, "twoway", max_jump_hops);
    REQUIRE(r.plan);
    CHECK_FALSE(r.plan->jump_depth);
}

TEST_CASE("proxy: a jump to the host itself is ssh's jumphost loop", "[client]") {
    cli::CommandLine line;
    auto s = target();
    s.proxy_jump = hops("alice@WEB:2222");
    auto r = proxy_plan(s, line, "twoway");
    CHECK_FALSE(r.plan);
    CHECK(r.error == "jumphost loop via alice@WEB:2222");
    s.proxy_jump = hops("web:2223");  // another port: no loop
    CHECK(proxy_plan(s, line, "twoway").plan);
}

TEST_CASE("proxy: the command talks on our socket; its exit is end of input; reaped", "[client]") {
    ProxyPlan plan{{"/bin/sh", "-c", "exec tr a-z A-Z"}, "ProxyCommand", "", std::nullopt};
    int fd = -1;
    std::string error;
    auto child = ProxyProcess::start(plan, fd, error);
    REQUIRE(child);
    REQUIRE(fd > 2);
    CHECK(::write(fd, "hello", 5) == 5);
    ::shutdown(fd, SHUT_WR);
    std::string got;
    char buf[64];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    CHECK(got == "HELLO");  // and then end of input: tr exited
    ::close(fd);
    for (int i = 0; i < 500 && !child->reap(); ++i) ::usleep(10000);
    CHECK(child->exited());
    CHECK(child->describe_exit() == "exited with status 0");

    // A command that does not exit is hung up on and reaped when its ProxyProcess goes.
    pid_t pid = -1;
    {
        ProxyPlan sleeper{{"/bin/sh", "-c", "exec sleep 30"}, "ProxyCommand", "", std::nullopt};
        auto s = ProxyProcess::start(sleeper, fd, error);
        REQUIRE(s);
        pid = s->pid();
        ::close(fd);
        CHECK_FALSE(s->reap());
    }
    CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);  // already reaped
    CHECK(errno == ECHILD);

    // ProxyJump's inner twoway gets its depth in the environment.
    ProxyPlan env{{"/bin/sh", "-c", "exec printenv TWOWAY_JUMP_DEPTH"}, "ProxyJump", "", 7};
    auto e = ProxyProcess::start(env, fd, error);
    REQUIRE(e);
    got.clear();
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    CHECK(got == "7\n");

    // A program that cannot be started.
    ProxyPlan missing{{"/nonexistent/twoway", "-W", "x:1", "h"}, "ProxyJump", "", std::nullopt};
    CHECK_FALSE(ProxyProcess::start(missing, fd, error));
    CHECK(error == "cannot run /nonexistent/twoway: No such file or directory");
}
