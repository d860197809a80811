// twoway::stream<NextLayer>: the twoway handshake and record layer over any Asio stream, in the shape of
// asio::ssl::stream. Header-only (the one public header that includes Asio); works with any completion
// token, C++20 coroutines (asio::use_awaitable) included.
//
//   twoway::stream<asio::ip::tcp::socket> s(std::move(socket), twoway::StreamServerConfig{...});
//   co_await s.async_handshake(asio::use_awaitable);
//   std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
//   co_await asio::async_write(s, asio::buffer(reply), asio::use_awaitable);
//   co_await s.async_shutdown(asio::use_awaitable);   // sends the authenticated close
//
// Errors are std::error_code: the transport's own errors as they come, twoway::errc for everything the
// protocol decides (decrypt_failed, host_key_rejected, auth_denied, ...). As with asio::ssl::stream,
// a read after the peer's authenticated close reports asio::error::eof (its clean end of stream, so
// composed reads such as asio::async_read and async_read_until end the usual way), and a transport EOF
// before that close is errc::truncated (ssl's stream_truncated): never a clean end. Protocol failures
// are sticky: the stream is then done and the socket should be closed.
//
// Like asio::ssl::stream: at most one read operation and one write operation (async_write_some or
// async_shutdown) may be outstanding at a time, from one strand; the handshake runs alone. The
// stream sets TCP_NODELAY on a TCP lowest layer (each handshake flight and each write_some is one
// write, so Nagle would only add latency). Pre-authentication deadlines are the caller's: cancel or
// close the socket from a timer.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
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
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>

namespace twoway {

// The client's side: its identity and account, and the verdict on the server's key (for example a
// known_hosts check). An empty verify_server rejects every server.
struct StreamClientConfig {
    ClientConfig handshake;  // handshake.identity must outlive the stream
    std::function<bool(const PublicKey& server_key)> verify_server;
    Rng* rng = nullptr;  // null: system_rng()
    Channel::Options channel{};
    // Early data: async_handshake completes as soon as client_auth is written, so the first
    // async_write_some goes out right behind it and reaches the server one round trip sooner. The
    // server's verdict is then read by the first async_read_some, which fails with errc::auth_denied
    // if the server refused the client (what was written meanwhile was discarded unread by the
    // server). verdict_pending() is true until then; exporter() waits for the verdict too.
    bool early_data = false;
};

// The server's side: its host key, and the verdict on a client key for an account (for example an
// authorized_keys check). An empty authorize refuses every client.
struct StreamServerConfig {
    ServerConfig handshake;  // handshake.host_key must outlive the stream
    std::function<bool(const std::string& account, const PublicKey& client_key)> authorize;
    Rng* rng = nullptr;
    Channel::Options channel{};
};

template <class NextLayer>
class stream {
public:
    using next_layer_type = std::remove_reference_t<NextLayer>;
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;
    using executor_type = typename next_layer_type::executor_type;

    // Most application data handed to the transport per async_write_some: four full records.
    static constexpr std::size_t max_write_size = 4 * Channel::max_payload;

    template <class Arg>
    stream(Arg&& arg, StreamClientConfig config) : next_(std::forward<Arg>(arg)), config_(std::move(config)) {}
    template <class Arg>
    stream(Arg&& arg, StreamServerConfig config) : next_(std::forward<Arg>(arg)), config_(std::move(config)) {}
    stream(stream&&) = default;
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    [[nodiscard]] next_layer_type& next_layer() noexcept { return next_; }
    [[nodiscard]] const next_layer_type& next_layer() const noexcept { return next_; }
    [[nodiscard]] lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }
    [[nodiscard]] const lowest_layer_type& lowest_layer() const noexcept { return next_.lowest_layer(); }

    // ---- after the handshake ------------------------------------------------------------------------
    [[nodiscard]] bool handshake_complete() const noexcept { return channel_.has_value(); }
    // Client with early_data: the server's verdict has not been read yet (see StreamClientConfig).
    [[nodiscard]] bool verdict_pending() const noexcept { return early_hs_.has_value(); }
    // The peer's verified identity key, the account granted, the session id (valid once complete).
    [[nodiscard]] const PublicKey& peer_key() const noexcept { return info_->peer; }
    [[nodiscard]] const std::string& account() const noexcept { return info_->account; }
    [[nodiscard]] const SessionId& session_id() const noexcept { return info_->session_id; }
    [[nodiscard]] Result<SecretBuffer> exporter(std::string_view label, std::span<const std::byte> context,
                                                std::size_t length) const {
        if (!info_ || early_hs_) return errc::bad_state;
        return info_->exporter(label, context, length);
    }
    // Server: why the last handshake refused the client (for the log; never sent to the client).
    [[nodiscard]] const std::string& denial_reason() const noexcept { return denial_reason_; }

    // ---- operations ---------------------------------------------------------------------------------
    // Runs the handshake for the role given at construction. Signature: void(std::error_code).
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

