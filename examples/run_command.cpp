// run_command: runs one command on a twowayd through libtwoway's public API, as `twoway host command`
// does. It connects over TCP, accepts the server only if it holds the host key given (a public key
// file, e.g. the daemon's host_ed25519_key.pub), proves its own key, asks for the command with the
// session protocol (<twoway/session.hpp>), copies the command's stdout and stderr to its own, and exits
// with the command's exit status.
//
//   run_command --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...
//
// The key is twoway's private key format, unencrypted (twoway-keygen -N ''); the account defaults to
// the local user's name; the words of COMMAND are joined with spaces and the remote shell splits them
// again, as with ssh. The command's stdin is empty (as ssh -n): EOF goes out as soon as the server
// accepts. Exit status: the command's (255 if it is above 255); 255 when the connection, the handshake
// or the session fails, the server refuses the command or the command is killed by a signal, with one
// line on stderr.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/key.hpp>
#include <twoway/session.hpp>

#include "example_keys.hpp"

using asio::ip::tcp;
namespace ts = twoway::session;

namespace {

using twoway::use_nothrow_awaitable;
constexpr int failure = 255;  // OpenSSH's code for "ssh itself failed"

struct Target {
    std::string host;
    unsigned short port = 4422;
    std::string host_key_path;
};

// How it ended: an exit code from the command, or the one line that says why not (a failure here, a
// refusal, a signal).
struct Outcome {
    std::optional<int> exit_code;
    std::string error;

    void fail(const std::string& what, std::error_code ec) {
        if (error.empty()) error = what + ": " + ec.message();
    }
};

// Blocking writes to our stdout/stderr: the session waits meanwhile, which is what flow control is
// for (the server is granted more only once we have consumed() what it sent).
bool write_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

std::string reject_reason(const ts::Rejected& r) {
    switch (r.code) {
        case ts::reject::prohibited: return "administratively prohibited";
        case ts::reject::unknown_service: return "unknown service";
        case ts::reject::start_failed: return "could not start";
        case ts::reject::pty_failed: return "no pseudo-terminal available";
        case ts::reject::resource_shortage: return "resource shortage";
        default: return "reason " + std::to_string(r.code);
    }
}

// One session event. Returns false when we cannot go on (the reason is in `o`); a refusal or a signal
// is an outcome, not a failure, and the session runs to its end.
bool handle(ts::SessionClient& sc, ts::Event& ev, Outcome& o) {
    if (std::holds_alternative<ts::Accepted>(ev)) {
        // The command runs. It gets no input from us: end its stdin at once, unless the whole session
        // (its output, exit and CLOSE) came in the same read as the acceptance: then it is over already.
        if (sc.finished()) return true;
        if (auto st = sc.send_eof(ts::Stream::in); !st) {
            o.fail("session", st.error());
            return false;
        }
    } else if (auto* r = std::get_if<ts::Rejected>(&ev)) {
        // The text is the server's, but the protocol lets no control characters through.
        o.error = "command refused by the server: " + reject_reason(*r) + (r->text.empty() ? "" : " (" + r->text + ")");
    } else if (auto* d = std::get_if<ts::Data>(&ev)) {
        if (!write_all(d->stream == ts::Stream::err ? STDERR_FILENO : STDOUT_FILENO, d->bytes)) {
            o.fail("cannot write the command's output", std::error_code(errno, std::generic_category()));
            return false;
        }
        // Only now may the server send this much more on the stream.
        if (auto st = sc.consumed(d->stream, d->bytes.size()); !st) {
            o.fail("session", st.error());
            return false;
        }
    } else if (auto* x = std::get_if<ts::ExitStatus>(&ev)) {
        // Never modulo 256: that would turn a failure (256) into success (0).
        o.exit_code = static_cast<int>(std::min<std::uint32_t>(x->status, failure));
    } else if (auto* k = std::get_if<ts::ExitSignal>(&ev)) {
        o.error = "remote command killed by signal " + k->name + (k->core_dumped ? " (core dumped)" : "");
    }
    // Eof: nothing to do; WindowAdjusted: we send no input; Closed: our CLOSE is already queued.
    return true;
}

asio::awaitable<void> run(twoway::stream<tcp::socket>& s, const Target& t, const ts::Request& request, Outcome& o) {
    tcp::resolver resolver(s.get_executor());
    auto [rec, endpoints] = co_await resolver.async_resolve(t.host, std::to_string(t.port), use_nothrow_awaitable);
    if (rec) co_return o.fail(t.host, rec);
    auto [cec, ep] = co_await asio::async_connect(s.next_layer(), endpoints, use_nothrow_awaitable);
    if (cec) co_return o.fail("connect to " + t.host + " port " + std::to_string(t.port), cec);
    if (auto [hec] = co_await s.async_handshake(use_nothrow_awaitable); hec) {
        if (hec == twoway::errc::host_key_rejected) {
            o.error = "Host key verification failed: the server's key is not the one in " + t.host_key_path;
        } else if (hec == twoway::errc::auth_denied) {
            o.error = "Permission denied (publickey).";
        } else {
            o.fail("handshake", hec);
        }
        co_return;
    }

    // The session: queue the request, then alternate between writing what the session has to say and
    // feeding it what the server sends, until both sides have closed.
    auto sc = ts::SessionClient::start(request);
    if (!sc) co_return o.fail("session", sc.error());
    std::vector<std::byte> out;
    std::array<std::byte, 64 * 1024> in{};
    for (bool going = true;;) {
        sc->take_output(out);
        if (!out.empty()) {
            if (auto [wec, n] = co_await asio::async_write(s, asio::buffer(out), use_nothrow_awaitable); wec) {
                co_return o.fail("write", wec);
            }
        }
        if (sc->finished() || !going) break;
        auto [ec, n] = co_await s.async_read_some(asio::buffer(in), use_nothrow_awaitable);
        if (ec == asio::error::eof) {
            // The server's authenticated close, but the session had not ended: no exit status.
            o.error = "the server closed the connection before the command ended";
            co_return;
        }
        if (ec) co_return o.fail("read", ec);
        auto events = sc->feed(std::span<const std::byte>(in.data(), n));
        if (!events) co_return o.fail("session", events.error());
        for (auto& ev : *events) {
            if (going) going = handle(*sc, ev, o);
        }
    }
    // Both CLOSEs are through (or the server refused): end the channel with its authenticated close.
    auto [sec] = co_await s.async_shutdown(use_nothrow_awaitable);
    if (sec && o.error.empty() && !o.exit_code) o.fail("shutdown", sec);
    if (o.error.empty() && !o.exit_code) o.error = "the session ended without an exit status";
}

std::string local_user() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "";
}

