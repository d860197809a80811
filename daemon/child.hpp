// Starting a session's process: the only fork in the daemon, and only after authentication. The
// child becomes a session leader (setsid), gets the PTY as its controlling terminal (TIOCSCTTY) or
// three pipes, changes root to the ChrootDirectory if there is one (checked before fork, chroot.hpp),
// becomes the account (setgroups, setgid, setuid, checked), changes to the home directory (inside the
// chroot; / when it is not there, silently as sshd) and executes the shell. Everything the child needs (argv, environment, groups) is prepared before
// fork(), so the child calls only async-signal-safe functions until execve.
//
// Whether the execve worked comes back through a close-on-exec pipe: end of file means it did; a
// failure writes which step failed and errno. So a session is accepted only once its process runs.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <twoway/file.hpp>
#include <twoway/session.hpp>

#include "account.hpp"

namespace twowayd {

struct SpawnRequest {
    const Account* account = nullptr;
    bool switch_identity = false;          // running as root: become the account
    std::string path;                      // the program to execute; empty: the account's shell
    std::vector<std::string> argv;         // argv[0] as the program sees it ("-bash", "bash")
    std::vector<std::string> env;          // "NAME=value"
    std::optional<twoway::session::Pty> pty;
    std::vector<std::string> tty_variables;  // with a PTY: also set each NAME=/dev/pts/N (TWOWAY_TTY, SSH_TTY)
    mode_t umask = 022;                    // the program's umask (login.defs UMASK), not the daemon's
    std::string chroot;                    // ChrootDirectory, expanded and checked (chroot.hpp); empty: none.
                                           // With session_helper it goes to the helper, which
                                           // chroots the program after PAM's session opened
    // UsePAM yes: `path` is the PAM session helper (pam_session.hpp), which stays root, opens the PAM
    // session and starts the account's program itself. The report pipe stays open across execve as
    // descriptor 3 for the helper to report through (its meaning unchanged), the PTY is still given to
    // the account, and the home directory is left to the program's own start.
    bool session_helper = false;
    // The caller already leads the session with the terminal or pipes as 0, 1 and 2 (the PAM session
    // helper starting the program): no setsid, PTY or pipes; the child stays in the caller's process
    // group, so that what the daemon sends to the group (the client's signals, SIGHUP) reaches it.
    bool inherit_stdio = false;
    // PrintMotd: /etc/motd is shown before the program starts, unless ~/.hushlogin exists (looked for as
    // the account). The caller sets it for an interactive login only (a PTY, no command), as sshd does.
    bool print_motd = false;
};

// The descriptor the PAM session helper finds the report pipe on (SpawnRequest::session_helper).
inline constexpr int session_helper_report_fd = 3;

struct SpawnedChild {
    pid_t pid = -1;
    twoway::UniqueFd pty_master;  // PTY sessions: read output, write input, TIOCSWINSZ
    twoway::UniqueFd stdin_fd;    // pipe sessions: our ends
    twoway::UniqueFd stdout_fd;
    twoway::UniqueFd stderr_fd;
    twoway::UniqueFd report_fd;   // end of file once the program runs; else a SpawnFailure
    std::string tty;     // the PTY's slave name ("/dev/pts/3")
};

enum class SpawnError { pty_failed, start_failed };

struct SpawnFailure {
    SpawnError kind = SpawnError::start_failed;
    std::string message;  // for the log
};

// Forks the child. Non-blocking, close-on-exec descriptors come back. On failure nothing is left open.
[[nodiscard]] std::optional<SpawnedChild> spawn_child(const SpawnRequest& req, SpawnFailure& failure);

// What the report pipe said: nothing (the program runs), or why it did not start. `bytes` is what was
// read before end of file.
[[nodiscard]] std::optional<std::string> decode_spawn_report(const std::vector<unsigned char>& bytes);

// The signal number for a session protocol name ("INT"), limited to the signals SSH lets a client send;
// nothing for any other name.
[[nodiscard]] std::optional<int> signal_from_name(std::string_view name);
// The protocol name for a signal number ("TERM"); a made-up "SIG<n>" for numbers without one.
[[nodiscard]] std::string signal_name(int sig);

}  // namespace twowayd
