// Small Asio helpers shared by the client's coroutines: errors as values, and a wake-up flag between
// coroutines of the one (single-threaded) event loop.
#pragma once

#include <chrono>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <twoway/asio_stream.hpp>

namespace twoway_client {

// co_await op(..., use_nothrow_awaitable) gives std::tuple<std::error_code, ...> instead of throwing.
using twoway::use_nothrow_awaitable;

// A level-triggered event for one waiter: notify() before or during wait() makes wait() return (once).
// All on one thread, so a flag and a timer that never expires by itself are enough.
class Notifier {
public:
    explicit Notifier(const asio::any_io_executor& ex) : timer_(ex) {}

    void notify() {
        pending_ = true;
        timer_.cancel();
    }

    // Out of line (async.cpp), as twowayd's Condition::wait: g++ 12 names an inline coroutine's frame
    // differently in each translation unit that expands it, and LTO's ODR check (-Werror=odr) then
    // refuses to link two of them into one program.
    asio::awaitable<void> wait();

private:
    asio::steady_timer timer_;
    bool pending_ = false;
};

}  // namespace twoway_client