int usage() {
    std::cerr << "usage: run_command --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Target target;
    std::string key_path, account = local_user();
    std::vector<std::string> args(argv + 1, argv + argc);
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("--"); i += 2) {
        if (i + 1 >= args.size()) return usage();
        const std::string& a = args[i];
        const std::string& v = args[i + 1];
        if (a == "--key") key_path = v;
        else if (a == "--host-key") target.host_key_path = v;
        else if (a == "--account") account = v;
        else if (a == "--port") {
            const unsigned long p = std::strtoul(v.c_str(), nullptr, 10);
            if (p == 0 || p > 65535) return usage();
            target.port = static_cast<unsigned short>(p);
        } else return usage();
    }
    if (key_path.empty() || target.host_key_path.empty() || args.size() - i < 2) return usage();
    target.host = args[i++];

    ts::Request request;
    request.kind = ts::RequestKind::exec;
    for (; i < args.size(); ++i) request.command += (request.command.empty() ? "" : " ") + args[i];
    if (!ts::valid_request(request)) {
        std::cerr << "run_command: the command is empty or longer than " << ts::max_command << " bytes\n";
        return failure;
    }

    std::optional<twoway::PrivateKey> key;
    std::vector<twoway::PublicKey> host_keys;
    if (!example::load_key(key_path, key) || !example::load_allow_list(target.host_key_path, host_keys)) return failure;
    if (host_keys.empty()) {
        std::cerr << target.host_key_path << ": no key\n";
        return failure;
    }
    // A closed stdout should fail a write (reported), not kill us silently.
    std::signal(SIGPIPE, SIG_IGN);

    twoway::ClientConfig hello{*key, account};
    // Proves to a server in stealth mode that we know its key (it answers nobody else).
    hello.known_server_key = host_keys.front();
    asio::io_context io;
    twoway::stream<tcp::socket> s(tcp::socket(io), twoway::StreamClientConfig{hello, [&host_keys](const twoway::PublicKey& k) {
                                                                                 return example::allowed(host_keys, k);
                                                                             }});
    Outcome o;
    asio::co_spawn(io, run(s, target, request, o), asio::detached);
    io.run();

    if (!o.error.empty()) {
        std::cerr << "run_command: " << o.error << "\n";
        return failure;
    }
    return *o.exit_code;
}
