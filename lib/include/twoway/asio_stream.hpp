/// @file
/// twoway::stream<NextLayer>: the twoway handshake and record layer over any Asio stream, in the shape of
/// asio::ssl::stream. Header-only (the one public header that includes Asio); works with any completion
/// token, C++20 coroutines (asio::use_awaitable) included.
///
/// @code
///   twoway::stream<asio::ip::tcp::socket> s(std::move(socket), twoway::StreamServerConfig{...});
///   co_await s.async_handshake(asio::use_awaitable);
///   std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
///   co_await asio::async_write(s, asio::buffer(reply), asio::use_awaitable);
///   co_await s.async_shutdown(asio::use_awaitable);   // sends the authenticated close
/// @endcode
///
/// Errors are std::error_code: the transport's own errors as they come, twoway::errc for everything the
/// protocol decides (decrypt_failed, host_key_rejected, auth_denied, ...). As with asio::ssl::stream,
/// a read after the peer's authenticated close reports asio::error::eof (its clean end of stream, so
/// composed reads such as asio::async_read and async_read_until end the usual way), and a transport EOF
/// before that close is errc::truncated (ssl's stream_truncated): never a clean end. Protocol failures
/// are sticky: the stream is then done and the socket should be closed.
///
/// Like asio::ssl::stream: at most one read operation and one write operation (async_write_some or
/// async_shutdown) may be outstanding at a time, from one strand; the handshake runs alone. The
/// stream sets TCP_NODELAY on a TCP lowest layer (each handshake flight and each write_some is one
/// write, so Nagle would only add latency). Pre-authentication deadlines are the caller's: cancel or
/// close the socket from a timer. Pre-authentication bytes are capped (preauth_byte_cap): a peer that
/// sends more before the handshake ends fails it with errc::preauth_limit, and no more is read.
///
/// Verdicts may wait: verify_server_async and authorize_async hand the callback a PendingVerdict to
/// answer now or later (a directory look-up, PAM, a person at a prompt), while the event loop goes on.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/associated_executor.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>

namespace twoway {

/// A verdict the handshake waits for: is this server key the one expected (client), may this key log in
/// to this account (server). Answer it exactly once, now or later, from any thread: the handshake goes
/// on on the stream's executor. A PendingVerdict destroyed unanswered is a refusal (fail closed), so a
/// callback that loses it, or throws, never lets a peer in and never leaves the handshake hanging.
class PendingVerdict {
public:
    PendingVerdict() = default;  ///< answered already: accept() and reject() do nothing
    /// Takes over other's question; other is answered already afterwards.
    PendingVerdict(PendingVerdict&&) noexcept = default;
    /// Rejects the question this one still holds, then takes over other's.
    PendingVerdict& operator=(PendingVerdict&& other) noexcept {
        if (this != &other) {
            reject("the verdict was replaced unanswered");
            impl_ = std::move(other.impl_);
        }
        return *this;
    }
    PendingVerdict(const PendingVerdict&) = delete;
    PendingVerdict& operator=(const PendingVerdict&) = delete;
    /// Rejects the question if it is still unanswered (fail closed).
    ~PendingVerdict() { reject("no verdict was given"); }

    /// Client: the server key is trusted. Server: the key may log in to the account.
    void accept() { give(true, {}); }
    /// The opposite; the reason goes to the server's denial_reason() (never to the peer).
    void reject(std::string reason = "refused by the verdict callback") { give(false, std::move(reason)); }
    /// Client, password mode (NeedServerVerdict::password_mode): the server key is the one expected for
    /// this host, and the client logs in with `password` (ClientHandshake::accept_server_with_password).
    /// The password is copied into secure memory at once (wiped when the handshake is done with it); the
    /// caller wipes its own copy. Outside password mode, or on a server, this refuses (fail closed).
    void accept_with_password(std::span<const std::byte> password) { give_password(password, false); }
    /// Client, password mode: the server key is not known (or not the one recorded) and the password's
    /// proof is to decide (ClientHandshake::defer_server_to_password): the handshake succeeds only if the
    /// server proves it holds the account's password record, and stream::host_proven_by_password() then
    /// says so. The password is handled as by accept_with_password(); outside password mode this refuses.
    void defer_to_password(std::span<const std::byte> password) { give_password(password, true); }
    /// Not answered yet.
    [[nodiscard]] bool pending() const noexcept { return impl_ != nullptr; }

    /// For the stream: the handshake operation waiting for this verdict.
    struct Waiter {
        virtual ~Waiter() = default;
        /// Called exactly once, with the verdict (or give_password() is called instead).
        virtual void give(bool accepted, std::string reason) = 0;
        /// Called exactly once instead of give(), with a password answer (deferred: defer_to_password).
        /// The default refuses, for waiters that take no password (fail closed).
        virtual void give_password(SecretBuffer password, bool deferred) {
            (void)password;
            (void)deferred;
            give(false, "this verdict takes no password");
        }
    };
    /// For the stream: a question that waiter answers.
    explicit PendingVerdict(std::unique_ptr<Waiter> waiter) noexcept : impl_(std::move(waiter)) {}

private:
    void give(bool accepted, std::string reason) {
        if (!impl_) return;
        std::unique_ptr<Waiter> w = std::move(impl_);
        w->give(accepted, std::move(reason));
    }
    void give_password(std::span<const std::byte> password, bool deferred) {
        if (!impl_) return;
        std::unique_ptr<Waiter> w = std::move(impl_);
        w->give_password(SecretBuffer(password), deferred);
    }
    std::unique_ptr<Waiter> impl_;
};

/// Password mode (server): the answer to NeedPasswordRecord, which the handshake waits for: the
/// account's OPAQUE record, "no record", or a refusal. Answer it exactly once, now or later, from any
/// thread: the handshake goes on on the stream's executor. Like PendingVerdict, one destroyed
/// unanswered is a refusal (fail closed): a callback that loses it, or throws, never lets a client
/// in and never leaves the handshake hanging.
class PendingPasswordRecord {
public:
    /// What the caller answered, as the stream receives it.
    struct Answer {
        /// record: provide(); none: none(); reject: reject() (or destroyed unanswered).
        enum class Kind { record, none, reject };
        Kind kind = Kind::reject;  ///< which answer
        SecretBuffer record{};     ///< provide(): a copy of the record (RFC 9807's RegistrationRecord)
        PasswordKsf ksf{};         ///< provide(): the record's Argon2id parameters
        std::string reason{};      ///< reject(): for the server's denial_reason() (never sent)
    };
    /// For the stream: the handshake operation waiting for the answer.
    struct Waiter {
        virtual ~Waiter() = default;
        /// Called exactly once, with the answer.
        virtual void give(Answer answer) = 0;
    };

