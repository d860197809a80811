/// @file
/// Channel: the sans-I/O record layer that carries application data once a handshake has produced a
/// pair of traffic secrets. It never touches a socket: the caller moves bytes between it and the
/// transport. The wire format (u32 length | AEAD(type | payload)), the nonces, the key update and the
/// close semantics are specified in docs/PROTOCOL.md.
///
/// Sending: seal() turns application bytes into whole records (split at max_payload), close() emits the
/// authenticated close, rekey() emits a key_update and switches to the next send key; a key_update is
/// also emitted automatically before more than `rekey_after_bytes` of payload would go out under one key.
///
/// Receiving, without extra copies: read the transport directly into prepare(), then commit(n), then
/// call read() until it says need_more. Records are decrypted in place in the channel's own fixed-size
/// buffer and read() hands out views of the plaintext; nothing is allocated per record, and a record
/// length is checked against its bounds as soon as its 4 length bytes have arrived. feed() is a
/// copying convenience over prepare/commit.
///
/// Every error is sticky: after the first failure (including one authentication failure) nothing more
/// is opened or sealed and every call reports that first error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include <twoway/export.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway {

namespace detail {
struct ChannelTestHook;  // lets unit tests move sequence numbers near the wrap; defined only in lib/src
}

class HandshakeResult;  // <twoway/handshake.hpp>

/// Cipher suite numbers carried by the handshake.
enum class Suite : std::uint16_t {
    x25519_ed25519_chacha20poly1305 = 0x0001,  ///< the only one implemented
    x25519_ed25519_aes256gcm = 0x0002,          ///< reserved
    xwing_ed25519_chacha20poly1305 = 0x0101,    ///< reserved (hybrid post-quantum KEM)
};

/// The record layer for one connection, both directions. Move-only; used from one thread at a time
/// (sending and receiving share its state). Created by Channel::create.
class TWOWAY_API Channel {
public:
    static constexpr std::size_t header_size = 4;        ///< u32 L
    static constexpr std::size_t tag_size = 16;          ///< the AEAD tag in every record
    static constexpr std::size_t max_payload = 65536;    ///< most application bytes in one record
    static constexpr std::size_t min_ciphertext = 1 + tag_size;                 ///< L lower bound
    static constexpr std::size_t max_ciphertext = 1 + max_payload + tag_size;   ///< L upper bound
    static constexpr std::size_t max_record = header_size + max_ciphertext;  ///< largest record on the wire
    static constexpr std::size_t control_record_size = header_size + min_ciphertext;  ///< close, key_update
    /// Size of the internal receive buffer (room for a few maximal records, so one transport read can
    /// bring in several of them).
    static constexpr std::size_t receive_buffer_size = 4 * max_record;

    /// Tuning for create().
    struct Options {
        /// Automatic rekey threshold: payload bytes sealed under one send key. Must be at least 1.
        std::uint64_t rekey_after_bytes = std::uint64_t{1} << 30;
    };

    /// What read() found.
    struct Received {
        /// Which of the three outcomes.
        enum class Kind {
            need_more,  ///< no complete record buffered: give the channel more transport bytes
            data,       ///< `data` holds application bytes (never empty)
            closed,     ///< the peer's authenticated close arrived: end of stream (reported on every later call)
        };
        Kind kind = Kind::need_more;  ///< the outcome
        /// View into the channel's buffer, valid until the next non-const call on the channel.
        std::span<const std::byte> data;
    };

    /// The seam between handshake and channel, used by every driver: the channel for a completed (or,
    /// with early data, an early) handshake result. Moves the traffic secrets and the leftover bytes
    /// (records that came with the last handshake message) out of `result`; what stays there (peer,
    /// account, session id, exporter) is the caller's. The leftover is read before anything the
    /// transport brings later: read() opens it first, and prepare() hands out room only once it is all
    /// in the receive buffer. errc::unsupported_suite for a suite this library cannot run,
    /// errc::invalid_argument for bad options or a result whose secrets were already taken.
    [[nodiscard]] static Result<Channel> create(HandshakeResult& result, Options options);
    /// create(result, Options{}).
    [[nodiscard]] static Result<Channel> create(HandshakeResult& result);
    /// Early data: the channel was created from the early result; the completed result (the server's
    /// verdict) brings the records that followed it. Moves result.leftover in, behind what is pending.
    /// Returns the channel's sticky error if it has failed.
    Status take_leftover(HandshakeResult& result);

    /// From raw traffic secrets (test vectors, tools that derive them themselves). Same errors.
    [[nodiscard]] static Result<Channel> create(Suite suite, SecretBytes<64> send_secret,
                                                SecretBytes<64> recv_secret, Options options);
    /// create(suite, send_secret, recv_secret, Options{}).
    [[nodiscard]] static Result<Channel> create(Suite suite, SecretBytes<64> send_secret,
                                                SecretBytes<64> recv_secret) {
        return create(suite, std::move(send_secret), std::move(recv_secret), Options{});
    }

