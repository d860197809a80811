// Throughput of the record layer against the bare AEAD it is built on, both in one process over the
// same 64 KiB plaintext buffer: 1 GiB (by default) sealed by one Channel straight into the receive
// buffer of its peer and opened there, versus ChaCha20-Poly1305 seal + open (in place) of the same
// amount in 64 KiB messages. Prints both rates and their ratio. Run: channel_bench [MiB]
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <twoway/channel.hpp>

#include "crypto/crypto.hpp"

using namespace twoway;
using Clock = std::chrono::steady_clock;

namespace {

SecretBytes<64> secret(std::uint8_t first) {
    SecretBytes<64> s;
    for (std::size_t i = 0; i < 64; ++i) s.data()[i] = static_cast<std::byte>(first + i);
    return s;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Bare AEAD: seal plaintext -> box, open box in place, per 64 KiB message.
double raw(const std::vector<std::byte>& plain, std::size_t messages, unsigned& sink) {
    std::array<std::byte, 32> key{};
    key[0] = std::byte{1};
    std::array<std::byte, 12> nonce{};
    const std::array<std::byte, 4> ad{};
    std::vector<std::byte> box(plain.size() + 16);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < messages; ++i) {
        for (int k = 0; k < 8; ++k) nonce[11 - k] = static_cast<std::byte>((i >> (8 * k)) & 0xff);
        crypto::chacha20poly1305_seal(box, plain, ad, nonce, key);
        const std::span<std::byte> out(box.data(), plain.size());
        if (!crypto::chacha20poly1305_open(out, box, ad, nonce, key)) std::abort();
        sink += static_cast<unsigned>(out[i % out.size()]);
    }
    return seconds_since(t0);
}

// The record layer: seal into the peer's prepare() span, commit, read() the plaintext view.
double channel(const std::vector<std::byte>& plain, std::size_t messages, std::size_t per_seal, unsigned& sink) {
    auto a = Channel::create(Suite::x25519_ed25519_chacha20poly1305, secret(0), secret(64));
    auto b = Channel::create(Suite::x25519_ed25519_chacha20poly1305, secret(64), secret(0));
    if (!a || !b) std::abort();
    std::vector<std::byte> data(per_seal);
    for (std::size_t i = 0; i < per_seal; ++i) data[i] = plain[i % plain.size()];
    const std::size_t calls = messages * plain.size() / per_seal;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) {
        const std::span<std::byte> room = b->prepare();
        auto n = a->seal(data, room);
        if (!n || !b->commit(*n)) std::abort();
        for (;;) {
            auto r = b->read();
            if (!r) std::abort();
            if (r->kind == Channel::Received::Kind::need_more) break;
            sink += static_cast<unsigned>(r->data[i % r->data.size()]);
        }
    }
    return seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1024;
    std::vector<std::byte> plain(Channel::max_payload);
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::byte>(i * 131 + 7);
    const std::size_t messages = mib * 1024 * 1024 / plain.size();
    const double gib = static_cast<double>(messages * plain.size()) / (1024.0 * 1024 * 1024);
    unsigned sink = 0;
    // Warm-up, then alternate so that frequency changes and noisy neighbours hit both alike.
    (void)raw(plain, 64, sink);
    double t_raw = 0, t_ch = 0, t_ch4 = 0;
    for (int rep = 0; rep < 2; ++rep) {
        t_raw += raw(plain, messages / 2, sink);
        t_ch += channel(plain, messages / 2, plain.size(), sink);
        t_ch4 += channel(plain, messages / 2, 3 * plain.size(), sink);
    }
    std::printf("data: %.2f GiB each (sink %u)\n", gib, sink & 1);
    std::printf("raw chacha20poly1305 seal+open : %.3f s  %.2f GiB/s\n", t_raw, gib / t_raw);
    std::printf("Channel seal+open, 64 KiB calls: %.3f s  %.2f GiB/s  ratio %.2f\n", t_ch, gib / t_ch, t_raw / t_ch);
    std::printf("Channel seal+open, 192 KiB calls: %.3f s  %.2f GiB/s  ratio %.2f\n", t_ch4, gib / t_ch4,
                t_raw / t_ch4);
    return 0;
}
