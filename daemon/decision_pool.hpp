// Work that must not hold the event loop while it runs: parsing and searching an account's authorized
// keys (the account's owner decides how big that file is, up to the 16 MiB cap on trust files, about
// 0.2 s of parsing) and the output of AuthorizedKeysCommand. It runs on a few threads of its own.
//
// Only pure work goes there: the files are opened on the loop, as the account (TemporaryIdentity
// switches the loop thread's effective uid; the pool's threads stay root), and the work gets
// their contents or descriptors. Work for one account runs one piece at a time (a strand per uid), so
// however many refused logins one account's owner provokes, they hold one thread, and every other
// account's verdict goes on beside them.
//
// Work over a large input (more than bulk_bytes: no ordinary authorized_keys is that big) runs on threads
// of its own at the lowest CPU priority (nice 19), so that on a machine with few cores the parsing one
// account's owner provokes takes only the CPU nobody else wants: on 2 cores, three loops refused against a
// 16 MiB file took every other login from 19 to 39 ms at equal priority (bench/run's bigkeys row).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <unordered_map>

#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include "async.hpp"

namespace twowayd {

// Past this many bytes of input a piece of work goes to the low-priority lane (about 10,000 key lines).
// It is also the size up to which the daemon parses an authorized_keys file whole (authorized.cpp): a
// larger one is read through the filter, on this lane.
inline constexpr std::size_t bulk_bytes = 1024 * 1024;

class DecisionPool {
public:
    explicit DecisionPool(std::size_t threads);
    ~DecisionPool();
    DecisionPool(const DecisionPool&) = delete;
    DecisionPool& operator=(const DecisionPool&) = delete;

    // Runs work on a pool thread, after the account's earlier work in the same lane; resumes the caller on its
    // own executor when done. input_bytes, the size of what the work reads, picks the lane (more than
    // bulk_bytes: the low-priority one). An exception from work reaches the caller. Call from the event loop only.
    awaitable<void> run(uid_t account, std::size_t input_bytes, std::function<void()> work);

    // Runs a name-service lookup (getpwnam_r, getgrouplist, getspnam_r, getgrgid_r: through NSS, which may
    // ask a directory, LDAP or SSSD, and wait for its timeout) on a thread of two kept for lookups, apart
    // from the key work, so that a directory that hangs holds neither the loop nor the key decisions.
    // Resumes the caller on its own executor. Call from the event loop only.
    awaitable<void> lookup(std::function<void()> work);

    // Stops taking work and waits for what runs (the daemon's end).
    void stop();

private:
    using Strand = asio::strand<asio::thread_pool::executor_type>;
    Strand strand_for(uid_t account, bool bulk);

    asio::thread_pool pool_;
    asio::thread_pool bulk_;  // its threads lower their own priority to nice 19 before each piece of work
    asio::thread_pool lookups_;
    std::unordered_map<uid_t, Strand> strands_;       // the event loop's thread only
    std::unordered_map<uid_t, Strand> bulk_strands_;  // likewise
};

}  // namespace twowayd
