/// @file
/// Injectable randomness. The core never draws randomness it was not handed: production code passes
/// system_rng(); tests, fuzzers and test vectors pass a reproducible Rng of their own (this project's is
/// tests/support/deterministic_rng.hpp), so runs are reproducible.
#pragma once

#include <cstddef>
#include <span>

#include <twoway/export.hpp>

namespace twoway {

/// A source of random bytes, handed to the handshake (and to key generation) by reference: it must
/// outlive every object it was handed to. Implementations need not be thread-safe when each thread
/// uses its own; system_rng() is.
class TWOWAY_API Rng {
public:
    virtual ~Rng() = default;
    /// Fills all of out with random bytes. There is no way to report failure: a source that cannot
    /// deliver must not return (libsodium's aborts).
    virtual void fill(std::span<std::byte> out) = 0;
};

/// The operating system's CSPRNG (libsodium randombytes_buf): one object for the process, thread-safe.
TWOWAY_API Rng& system_rng();

}  // namespace twoway
