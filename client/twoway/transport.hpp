// One twoway connection, client side, on Asio: resolve, TCP connect (ConnectTimeout) or a proxy
// command's socketpair (proxy.hpp), then twoway::stream (lib/include/twoway/asio_stream.hpp) for the
// handshake and the record layer.
//
// The handshake's host-key verdict may hold a conversation on /dev/tty (the first-contact challenge),
// which takes as long as the person takes: it is asked on a thread of its own and answers the stream's
// PendingVerdict (verify_server_async), so the event loop never waits on a person; the ConnectTimeout
// deadline is paused meanwhile. Every failure is reported here, once, in ssh's words ("twoway: connect
// to host h port p: Connection refused", "Permission denied (publickey).", "Connection closed by
// 127.0.0.1 port 4422"), so callers only map it to exit status 255.
//
// (Only transport.cpp includes <twoway/asio_stream.hpp>, hence <twoway/handshake.hpp>: the stream stays
// behind SecureConnection::Impl, so the files that include this header compile neither. They do get
// Asio's socket and awaitable types from it.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <twoway/certificate.hpp>

#include "identity.hpp"
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/result.hpp>

#include "cli.hpp"
#include "host_check.hpp"
#include "proxy.hpp"

namespace twoway_client {

using Endpoints = std::vector<asio::ip::tcp::endpoint>;

// The server's banner for stderr: every line escaped as other server-supplied text is, the line breaks
// kept (a CR before one dropped), as ssh shows sshd's banner. Key mode shows it at the verdict; password
// mode only once the host key is known.
[[nodiscard]] std::string banner_text(std::string_view banner);

// getaddrinfo; on failure prints "twoway: Could not resolve hostname h: reason" and returns nothing.
[[nodiscard]] std::optional<Endpoints> resolve_host(const std::string& host, std::uint16_t port,
                                                    cli::AddressFamily family);

class SecureConnection;

// Password mode's answer to the host key (ConnectParams::password_verdict): refuse, or the password with
// accept (the key is known) or defer (the password's proof decides).
struct PasswordAnswer {
    PasswordHostAction action = PasswordHostAction::refuse;
    twoway::SecretBuffer password;
};

struct ConnectParams {
    std::string host;  // the HostName, for messages
    std::uint16_t port = 0;
    Endpoints endpoints;  // unused with a proxy
    // ProxyCommand / ProxyJump: the handshake and session run over this command's stdin and stdout
    // (one started per connection) instead of a TCP connection to endpoints.
    std::optional<ProxyPlan> proxy;
    std::optional<std::uint32_t> timeout_seconds;  // ConnectTimeout: TCP connect and each handshake read
    std::uint32_t connection_attempts = 1;         // ConnectionAttempts: rounds over endpoints, a second apart
    // Key mode: the identities, offered in turn (PROTOCOL.md 4.1.3): the chain's current one first, then
    // its next ones while the server refuses and takes another. Must outlive the connection.
    IdentityChain* identities = nullptr;
    std::string account;
    // The known_hosts verdict (may prompt) on the key the server proved it holds, and its host
    // certificate when it presented one.
    std::function<bool(const twoway::PublicKey&, const twoway::Certificate*)> verify_host;
    // Send the session request right behind client_auth (one round trip saved); the server's verdict
    // then arrives with the first read(). Off where nothing would be read (-N).
    bool early_data = true;
    // The host key known_hosts holds for this host, if any (sent as host_key_mac, for stealth mode).
    std::optional<twoway::PublicKey> known_host_key;
    // ServerAliveInterval / ServerAliveCountMax, for the session run on the connection (PumpOptions).
    std::uint32_t server_alive_interval = 0;
    std::uint32_t server_alive_count_max = 3;
    // Password mode (docs/twoway.md): log in to account with a password (OPAQUE) instead of identity
    // (then null). password_verdict takes verify_host's place: the host check and the prompt, on the
    // verdict's thread; it sees the server's banner, to show it before the prompt when the key is known.
    bool password = false;
    std::function<PasswordAnswer(const twoway::PublicKey&, const twoway::Certificate*, const std::string& banner)>
        password_verdict;
    // Called on the event loop once the server's verdict has accepted us: at the end of establish(), or
    // with early data at the first read().
    std::function<void(SecureConnection&)> on_authenticated;
    // Where establish() leaves the handshake's error when it fails (auth_denied: the caller may try another
    // method or password), and whether a denial is the caller's to report (else "denied_line" is printed).
    std::error_code* failure = nullptr;
    bool quiet_denial = false;
    std::string denied_line = "Permission denied (publickey).";
};

class SecureConnection {
public:
    SecureConnection(asio::any_io_executor executor, std::string host, std::uint16_t port);
    ~SecureConnection();
    SecureConnection(const SecureConnection&) = delete;
    SecureConnection& operator=(const SecureConnection&) = delete;

    struct Received {
        bool closed = false;               // the peer's authenticated close: end of the connection
        std::span<const std::byte> data;   // valid until the next call on this object
    };
    // The next application bytes. Errors: the channel's (decrypt_failed, truncated ...) or the socket's.
    [[nodiscard]] asio::awaitable<twoway::Result<Received>> read();
    // Seals and sends. One writer at a time.
    [[nodiscard]] asio::awaitable<twoway::Status> write(std::span<const std::byte> data);
    // Sends the authenticated close, then waits up to `linger` for the peer's (so it does not see a
    // reset), then closes the socket. Idempotent; never fails (the session is over either way).
    asio::awaitable<void> close(std::chrono::milliseconds linger = std::chrono::milliseconds(2000));
    // Abandons the connection at once (cancels pending operations).
    void abort() noexcept;

    // One line for a failure of read() or write(), in ssh's words ("Connection to h closed by remote
    // host.", "twoway: connection to h port p: message authentication failed").
    [[nodiscard]] std::string describe(std::error_code ec) const;

    [[nodiscard]] const twoway::PublicKey& host_key() const noexcept { return host_key_; }
    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    // The server presented a host certificate (UpdateHostKeys then learns nothing, as ssh).
    [[nodiscard]] bool host_certificate() const noexcept { return host_certificate_; }
    // Password mode: the password proved the host key (twoway::stream::host_proven_by_password).
    [[nodiscard]] bool host_proven_by_password() const noexcept;
    // The handshake's session id, which HOSTKEYS proofs are bound to. Only after establish().
    [[nodiscard]] const twoway::SessionId& session_id() const noexcept;

private:
    friend asio::awaitable<std::unique_ptr<SecureConnection>> establish(ConnectParams params);

    struct Impl;  // the socket and the twoway::stream over it
    std::unique_ptr<Impl> impl_;
    std::string host_;
    std::uint16_t port_;
    twoway::PublicKey host_key_;
    bool host_certificate_ = false;
    bool closed_ = false;
    std::function<void(SecureConnection&)> on_authenticated_;
    std::string denied_line_ = "Permission denied (publickey).";
};

// Connects and authenticates both ways. Nothing on any failure (already reported).
[[nodiscard]] asio::awaitable<std::unique_ptr<SecureConnection>> establish(ConnectParams params);

}  // namespace twoway_client
