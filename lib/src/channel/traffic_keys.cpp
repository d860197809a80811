#include "channel/traffic_keys.hpp"

#include <cstdlib>

#include "crypto/crypto.hpp"
#include "crypto/labels.hpp"

namespace twoway::channel {

namespace {
constexpr std::size_t header = 4;
constexpr std::size_t tag = crypto::aead_tag_size;
}  // namespace

TrafficKeys::TrafficKeys(SecretBytes<64> secret) : secret_(std::move(secret)) { derive(); }

void TrafficKeys::derive() {
    const crypto::LabelExpander expand(secret_.span());
    expand("key", {}, key_.span());
    expand("iv", {}, iv_.span());
    seq_ = 0;
    bytes_ = 0;
}

void TrafficKeys::update() {
    SecretBytes<64> next;
    crypto::expand_label(secret_.span(), "traffic upd", {}, next.span());
    secret_ = std::move(next);  // the old secret is wiped as its storage is freed
    derive();
}

std::array<std::byte, 12> TrafficKeys::nonce() const noexcept {
    // TLS 1.3 construction: IV XOR the sequence number as a 96-bit big-endian integer.
    std::array<std::byte, 12> n{};
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = iv_.data()[i];
    for (std::size_t i = 0; i < 8; ++i) n[11 - i] ^= static_cast<std::byte>((seq_ >> (8 * i)) & 0xff);
    return n;
}

void TrafficKeys::seal_in_place(std::span<std::byte> record) {
    if (exhausted() || record.size() < header + tag + 1) std::abort();  // callers check: a bug otherwise
    const std::span<std::byte> body = record.subspan(header);
    std::array<std::byte, 12> n = nonce();
    crypto::chacha20poly1305_seal(body, body.first(body.size() - tag), record.first(header), n, key_.span());
    crypto::wipe(n);  // nonce = iv ^ seq: it would give the IV away
    ++seq_;
}

bool TrafficKeys::open_in_place(std::span<std::byte> record) {
    if (exhausted() || record.size() < header + tag + 1) std::abort();
    const std::span<std::byte> body = record.subspan(header);
    std::array<std::byte, 12> n = nonce();
    const bool ok =
        crypto::chacha20poly1305_open(body.first(body.size() - tag), body, record.first(header), n, key_.span());
    crypto::wipe(n);
    if (ok) ++seq_;
    return ok;
}

}  // namespace twoway::channel
