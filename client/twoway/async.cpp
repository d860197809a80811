#include "async.hpp"

namespace twoway_client {

asio::awaitable<void> Notifier::wait() {
    if (!pending_) {
        timer_.expires_at(asio::steady_timer::time_point::max());
        (void)co_await timer_.async_wait(use_nothrow_awaitable);
    }
    pending_ = false;
}

}  // namespace twoway_client
