#include "decision_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

namespace twowayd {

namespace {
// Past this many accounts seen, the map starts again: a forgotten strand only means that one account's
// next piece of work may run beside one still running, never that work is lost.
constexpr std::size_t max_strands = 4096;
constexpr std::size_t bulk_threads = 2;

// Lowers the calling thread's priority to nice 19 (on Linux a thread's nice value is its own), once per
// thread. A failure leaves the thread at the daemon's priority: slower for others, never wrong.
void lower_this_thread() {
    thread_local bool lowered = false;
    if (lowered) return;
    lowered = true;
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
}
}  // namespace

DecisionPool::DecisionPool(std::size_t threads) : pool_(threads), bulk_(bulk_threads), lookups_(2) {}

DecisionPool::~DecisionPool() { stop(); }

void DecisionPool::stop() {
    pool_.stop();
    bulk_.stop();
    lookups_.stop();
    pool_.join();
    bulk_.join();
    lookups_.join();
}

DecisionPool::Strand DecisionPool::strand_for(uid_t account, bool bulk) {
    auto& strands = bulk ? bulk_strands_ : strands_;
    if (auto it = strands.find(account); it != strands.end()) return it->second;
    if (strands.size() >= max_strands) strands.clear();
    return strands.emplace(account, asio::make_strand((bulk ? bulk_ : pool_).get_executor())).first->second;
}

awaitable<void> DecisionPool::run(uid_t account, std::size_t input_bytes, std::function<void()> work) {
    // The work stays in this frame, which outlives the spawned coroutine (this one waits for it); the lambda
    // only points at it. (Moving it into the lambda's capture made g++ 12 destroy it twice.)
    std::function<void()>* w = &work;
    const bool bulk = input_bytes > bulk_bytes;
    co_await asio::co_spawn(
        strand_for(account, bulk),
        [w, bulk]() -> awaitable<void> {
            if (bulk) lower_this_thread();
            (*w)();
            co_return;
        },
        asio::use_awaitable);
}

awaitable<void> DecisionPool::lookup(std::function<void()> work) {
    std::function<void()>* w = &work;  // as in run(): the work stays in this frame
    co_await asio::co_spawn(
        lookups_.get_executor(),
        [w]() -> awaitable<void> {
            (*w)();
            co_return;
        },
        asio::use_awaitable);
}

}  // namespace twowayd
