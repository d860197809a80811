#include "transport.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>
#include <utility>
#include <variant>

#include <sys/socket.h>
#include <unistd.h>

#include <asio/connect.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>

#include "async.hpp"
#include "log.hpp"
#include "resolve.hpp"

namespace twoway_client {

using twoway::Channel;
using twoway::ClientConfig;
using twoway::errc;
using twoway::fail;
using twoway::PublicKey;
using twoway::Result;
using twoway::Status;
using twoway::StreamClientConfig;

namespace {

using asio::ip::tcp;
// The stream's socket: a TCP connection, or our end of a proxy command's socketpair (AF_UNIX). One
// type for both, so that nothing can ask a proxied connection for a TCP endpoint it does not have;
// the peer's address for messages is the one connect() reached (none with a proxy).
using Socket = asio::generic::stream_protocol::socket;

// Cancels the socket's operations when it fires, so a hung peer cannot hold us beyond the timeout. The
// state is shared with the timer's handler, which may already be queued when the Deadline goes away.
class Deadline {
public:
    Deadline(Socket& socket, std::optional<std::chrono::milliseconds> after) : timer_(socket.get_executor()) {
        if (!after) return;
        timer_.expires_after(*after);
        timer_.async_wait([&socket, state = state_](std::error_code ec) {
            if (ec || !state->active) return;
            state->fired = true;
            std::error_code ignored;
            socket.cancel(ignored);
        });
    }
    ~Deadline() {
        state_->active = false;
        timer_.cancel();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    [[nodiscard]] bool fired() const noexcept { return state_->fired; }

private:
    struct State {
        bool fired = false;
        bool active = true;
    };
    asio::steady_timer timer_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

std::optional<std::chrono::milliseconds> seconds(std::optional<std::uint32_t> s) {
    if (!s) return std::nullopt;
    return std::chrono::milliseconds(std::uint64_t{*s} * 1000);
}

// ssh's -v line for the identity about to be offered.
std::string offering_line(const IdentityOffer& o) {
    if (o.certificate) {
        return "Offering public key: " + o.source + " ED25519-CERT " + fingerprint_sha256(o.key) + " ID " +
               log::untrusted(o.certificate->key_id) + " (serial " + std::to_string(o.certificate->serial) + ")";
    }
    return "Offering public key: " + o.source + " ED25519 " + fingerprint_sha256(o.key) + (o.agent ? " agent" : "");
}

std::string address_text(const tcp::endpoint& ep) { return ep.address().to_string(); }


}  // namespace

// The server's banner for stderr: every line escaped as other server-supplied text is (log::untrusted:
// no control character, escape sequence or bidirectional override reaches the terminal), the line
// breaks kept, as ssh keeps them in sshd's banner (a CR before a line break is dropped).
std::string banner_text(std::string_view banner) {
    std::string out;
    for (std::size_t start = 0;;) {
        const std::size_t nl = banner.find('\n', start);
        std::string_view line = banner.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (nl != std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);
        out += log::untrusted(line);
        if (nl == std::string_view::npos) break;
        out += '\n';
        start = nl + 1;
    }
    return out;
}

std::optional<Endpoints> resolve_host(const std::string& host, std::uint16_t port, cli::AddressFamily family) {
    TcpLookup found = lookup_tcp(host, port, family, false);
    if (!found.error.empty()) {
        log::error("Could not resolve hostname " + host + ": " + found.error);
        return std::nullopt;
    }
    if (found.endpoints.empty()) {
        log::error("Could not resolve hostname " + host + ": no usable address");
        return std::nullopt;
    }
    return std::move(found.endpoints);
}

// ---- SecureConnection -----------------------------------------------------------------------------

struct SecureConnection::Impl {
    explicit Impl(asio::any_io_executor ex) : socket(std::move(ex)) {}

    Socket& lowest() { return stream ? stream->next_layer() : socket; }

