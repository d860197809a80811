// Asio vocabulary shared by the daemon's event-driven parts: coroutines whose I/O reports errors as
// values (twoway::use_nothrow_awaitable), and a condition for coroutines of one connection to wait on each other. Everything
// runs on one single-threaded io_context, so no state needs a lock; a coroutine only ever yields at a
// co_await.
#pragma once

#include <string>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <twoway/asio_stream.hpp>

namespace twowayd {

using asio::awaitable;
using asio::ip::tcp;

// A client connection: libtwoway's one driver of handshake and channel over the socket.
using Transport = twoway::stream<tcp::socket>;

// Completion token: the coroutine gets (error_code, result...) back instead of an exception.
using twoway::use_nothrow_awaitable;

// Wakes every coroutine waiting on it. Waiters re-check their own predicate in a loop:
//     while (!ready()) co_await changed.wait();
// A notify can never be lost: on one thread, checking the predicate and starting the wait happen
// without a yield in between.
class Condition {
public:
    explicit Condition(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

    // Out of line (async.cpp): g++ 12 names an inline coroutine's frame fields after per-TU temporaries,
    // which an LTO link with -Werror=odr reports as an ODR violation (a false one).
    awaitable<void> wait();
    void notify_all() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

// The two ends of a TCP connection, as the log shows them ("127.0.0.1 port 51234").
struct Peer {
    std::string ip;
    unsigned short port = 0;
    std::string local_ip;
    unsigned short local_port = 0;

    [[nodiscard]] std::string text() const { return ip + " port " + std::to_string(port); }
};

}  // namespace twowayd
