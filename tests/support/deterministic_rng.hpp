// A reproducible Rng for tests, fuzzers and test vectors: a stream from a 32-byte seed, each call with a
// fresh sub-seed BLAKE2b(key = seed, counter) expanded by randombytes_buf_deterministic (ChaCha20), so
// the stream does not depend on how earlier calls were sized beyond their number. Never for real keys:
// that is why it lives here and not in the library (it was exported by libtwoway until issue 14). The
// published test vectors were made with exactly this construction; changing it changes them.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include <twoway/random.hpp>

namespace twoway_test {

class DeterministicRng final : public twoway::Rng {
public:
    explicit DeterministicRng(std::span<const std::byte, 32> seed) { std::memcpy(seed_.data(), seed.data(), seed_.size()); }
    explicit DeterministicRng(std::uint64_t seed) {
        for (int i = 0; i < 8; ++i) seed_[static_cast<std::size_t>(i)] = static_cast<std::byte>(seed >> (8 * i));
    }

    void fill(std::span<std::byte> out) override {
        if (sodium_init() < 0) std::abort();
        unsigned char ctr[8];
        for (int i = 0; i < 8; ++i) ctr[i] = static_cast<unsigned char>(counter_ >> (8 * i));
        ++counter_;
        unsigned char sub[randombytes_SEEDBYTES];
        crypto_generichash(sub, sizeof sub, ctr, sizeof ctr, reinterpret_cast<const unsigned char*>(seed_.data()),
                           seed_.size());
        randombytes_buf_deterministic(out.data(), out.size(), sub);
        sodium_memzero(sub, sizeof sub);
    }

private:
    std::array<std::byte, 32> seed_{};
    std::uint64_t counter_ = 0;
};

}  // namespace twoway_test
