// The daemon's side of UsePAM yes (pam.hpp) without PAM itself: the account helper's verdict line read
// back (and every malformed one failing closed), the session helper's arguments there and back, the
// spawn request that runs a program through the helper, and the helper's steps in a session's report.
#include <catch2/catch.hpp>

#include <security/pam_appl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pam.hpp"
#include "pam_conv.hpp"

using namespace twowayd;

namespace {

std::vector<unsigned char> report(int step, int code) {
    std::vector<unsigned char> bytes(2 * sizeof(int));
    std::memcpy(bytes.data(), &step, sizeof step);
    std::memcpy(bytes.data() + sizeof step, &code, sizeof code);
    return bytes;
}

}  // namespace

TEST_CASE("pam: the account helper's verdict line", "[daemon]") {
    using Kind = PamAccountVerdict::Kind;
    CHECK(parse_pam_account_output("allowed\n").kind == Kind::allowed);
    CHECK(parse_pam_account_output("allowed\n").allowed());
    const auto expired = parse_pam_account_output("password-expired\n");
    CHECK(expired.kind == Kind::password_expired);
    CHECK(expired.allowed());
    const auto refused = parse_pam_account_output("refused User account has expired\n");
    CHECK(refused.kind == Kind::refused);
    CHECK(refused.reason == "User account has expired");
    CHECK(!refused.allowed());
    const auto failed = parse_pam_account_output("failed pam_start: Critical error - immediate abort\n");
    CHECK(failed.kind == Kind::failed);
    CHECK(failed.reason == "pam_start: Critical error - immediate abort");
    // Anything else fails closed, as the daemon's trouble.
    for (const char* bad : {"", "allowed", "allowed\n\n", "allowed\nallowed\n", "ALLOWED\n", "allowed \n", "refused\n",
                            "ok\n", "allowedx\n", "password-expired", " allowed\n"}) {
        INFO(bad);
        const auto v = parse_pam_account_output(bad);
        CHECK(v.kind == Kind::failed);
        CHECK(!v.allowed());
        CHECK(!v.reason.empty());
    }
}

TEST_CASE("pam: the session helper's PTY variable names: none, several, and malformed lists refused", "[daemon]") {
    PamSessionArgs a;
    a.facts = {"twowayd-test", "192.0.2.7", "192.0.2.7 51234 192.0.2.1 22"};
    a.user = "alice";
    a.path = "/bin/sh";
    a.argv = {"sh"};
    auto words = pam_session_argv(a);
    auto back = parse_pam_session_argv(words);
    REQUIRE(back);
    CHECK(back->tty_variables.empty());
    for (const char* bad : {",", "A,", ",A", "A,,B", "A=B"}) {
        words[7] = bad;
        CHECK_FALSE(parse_pam_session_argv(words));
    }
    words[7] = "A,B";
    back = parse_pam_session_argv(words);
    REQUIRE(back);
    CHECK(back->tty_variables == std::vector<std::string>{"A", "B"});
}

