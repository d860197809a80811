// Injectable randomness. The core never draws randomness it was not handed: production code passes
// system_rng(); tests, fuzzers and test vectors pass a reproducible Rng of their own (this project's is
// tests/support/deterministic_rng.hpp), so runs are reproducible.
#pragma once

#include <cstddef>
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

}  // namespace twoway