    /// Moves the channel; the moved-from object may only be assigned to or destroyed.
    Channel(Channel&&) noexcept;
    /// @copydoc Channel(Channel&&)
    Channel& operator=(Channel&&) noexcept;
    /// Wipes the keys and the receive buffer.
    ~Channel();

    // ---- sending ----------------------------------------------------------------------------------
    /// Exact number of bytes seal() would write now for `n` application bytes (any automatic key_update
    /// included). Zero bytes of input give zero bytes of output.
    [[nodiscard]] std::size_t sealed_size(std::size_t n) const noexcept;
    /// Seals `data` into the front of `out` (which must hold sealed_size(data.size()) bytes) and returns
    /// the number of bytes written. errc::invalid_argument if `out` is too small (nothing is written),
    /// errc::bad_state after close(), errc::counter_exhausted when a sequence number would wrap.
    [[nodiscard]] Result<std::size_t> seal(std::span<const std::byte> data, std::span<std::byte> out);
    /// Appends the records to `out`. Same errors, except that `out` grows as needed.
    [[nodiscard]] Status seal(std::span<const std::byte> data, std::vector<std::byte>& out);

    /// The close record (control_record_size bytes); nothing can be sealed afterwards. Written into the
    /// front of `out`, returning its size: errc::invalid_argument if `out` is too small,
    /// errc::bad_state after an earlier close, errc::counter_exhausted when the sequence number would wrap.
    [[nodiscard]] Result<std::size_t> close(std::span<std::byte> out);
    /// The close record, appended to `out`. Same errors, except that `out` grows as needed.
    [[nodiscard]] Status close(std::vector<std::byte>& out);

    /// A key_update record (control_record_size bytes) under the current key; later records use the next.
    /// Written into the front of `out`, returning its size; errors as for close(), bad_state after close.
    [[nodiscard]] Result<std::size_t> rekey(std::span<std::byte> out);
    /// The key_update record, appended to `out`. Same errors, except that `out` grows as needed.
    [[nodiscard]] Status rekey(std::vector<std::byte>& out);

    // ---- receiving --------------------------------------------------------------------------------
    /// Free space at the end of the receive buffer for the transport to read into; then commit(n).
    /// Never empty after read() returned need_more. Empty after a failure, and while leftover bytes
    /// from the handshake are still waiting for room (read() first).
    [[nodiscard]] std::span<std::byte> prepare();
    /// Marks n bytes of prepare()'s span as received. Checks a newly complete record header at once
    /// (errc::record_too_large, errc::malformed for a length out of bounds; errc::unexpected_message for
    /// bytes after the peer's close). errc::invalid_argument if n exceeds the span, errc::bad_state
    /// after end_of_input() or while leftover bytes wait.
    Status commit(std::size_t n);
    /// Copies as much of `bytes` as the buffer has room for; returns how many were taken. Call read()
    /// until need_more, then feed the rest. Errors as for commit().
    [[nodiscard]] Result<std::size_t> feed(std::span<const std::byte> bytes);

    /// Opens the next buffered record(s). Call it until need_more before reading the transport again:
    /// complete records may already be buffered (the leftover, or several records from one read). Returns
    /// at most `max` bytes of application data at a time (the rest of a record stays for the next call).
    /// Key updates are handled inside; empty data records are skipped. Errors (all sticky):
    /// errc::decrypt_failed for a record that does not authenticate, errc::malformed or
    /// errc::unexpected_message for a record the protocol does not allow (an unknown type, data after
    /// the close), errc::counter_exhausted, errc::truncated after end_of_input(); errc::invalid_argument
    /// for max == 0.
    [[nodiscard]] Result<Received> read(std::size_t max = std::numeric_limits<std::size_t>::max());

    /// The transport reported end of input. ok if the peer's close has arrived, or if complete records
    /// or unread plaintext are still buffered (read() then yields them and fails with errc::truncated
    /// instead of need_more, unless one of them is the close); errc::truncated (sticky) otherwise.
    Status end_of_input();

    // ---- state ------------------------------------------------------------------------------------
    [[nodiscard]] std::error_code error() const noexcept;  ///< the sticky failure, if any
    [[nodiscard]] bool close_sent() const noexcept;        ///< close() has written the close record
    [[nodiscard]] bool close_received() const noexcept;    ///< read() has opened the peer's close
    [[nodiscard]] Suite suite() const noexcept;            ///< the suite the channel runs

private:
    struct Impl;
    friend struct detail::ChannelTestHook;
    explicit Channel(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace twoway
