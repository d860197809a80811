#include "async.hpp"

namespace twowayd {

awaitable<void> Condition::wait() { (void)co_await timer_.async_wait(use_nothrow_awaitable); }

}  // namespace twowayd
