// bind_source.so: LD_PRELOAD=bind_source.so TWOWAY_BIND_SOURCE=127.0.0.3 twoway ...
// Binds every IPv4 socket the program connects to the address in TWOWAY_BIND_SOURCE first, so that the
// real twoway client (which has no BindAddress option) can log in from another loopback address (the
// whole 127/8 is loopback on Linux): the lock-out test (daemon_lockout.py) and bench/run's `lockout`
// row need a good client from an address the attacker does not use. ssh has -b for the same.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

extern "C" int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    using Connect = int (*)(int, const struct sockaddr*, socklen_t);
    static const auto real = reinterpret_cast<Connect>(::dlsym(RTLD_NEXT, "connect"));
    const char* source = std::getenv("TWOWAY_BIND_SOURCE");
    if (source != nullptr && addr != nullptr && addr->sa_family == AF_INET) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source, &local.sin_addr) == 1) {
            // Already bound (EINVAL): the program chose its own address; leave it.
            (void)::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local);
        }
    }
    return real(fd, addr, len);
}
