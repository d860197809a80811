#include "resolve.hpp"

#include <cstring>

#include <netdb.h>
#include <sys/socket.h>

namespace twoway_client {

TcpLookup lookup_tcp(const std::string& host, std::uint16_t port, cli::AddressFamily family, bool passive) {
    struct addrinfo hints {};
    hints.ai_family = family == cli::AddressFamily::inet    ? AF_INET
                      : family == cli::AddressFamily::inet6 ? AF_INET6
                                                            : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    struct addrinfo* list = nullptr;
    const std::string service = std::to_string(port);
    TcpLookup out;
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
        out.error = ::gai_strerror(rc);
        return out;
    }
    for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
        asio::ip::tcp::endpoint ep;
        if (ai->ai_addrlen > ep.capacity()) continue;
        std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
        ep.resize(ai->ai_addrlen);
        out.endpoints.push_back(ep);
    }
    ::freeaddrinfo(list);
    return out;
}

}  // namespace twoway_client
