// Channel: construction and the sending side (seal, close, rekey). The receiving side is in
// channel_receive.cpp.
#include <twoway/channel.hpp>

#include <algorithm>
#include <cstring>

#include <twoway/handshake.hpp>

#include "channel/channel_impl.hpp"
#include "crypto/crypto.hpp"

namespace twoway {

using channel::RecordType;

namespace {

constexpr std::size_t record_size(std::size_t payload) { return Channel::header_size + 1 + payload + Channel::tag_size; }

// Writes one record (header, type, payload) at `out` and seals it in place. `payload` may overlap
// `out` (memmove). The caller has checked the room and that the key is not exhausted.
std::size_t write_record(channel::TrafficKeys& keys, RecordType type, std::span<const std::byte> payload,
                         std::byte* out) {
    const std::size_t len = 1 + payload.size() + Channel::tag_size;  // L, at most max_ciphertext
    out[0] = static_cast<std::byte>((len >> 24) & 0xff);
    out[1] = static_cast<std::byte>((len >> 16) & 0xff);
    out[2] = static_cast<std::byte>((len >> 8) & 0xff);
    out[3] = static_cast<std::byte>(len & 0xff);
    out[4] = static_cast<std::byte>(type);
    if (!payload.empty()) std::memmove(out + 5, payload.data(), payload.size());
    keys.seal_in_place(std::span<std::byte>(out, Channel::header_size + len));
    return Channel::header_size + len;
}

}  // namespace

Channel::Impl::~Impl() {
    // The buffer held plaintext: leave none of it behind in freed memory.
    if (rbuf) crypto::wipe(std::span<std::byte>(rbuf.get(), high_water));
}

Channel::Channel(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Channel::Channel(Channel&&) noexcept = default;
Channel& Channel::operator=(Channel&&) noexcept = default;
Channel::~Channel() = default;

Result<Channel> Channel::create(Suite suite, SecretBytes<64> send_secret, SecretBytes<64> recv_secret,
                                Options options) {
    if (suite != Suite::x25519_ed25519_chacha20poly1305) return errc::unsupported_suite;
    if (options.rekey_after_bytes == 0 || !send_secret.valid() || !recv_secret.valid()) return errc::invalid_argument;
    return Channel(std::make_unique<Impl>(suite, std::move(send_secret), std::move(recv_secret), options));
}

Result<Channel> Channel::create(HandshakeResult& result, Options options) {
    // Checked before anything is moved out, so a refused result keeps its secrets.
    if (result.suite != Suite::x25519_ed25519_chacha20poly1305) return errc::unsupported_suite;
    if (options.rekey_after_bytes == 0 || !result.send_secret.valid() || !result.recv_secret.valid()) {
        return errc::invalid_argument;
    }
    Result<Channel> ch = create(result.suite, std::move(result.send_secret), std::move(result.recv_secret), options);
    if (!ch) return ch;
    if (Status st = ch->take_leftover(result); !st) return fail(st.error());
    return ch;
}

Result<Channel> Channel::create(HandshakeResult& result) { return create(result, Options{}); }

Status Channel::take_leftover(HandshakeResult& result) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (result.leftover.empty()) return {};
    if (s.leftover_waiting()) {
        s.leftover.insert(s.leftover.end(), result.leftover.begin(), result.leftover.end());
    } else {
        s.leftover = std::move(result.leftover);
        s.leftover_pos = 0;
    }
    result.leftover = {};
    return {};
}

std::error_code Channel::error() const noexcept { return impl_->failed; }
bool Channel::close_sent() const noexcept { return impl_->close_sent; }
bool Channel::close_received() const noexcept { return impl_->close_received; }
Suite Channel::suite() const noexcept { return impl_->suite; }

std::size_t Channel::sealed_size(std::size_t n) const noexcept {
    // Mirrors seal(): records split at max_payload and at the rekey threshold, a key_update in front
    // of the first record that would go past the threshold.
    const std::uint64_t limit = impl_->options.rekey_after_bytes;
    std::uint64_t used = impl_->send.bytes_under_key();
    std::size_t total = 0;
    while (n > 0) {
        if (used >= limit) {
            total += control_record_size;
            used = 0;
        }
        const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>({n, max_payload, limit - used}));
        total += record_size(chunk);
        used += chunk;
        n -= chunk;
    }
    return total;
}

Result<std::size_t> Channel::seal(std::span<const std::byte> data, std::span<std::byte> out) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (s.close_sent) return errc::bad_state;
    if (out.size() < sealed_size(data.size())) return errc::invalid_argument;

    const std::uint64_t limit = s.options.rekey_after_bytes;
    std::size_t written = 0;
    while (!data.empty()) {
        if (s.send.bytes_under_key() >= limit) {
            if (s.send.exhausted()) return s.fail(errc::counter_exhausted);
            written += write_record(s.send, RecordType::key_update, {}, out.data() + written);
            s.send.update();
        }
        const std::size_t chunk = static_cast<std::size_t>(
            std::min<std::uint64_t>({data.size(), max_payload, limit - s.send.bytes_under_key()}));
        if (s.send.exhausted()) return s.fail(errc::counter_exhausted);
        written += write_record(s.send, RecordType::data, data.first(chunk), out.data() + written);
        s.send.count_payload(chunk);
        data = data.subspan(chunk);
    }
    return written;
}

Status Channel::seal(std::span<const std::byte> data, std::vector<std::byte>& out) {
    if (impl_->failed) return fail(impl_->failed);
    const std::size_t old = out.size();
    out.resize(old + sealed_size(data.size()));
    Result<std::size_t> r = seal(data, std::span<std::byte>(out).subspan(old));
    if (!r) {
        out.resize(old);
        return fail(r.error());
    }
    return {};
}

Result<std::size_t> Channel::close(std::span<std::byte> out) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (s.close_sent) return errc::bad_state;
    if (out.size() < control_record_size) return errc::invalid_argument;
    if (s.send.exhausted()) return s.fail(errc::counter_exhausted);
    s.close_sent = true;
    return write_record(s.send, RecordType::close, {}, out.data());
}

Result<std::size_t> Channel::rekey(std::span<std::byte> out) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (s.close_sent) return errc::bad_state;
    if (out.size() < control_record_size) return errc::invalid_argument;
    if (s.send.exhausted()) return s.fail(errc::counter_exhausted);
    const std::size_t n = write_record(s.send, RecordType::key_update, {}, out.data());
    s.send.update();
    return n;
}

namespace {
template <class F>
Status append_control(std::vector<std::byte>& out, F&& emit) {
    const std::size_t old = out.size();
    out.resize(old + Channel::control_record_size);
    Result<std::size_t> r = emit(std::span<std::byte>(out).subspan(old));
    if (!r) {
        out.resize(old);
        return fail(r.error());
    }
    return {};
}
}  // namespace

Status Channel::close(std::vector<std::byte>& out) {
    return append_control(out, [this](std::span<std::byte> o) { return close(o); });
}

Status Channel::rekey(std::vector<std::byte>& out) {
    return append_control(out, [this](std::span<std::byte> o) { return rekey(o); });
}

}  // namespace twoway