TEST_CASE("pam: the session helper's arguments, there and back", "[daemon]") {
    PamSessionArgs a;
    a.facts = {"twowayd-test", "192.0.2.7", "192.0.2.7 51234 192.0.2.1 22"};
    a.user = "alice";
    a.password_expired = true;
    a.tty_variables = {"TWOWAY_TTY", "SSH_TTY"};
    a.path = "/bin/bash";
    a.chroot = "/srv/jail/alice";
    a.print_motd = true;
    a.argv = {"bash", "-c", "echo -- \"$X\"", ""};
    a.env = {"HOME=/home/alice", "X=1 2", "EMPTY="};
    const auto words = pam_session_argv(a);
    CHECK(words[1] == pam_session_mode);
    const auto back = parse_pam_session_argv(words);
    REQUIRE(back);
    CHECK(back->facts.service == a.facts.service);
    CHECK(back->facts.rhost == a.facts.rhost);
    CHECK(back->facts.connection == a.facts.connection);
    CHECK(back->user == "alice");
    CHECK(back->password_expired);
    CHECK(back->tty_variables == std::vector<std::string>{"TWOWAY_TTY", "SSH_TTY"});
    CHECK(back->path == "/bin/bash");
    CHECK(back->chroot == "/srv/jail/alice");
    CHECK(back->print_motd);
    CHECK(back->argv == a.argv);
    // The environment is not on the command line (every local user can read that in /proc).
    CHECK(back->env.empty());
    for (const auto& w : words) CHECK(w.find("HOME=/home/alice") == std::string::npos);

    a.password_expired = false;
    const auto not_expired = parse_pam_session_argv(pam_session_argv(a));
    REQUIRE(not_expired);
    CHECK(!not_expired->password_expired);

    // Malformed: refused whole.
    auto broken = [&](auto change) {
        auto w = pam_session_argv(a);
        change(w);
        return !parse_pam_session_argv(w).has_value();
    };
    CHECK(broken([](auto& w) { w[1] = "--pam-account"; }));
    CHECK(broken([](auto& w) { w[6] = "yes"; }));
    CHECK(broken([](auto& w) { w[11] = "0"; }));        // a program needs its argv[0]
    CHECK(broken([](auto& w) { w[11] = "5"; }));        // more than there are
    CHECK(broken([](auto& w) { w[11] = "3"; }));        // fewer than there are
    CHECK(broken([](auto& w) { w.push_back("X=1"); }));
    CHECK(broken([](auto& w) { w[11] = "3x"; }));
    CHECK(broken([](auto& w) { w[11] = "-1"; }));
    CHECK(broken([](auto& w) { w[3].clear(); }));      // no user
    CHECK(broken([](auto& w) { w[8].clear(); }));      // no program
    CHECK(broken([](auto& w) { w[9] = "jail"; }));     // a chroot that is not an absolute path
    CHECK(broken([](auto& w) { w[10] = "yes"; }));     // print_motd is 0 or 1
    CHECK(broken([](auto& w) { w.resize(11); }));
}

TEST_CASE("pam: a program runs through the session helper", "[daemon]") {
    Account alice{"alice", 1000, 1000, "/home/alice", "/bin/bash", {1000}, "x"};
    SpawnRequest program;
    program.account = &alice;
    program.switch_identity = true;
    program.argv = {"-bash"};
    program.env = {"HOME=/home/alice", "LD_PRELOAD=/tmp/evil.so"};
    program.tty_variables = {"TWOWAY_TTY", "SSH_TTY"};
    program.umask = 027;
    program.chroot = "/srv/jail";
    const auto req = pam_session_request(program, {"twowayd", "192.0.2.7", "192.0.2.7 1 192.0.2.1 2"}, false);
    CHECK(req.path == "/proc/self/exe");
    CHECK(req.session_helper);
    CHECK(!req.switch_identity);  // the helper stays root; the program becomes the account
    CHECK(req.umask == 027);
    CHECK(req.tty_variables.empty());
    CHECK(req.chroot.empty());  // the helper stays outside; the program is chrooted
    // The client's variables are the program's: in the root helper's environment only under names that
    // no loader or library acts on, and never on its command line.
    CHECK(req.env == std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                              "TWOWAYD_SESSION_ENV_0=HOME=/home/alice",
                                              "TWOWAYD_SESSION_ENV_1=LD_PRELOAD=/tmp/evil.so"});
    for (const auto& w : req.argv) CHECK(w.find("LD_PRELOAD") == std::string::npos);
    CHECK(program_environment_from(req.env) == program.env);
    const auto args = parse_pam_session_argv(req.argv);
    REQUIRE(args);
    CHECK(args->path == "/bin/bash");  // no path: the account's shell
    CHECK(args->argv == program.argv);
    CHECK(args->user == "alice");
    CHECK(args->tty_variables == std::vector<std::string>{"TWOWAY_TTY", "SSH_TTY"});
    CHECK(args->chroot == "/srv/jail");
}

