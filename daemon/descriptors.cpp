#include "descriptors.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace twowayd {

namespace {

std::optional<rlimit>& original_limit() {
    static std::optional<rlimit> original;
    return original;
}

// The most descriptors the kernel lets a process have, whatever its hard limit says.
rlim_t kernel_nr_open() {
    rlim_t n = 1u << 20;  // the kernel's default
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
        unsigned long v = 0;
        if (std::fscanf(f, "%lu", &v) == 1 && v > 0) n = v;
        std::fclose(f);
    }
    return n;
}

}  // namespace

DescriptorLimit raise_descriptor_limit() {
    DescriptorLimit out;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return out;
    out.before = out.now = rl.rlim_cur;
    out.hard = rl.rlim_max;
    const rlim_t target = rl.rlim_max == RLIM_INFINITY ? kernel_nr_open() : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < target) {
        const rlimit raised{target, rl.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            original_limit() = rl;
            out.now = target;
        }
    }
    return out;
}

std::optional<rlimit> child_descriptor_limit() noexcept { return original_limit(); }

rlim_t descriptor_limit() noexcept {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    return rl.rlim_cur;
}

namespace {
constexpr rlim_t own_descriptors = 64;  // listeners, the loop's, the log, the spare, a spawn's transient pipes
}

std::uint64_t sessions_descriptors_serve(rlim_t limit) noexcept {
    if (limit == RLIM_INFINITY) return UINT64_MAX;
    if (limit <= own_descriptors) return 1;
    return std::max<std::uint64_t>(1, (limit - own_descriptors) * 3 / 4 / 4);
}

std::uint64_t startups_descriptors_serve(rlim_t limit) noexcept {
    if (limit == RLIM_INFINITY) return UINT64_MAX;
    if (limit <= own_descriptors) return 1;
    return std::max<std::uint64_t>(1, (limit - own_descriptors) / 4 / 2);
}

void SpareDescriptor::release() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool SpareDescriptor::restore() noexcept {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd_ >= 0;
}

bool accept_and_close(int listen_fd) noexcept {
    int fd = -1;
    do {
        fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

}  // namespace twowayd
