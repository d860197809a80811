// Injectable randomness. The core never draws randomness it was not handed: production code passes
// system_rng(); tests, fuzzers and test vectors pass a DeterministicRng so runs are reproducible.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <twoway/export.hpp>

namespace twoway {

class TWOWAY_API Rng {
public:
    virtual ~Rng() = default;
    virtual void fill(std::span<std::byte> out) = 0;
};

// The operating system's CSPRNG (libsodium randombytes_buf).
TWOWAY_API Rng& system_rng();

// A reproducible stream from a 32-byte seed (ChaCha20 keystream via randombytes_buf_deterministic,
// one fresh sub-seed per call). For tests and test vectors only: never for real keys.
class TWOWAY_API DeterministicRng final : public Rng {
public:
    explicit DeterministicRng(std::span<const std::byte, 32> seed);
    explicit DeterministicRng(std::uint64_t seed);
    void fill(std::span<std::byte> out) override;

private:
    std::array<std::byte, 32> seed_{};
    std::uint64_t counter_ = 0;
};

}  // namespace twoway
