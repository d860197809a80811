// UsePAM yes: PAM's account and session phases, as Debian's sshd runs them for a key login.
//
// twowayd is multi-threaded (the event loop and the DecisionPool) and PAM modules are not written for
// that: they fork, change identities, set resource limits and signal handlers of the calling process.
// So PAM never runs inside the daemon, nor in a forked copy of it before execve. twowayd executes
// itself again (/proc/self/exe) in a hidden mode, a fresh single-threaded process:
//   twowayd --pam-account ...  the account phase (pam_acct_mgmt) once the key is accepted, run off the
//                              event loop as AuthorizedKeysCommand is (child_program.hpp), with a timeout;
//                              it prints its verdict on one line;
//   twowayd --pam-session ...  the session phase: what the session's child executes, as root, instead of
//                              the account's program. It opens the session (pam_setcred, pam_open_session),
//                              starts the program as the account (spawn_child with inherit_stdio), stays
//                              its parent for its life, then closes the session and exits as the program
//                              did. Its report pipe (descriptor 3) keeps child.hpp's meaning: end of file
//                              once the program runs, else the step that failed.
// The service is PAMServiceName ("twowayd"); PAM_RHOST is the client's address and PAM_TTY "ssh" until
// a PTY's name is known (sshd's PAM_TTY_KLUDGE), as sshd sets them; PAM_RUSER is not set (sshd does not).
// PAM's prompts get PAM_CONV_ERR: there is no password to ask for over a key login.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "account.hpp"
#include "async.hpp"
#include "child.hpp"

namespace twowayd {

class Server;

// argv[1] of the hidden modes (main.cpp hands them over before parsing any option).
inline constexpr std::string_view pam_account_mode = "--pam-account";
inline constexpr std::string_view pam_session_mode = "--pam-session";
[[nodiscard]] int pam_account_main(int argc, char** argv);
[[nodiscard]] int pam_session_main(int argc, char** argv);

// What the account phase decided.
struct PamAccountVerdict {
    enum class Kind : unsigned char {
        allowed,
        password_expired,  // PAM_NEW_AUTHTOK_REQD: allowed, but the session runs passwd (sshd's do_pwchange)
        refused,           // reason: pam_strerror ("User account has expired")
        failed,            // the helper could not decide (pam_start failed, timed out, ...): refused, our fault
    };
    Kind kind = Kind::failed;
    std::string reason;
    [[nodiscard]] bool allowed() const noexcept { return kind == Kind::allowed || kind == Kind::password_expired; }
};

// What the helpers set up PAM with.
struct PamFacts {
    std::string service;     // PAMServiceName
    std::string rhost;       // PAM_RHOST: the client's address
    std::string connection;  // TWOWAY_CONNECTION's value, put into PAM's environment (sshd: SSH_CONNECTION)
};

inline constexpr auto pam_account_timeout = std::chrono::seconds(30);

// Runs the account helper for `account` and reads its verdict.
[[nodiscard]] awaitable<PamAccountVerdict> pam_account_check(Server& server, const Account& account, PamFacts facts);

// The helper's verdict line ("allowed", "password-expired", "refused TEXT", "failed TEXT") read back.
[[nodiscard]] PamAccountVerdict parse_pam_account_output(std::string_view output);

// The spawn request that runs `program` (what spawn_child would start for the session) through the
// session helper. password_expired: the program is replaced as sshd's do_pwchange does.
[[nodiscard]] SpawnRequest pam_session_request(const SpawnRequest& program, const PamFacts& facts,
                                               bool password_expired);

// The session helper's arguments, and back (the helper's side). The program's environment does not go
// on the command line, which every local user can read in /proc: it travels in the helper's own
// environment (readable by root only), each entry under a name no loader or library acts on
// (TWOWAYD_SESSION_ENV_<n>=NAME=value), so that no variable of the client's applies to the root helper.
struct PamSessionArgs {
    PamFacts facts;
    std::string user;
    bool password_expired = false;
    mode_t umask = 022;
    std::vector<std::string> tty_variables;  // names to set to the PTY's path (comma-joined in the argv)
    std::string path;
    bool print_motd = false;  // PrintMotd for the program (SpawnRequest::print_motd)
    std::string chroot;  // ChrootDirectory, checked by the daemon; empty: none. Applied to the program only
    std::vector<std::string> argv;
    std::vector<std::string> env;  // not in pam_session_argv: pam_session_environment
};
[[nodiscard]] std::vector<std::string> pam_session_argv(const PamSessionArgs& args);
[[nodiscard]] std::optional<PamSessionArgs> parse_pam_session_argv(const std::vector<std::string>& words);
// The helper's environment for a program environment (PATH first), and the program environment found in
// a helper's environment (entries in their order; anything else is ignored).
[[nodiscard]] std::vector<std::string> pam_session_environment(const std::vector<std::string>& program_env);
[[nodiscard]] std::vector<std::string> program_environment_from(const std::vector<std::string>& helper_env);

// What a session's report pipe said, the PAM helper's steps included (decode_spawn_report otherwise).
[[nodiscard]] std::optional<std::string> decode_session_report(const std::vector<unsigned char>& bytes);

}  // namespace twowayd