    // ProxyCommand / ProxyJump: the command at the other end of the socket. Declared first, so that it
    // is destroyed last: the socket is closed (the command's end of input) before the command is reaped.
    std::optional<ProxyProcess> proxy;
    Socket socket;                                // until the handshake starts
    std::optional<twoway::stream<Socket>> stream;  // from then on (it owns the socket)
    std::vector<std::byte> buffer = std::vector<std::byte>(read_size);
    bool peer_closed = false;
    // Early data: the handshake completes as soon as client_auth is sent; the server's verdict comes
    // with the first read, which is bounded by ConnectTimeout like every other handshake read.
    std::optional<std::chrono::milliseconds> verdict_timeout;
    std::string authenticated_line;  // the debug line for when the verdict arrives

    static constexpr std::size_t read_size = 4 * Channel::max_payload;
};

SecureConnection::SecureConnection(asio::any_io_executor executor, std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(executor))), host_(std::move(host)), port_(port) {}

SecureConnection::~SecureConnection() = default;

asio::awaitable<Result<SecureConnection::Received>> SecureConnection::read() {
    if (impl_->peer_closed) co_return Received{true, {}};
    std::optional<Deadline> verdict_deadline;
    if (impl_->stream->verdict_pending()) verdict_deadline.emplace(impl_->lowest(), impl_->verdict_timeout);
    auto [ec, n] = co_await impl_->stream->async_read_some(asio::buffer(impl_->buffer), use_nothrow_awaitable);
    if (verdict_deadline) {
        if (verdict_deadline->fired()) co_return fail(asio::error::timed_out);
        verdict_deadline.reset();
        if (!impl_->stream->verdict_pending()) {
            log::debug(1, impl_->authenticated_line);
            if (on_authenticated_) std::exchange(on_authenticated_, {})(*this);
        }
    }
    if (ec == asio::error::eof) {  // the server's authenticated close (a bare EOF is errc::truncated)
        impl_->peer_closed = true;
        co_return Received{true, {}};
    }
    if (ec) co_return fail(ec);
    co_return Received{false, std::span<const std::byte>(impl_->buffer).first(n)};
}

asio::awaitable<Status> SecureConnection::write(std::span<const std::byte> data) {
    if (data.empty()) co_return Status{};
    auto [ec, n] = co_await asio::async_write(*impl_->stream, asio::buffer(data.data(), data.size()), use_nothrow_awaitable);
    (void)n;
    if (ec) co_return fail(ec);
    co_return Status{};
}

asio::awaitable<void> SecureConnection::close(std::chrono::milliseconds linger) {
    if (closed_) co_return;
    closed_ = true;
    std::error_code ignored;
    if (impl_->stream) {
        auto [ec] = co_await impl_->stream->async_shutdown(use_nothrow_awaitable);
        impl_->lowest().shutdown(Socket::shutdown_send, ignored);
        // Read (and drop) until the peer's close, an error or the linger time, so the peer sees our
        // close arrive rather than a reset.
        if (!ec && !impl_->peer_closed) {
            Deadline deadline(impl_->lowest(), linger);
            for (;;) {
                auto r = co_await read();
                if (!r || r->closed) break;
            }
        }
    }
    impl_->lowest().close(ignored);
    if (impl_->proxy) {
        // The command saw its end of input: let it finish on its own (the inner twoway of a ProxyJump
        // sends its own close), then SIGHUP it as ssh does, then reap it (the destructor's last resort).
        auto& proxy = *impl_->proxy;
        asio::steady_timer pause(co_await asio::this_coro::executor);
        for (int i = 0; i < 100 && !proxy.reap(); ++i) {
            if (i == 50) proxy.hang_up();
            pause.expires_after(std::chrono::milliseconds(20));
            (void)co_await pause.async_wait(use_nothrow_awaitable);
        }
        if (!proxy.exited()) log::debug(1, "ProxyCommand still running after SIGHUP: killing it");
        proxy.kill_and_reap();
        log::debug(2, "ProxyCommand " + proxy.describe_exit());
    }
}

void SecureConnection::abort() noexcept {
    std::error_code ignored;
    impl_->lowest().cancel(ignored);
    impl_->lowest().close(ignored);
    closed_ = true;
}

std::string SecureConnection::describe(std::error_code ec) const {
    if (ec == errc::auth_denied) return denied_line_;
    if (ec == asio::error::timed_out) {
        return "Connection timed out during the handshake with " + host_ + " port " + std::to_string(port_);
    }
    if (ec == errc::truncated || ec == asio::error::eof) return "Connection to " + host_ + " closed by remote host.";
    if (ec == asio::error::connection_reset) return "Connection reset by " + host_ + " port " + std::to_string(port_);
    return "twoway: connection to " + host_ + " port " + std::to_string(port_) + ": " + ec.message();
}

// ---- establish --------------------------------------------------------------------------------

namespace {

// Whether a handshake error means the proxy command went away; waits up to 200 ms for it to exit, so
// the message can say how it ended.
bool proxy_gone(ProxyProcess& proxy, std::error_code ec) {
    if (ec != errc::truncated && ec != asio::error::eof && ec != asio::error::connection_reset &&
        ec != asio::error::broken_pipe) {
        return false;
    }
    for (int i = 0; i < 20 && !proxy.reap(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return true;
}

// TCP: each address in turn, as ssh does, ConnectionAttempts rounds a second apart; the last failure
// is the one reported. On success, address is the one connected to.
asio::awaitable<bool> connect_tcp(Socket& socket, const ConnectParams& p, const std::string& where, std::string& address) {
    auto ex = co_await asio::this_coro::executor;
    std::error_code last;
    for (std::uint32_t attempt = 0; attempt < std::max<std::uint32_t>(p.connection_attempts, 1); ++attempt) {
        if (attempt > 0) {
            asio::steady_timer pause(ex, std::chrono::seconds(1));
            (void)co_await pause.async_wait(use_nothrow_awaitable);
            log::debug(1, "Trying again...");
        }
        for (const auto& ep : p.endpoints) {
            log::debug(1, "Connecting to " + p.host + " [" + address_text(ep) + "] port " + std::to_string(p.port) + ".");
            std::error_code ignored;
            socket.close(ignored);
            Deadline deadline(socket, seconds(p.timeout_seconds));
            auto [ec] = co_await socket.async_connect(asio::generic::stream_protocol::endpoint(ep), use_nothrow_awaitable);
            if (deadline.fired()) ec = asio::error::timed_out;
            if (!ec) {
                // What twoway::stream sets itself on a tcp::socket, which it cannot tell this one is.
                socket.set_option(tcp::no_delay(true), ignored);
                log::debug(1, "Connection established.");
                address = address_text(ep);
                co_return true;
            }
            log::debug(1, "connect to address " + address_text(ep) + " port " + std::to_string(p.port) + ": " + ec.message());
            last = ec;
        }
    }
    log::error("connect to host " + where + ": " + last.message());
    co_return false;
}

}  // namespace

asio::awaitable<std::unique_ptr<SecureConnection>> establish(ConnectParams p) {
    auto ex = co_await asio::this_coro::executor;
    auto c = std::make_unique<SecureConnection>(ex, p.host, p.port);
    Socket& socket = c->impl_->socket;
    const std::string where = p.host + " port " + std::to_string(p.port);
    std::string peer_text;
    std::string peer_address;  // for "Authenticated to h ([addr]:port)"

    if (p.proxy) {
        log::debug(1, "Executing proxy command: " + p.proxy->display);
        int fd = -1;
        std::string why;
        auto child = ProxyProcess::start(*p.proxy, fd, why);
        if (!child) {
            log::error(p.proxy->label + " for " + where + ": " + why);
            co_return nullptr;
        }
        c->impl_->proxy.emplace(std::move(*child));
        std::error_code ec;
        socket.assign(asio::generic::stream_protocol(AF_UNIX, 0), fd, ec);
        if (ec) {
            ::close(fd);
            log::error(p.proxy->label + " for " + where + ": " + ec.message());
            co_return nullptr;
        }
        peer_text = where + " (via " + p.proxy->label + ")";
    } else {
        if (!co_await connect_tcp(socket, p, where, peer_address)) co_return nullptr;
        peer_text = peer_address + " port " + std::to_string(p.port);
    }

    // The handshake, under ConnectTimeout while we wait for the server; not while the person decides.
    struct Timing {
        std::optional<Deadline> deadline;
        bool timed_out = false;
    };
    auto timing = std::make_shared<Timing>();
    SecureConnection* conn = c.get();
    ClientConfig handshake{.account = p.account};
    const IdentityOffer* first = p.identities != nullptr && !p.password ? p.identities->current() : nullptr;
    if (first != nullptr) handshake.identity = first->ref;
    handshake.password = p.password;
    // Always (PROTOCOL.md 4.1.3: client_hello says nothing of how many keys there are).
    handshake.auth_retry = true;
    StreamClientConfig config{.handshake = std::move(handshake), .early_data = p.early_data};
    if (first != nullptr && first->certificate) config.handshake.certificate = *first->certificate;
    // A key's passphrase (the next identity's file) or an agent's confirmation (ssh-add -c) takes as
    // long as the person takes: ConnectTimeout is the server's time, so it stops while they run (they
    // run on the loop, so its timer cannot fire meanwhile) and starts afresh after.
    const auto person = [timing, conn, &p](auto&& step) {
        const bool timed = timing->deadline.has_value();
        if (timed) {
            timing->timed_out = timing->timed_out || timing->deadline->fired();
            timing->deadline.reset();
        }
        auto result = step();
        if (timed && !timing->timed_out) timing->deadline.emplace(conn->impl_->lowest(), seconds(p.timeout_seconds));
        return result;
    };
    if (first != nullptr) {
        // The agent signs its keys; each refused identity is followed by the next. Only when there may be
        // another: early data stays on for the last (or only) identity (StreamClientConfig::next_identity).
        config.sign = [&p, person](const twoway::NeedSignature& n) {
            return person([&] { return p.identities->sign(n.key, n.payload); });
        };
        if (p.identities->more()) {
            config.next_identity = [&p, person](const twoway::NeedAnotherIdentity&) -> std::optional<twoway::StreamIdentity> {
                const IdentityOffer* o = person([&] { return p.identities->next(); });
                if (o == nullptr) return std::nullopt;
                log::debug(1, offering_line(*o));
                return twoway::StreamIdentity{o->ref, o->certificate};
            };
        }
    }
    c->on_authenticated_ = p.on_authenticated;
    c->denied_line_ = p.denied_line;
    // The verdict may ask the person (the first-contact challenge on /dev/tty), which takes as long as
    // the person takes: it runs on a thread of its own and answers the stream's PendingVerdict from
    // there, so the event loop never waits on a person. The deadline is touched on the loop only.
    config.verify_server_async = [timing, conn, &p, ex](const twoway::NeedServerVerdict& request,
                                                        twoway::PendingVerdict verdict) {
        if (timing->deadline) {
            timing->timed_out = timing->deadline->fired();
            timing->deadline.reset();
        }
        const PublicKey key = request.server_key;
        conn->host_key_ = key;
        conn->host_certificate_ = request.server_certificate.has_value();
        // `p` outlives the thread's use of it: establish() waits for this verdict before it returns.
        if (p.password) {
            std::thread([timing, conn, &p, ex, key, certificate = request.server_certificate, banner = request.banner,
                         verdict = std::move(verdict)]() mutable {
                // The host check, then (unless refused) the prompt: the answer holds the password.
                PasswordAnswer answer = p.password_verdict(key, certificate ? &*certificate : nullptr, banner);
                asio::post(ex, [timing, conn, &p, answer = std::move(answer), verdict = std::move(verdict)]() mutable {
                    if (answer.action == PasswordHostAction::refuse) return verdict.reject("host key not accepted");
                    log::debug(1, "Trying password authentication for " + p.account +
                                      (answer.action == PasswordHostAction::defer ? " (the password is to prove the host key)"
                                                                                  : ""));
                    timing->deadline.emplace(conn->impl_->lowest(), seconds(p.timeout_seconds));
                    if (answer.action == PasswordHostAction::accept) {
                        verdict.accept_with_password(answer.password.span());
                    } else {
                        verdict.defer_to_password(answer.password.span());
                    }
                    // answer.password is wiped as the lambda goes; the verdict holds its own copy.
                });
            }).detach();
            return;
        }
        std::thread([timing, conn, &p, ex, key, certificate = request.server_certificate, banner = request.banner,
                     verdict = std::move(verdict)]() mutable {
            // The verdict says why when it refuses.
            const bool ok = p.verify_host(key, certificate ? &*certificate : nullptr);
            asio::post(ex, [timing, conn, &p, ok, banner = std::move(banner), verdict = std::move(verdict)]() mutable {
                if (!ok) return verdict.reject("host key not accepted");
                // The banner once the host is accepted (it is signed by the host key), as ssh shows
                // sshd's: unless -q (ssh: LogLevel below INFO).
                if (!banner.empty() && !log::quiet()) log::block(banner_text(banner));
                if (p.identities != nullptr && p.identities->current() != nullptr) {
                    log::debug(1, offering_line(*p.identities->current()));
                }
                timing->deadline.emplace(conn->impl_->lowest(), seconds(p.timeout_seconds));
                verdict.accept();
            });
        }).detach();
    };
    config.handshake.known_server_key = p.known_host_key;
    // Always, whatever UpdateHostKeys says, so that client_hello tells nothing of the configuration
    // (PROTOCOL.md 4.1.2); run_session accepts the HOSTKEYS that follows and UpdateHostKeys decides.
    config.handshake.host_keys = true;
    auto& stream = c->impl_->stream.emplace(std::move(socket), std::move(config));
    timing->deadline.emplace(stream.next_layer(), seconds(p.timeout_seconds));
    auto [ec] = co_await stream.async_handshake(use_nothrow_awaitable);
    if (timing->deadline && timing->deadline->fired()) timing->timed_out = true;
    timing->deadline.reset();
    if (ec) {
        if (p.failure != nullptr) *p.failure = timing->timed_out ? std::error_code(asio::error::timed_out) : ec;
        if (timing->timed_out) {
            log::line("Connection timed out during the handshake with " + peer_text);
        } else if (ec == errc::auth_denied) {
            if (!p.quiet_denial) log::line(p.denied_line);
        } else if (ec == errc::host_key_rejected) {
            // reported by the verdict
        } else if (c->impl_->proxy && proxy_gone(*c->impl_->proxy, ec)) {
            // The command ended (or closed its output) before the handshake did: say so, in one line.
            auto& proxy = *c->impl_->proxy;
            log::error(p.proxy->label + " for " + where + " " +
                       (proxy.exited() ? proxy.describe_exit() : std::string("closed the connection")) +
                       " during the handshake");
        } else if (ec == errc::truncated || ec == asio::error::eof) {
            log::line("Connection closed by " + peer_text);
        } else if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
            log::line("Connection reset by " + peer_text);
        } else {
            log::error("handshake with " + where + " failed: " + ec.message());
        }
        co_return nullptr;
    }
    // With early data the server's verdict is still on its way: the first read() brings it (and
    // reports a denial as "Permission denied (publickey)."), while the session request goes out now.
    c->impl_->verdict_timeout = seconds(p.timeout_seconds);
    // As ssh: "([addr]:port)", or "(via proxy)" when there is no address.
    c->impl_->authenticated_line = "Authenticated to " + p.host +
                                   (p.proxy ? std::string(" (via proxy)")
                                            : " ([" + peer_address + "]:" + std::to_string(p.port) + ")") +
                                   " using \"" + (p.password ? "password" : "publickey") + "\".";
    if (stream.verdict_pending()) {
        log::debug(1, p.password ? "Password proof sent; the session request follows client_password_finish (early data)."
                                 : "Server key accepted; the session request follows client_auth (early data).");
    } else {
        log::debug(1, c->impl_->authenticated_line);
        if (c->on_authenticated_) std::exchange(c->on_authenticated_, {})(*c);
    }
    co_return c;
}

}  // namespace twoway_client

namespace twoway_client {
const twoway::SessionId& SecureConnection::session_id() const noexcept { return impl_->stream->session_id(); }
bool SecureConnection::host_proven_by_password() const noexcept { return impl_->stream->host_proven_by_password(); }
}  // namespace twoway_client