    PendingPasswordRecord() = default;  ///< answered already: every answer does nothing
    /// For the stream: a question that waiter answers.
    explicit PendingPasswordRecord(std::unique_ptr<Waiter> waiter) noexcept : impl_(std::move(waiter)) {}
    /// Takes over other's question; other is answered already afterwards.
    PendingPasswordRecord(PendingPasswordRecord&&) noexcept = default;
    /// Rejects the question this one still holds, then takes over other's.
    PendingPasswordRecord& operator=(PendingPasswordRecord&& other) noexcept {
        if (this != &other) {
            reject("the password record was replaced unanswered");
            impl_ = std::move(other.impl_);
        }
        return *this;
    }
    PendingPasswordRecord(const PendingPasswordRecord&) = delete;
    PendingPasswordRecord& operator=(const PendingPasswordRecord&) = delete;
    /// Rejects the question if it is still unanswered (fail closed).
    ~PendingPasswordRecord() { reject("no password record was given"); }

    /// The account's record (RFC 9807's RegistrationRecord, as PasswordRecord::registration holds it)
    /// and its Argon2id parameters: ServerHandshake::provide_password_record. The bytes are copied into
    /// secure memory, so the caller may wipe its own at once. A record that does not parse is the
    /// generic denial.
    void provide(std::span<const std::byte> record, PasswordKsf ksf) {
        if (!impl_) return;
        Answer a;
        a.kind = Answer::Kind::record;
        a.record = SecretBuffer(record);
        a.ksf = ksf;
        give(std::move(a));
    }
    /// The account has no record (or does not exist, or may not log in by password: the client must not
    /// learn which): ServerHandshake::no_password_record, RFC 9807's fake response, which costs and looks
    /// the same as a real one; the client then fails as with a wrong password.
    void none() {
        if (!impl_) return;
        Answer a;
        a.kind = Answer::Kind::none;
        give(std::move(a));
    }
    /// The generic denial at once, without a response (ServerHandshake::deny): for the server's own
    /// trouble (a record that cannot be read), or an account that is refused before any guess. Unlike
    /// none(), the client can tell this from a wrong password. The reason is for denial_reason() only.
    void reject(std::string reason = "refused by the password record callback") {
        if (!impl_) return;
        Answer a;
        a.kind = Answer::Kind::reject;
        a.reason = std::move(reason);
        give(std::move(a));
    }
    /// Not answered yet.
    [[nodiscard]] bool pending() const noexcept { return impl_ != nullptr; }

private:
    void give(Answer a) {
        std::unique_ptr<Waiter> w = std::move(impl_);
        w->give(std::move(a));
    }
    std::unique_ptr<Waiter> impl_;
};

/// The pre-authentication byte cap both roles apply by default: twoway's handshake messages are a few
/// hundred bytes, and at their largest (a server flight with an 8 KiB certificate and an 8 KiB banner,
/// PROTOCOL.md 4.3) 17,578 bytes, so 32 KiB is ample and bounds what an unauthenticated peer can make
/// the stream read. (twowayd caps its clients at 16 KiB: a client's messages are at most 10,348 bytes.)
inline constexpr std::size_t default_preauth_byte_cap = 32 * 1024;

/// An identity the client offers after the server refused one (StreamClientConfig::next_identity).
struct StreamIdentity {
    IdentityRef identity;  ///< a private key (it must outlive the handshake) or an external one
    std::optional<Certificate> certificate = std::nullopt;  ///< a user certificate of its key, if any
};

/// The client's side: its identity and account, and the verdict on the server's key (for example a
/// known_hosts check). An empty verify_server (and verify_server_async) rejects every server.
///
/// Password mode (handshake.password, PROTOCOL.md 4.8): the password is given with the verdict, so
/// verify_server_async must be set and answer with PendingVerdict::accept_with_password() (the key is
/// the one expected) or defer_to_password() (the password's proof decides); accept() refuses there. A
/// password-mode stream with only verify_server cannot be given a password: async_handshake fails at
/// once with errc::invalid_argument, before anything is sent. Early data works in password mode too: the
/// handshake completes when client_password_finish is written (PROTOCOL.md 4.8).
struct StreamClientConfig {
    ClientConfig handshake;  ///< handshake.identity must outlive the stream
    /// The verdict, given at once: true if server_key is the one expected for this host. Called on the
    /// stream's executor, once the server has proved it holds the key. It sees the key only (the
    /// certified key when the server presents a host certificate); verify_server_async sees the
    /// certificate and the banner too.
    std::function<bool(const PublicKey& server_key)> verify_server{};
    Rng* rng = nullptr;  ///< null: system_rng(); otherwise must outlive the handshake
    Channel::Options channel{};  ///< for the channel after the handshake
    /// Early data: async_handshake completes as soon as client_auth is written, so the first
    /// async_write_some goes out right behind it and reaches the server one round trip sooner. The
    /// server's verdict is then read by the first async_read_some, which fails with errc::auth_denied
    /// if the server refused the client (what was written meanwhile was discarded unread by the
    /// server). verdict_pending() is true until then; exporter() waits for the verdict too.
    bool early_data = false;
    // (Members added after the first release go last, so that positional initialisation keeps working.)
    /// The verdict that may wait (a prompt, a directory): used instead of verify_server when set. It sees
    /// all the server said (its key, its host certificate if any, its banner); it may also answer at once.
    std::function<void(const NeedServerVerdict& request, PendingVerdict verdict)> verify_server_async{};
    /// Bytes the server may send before the handshake ends; more fails it with errc::preauth_limit.
    std::size_t preauth_byte_cap = default_preauth_byte_cap;
    /// Several identities (set handshake.auth_retry too): called on the executor when the server refused
    /// the identity offered and takes another (NeedAnotherIdentity); returns the next one, or nullopt
    /// when there is none left (the handshake then fails with auth_denied). It may block briefly (to
    /// read a key file, ask a passphrase). Early data is not used while this is set: records sent before
    /// a refusal would end the connection (ClientConfig::auth_retry).
    std::function<std::optional<StreamIdentity>(const NeedAnotherIdentity& request)> next_identity{};
    /// External identities (IdentityRef::external, e.g. an ssh-agent's keys): the Ed25519 signature of
    /// request.payload by request.key, called on the executor (it may block briefly, as a local agent
    /// does). An error skips the identity: next_identity is asked for another, if set. Unset: an
    /// external identity fails the handshake with invalid_argument.
    std::function<Result<std::array<std::byte, 64>>(const NeedSignature& request)> sign{};
};

/// The server's side: its host key, and the verdict on a client key for an account (for example an
/// authorized_keys check). An empty authorize (and authorize_async) refuses every client.
struct StreamServerConfig {
    ServerConfig handshake;  ///< handshake.host_key must outlive the stream
    /// The verdict, given at once: true if client_key may log in to account. Called on the stream's
    /// executor, once the client has proved it holds the key (the certified key when the client presents
    /// a user certificate; authorize_async sees the certificate too). Never asked about a password
    /// login (see password_record_async): without authorize_async, those are refused.
    std::function<bool(const std::string& account, const PublicKey& client_key)> authorize{};
    Rng* rng = nullptr;  ///< null: system_rng(); otherwise must outlive the stream's handshakes
    Channel::Options channel{};  ///< for the channel after the handshake
    // (Members added after the first release go last, so that positional initialisation keeps working.)
    /// The verdict that may wait (account look-up, a directory, PAM): used instead of authorize when set.
    /// The client has proved it holds client_key when this is called.
    std::function<void(const NeedClientVerdict& request, PendingVerdict verdict)> authorize_async{};
    /// Bytes a client may send before the handshake ends; more fails it with errc::preauth_limit
    /// (nothing is answered, no more is read).
    std::size_t preauth_byte_cap = default_preauth_byte_cap;
    /// Called when the server's first flight (server_hello, server_auth) exists, before it is written:
    /// from then on the client has had an answer (a server ranking unauthenticated connections uses it).
    std::function<void()> on_answer{};
    /// When the generic denial may leave, given when the bytes that completed the client's proof
    /// arrived. Unset: at once. A server that sends every denial at one deadline after the proof, so
    /// that timing tells no reason for a refusal apart, returns that deadline. Not applied when the
    /// denial answers the client's own end of input. Password mode: the answer to client_password
    /// (server_password, from a real record or the fake one, or the denial) leaves at the same kind
    /// of deadline, given when client_password arrived: otherwise the time the record look-up took
    /// (an account that exists is looked up further than one that does not) would tell which accounts
    /// exist and which have a record (PROTOCOL.md 10.16).
    std::function<std::chrono::steady_clock::time_point(std::chrono::steady_clock::time_point proof)> denial_time{};
    /// Password mode (PROTOCOL.md 4.8), on when handshake.password_keys is set: asked for the account's
    /// OPAQUE record when a client logs in by password (NeedPasswordRecord); answer with
    /// PendingPasswordRecord's provide(), none() or reject(), now or later. The account is the client's
    /// claim, not verified yet: escape it before it reaches a log. Unset while password_keys is set:
    /// every password client gets the generic denial (fail closed). A correct password is then judged
    /// by authorize_async, with NeedClientVerdict::password set and no key; the synchronous authorize
    /// cannot tell a password login from a key login, so a stream without authorize_async refuses every
    /// password login.
    std::function<void(const NeedPasswordRecord& request, PendingPasswordRecord answer)> password_record_async{};
};

/// The twoway protocol over NextLayer (an Asio stream such as asio::ip::tcp::socket, or a reference to
/// one), as described for this file. The role, client or server, is fixed by the configuration given
/// to the constructor. Move-only; not thread-safe beyond the one read and one write operation that may
/// be outstanding together.
template <class NextLayer>
class stream {
public:
    using next_layer_type = std::remove_reference_t<NextLayer>;                  ///< the transport
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;      ///< the socket under it
    using executor_type = typename next_layer_type::executor_type;              ///< the transport's executor