    // Reads application data. Signature: void(std::error_code, std::size_t).
    template <class MutableBufferSequence, class CompletionToken>
    auto async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
            read_op<MutableBufferSequence>{*this, buffers}, token, next_);
    }

    // Seals up to max_write_size bytes of `buffers` and writes the records completely before completing.
    // Signature: void(std::error_code, std::size_t).
    template <class ConstBufferSequence, class CompletionToken>
    auto async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token) {
        return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
            write_op<ConstBufferSequence>{*this, buffers}, token, next_);
    }

    // Sends the authenticated close (a half-close: keep reading until asio::error::eof to see the
    // peer's end). Nothing can be written afterwards. A second call completes at once.
    // Signature: void(std::error_code).
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
    struct completion_base {
        bool io_started = false;
        bool posted = false;
        std::error_code ec;
        std::size_t n = 0;

        template <class Self, class... N>
        void finish(Self& self, std::error_code e, N... n_) {
            if (io_started) return self.complete(e, n_...);
            posted = true;
            ec = e;
            ((n = n_), ...);
            asio::post(std::move(self));
        }
    };

    template <class Handshake>
    struct handshake_op : completion_base {
        stream& s;
        Handshake hs;
        std::vector<std::byte> out{};
        std::vector<std::byte> in{};
        enum class state { start, writing, reading } st = state::start;

        handshake_op(stream& st_, Handshake h) : s(st_), hs(std::move(h)) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
            if (this->posted) return self.complete(this->ec);
            switch (st) {
                case state::start:
                    if (s.channel_) return this->finish(self, make_error_code(errc::bad_state));
                    s.set_no_delay();
                    break;
                case state::writing:
                    if (ec) return self.complete(ec);
                    break;
                case state::reading:
                    if (ec == asio::error::eof) {
                        (void)hs.end_of_input();  // the failure shows up as HandshakeFailed below
                    } else if (ec) {
                        return self.complete(ec);
                    } else {
                        (void)hs.feed(std::span<const std::byte>(in.data(), n));
                    }
                    break;
            }
            step(self);
        }

        template <class Self>
        void step(Self& self) {
            for (;;) {
                // Output first, always: on failure it holds the server's generic denial.
                out = hs.take_output();
                if (!out.empty()) {
                    st = state::writing;
                    this->io_started = true;
                    asio::async_write(s.next_, asio::buffer(out.data(), out.size()), std::move(self));
                    return;
                }
                if constexpr (std::is_same_v<Handshake, ClientHandshake>) {
                    // client_auth is written: with early data the session starts now (see install_early).
                    if (hs.early_data_ready() && std::get<StreamClientConfig>(s.config_).early_data) {
                        return this->finish(self, s.install_early(hs));
                    }
                }
                const auto event = hs.event();
                if (std::holds_alternative<WantInput>(event)) {
                    if (in.empty()) in.resize(16 * 1024);
                    st = state::reading;
                    this->io_started = true;
                    s.next_.async_read_some(asio::buffer(in.data(), in.size()), std::move(self));
                    return;
                }
                if (const auto* f = std::get_if<HandshakeFailed>(&event)) {
                    if constexpr (std::is_same_v<Handshake, ServerHandshake>) s.denial_reason_ = hs.denial_reason();
                    return this->finish(self, f->error);
                }
                if (std::holds_alternative<HandshakeComplete>(event)) return this->finish(self, s.install(hs));
                verdict(event);
            }
        }

        template <class Event>
        void verdict(const Event& event) {
            if constexpr (std::is_same_v<Handshake, ClientHandshake>) {
                const auto& v = std::get<NeedServerVerdict>(event);
                const auto& check = std::get<StreamClientConfig>(s.config_).verify_server;
                (void)(check && check(v.server_key) ? hs.accept_server() : hs.reject_server());
            } else {
                const auto& v = std::get<NeedClientVerdict>(event);
                const auto& check = std::get<StreamServerConfig>(s.config_).authorize;
                (void)(check && check(v.account, v.client_key) ? hs.authorize()
                                                                : hs.deny("refused by the authorize callback"));
            }
        }
    };

    // After the handshake: the channel from its traffic secrets, and any records that came with the
    // last handshake message.
    template <class Handshake>
    std::error_code install(Handshake& hs) {
        Result<HandshakeResult> r = hs.take_result();
        if (!r) return r.error();
        pending_ = std::move(r->leftover);
        pending_pos_ = 0;
        return start_channel(*r);
    }

    // The channel from a result's traffic secrets; the result (secrets moved out) is kept as info_.
    std::error_code start_channel(HandshakeResult& r) {
        const Channel::Options opts = std::visit([](const auto& c) { return c.channel; }, config_);
        Result<Channel> ch = Channel::create(static_cast<std::uint16_t>(r.suite), std::move(r.send_secret),
                                             std::move(r.recv_secret), opts);
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

    // The server's verdict came: its exporter and the records that followed it.
    std::error_code finish_early() {
        Result<HandshakeResult> r = early_hs_->take_result();
        if (!r) return r.error();
        pending_ = std::move(r->leftover);
        pending_pos_ = 0;
        info_.emplace(std::move(*r));
        early_hs_.reset();
        return {};
    }

    template <class Buffers>
    struct read_op : completion_base {
        stream& s;
        Buffers buffers;
        std::size_t capacity = 0;
        std::size_t copied = 0;
        bool started = false;
        bool verdict_read = false;  // the outstanding read is for the early-data handshake's verdict

        read_op(stream& st_, const Buffers& b) : s(st_), buffers(b) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
            if (this->posted) return self.complete(this->ec, this->n);
            if (!started) {
                started = true;
                if (!s.channel_) return this->finish(self, make_error_code(errc::bad_state), std::size_t{0});
                capacity = asio::buffer_size(buffers);
                if (capacity == 0) return this->finish(self, std::error_code{}, std::size_t{0});
            } else if (verdict_read) {
                verdict_read = false;
                if (ec == asio::error::eof) {
                    (void)s.early_hs_->end_of_input();  // shows up as HandshakeFailed below
                } else if (ec) {
                    return self.complete(ec, std::size_t{0});
                } else {
                    (void)s.early_hs_->feed(std::span<const std::byte>(s.verdict_buf_.data(), n));
                }
            } else if (ec == asio::error::eof) {
                (void)s.channel_->end_of_input();  // truncated unless the close came: read() reports it
            } else if (ec) {
                return self.complete(ec, copied);
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
                    return this->finish(self, f->error, std::size_t{0});  // sticky: every read says so
                }
                if (std::holds_alternative<HandshakeComplete>(event)) {
                    if (std::error_code e = s.finish_early()) return this->finish(self, e, std::size_t{0});
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
                if (!r) return this->finish(self, copied > 0 ? std::error_code{} : r.error(), copied);
                switch (r->kind) {
                    case Channel::Received::Kind::data:
                        copy_out(r->data);
                        if (copied == capacity) return this->finish(self, std::error_code{}, copied);
                        continue;
                    case Channel::Received::Kind::closed:
                        return this->finish(
                            self, copied > 0 ? std::error_code{} : std::error_code(asio::error::eof), copied);
                    case Channel::Received::Kind::need_more:
                        break;
                }
                if (copied > 0) return this->finish(self, std::error_code{}, copied);
                if (s.pending_pos_ < s.pending_.size()) {  // records that arrived with the handshake
                    Result<std::size_t> fed = ch.feed(std::span<const std::byte>(s.pending_).subspan(s.pending_pos_));
                    if (!fed) return this->finish(self, fed.error(), std::size_t{0});
                    s.pending_pos_ += *fed;
                    if (s.pending_pos_ == s.pending_.size()) s.pending_ = {};
                    continue;
                }
                const std::span<std::byte> room = ch.prepare();
                this->io_started = true;
                s.next_.async_read_some(asio::buffer(room.data(), room.size()), std::move(self));
                return;
            }
        }

        void copy_out(std::span<const std::byte> data) {
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
    struct write_op : completion_base {
        stream& s;
        Buffers buffers;
        std::size_t consumed = 0;

        write_op(stream& st_, const Buffers& b) : s(st_), buffers(b) {}

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
            if (this->posted) return self.complete(this->ec, this->n);
            if (this->io_started) return self.complete(ec, ec ? std::size_t{0} : consumed);
            if (!s.channel_) return this->finish(self, make_error_code(errc::bad_state), std::size_t{0});
            Channel& ch = *s.channel_;
            std::size_t used = 0;
            for (auto it = asio::buffer_sequence_begin(buffers);
                 it != asio::buffer_sequence_end(buffers) && consumed < max_write_size; ++it) {
                asio::const_buffer b = *it;
                const std::size_t take = std::min(b.size(), max_write_size - consumed);
                if (take == 0) continue;
                const std::span<const std::byte> piece(static_cast<const std::byte*>(b.data()), take);
                const std::size_t need = ch.sealed_size(take);
                if (s.wbuf_.size() < used + need) s.wbuf_.resize(used + need);  // grows once, then reused
                Result<std::size_t> w = ch.seal(piece, std::span<std::byte>(s.wbuf_).subspan(used));
                if (!w) return this->finish(self, w.error(), std::size_t{0});
                used += *w;
                consumed += take;
            }
            if (used == 0) return this->finish(self, std::error_code{}, std::size_t{0});
            this->io_started = true;
            asio::async_write(s.next_, asio::buffer(s.wbuf_.data(), used), std::move(self));
        }
    };

    struct shutdown_op : completion_base {
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
    std::vector<std::byte> pending_;        // leftover bytes from the handshake, for the channel
    std::size_t pending_pos_ = 0;
    std::vector<std::byte> wbuf_;           // sealed records on their way out, reused
    std::optional<ClientHandshake> early_hs_;  // early data: the handshake until its verdict is read
    std::vector<std::byte> verdict_buf_;       // early data: bytes read while waiting for the verdict
    std::array<std::byte, Channel::control_record_size> close_record_{};
};

}  // namespace twoway
