// The connection to a named service, made as the account (issue 15). sshd makes forwarded connections
// from the per-user process, after the privilege drop, so owner-match firewall rules (iptables -m owner
// --uid-owner), SO_PEERCRED on Unix sockets and the kernel's socket permissions see the user, not root.
// twowayd is one process, so a root daemon forks a short child for it: the child becomes the account
// (setgroups, setgid, setuid, checked), tries the service's addresses in order (socket, connect), and
// hands the connected descriptor back over a socketpair (SCM_RIGHTS), or the errno of the last failure.
// Every address is resolved before fork(): the child calls only async-signal-safe functions until it
// _exits. The daemon waits for the answer on its event loop and never blocks; at its connect timeout it
// kills the child (the server's SIGCHLD handling reaps it).
//
// A daemon that is not root runs as the one account it serves and connects directly, as before.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <twoway/file.hpp>

#include "account.hpp"

namespace twowayd {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t size = 0;
};

struct ConnectChild {
    pid_t pid = -1;
    twoway::UniqueFd answer;  // non-blocking, close-on-exec: readable once the child has answered (or died)
};

// Forks the child (its deadline, as a last resort should the daemon be gone: alarm(seconds)). Nothing,
// with `failure` set, when the socketpair or the fork failed.
[[nodiscard]] std::optional<ConnectChild> spawn_connect_child(const Account& account,
                                                              const std::vector<SocketAddress>& addresses,
                                                              unsigned alarm_seconds, std::string& failure);

// The child's answer, read once the answer descriptor is readable: the connected socket and which
// address it reached, or the errno of what failed (`step` names a failed account switch; empty when
// connect itself failed). Without any message (the child died, was killed): error EPIPE and step
// "the connecting child ended without an answer".
struct ConnectAnswer {
    twoway::UniqueFd socket;
    std::size_t index = 0;
    int error = 0;
    std::string step;
};
[[nodiscard]] ConnectAnswer receive_connect_answer(int answer_fd);

}  // namespace twowayd
