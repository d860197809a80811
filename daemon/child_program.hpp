// Running a short-lived program from the event loop and collecting what it prints, as AuthorizedKeysCommand
// and the PAM account helper need it: the program starts through spawn_child (child.hpp), its output is
// read asynchronously, capped in size and in time (after the timeout its process group is killed), and
// its exit status is waited for, so a slow program delays only the connection that asked for it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <vector>

#include <asio/posix/stream_descriptor.hpp>

#include "account.hpp"
#include "async.hpp"
#include "child.hpp"

namespace twowayd {

class Server;

struct ProgramLimits {
    std::chrono::milliseconds timeout{10'000};
    std::size_t max_output = 1u << 20;  // more than this is an error, not a truncated output
};

struct ProgramResult {
    bool ok = false;       // the program ran and exited 0 within the limits; output holds what it printed
    std::string output;
    std::string problem;   // when !ok, for the log ("timed out after 10 s", "exited with status 1", ...)
};

// What a spawned child's report pipe (SpawnedChild::report_fd) says, read without blocking the loop:
// nothing at end of file (the program runs), else the failure's bytes (decode_spawn_report /
// decode_session_report), at most a little more than one report, whatever the other end writes.
[[nodiscard]] awaitable<std::vector<unsigned char>> read_spawn_report(asio::posix::stream_descriptor& report);

// Starts `req` (its account is set to `account`, which the coroutine keeps alive), stdin from nothing,
// stderr discarded, and returns its standard output. Fails closed: any problem is !ok with no output.
[[nodiscard]] awaitable<ProgramResult> run_program(Server& server, SpawnRequest req, Account account,
                                                   ProgramLimits limits);

}  // namespace twowayd
