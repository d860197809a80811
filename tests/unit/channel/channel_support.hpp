// Helpers for the channel tests: channel pairs with fixed secrets, delivery of a byte stream in random
// chunks, and an independent record builder (straight from the crypto wrappers and the labels) to
// forge records the Channel's API would never produce.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

#include <twoway/channel.hpp>

#include "crypto/crypto.hpp"
#include "crypto/labels.hpp"

namespace twoway::test {

inline SecretBytes<64> pattern_secret(std::uint8_t first) {
    SecretBytes<64> s;
    for (std::size_t i = 0; i < 64; ++i) s.data()[i] = static_cast<std::byte>(first + i);
    return s;
}

inline constexpr Suite suite1 = Suite::x25519_ed25519_chacha20poly1305;

struct Pair {
    Channel a;  // a sends with secret 0x00.., b receives with it
    Channel b;
};

inline Pair make_pair(Channel::Options opts = {}) {
    auto a = Channel::create(suite1, pattern_secret(0x00), pattern_secret(0x40), opts);
    auto b = Channel::create(suite1, pattern_secret(0x40), pattern_secret(0x00), opts);
    if (!a || !b) throw std::runtime_error("channel create failed");
    return Pair{std::move(*a), std::move(*b)};
}

inline Channel make_receiver(Channel::Options opts = {}) { return std::move(make_pair(opts).b); }

// What a receiver made of a byte stream.
struct Outcome {
    std::vector<std::byte> data;
    bool closed = false;
    std::error_code ec;  // first error, if any
    std::size_t fed = 0;  // input bytes delivered up to and including the failing chunk
};

// Feeds `wire` to `rx` in chunks of 1..max_chunk bytes (random), reading everything after each chunk.
// `read_max` limits each read() (partial consumption of records).
inline Outcome deliver(Channel& rx, std::span<const std::byte> wire, std::mt19937_64& rng,
                       std::size_t max_chunk = 1, std::size_t read_max = SIZE_MAX) {
    Outcome out;
    std::size_t pos = 0;
    auto drain = [&]() -> bool {
        for (;;) {
            auto r = rx.read(read_max);
            if (!r) {
                out.ec = r.error();
                return false;
            }
            if (r->kind == Channel::Received::Kind::need_more) return true;
            if (r->kind == Channel::Received::Kind::closed) {
                out.closed = true;
                return true;
            }
            out.data.insert(out.data.end(), r->data.begin(), r->data.end());
        }
    };
    while (pos < wire.size()) {
        std::size_t want = std::uniform_int_distribution<std::size_t>(1, max_chunk)(rng);
        want = std::min(want, wire.size() - pos);
        auto n = rx.feed(wire.subspan(pos, want));
        if (!n) {
            out.ec = n.error();
            out.fed = pos + want;  // the failing chunk counts as delivered
            return out;
        }
        pos += *n;
        out.fed = pos;
        if (!drain()) return out;
    }
    return out;
}

// A record built independently of Channel: type and payload of our choosing under secret/seq.
inline std::vector<std::byte> forge_record(const SecretBytes<64>& secret, std::uint64_t seq, std::uint8_t type,
                                           std::span<const std::byte> payload) {
    std::array<std::byte, 32> key{};
    std::array<std::byte, 12> iv{};
    crypto::expand_label(secret.span(), "key", {}, key);
    crypto::expand_label(secret.span(), "iv", {}, iv);
    for (int i = 0; i < 8; ++i) iv[11 - i] ^= static_cast<std::byte>((seq >> (8 * i)) & 0xff);
    const std::uint32_t len = static_cast<std::uint32_t>(1 + payload.size() + 16);
    std::vector<std::byte> rec{std::byte(len >> 24), std::byte(len >> 16), std::byte(len >> 8), std::byte(len)};
    std::vector<std::byte> plain{std::byte{type}};
    plain.insert(plain.end(), payload.begin(), payload.end());
    std::vector<std::byte> ct(plain.size() + 16);
    crypto::chacha20poly1305_seal(ct, plain, std::span<const std::byte>(rec.data(), 4), iv, key);
    rec.insert(rec.end(), ct.begin(), ct.end());
    return rec;
}

inline std::vector<std::byte> random_bytes(std::size_t n, std::mt19937_64& rng) {
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng() & 0xff);
    return v;
}

inline std::error_code ec(errc e) { return make_error_code(e); }

}  // namespace twoway::test
