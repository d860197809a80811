// The decision pool's lanes (work over a large input runs at nice 19, ordinary work at the daemon's
// priority) and TemporaryIdentity's reach (the calling thread only: the pool's threads stay root).
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "account.hpp"
#include "decision_pool.hpp"

using namespace twowayd;

namespace {

int my_nice() {
    errno = 0;
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

// Runs work through pool.run(account, bytes, ...) from an io_context, as the daemon's loop does.
void run_on_pool(DecisionPool& pool, uid_t account, std::size_t bytes, std::function<void()> work) {
    asio::io_context io;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            co_await pool.run(account, bytes, work);
            done = true;
        },
        asio::detached);
    io.run();
    REQUIRE(done);
}

}  // namespace

TEST_CASE("decision pool: large inputs run at nice 19, ordinary ones at the daemon's priority", "[daemon]") {
    const int base = my_nice();
    DecisionPool pool(2);
    int small_nice = -100;
    int bulk_nice = -100;
    std::thread::id small_thread;
    std::thread::id bulk_thread;
    run_on_pool(pool, 1000, 4096, [&] {
        small_nice = my_nice();
        small_thread = std::this_thread::get_id();
    });
    run_on_pool(pool, 1000, bulk_bytes + 1, [&] {
        bulk_nice = my_nice();
        bulk_thread = std::this_thread::get_id();
    });
    CHECK(small_nice == base);
    CHECK(bulk_nice == 19);
    CHECK(small_thread != bulk_thread);
    // Ordinary work after bulk work still runs at the daemon's priority (the lanes' threads are apart).
    run_on_pool(pool, 1000, bulk_bytes, [&] { small_nice = my_nice(); });
    CHECK(small_nice == base);
    CHECK(my_nice() == base);  // the caller's thread is untouched
    pool.stop();
}

TEST_CASE("TemporaryIdentity switches the calling thread only", "[daemon]") {
    if (::geteuid() != 0) {
        WARN("not root: TemporaryIdentity switches nothing, nothing to check");
        return;
    }
    Account nobody;
    nobody.name = "nobody";
    nobody.uid = 65534;
    nobody.gid = 65534;
    nobody.home = "/nonexistent";
    nobody.shell = "/usr/sbin/nologin";
    nobody.groups = {65534};
    std::atomic<uid_t> other_euid{1};
    std::atomic<bool> check{false};
    std::atomic<bool> checked{false};
    std::thread other([&] {
        while (!check) std::this_thread::yield();
        other_euid = ::geteuid();
        checked = true;
    });
    {
        TemporaryIdentity as(nobody);
        REQUIRE(as.ok());
        CHECK(::geteuid() == 65534);
        CHECK(::getegid() == 65534);
        check = true;
        while (!checked) std::this_thread::yield();
        CHECK(other_euid == 0);  // glibc's seteuid would have switched this thread too
    }
    other.join();
    CHECK(::geteuid() == 0);
    CHECK(::getegid() == 0);
}
