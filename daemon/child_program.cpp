#include "child_program.hpp"

#include <signal.h>

#include <array>
#include <memory>
#include <optional>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "log.hpp"
#include "server.hpp"

namespace twowayd {

namespace {

using Descriptor = asio::posix::stream_descriptor;

// What the child's exit callback and the reading coroutine share.
struct Watch {
    explicit Watch(const asio::any_io_executor& ex) : exited(ex) {}
    Condition exited;
    std::optional<int> status;
};

// The pipes, shared with the deadline's handler, which may still be queued when the coroutine returns.
struct Io {
    Io(const asio::any_io_executor& ex, int report_fd, int out_fd) : report(ex, report_fd), out(ex, out_fd) {}
    Descriptor report;
    Descriptor out;
    bool timed_out = false;
    bool done = false;  // the coroutine is past its reads: the handler must not touch anything
};

std::string seconds_text(std::chrono::milliseconds ms) {
    const auto n = ms.count();
    return n % 1000 == 0 ? std::to_string(n / 1000) + " s" : std::to_string(n) + " ms";
}

// Reads and drops what the program writes to stderr, so that it never blocks on a full pipe nor dies of
// SIGPIPE (sshd sends it to /dev/null).
awaitable<void> discard(std::shared_ptr<Descriptor> d) {
    std::array<char, 4096> buf{};
    for (;;) {
        auto [ec, n] = co_await d->async_read_some(asio::buffer(buf), use_nothrow_awaitable);
        if (ec) co_return;
    }
}

}  // namespace

awaitable<ProgramResult> run_program(Server& server, SpawnRequest req, Account account, ProgramLimits limits) {
    ProgramResult r;
    req.account = &account;
    SpawnFailure failure;
    auto child = spawn_child(req, failure);
    if (!child) {
        r.problem = "cannot start: " + failure.message;
        co_return r;
    }
    const auto ex = co_await asio::this_coro::executor;
    const pid_t pid = child->pid;
    auto watch = std::make_shared<Watch>(ex);
    server.watch_child(pid, [watch](int status) {
        watch->status = status;
        watch->exited.notify_all();
    });
    child->stdin_fd.reset();  // the program reads nothing: end of file at once
    asio::co_spawn(ex, discard(std::make_shared<Descriptor>(ex, child->stderr_fd.release())), asio::detached);

    auto io = std::make_shared<Io>(ex, child->report_fd.release(), child->stdout_fd.release());
    Descriptor& report = io->report;
    Descriptor& out = io->out;
    const bool& timed_out = io->timed_out;
    asio::steady_timer deadline(ex, limits.timeout);
    deadline.async_wait([io, watch, pid](std::error_code ec) {
        if (ec || io->done) return;
        io->timed_out = true;
        if (!watch->status) ::kill(-pid, SIGKILL);  // the child leads its own session: its whole group goes
        std::error_code ignored;
        (void)io->out.cancel(ignored);
        (void)io->report.cancel(ignored);
    });

    const std::vector<unsigned char> said = co_await read_spawn_report(report);
    if (auto why = decode_spawn_report(said); why && !timed_out) {
        r.problem = "cannot start: " + *why;
    }

    bool too_big = false;
    std::array<char, 16384> buf{};
    while (r.problem.empty() && !timed_out) {
        auto [ec, n] = co_await out.async_read_some(asio::buffer(buf), use_nothrow_awaitable);
        if (n > 0) {
            if (r.output.size() + n > limits.max_output) {
                too_big = true;
                ::kill(-pid, SIGKILL);
                break;
            }
            r.output.append(buf.data(), n);
        }
        if (ec) break;  // end of file (or the deadline cancelled the read)
    }
    std::error_code ignored;
    (void)out.close(ignored);
    // The exit status, within what is left of the deadline (a program that closed its output but goes on
    // running is killed there too).
    while (!watch->status && !timed_out) co_await watch->exited.wait();
    if (timed_out) {
        while (!watch->status) co_await watch->exited.wait();  // SIGKILL was sent: it ends promptly
    }
    io->done = true;
    deadline.cancel();

    if (!r.problem.empty()) {
        r.output.clear();
        co_return r;
    }
    const int status = *watch->status;
    if (timed_out) {
        r.problem = "timed out after " + seconds_text(limits.timeout);
    } else if (too_big) {
        r.problem = "printed more than " + std::to_string(limits.max_output) + " bytes";
    } else if (WIFSIGNALED(status)) {
        r.problem = "killed by signal " + std::to_string(WTERMSIG(status));
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        r.problem = "exited with status " + std::to_string(WEXITSTATUS(status));
    } else {
        r.ok = true;
        co_return r;
    }
    r.output.clear();
    co_return r;
}

awaitable<std::vector<unsigned char>> read_spawn_report(Descriptor& report) {
    std::vector<unsigned char> said;
    std::array<unsigned char, 64> small{};
    for (;;) {
        auto [ec, n] = co_await report.async_read_some(asio::buffer(small), use_nothrow_awaitable);
        said.insert(said.end(), small.begin(), small.begin() + static_cast<std::ptrdiff_t>(n));
        if (ec || said.size() > small.size()) break;
    }
    co_return said;
}

}  // namespace twowayd
