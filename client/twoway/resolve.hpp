// getaddrinfo for the client's TCP sockets, in one place: the server's addresses (transport.cpp) and
// the addresses the -L listeners bind (forward.cpp). Callers word the failures their own way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "cli.hpp"

namespace twoway_client {

struct TcpLookup {
    std::vector<asio::ip::tcp::endpoint> endpoints;  // in getaddrinfo's order
    std::string error;  // gai_strerror's text when getaddrinfo failed (endpoints is then empty)
};

// The TCP addresses of host and port, of the family -4 or -6 asks for. passive: addresses to bind
// (AI_PASSIVE). An address too long for an endpoint is left out (none is, for IPv4 and IPv6), so the
// list may be empty without an error.
[[nodiscard]] TcpLookup lookup_tcp(const std::string& host, std::uint16_t port, cli::AddressFamily family,
                                   bool passive);

}  // namespace twoway_client
