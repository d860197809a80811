#include "notify.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace twowayd {

namespace {
std::string& socket_path() {
    static std::string path;
    return path;
}
}  // namespace

void notify_init() {
    const char* s = std::getenv("NOTIFY_SOCKET");
    // A path ("/run/systemd/notify") or an abstract name ("@..."); anything else (vsock addresses) is
    // not for a daemon on this host, and is ignored.
    if (s != nullptr && (s[0] == '/' || s[0] == '@') && std::strlen(s) < sizeof(sockaddr_un::sun_path)) {
        socket_path() = s;
    }
    (void)::unsetenv("NOTIFY_SOCKET");
}

const std::string& notify_socket() { return socket_path(); }

bool notify_service_manager(std::string_view state) {
    const std::string& path = socket_path();
    if (path.empty() || state.empty()) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
    ::close(fd);
    return n == static_cast<ssize_t>(state.size());
}

}  // namespace twowayd
