#include "decision_pool.hpp"

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

namespace twowayd {

namespace {
// Past this many accounts seen, the map starts again: a forgotten strand only means that one account's
// next piece of work may run beside one still running, never that work is lost.
constexpr std::size_t max_strands = 4096;
}  // namespace

DecisionPool::DecisionPool(std::size_t threads) : pool_(threads), lookups_(2) {}

DecisionPool::~DecisionPool() { stop(); }

void DecisionPool::stop() {
    pool_.stop();
    lookups_.stop();
    pool_.join();
    lookups_.join();
}

DecisionPool::Strand DecisionPool::strand_for(uid_t account) {
    if (auto it = strands_.find(account); it != strands_.end()) return it->second;
    if (strands_.size() >= max_strands) strands_.clear();
    return strands_.emplace(account, asio::make_strand(pool_.get_executor())).first->second;
}

awaitable<void> DecisionPool::run(uid_t account, std::function<void()> work) {
    // The work stays in this frame, which outlives the spawned coroutine (this one waits for it); the lambda
    // only points at it. (Moving it into the lambda's capture made g++ 12 destroy it twice.)
    std::function<void()>* w = &work;
    co_await asio::co_spawn(
        strand_for(account),
        [w]() -> awaitable<void> {
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
