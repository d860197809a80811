#include "keys_command.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <array>
#include <memory>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "authorized.hpp"
#include "child.hpp"
#include "log.hpp"
#include "server.hpp"

namespace twowayd {

std::optional<std::vector<std::string>> split_command_line(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] == ' ' || s[i] == '\t') {
            ++i;
            continue;
        }
        std::string arg;
        char quote = 0;
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '\\' && i + 1 < s.size()) {
                const char n = s[i + 1];
                if (n == '\'' || n == '"' || n == '\\' || (quote == 0 && n == ' ')) ++i;
                arg += s[i];
            } else if (quote == 0 && (c == ' ' || c == '\t')) {
                break;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            } else {
                arg += c;
            }
        }
        if (quote != 0) return std::nullopt;  // ran out of text looking for the closing quote
        out.push_back(std::move(arg));
    }
    return out;
}

namespace {

std::optional<std::string> expand_tokens(std::string_view arg, const KeysCommandTokens& t) {
    std::string out;
    for (std::size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] != '%') {
            out += arg[i];
            continue;
        }
        if (++i == arg.size()) return std::nullopt;
        switch (arg[i]) {
            case '%': out += '%'; break;
            case 'u': out += t.user; break;
            case 'U': out += t.uid; break;
            case 'h': out += t.home; break;
            case 't': out += t.key_type; break;
            case 'f': out += t.fingerprint; break;
            case 'k': out += t.key_base64; break;
            default: return std::nullopt;
        }
    }
    return out;
}

}  // namespace

twoway::Result<std::vector<std::string>> keys_command_argv(std::string_view command, const KeysCommandTokens& tokens,
                                                           std::string& why) {
    auto words = split_command_line(command);
    if (!words) {
        why = "AuthorizedKeysCommand has an unterminated quote";
        return twoway::errc::invalid_argument;
    }
    if (words->empty() || !words->front().starts_with('/')) {
        why = "AuthorizedKeysCommand must be an absolute path";
        return twoway::errc::invalid_argument;
    }
    for (std::size_t i = 1; i < words->size(); ++i) {
        auto expanded = expand_tokens((*words)[i], tokens);
        if (!expanded) {
            why = "AuthorizedKeysCommand has an unknown %-token in " + log_safe((*words)[i]);
            return twoway::errc::invalid_argument;
        }
        (*words)[i] = std::move(*expanded);
    }
    if (words->size() == 1) words->push_back(tokens.user);  // sshd: no arguments means the user name
    return std::move(*words);
}

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

awaitable<KeysCommandResult> run_keys_command(Server& server, std::vector<std::string> argv, Account runner,
                                              KeysCommandLimits limits) {
    KeysCommandResult r;
    struct stat st {};
    if (argv.empty() || ::stat(argv.front().c_str(), &st) != 0) {
        r.problem = "cannot stat " + (argv.empty() ? std::string("(nothing)") : argv.front()) + ": " + errno_text(errno);
        co_return r;
    }
    // sshd's rule for the command (auth_secure_path as root): a root-owned file in root-owned directories.
    if (auto problem = secure_path_problem(argv.front(), st, "/", 0)) {
        r.problem = "unsafe AuthorizedKeysCommand: " + *problem;
        co_return r;
    }

    SpawnRequest req;
    req.account = &runner;
    req.switch_identity = running_as_root();
    req.path = argv.front();
    req.argv = std::move(argv);
    req.env = {"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C"};
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

    std::vector<unsigned char> said;
    std::array<unsigned char, 64> small{};
    for (;;) {
        auto [ec, n] = co_await report.async_read_some(asio::buffer(small), use_nothrow_awaitable);
        said.insert(said.end(), small.begin(), small.begin() + static_cast<std::ptrdiff_t>(n));
        if (ec || said.size() > small.size()) break;
    }
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

}  // namespace twowayd
