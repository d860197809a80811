#include "fd_io.hpp"

#include <unistd.h>

#include <cerrno>

namespace twoway_common {

bool write_all(int fd, std::span<const std::byte> bytes) noexcept {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

bool read_exact(int fd, std::span<std::byte> to) noexcept {
    while (!to.empty()) {
        const ssize_t n = ::read(fd, to.data(), to.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        to = to.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace twoway_common