    /// The handshake reads at most this much at a time.
    static constexpr std::size_t handshake_read_size = 4096;
    /// Most application data handed to the transport per async_write_some: four full records.
    static constexpr std::size_t max_write_size = 4 * Channel::max_payload;

    /// A client stream: the next layer is constructed from arg (a connected socket, moved in; or an
    /// executor or io_context, then connect lowest_layer() before async_handshake).
    template <class Arg>
    stream(Arg&& arg, StreamClientConfig config) : next_(std::forward<Arg>(arg)), config_(std::move(config)) {}
    /// A server stream: the next layer is constructed from arg (typically an accepted socket, moved in).
    template <class Arg>
    stream(Arg&& arg, StreamServerConfig config) : next_(std::forward<Arg>(arg)), config_(std::move(config)) {}
    /// Moves the stream; no operation may be outstanding.
    stream(stream&&) = default;
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    /// The next layer's executor: every completion handler runs through it unless bound otherwise.
    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    /// The transport under the protocol; reading or writing it directly corrupts the stream.
    [[nodiscard]] next_layer_type& next_layer() noexcept { return next_; }
    /// @copydoc next_layer()
    [[nodiscard]] const next_layer_type& next_layer() const noexcept { return next_; }
    /// The socket at the bottom (to connect, close or cancel it, or to set options).
    [[nodiscard]] lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }
    /// @copydoc lowest_layer()
    [[nodiscard]] const lowest_layer_type& lowest_layer() const noexcept { return next_.lowest_layer(); }

