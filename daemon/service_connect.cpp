#include "service_connect.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "log.hpp"

namespace twowayd {

namespace {

// The one message the child sends: what happened, and a descriptor with it when connected.
enum Status : std::int32_t {
    status_connected = 0,    // value: the address's index; the socket rides along (SCM_RIGHTS)
    status_failed = 1,       // value: connect's (or socket's) errno for the last address tried
    status_setgroups = 2,    // value: errno of the account switch step
    status_setgid = 3,
    status_setuid = 4,
    status_verify = 5,
};

struct Message {
    std::int32_t status = status_failed;
    std::int32_t value = 0;
};

const char* status_step(std::int32_t status) {
    switch (status) {
        case status_setgroups: return "setgroups";
        case status_setgid: return "setgid";
        case status_setuid: return "setuid";
        case status_verify: return "the account switch did not stick";
        default: return "the connecting child sent a malformed answer";
    }
}

// Async-signal-safe only: sendmsg with the descriptor, if any.
void send_message(int channel, Message m, int fd) {
    iovec iov{&m, sizeof m};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (fd >= 0) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    (void)::sendmsg(channel, &msg, MSG_NOSIGNAL);
}

struct ChildPlan {
    int channel = -1;
    uid_t uid = 0;
    gid_t gid = 0;
    const std::vector<gid_t>* groups = nullptr;
    const std::vector<SocketAddress>* addresses = nullptr;
    unsigned alarm_seconds = 0;
};

[[noreturn]] void fail(const ChildPlan& p, Status step) {
    send_message(p.channel, Message{step, errno}, -1);
    ::_exit(1);
}

[[noreturn]] void child_main(const ChildPlan& p) {
    // The daemon's dispositions and mask are not ours: the deadline's SIGALRM must end this process.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGALRM, &dfl, nullptr);
    ::alarm(p.alarm_seconds);
    // Nothing of the daemon's goes along into a process that becomes the account: only the answer
    // channel stays open (close_range; the kernel has it since 5.9, Debian 12's is 6.1).
    const auto keep = static_cast<unsigned>(p.channel);
    if (keep > 3) (void)::syscall(SYS_close_range, 3U, keep - 1, 0U);
    (void)::syscall(SYS_close_range, keep + 1, ~0U, 0U);

    if (::setgroups(p.groups->size(), p.groups->data()) != 0) fail(p, status_setgroups);
    if (::setgid(p.gid) != 0) fail(p, status_setgid);
    if (::setuid(p.uid) != 0) fail(p, status_setuid);
    // As the session child (child.cpp): every id is the account's, and root cannot be regained.
    if (::getuid() != p.uid || ::geteuid() != p.uid || ::getgid() != p.gid || ::getegid() != p.gid ||
        (p.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))) {
        errno = EPERM;
        fail(p, status_verify);
    }

    int last = EADDRNOTAVAIL;  // no address at all
    const auto& addresses = *p.addresses;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        const auto& a = addresses[i];
        const int s = ::socket(a.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            last = errno;
            continue;
        }
        int rc;
        do {
            rc = ::connect(s, reinterpret_cast<const sockaddr*>(&a.storage), a.size);
        } while (rc != 0 && errno == EINTR);
        if (rc == 0) {
            send_message(p.channel, Message{status_connected, static_cast<std::int32_t>(i)}, s);
            ::_exit(0);
        }
        last = errno;
        ::close(s);
    }
    errno = last;
    send_message(p.channel, Message{status_failed, last}, -1);
    ::_exit(1);
}

}  // namespace

std::optional<ConnectChild> spawn_connect_child(const Account& account, const std::vector<SocketAddress>& addresses,
                                                unsigned alarm_seconds, std::string& failure) {
    int pair[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        failure = "socketpair: " + errno_text(errno);
        return std::nullopt;
    }
    twoway::UniqueFd ours(pair[0]);
    twoway::UniqueFd theirs(pair[1]);
    const int fl = ::fcntl(ours.get(), F_GETFL);
    if (fl < 0 || ::fcntl(ours.get(), F_SETFL, fl | O_NONBLOCK) != 0) {
        failure = "fcntl: " + errno_text(errno);
        return std::nullopt;
    }
    ChildPlan plan;
    plan.channel = theirs.get();
    plan.uid = account.uid;
    plan.gid = account.gid;
    plan.groups = &account.groups;
    plan.addresses = &addresses;
    plan.alarm_seconds = alarm_seconds;

    const pid_t pid = ::fork();
    if (pid < 0) {
        failure = "fork: " + errno_text(errno);
        return std::nullopt;
    }
    if (pid == 0) child_main(plan);
    // Ours only: once the child is gone, its end closes and a read sees the end.
    theirs.reset();
    return ConnectChild{pid, std::move(ours)};
}

ConnectAnswer receive_connect_answer(int answer_fd) {
    ConnectAnswer out;
    Message m;
    iovec iov{&m, sizeof m};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(answer_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    // A descriptor that came along is ours to close whatever the message says.
    for (cmsghdr* c = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            if (out.socket) ::close(fd);
            else out.socket = twoway::UniqueFd(fd);
        }
    }
    if (n != static_cast<ssize_t>(sizeof m) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
        out.socket.reset();
        out.error = n < 0 ? errno : EPIPE;
        out.step = n == 0 ? "the connecting child ended without an answer" : "the connecting child's answer";
        return out;
    }
    if (m.status == status_connected && out.socket && m.value >= 0) {
        out.index = static_cast<std::size_t>(m.value);
        return out;
    }
    out.socket.reset();
    if (m.status == status_failed) {
        out.error = m.value;
        return out;
    }
    out.error = m.status == status_connected ? EPROTO : m.value;
    out.step = status_step(m.status == status_connected ? -1 : m.status);
    return out;
}

}  // namespace twowayd