TEST_CASE("pam: the program's environment through the helper's, in order, and nothing else", "[daemon]") {
    std::vector<std::string> env;
    for (int i = 0; i < 12; ++i) env.push_back("V" + std::to_string(i) + "=" + std::to_string(i) + "=x");
    env.push_back("EMPTY=");
    auto helper = pam_session_environment(env);
    CHECK(helper.front() == "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    // The order comes from the numbers, not from where the entries stand (10 sorts before 2 as text).
    std::reverse(helper.begin(), helper.end());
    helper.push_back("TWOWAYD_SESSION_ENV_=X=1");
    helper.push_back("TWOWAYD_SESSION_ENV_x=X=1");
    helper.push_back("TWOWAYD_SESSION_ENV_1x=X=1");
    helper.push_back("TWOWAYD_SESSION_ENV_5");
    helper.push_back("LANG=C");
    CHECK(program_environment_from(helper) == env);
    CHECK(program_environment_from({}).empty());
}

TEST_CASE("pam: the conversation keeps the messages and answers no prompt", "[daemon]") {
    PamMessages messages;
    const pam_message info{PAM_TEXT_INFO, "Welcome to the test host"};
    const pam_message error{PAM_ERROR_MSG, "Your account will expire soon"};
    const pam_message prompt{PAM_PROMPT_ECHO_OFF, "Password: "};
    const pam_message echo{PAM_PROMPT_ECHO_ON, "login: "};
    {
        const pam_message* msgs[] = {&info, &error};
        pam_response* resp = nullptr;
        REQUIRE(twowayd_pam_conversation(2, msgs, &resp, &messages) == PAM_SUCCESS);
        REQUIRE(resp != nullptr);
        CHECK(resp[0].resp == nullptr);
        CHECK(resp[1].resp == nullptr);
        std::free(resp);
        CHECK(messages.text == "Welcome to the test host\nYour account will expire soon\n");
    }
    // A prompt, alone or after a message: PAM_CONV_ERR, and no response to free.
    for (const pam_message* p : {&prompt, &echo}) {
        const pam_message* msgs[] = {&info, p};
        pam_response* resp = reinterpret_cast<pam_response*>(1);
        CHECK(twowayd_pam_conversation(2, msgs, &resp, &messages) == PAM_CONV_ERR);
        CHECK(resp == nullptr);
    }
    pam_response* resp = nullptr;
    CHECK(twowayd_pam_conversation(0, nullptr, &resp, &messages) == PAM_CONV_ERR);
    CHECK(twowayd_pam_conversation(PAM_MAX_NUM_MSG + 1, nullptr, &resp, &messages) == PAM_CONV_ERR);
}

TEST_CASE("pam: the session helper's steps in the report", "[daemon]") {
    CHECK(!decode_session_report({}));  // end of file: the program runs
    CHECK(decode_session_report(report(105, PAM_SESSION_ERR)) ==
          std::string("PAM: pam_open_session(): ") + ::pam_strerror(nullptr, PAM_SESSION_ERR));
    CHECK(decode_session_report(report(102, PAM_ABORT)) ==
          std::string("PAM: pam_start(): ") + ::pam_strerror(nullptr, PAM_ABORT));
    CHECK(decode_session_report(report(101, 0)) == "PAM session helper: no such account");
    CHECK(decode_session_report(report(104, EPERM))->starts_with("PAM session helper: setgroups: "));
    // child.cpp's own steps still read as before (the program's exec, through the helper).
    CHECK(decode_session_report(report(8, ENOENT)) == decode_spawn_report(report(8, ENOENT)));
    CHECK(decode_session_report({1, 2, 3}) == decode_spawn_report({1, 2, 3}));
}