    // ---- after the handshake ------------------------------------------------------------------------
    /// True once async_handshake has succeeded (with early_data: once client_auth is written).
    [[nodiscard]] bool handshake_complete() const noexcept { return channel_.has_value(); }
    /// Client with early_data: the server's verdict has not been read yet (see StreamClientConfig).
    [[nodiscard]] bool verdict_pending() const noexcept { return early_hs_.has_value(); }
    /// The peer's verified identity key, the account granted, the session id (valid once complete).
    /// Only after handshake_complete(); before that, calling them is a bug.
    [[nodiscard]] const PublicKey& peer_key() const noexcept { return info_->peer; }
    /// @copydoc peer_key()
    [[nodiscard]] const std::string& account() const noexcept { return info_->account; }
    /// @copydoc peer_key()
    [[nodiscard]] const SessionId& session_id() const noexcept { return info_->session_id; }
    /// Server: the client accepts the session's HOSTKEYS (HandshakeResult::client_accepts_host_keys).
    [[nodiscard]] bool client_accepts_host_keys() const noexcept { return info_->client_accepts_host_keys; }
    /// Both roles: the client logged in with a password (HandshakeResult::password); peer_key() is then
    /// empty on the server and the server's host key on the client. Only after handshake_complete().
    [[nodiscard]] bool password_login() const noexcept { return info_->password; }
    /// Client, password mode: the verdict deferred the host key to the password (defer_to_password) and
    /// the server proved it holds the account's password record, so the host key is proven by the
    /// password (HandshakeResult::host_proven_by_password). Only after handshake_complete(); with early
    /// data it is already final then (the proof came before client_password_finish).
    [[nodiscard]] bool host_proven_by_password() const noexcept { return info_->host_proven_by_password; }
    /// HandshakeResult::exporter for this session. errc::bad_state before the handshake is complete and,
    /// with early data, while the server's verdict is pending.
    [[nodiscard]] Result<SecretBuffer> exporter(std::string_view label, std::span<const std::byte> context,
                                                std::size_t length) const {
        if (!info_ || early_hs_) return errc::bad_state;
        return info_->exporter(label, context, length);
    }
    /// Server: why the last handshake refused the client (for the log; never sent to the client).
    [[nodiscard]] const std::string& denial_reason() const noexcept { return denial_reason_; }

    // ---- operations ---------------------------------------------------------------------------------
    /// Runs the handshake for the role given at construction. Signature: void(std::error_code).
    template <class CompletionToken>
    auto async_handshake(CompletionToken&& token) {
        if (std::holds_alternative<StreamClientConfig>(config_)) {
            auto& c = std::get<StreamClientConfig>(config_);
            return asio::async_compose<CompletionToken, void(std::error_code)>(
                handshake_op<ClientHandshake>{*this, ClientHandshake(c.handshake, rng_of(c))}, token, next_);
        }
        auto& c = std::get<StreamServerConfig>(config_);
        return asio::async_compose<CompletionToken, void(std::error_code)>(
            handshake_op<ServerHandshake>{*this, ServerHandshake(c.handshake, rng_of(c))}, token, next_);
    }

    /// Reads application data. Signature: void(std::error_code, std::size_t).
    template <class MutableBufferSequence, class CompletionToken>
    auto async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
            read_op<MutableBufferSequence>{*this, buffers}, token, next_);
    }

    /// Reads application data without copying it: completes with a view of at most `max` bytes of
    /// plaintext inside the stream's receive buffer, valid until the next operation on the stream (read
    /// or write) starts. Same errors and end of stream as async_read_some; an empty view only for
    /// max == 0 or with an error. Signature: void(std::error_code, std::span<const std::byte>).
    template <class CompletionToken>
    auto async_read_view(std::size_t max, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::span<const std::byte>)>(
            read_op<view_request>{*this, view_request{max}}, token, next_);
    }

    /// Seals up to max_write_size bytes of `buffers` and writes the records completely before completing.
    /// Signature: void(std::error_code, std::size_t).
    template <class ConstBufferSequence, class CompletionToken>
    auto async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
            write_op<ConstBufferSequence>{*this, buffers}, token, next_);
    }

    /// The last write: seals all of `buffers` (no max_write_size limit) and the authenticated close, and
    /// writes them at once, so the peer gets the last data and the end in one segment (a server ending a
    /// session saves the peer a turn). As async_shutdown, nothing can be written afterwards.
    /// Signature: void(std::error_code, std::size_t).
    template <class ConstBufferSequence, class CompletionToken>
    auto async_write_last(const ConstBufferSequence& buffers, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
            write_op<ConstBufferSequence>{*this, buffers, true}, token, next_);
    }

    /// Sends the authenticated close (a half-close: keep reading until asio::error::eof to see the
    /// peer's end). Nothing can be written afterwards. A second call completes at once.
    /// Signature: void(std::error_code).
    template <class CompletionToken>
    auto async_shutdown(CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code)>(shutdown_op{*this}, token, next_);
    }

