// Descriptors are the one resource every connection, session, pipe and account lookup draws from the
// same pool: the process's RLIMIT_NOFILE. Two things keep that pool from locking everyone out:
//   raise_descriptor_limit  the soft limit goes up to the hard one at start (systemd's default soft
//                           limit, 1024, is a few hundred sessions); the children of sessions get the
//                           original soft limit back, since programs that loop over every possible
//                           descriptor or use select() expect the usual one;
//   SpareDescriptor         one descriptor held in reserve, so that at the limit the daemon can still
//                           accept a waiting connection to close it. Left in the backlog, the connection
//                           keeps the listening socket readable, and every accept() fails again at once.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <optional>

namespace twowayd {

struct DescriptorLimit {
    rlim_t before = 0;  // the soft limit found at start
    rlim_t now = 0;     // the soft limit in force
    rlim_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (or to the kernel's nr_open, if the hard limit is
// unlimited) and remembers the original soft limit for child_descriptor_limit(). Call once, at start.
DescriptorLimit raise_descriptor_limit();

// The limit a session's child should run with (the soft limit found at start, the hard one unchanged);
// nothing when raise_descriptor_limit() changed nothing.
[[nodiscard]] std::optional<rlimit> child_descriptor_limit() noexcept;

// The soft limit in force now.
[[nodiscard]] rlim_t descriptor_limit() noexcept;

// How many sessions a descriptor limit can serve: each may hold four descriptors (its connection and
// three pipes; a PTY or service connection take fewer), and sessions get at most three quarters of what
// the limit leaves after the daemon's own few, so that connections still being authenticated, and the
// account lookups NSS makes for them, find descriptors too. At least 1.
[[nodiscard]] std::uint64_t sessions_descriptors_serve(rlim_t limit) noexcept;

// How many unauthenticated connections a descriptor limit can serve, in each of two places: the
// MaxStartups table and the shed connections held before their close. Each holds one descriptor; the
// quarter of the limit that sessions leave (above) is split between the two, so that a full table, a
// full hold and every session the limit serves still fit under it together. At least 1.
[[nodiscard]] std::uint64_t startups_descriptors_serve(rlim_t limit) noexcept;

// An open /dev/null held in reserve. release() frees it for a moment (the caller then accepts and closes
// one connection); restore() takes it back. Failing to take it back is not fatal: the accept loop then
// falls back to pausing (see Server::accept_loop).
class SpareDescriptor {
public:
    SpareDescriptor() { restore(); }
    ~SpareDescriptor() { release(); }
    SpareDescriptor(const SpareDescriptor&) = delete;
    SpareDescriptor& operator=(const SpareDescriptor&) = delete;

    [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }
    void release() noexcept;
    bool restore() noexcept;

private:
    int fd_ = -1;
};

// Accepts one connection waiting on the (non-blocking) listening socket and closes it at once, without
// a byte. True when one was taken off the backlog.
bool accept_and_close(int listen_fd) noexcept;

}  // namespace twowayd