private:
    template <class Config>
    static Rng& rng_of(const Config& c) {
        return c.rng != nullptr ? *c.rng : system_rng();
    }

    void set_no_delay() {
        if constexpr (requires { typename lowest_layer_type::protocol_type; }) {
            if constexpr (std::is_same_v<typename lowest_layer_type::protocol_type, asio::ip::tcp>) {
                std::error_code ignored;  // best effort: a socket that refuses still works
                lowest_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
            }
        }
    }

    // Completes now if the operation has done I/O already, else through a post: a handler is never
    // invoked from inside the initiating function.
    template <class R = std::size_t>
    struct completion_base {
        bool io_started = false;
        bool posted = false;
        std::error_code ec;
        R n{};

        template <class Self, class... N>
        void finish(Self& self, std::error_code e, N... n_) {
            if (io_started) return self.complete(e, n_...);
            posted = true;
            ec = e;
            ((n = n_), ...);
            asio::post(std::move(self));
        }
    };

    // The verdict, once given: set by the waiter, read when the operation resumes. A password answer
    // (client, password mode) holds the password in secure memory until the handshake has used it.
    struct VerdictSlot {
        bool accepted = false;
        std::string reason;
        std::optional<SecretBuffer> password{};
        bool deferred = false;  // defer_to_password
    };

    // Holds the suspended handshake operation until its verdict is given, then resumes it on its own
    // executor (never inline in the callback that answers).
    template <class Self>
    struct VerdictWaiter final : PendingVerdict::Waiter {
        Self self;
        std::shared_ptr<VerdictSlot> slot;
        VerdictWaiter(Self&& s, std::shared_ptr<VerdictSlot> sl) : self(std::move(s)), slot(std::move(sl)) {}
        void give(bool accepted, std::string reason) override {
            slot->accepted = accepted;
            slot->reason = std::move(reason);
            asio::post(std::move(self));
        }
        void give_password(SecretBuffer password, bool deferred) override {
            slot->accepted = true;
            slot->password.emplace(std::move(password));
            slot->deferred = deferred;
            asio::post(std::move(self));
        }
    };

    // Password mode: the answer to NeedPasswordRecord, once given; read when the operation resumes.
    struct PasswordRecordSlot {
        PendingPasswordRecord::Answer answer;
    };

    // As VerdictWaiter, for a PendingPasswordRecord.
    template <class Self>
    struct PasswordRecordWaiter final : PendingPasswordRecord::Waiter {
        Self self;
        std::shared_ptr<PasswordRecordSlot> slot;
        PasswordRecordWaiter(Self&& s, std::shared_ptr<PasswordRecordSlot> sl) : self(std::move(s)), slot(std::move(sl)) {}
        void give(PendingPasswordRecord::Answer answer) override {
            slot->answer = std::move(answer);
            asio::post(std::move(self));
        }
    };

    using timer_type = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>,
                                                  executor_type>;

    template <class Handshake>
    struct handshake_op : completion_base<> {
        static constexpr bool is_server = std::is_same_v<Handshake, ServerHandshake>;
        stream& s;
        Handshake hs;
        std::vector<std::byte> out{};
        std::vector<std::byte> in{};
        std::size_t received = 0;  // bytes fed to the handshake (preauth_byte_cap)
        std::chrono::steady_clock::time_point last_read{};
        bool answered = false;      // server: its first flight has gone out
        bool input_ended = false;   // the peer ended its side
        bool pace_answer = false;   // server: the output is the answer to client_password (see denial_time)
        std::shared_ptr<VerdictSlot> verdict{};  // a verdict callback holds the operation
        std::shared_ptr<PasswordRecordSlot> record{};  // server: a password record callback holds it
        enum class state { start, writing, reading, awaiting_verdict, awaiting_record, pacing } st = state::start;

        handshake_op(stream& st_, Handshake h) : s(st_), hs(std::move(h)) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
            if (this->posted) return self.complete(this->ec);
            switch (st) {
                case state::start:
                    if (s.channel_) return this->finish(self, make_error_code(errc::bad_state));
                    if constexpr (!is_server) {
                        // Password mode takes the password with an asynchronous verdict only (see
                        // StreamClientConfig): without one it could never log in, so it fails at once.
                        const auto& c = std::get<StreamClientConfig>(s.config_);
                        if (c.handshake.password && !c.verify_server_async) {
                            return this->finish(self, make_error_code(errc::invalid_argument));
                        }
                    }
                    s.set_no_delay();
                    break;
                case state::writing:
                    // After the peer's end, a failed write of our answer is still that end's doing.
                    if (ec) return self.complete(input_ended && hs.error() ? hs.error() : ec);
                    break;
                case state::reading:
                    last_read = std::chrono::steady_clock::now();
                    if (ec == asio::error::eof) {
                        input_ended = true;
                        (void)hs.end_of_input();  // the failure shows up as HandshakeFailed below
                    } else if (ec) {
                        return self.complete(ec);
                    } else {
                        received += n;
                        (void)hs.feed(std::span<const std::byte>(in.data(), n));
                    }
                    break;
                case state::awaiting_verdict:
                    this->io_started = true;  // resumed through a post: never inside the initiation
                    apply_verdict(*verdict);
                    verdict.reset();
                    break;
                case state::awaiting_record:
                    this->io_started = true;  // as awaiting_verdict
                    apply_password_record(record->answer);
                    record.reset();
                    pace_answer = true;
                    break;
                case state::pacing:
                    return write(self);  // the denial taken before the wait
            }
            step(self);
        }

        template <class Self>
        void write(Self& self) {
            st = state::writing;
            this->io_started = true;
            asio::async_write(s.next_, asio::buffer(out.data(), out.size()), std::move(self));
        }

        template <class Self>
        void step(Self& self) {
            for (;;) {
                // Output first, always: on failure it holds the server's generic denial.
                out = hs.take_output();
                if (!out.empty()) {
                    if constexpr (is_server) {
                        const auto& c = std::get<StreamServerConfig>(s.config_);
                        const bool failed = std::holds_alternative<HandshakeFailed>(hs.event());
                        const bool paced = pace_answer || (failed && answered);
                        pace_answer = false;
                        if (!answered && !failed) {
                            answered = true;
                            if (c.on_answer) c.on_answer();
                        } else if (paced && !input_ended && c.denial_time) {
                            const auto until = c.denial_time(last_read);
                            if (until > std::chrono::steady_clock::now()) {
                                st = state::pacing;
                                this->io_started = true;
                                if (!s.pace_) s.pace_ = std::make_unique<timer_type>(s.get_executor());
                                s.pace_->expires_at(until);
                                s.pace_->async_wait(std::move(self));
                                return;
                            }
                        }
                    }
                    return write(self);
                }
                if constexpr (!is_server) {
                    // client_auth is written: with early data the session starts now (see install_early).
                    const auto& c = std::get<StreamClientConfig>(s.config_);
                    if (hs.early_data_ready() && c.early_data && !c.next_identity) {
                        return this->finish(self, s.install_early(hs));
                    }
                }
                const auto event = hs.event();
                if (std::holds_alternative<WantInput>(event)) {
                    const std::size_t cap = std::visit([](const auto& c) { return c.preauth_byte_cap; }, s.config_);
                    if (received > cap) return this->finish(self, make_error_code(errc::preauth_limit));
                    // Handshake flights are a few hundred bytes: a small buffer keeps what an unauthenticated
                    // peer costs a server small (several reads bring a larger flight).
                    if (in.empty()) in.resize(handshake_read_size);
                    // Never read past the cap: one byte beyond it is enough to know.
                    const std::size_t room = cap - received < in.size() ? cap - received + 1 : in.size();
                    st = state::reading;
                    this->io_started = true;
                    s.next_.async_read_some(asio::buffer(in.data(), room), std::move(self));
                    return;
                }
                if (const auto* f = std::get_if<HandshakeFailed>(&event)) {
                    if constexpr (is_server) s.denial_reason_ = hs.denial_reason();
                    return this->finish(self, f->error);
                }
                if (std::holds_alternative<HandshakeComplete>(event)) return this->finish(self, s.install(hs));
                if constexpr (!is_server) {
                    if (offer_identities(event)) continue;  // an identity question, answered at once
                }
                if (ask_verdict(self, event)) return;  // the operation now waits for the verdict
            }
        }

        // Client: answers NeedSignature (sign) and NeedAnotherIdentity (next_identity) at once. False for
        // other events.
        bool offer_identities(const ClientEvent& event) {
            const auto& c = std::get<StreamClientConfig>(s.config_);
            const bool need_sig = std::holds_alternative<NeedSignature>(event);
            if (!need_sig && !std::holds_alternative<NeedAnotherIdentity>(event)) return false;
            if (const auto* n = std::get_if<NeedSignature>(&event)) {
                if (!c.sign) {
                    (void)hs.give_up();
                    return true;
                }
                Result<std::array<std::byte, 64>> sig = c.sign(*n);
                if (sig) {
                    (void)hs.provide_signature(*sig);
                    return true;
                }
            }
            // The server refused the last identity, or this one could not sign: the next, if any.
            const NeedAnotherIdentity request{need_sig ? 0 : std::get<NeedAnotherIdentity>(event).refused};
            for (;;) {
                std::optional<StreamIdentity> next = c.next_identity ? c.next_identity(request) : std::nullopt;
                if (!next) {
                    (void)hs.give_up();
                    return true;
                }
                if (hs.offer_identity(next->identity, next->certificate)) return true;
                // An identity that does not fit its certificate is skipped; the callback gives the next.
            }
        }

        // Asks the caller's verdict. True if it was handed to an asynchronous callback (which then
        // holds the operation); false if it was given at once.
        template <class Self, class Event>
        bool ask_verdict(Self& self, const Event& event) {
            if constexpr (!is_server) {
                const auto& v = std::get<NeedServerVerdict>(event);
                const auto& c = std::get<StreamClientConfig>(s.config_);
                if (c.verify_server_async) {
                    const NeedServerVerdict request = v;
                    suspend(self, [&c, &request](PendingVerdict pv) { c.verify_server_async(request, std::move(pv)); });
                    return true;
                }
                // (Password mode never gets here: async_handshake refused it without verify_server_async.)
                const Status answered =
                    c.verify_server && c.verify_server(v.server_key) ? hs.accept_server() : hs.reject_server();
                if (!answered && !hs.error()) (void)hs.reject_server();  // fail closed, never ask again
            } else {
                if (const auto* p = std::get_if<NeedPasswordRecord>(&event)) return ask_password_record(self, *p);
                const auto& v = std::get<NeedClientVerdict>(event);
                const auto& c = std::get<StreamServerConfig>(s.config_);
                if (c.authorize_async) {
                    const NeedClientVerdict request = v;
                    suspend(self, [&c, &request](PendingVerdict pv) { c.authorize_async(request, std::move(pv)); });
                    return true;
                }
                if (v.password) {
                    // authorize's signature cannot tell a password login from a key login: refuse it.
                    (void)hs.deny("a password login needs authorize_async");
                    return false;
                }
                const bool ok = c.authorize && c.authorize(v.account, v.client_key);
                pace_answer = !ok;  // as in apply_verdict
                (void)(ok ? hs.authorize() : hs.deny("refused by the authorize callback"));
            }
            return false;
        }

        // Moves the operation into a PendingVerdict and hands it to `ask`. Nothing of this object may be
        // touched afterwards: it has moved (and may already be running again on the executor).
        template <class Self, class Ask>
        void suspend(Self& self, Ask&& ask) {
            st = state::awaiting_verdict;
            verdict = std::make_shared<VerdictSlot>();
            auto slot = verdict;
            ask(PendingVerdict(std::make_unique<VerdictWaiter<Self>>(std::move(self), std::move(slot))));
        }

        // Server, password mode: asks password_record_async for the account's record, as ask_verdict asks
        // for a verdict (true: the callback holds the operation). Without the callback, the generic denial.
        template <class Self>
        bool ask_password_record(Self& self, const NeedPasswordRecord& p) {
            const auto& c = std::get<StreamServerConfig>(s.config_);
            if (!c.password_record_async) {
                (void)hs.deny("password mode without a password record callback");
                return false;
            }
            const NeedPasswordRecord request = p;
            st = state::awaiting_record;
            record = std::make_shared<PasswordRecordSlot>();
            auto slot = record;
            // Nothing of this object may be touched after the move (see suspend).
            c.password_record_async(request, PendingPasswordRecord(std::make_unique<PasswordRecordWaiter<Self>>(
                                                 std::move(self), std::move(slot))));
            return true;
        }

        void apply_password_record(const PendingPasswordRecord::Answer& a) {
            if constexpr (is_server) {
                using Kind = PendingPasswordRecord::Answer::Kind;
                switch (a.kind) {
                    case Kind::record: (void)hs.provide_password_record(a.record.span(), a.ksf); return;
                    case Kind::none: (void)hs.no_password_record(); return;
                    case Kind::reject: (void)hs.deny(a.reason); return;
                }
                (void)hs.deny("no password record was given");
            }
        }

        void apply_verdict(const VerdictSlot& v) {
            if constexpr (!is_server) {
                Status answered;
                if (!v.accepted) {
                    answered = hs.reject_server();
                } else if (v.password) {
                    answered = v.deferred ? hs.defer_server_to_password(v.password->span())
                                          : hs.accept_server_with_password(v.password->span());
                } else {
                    answered = hs.accept_server();
                }
                // An answer the handshake does not take (accept() in password mode, a password in key
                // mode) leaves it waiting for a verdict: refuse instead (fail closed), never ask again.
                if (!answered && !hs.error()) (void)hs.reject_server();
            } else {
                // A denial leaves at denial_time, a final one or a "retry" (which is not a failure).
                pace_answer = !v.accepted;
                (void)(v.accepted ? hs.authorize() : hs.deny(v.reason));
            }
        }
    };

    // After the handshake: the channel from its traffic secrets, and any records that came with the
    // last handshake message (the channel reads those first).
    template <class Handshake>
    std::error_code install(Handshake& hs) {
        Result<HandshakeResult> r = hs.take_result();
        if (!r) return r.error();
        return start_channel(*r);
    }

    // The channel from a result (its secrets and leftover moved out); the rest is kept as info_.
    std::error_code start_channel(HandshakeResult& r) {
        const Channel::Options opts = std::visit([](const auto& c) { return c.channel; }, config_);
        Result<Channel> ch = Channel::create(r, opts);
        if (!ch) return ch.error();
        channel_.emplace(std::move(*ch));
        info_.emplace(std::move(r));
        return {};
    }

    // Early data: the channel from the early traffic secrets; the handshake stays with the stream until
    // the first read has consumed the server's verdict (finish_early).
    std::error_code install_early(ClientHandshake& hs) {
        Result<HandshakeResult> r = hs.take_early_result();
        if (!r) return r.error();
        if (std::error_code e = start_channel(*r)) return e;
        early_hs_.emplace(std::move(hs));
        return {};
    }

    // The server's verdict came: its exporter, and the records that followed it for the channel.
    std::error_code finish_early() {
        Result<HandshakeResult> r = early_hs_->take_result();
        if (!r) return r.error();
        if (Status st = channel_->take_leftover(*r); !st) return st.error();
        info_.emplace(std::move(*r));
        early_hs_.reset();
        return {};
    }

    // async_read_view's request: no buffers, at most `max` bytes handed out as a view.
    struct view_request {
        std::size_t max;
    };

    // Reads application data: copied into the caller's buffers (read_op<Buffers>), or handed out as a
    // view into the channel's buffer (read_op<view_request>).
    template <class Buffers>
    struct read_op : completion_base<std::conditional_t<std::is_same_v<Buffers, view_request>,
                                                        std::span<const std::byte>, std::size_t>> {
        static constexpr bool view = std::is_same_v<Buffers, view_request>;
        using result_type = std::conditional_t<view, std::span<const std::byte>, std::size_t>;
        stream& s;
        Buffers buffers;
        std::size_t capacity = 0;
        std::size_t copied = 0;
        bool started = false;
        bool verdict_read = false;  // the outstanding read is for the early-data handshake's verdict

        read_op(stream& st_, const Buffers& b) : s(st_), buffers(b) {}

        [[nodiscard]] result_type done() const {
            if constexpr (view) {
                return {};
            } else {
                return copied;
            }
        }

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
            if (this->posted) return self.complete(this->ec, this->n);
            if (!started) {
                started = true;
                if (!s.channel_) return this->finish(self, make_error_code(errc::bad_state), result_type{});
                if constexpr (view) {
                    capacity = buffers.max;
                } else {
                    capacity = asio::buffer_size(buffers);
                }
                if (capacity == 0) return this->finish(self, std::error_code{}, result_type{});
            } else if (verdict_read) {
                verdict_read = false;
                if (ec == asio::error::eof) {
                    (void)s.early_hs_->end_of_input();  // shows up as HandshakeFailed below
                } else if (ec) {
                    return self.complete(ec, result_type{});
                } else {
                    (void)s.early_hs_->feed(std::span<const std::byte>(s.verdict_buf_.data(), n));
                }
            } else if (ec == asio::error::eof) {
                (void)s.channel_->end_of_input();  // truncated unless the close came: read() reports it
            } else if (ec) {
                return self.complete(ec, done());
            } else {
                (void)s.channel_->commit(n);  // a bad length fails the channel: read() reports it
            }
            step(self);
        }

        template <class Self>
        void step(Self& self) {
            if (s.early_hs_) {
                const ClientEvent event = s.early_hs_->event();
                if (const auto* f = std::get_if<HandshakeFailed>(&event)) {
                    return this->finish(self, f->error, result_type{});  // sticky: every read says so
                }
                if (std::holds_alternative<HandshakeComplete>(event)) {
                    if (std::error_code e = s.finish_early()) return this->finish(self, e, result_type{});
                } else {
                    if (s.verdict_buf_.empty()) s.verdict_buf_.resize(4096);
                    verdict_read = true;
                    this->io_started = true;
                    s.next_.async_read_some(asio::buffer(s.verdict_buf_.data(), s.verdict_buf_.size()),
                                            std::move(self));
                    return;
                }
            }
            Channel& ch = *s.channel_;
            for (;;) {
                Result<Channel::Received> r = ch.read(capacity - copied);
                // Deliver what was already copied; a sticky error comes back on the next call.
                if (!r) return this->finish(self, copied > 0 ? std::error_code{} : r.error(), done());
                switch (r->kind) {
                    case Channel::Received::Kind::data:
                        // A view stays valid until the next operation on the stream: the channel is not
                        // touched before the caller's handler runs.
                        if constexpr (view) {
                            return this->finish(self, std::error_code{}, r->data);
                        } else {
                            copy_out(r->data);
                            if (copied == capacity) return this->finish(self, std::error_code{}, copied);
                            continue;
                        }
                    case Channel::Received::Kind::closed:
                        return this->finish(
                            self, copied > 0 ? std::error_code{} : std::error_code(asio::error::eof), done());
                    case Channel::Received::Kind::need_more:
                        break;
                }
                if (copied > 0) return this->finish(self, std::error_code{}, done());
                const std::span<std::byte> room = ch.prepare();
                this->io_started = true;
                s.next_.async_read_some(asio::buffer(room.data(), room.size()), std::move(self));
                return;
            }
        }

        void copy_out(std::span<const std::byte> data) requires(!view) {
            std::size_t skip = copied;
            for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && !data.empty();
                 ++it) {
                asio::mutable_buffer b = *it;
                if (skip >= b.size()) {
                    skip -= b.size();
                    continue;
                }
                const std::size_t k = std::min(b.size() - skip, data.size());
                std::copy_n(data.data(), k, static_cast<std::byte*>(b.data()) + skip);
                skip = 0;
                data = data.subspan(k);
                copied += k;
            }
        }
    };

    template <class Buffers>
    struct write_op : completion_base<> {
        stream& s;
        Buffers buffers;
        bool last = false;  // async_write_last: everything, then the close record
        std::size_t consumed = 0;

        write_op(stream& st_, const Buffers& b, bool l = false) : s(st_), buffers(b), last(l) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
            if (this->posted) return self.complete(this->ec, this->n);
            if (this->io_started) return self.complete(ec, ec ? std::size_t{0} : consumed);
            if (!s.channel_) return this->finish(self, make_error_code(errc::bad_state), std::size_t{0});
            Channel& ch = *s.channel_;
            const std::size_t limit = last ? std::numeric_limits<std::size_t>::max() : max_write_size;
            std::size_t used = 0;
            for (auto it = asio::buffer_sequence_begin(buffers);
                 it != asio::buffer_sequence_end(buffers) && consumed < limit; ++it) {
                asio::const_buffer b = *it;
                const std::size_t take = std::min(b.size(), limit - consumed);
                if (take == 0) continue;
                const std::span<const std::byte> piece(static_cast<const std::byte*>(b.data()), take);
                const std::size_t need = ch.sealed_size(take);
                if (s.wbuf_.size() < used + need) s.wbuf_.resize(used + need);  // grows once, then reused
                Result<std::size_t> w = ch.seal(piece, std::span<std::byte>(s.wbuf_).subspan(used));
                if (!w) return this->finish(self, w.error(), std::size_t{0});
                used += *w;
                consumed += take;
            }
            if (last && !ch.close_sent()) {
                if (s.wbuf_.size() < used + Channel::control_record_size) s.wbuf_.resize(used + Channel::control_record_size);
                Result<std::size_t> c = ch.close(std::span<std::byte>(s.wbuf_).subspan(used));
                if (!c) return this->finish(self, c.error(), std::size_t{0});
                used += *c;
            }
            if (used == 0) return this->finish(self, std::error_code{}, std::size_t{0});
            this->io_started = true;
            asio::async_write(s.next_, asio::buffer(s.wbuf_.data(), used), std::move(self));
        }
    };

    struct shutdown_op : completion_base<> {
        stream& s;

        explicit shutdown_op(stream& st_) : s(st_) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
            if (this->posted) return self.complete(this->ec);
            if (this->io_started) return self.complete(ec);
            if (!s.channel_) return this->finish(self, make_error_code(errc::bad_state));
            if (s.channel_->close_sent()) return this->finish(self, std::error_code{});
            Result<std::size_t> n = s.channel_->close(s.close_record_);
            if (!n) return this->finish(self, n.error());
            this->io_started = true;
            asio::async_write(s.next_, asio::buffer(s.close_record_.data(), *n), std::move(self));
        }
    };

    NextLayer next_;
    std::variant<StreamClientConfig, StreamServerConfig> config_;
    std::optional<Channel> channel_;
    std::optional<HandshakeResult> info_;   // the handshake's outcome, its traffic secrets moved out
    std::string denial_reason_;
    std::vector<std::byte> wbuf_;           // sealed records on their way out, reused
    std::optional<ClientHandshake> early_hs_;  // early data: the handshake until its verdict is read
    std::vector<std::byte> verdict_buf_;       // early data: bytes read while waiting for the verdict
    std::array<std::byte, Channel::control_record_size> close_record_{};
    std::unique_ptr<timer_type> pace_;         // server: holds the denial until denial_time
};

// ---- coroutines -------------------------------------------------------------------------------------
#if defined(ASIO_HAS_CO_AWAIT)
// The completion token for C++20 coroutines that take errors as values, as twoway's own programs,
// examples and benchmarks do: `auto [ec, n] = co_await s.async_read_some(buf, use_nothrow_awaitable);`
// resumes with the error code instead of throwing asio::system_error.
inline constexpr auto use_nothrow_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
#endif

}  // namespace twoway
