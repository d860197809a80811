// The pre-authentication limits, decided at accept() time before any byte is read or any crypto is
// done, so a flood costs the daemon one accept and one close per connection:
//   PerSourceMaxStartups  at most N unauthenticated connections from one address;
//   MaxStartups           sshd's random early drop: below `start` every connection is admitted, from
//                         `start` on a new one is refused with probability rate% rising linearly to
//                         100% at `full`.
// A connection counts from its accept until it authenticates or ends. Pure bookkeeping: no clock, no
// I/O, randomness only from the Rng handed in (tests pass a DeterministicRng).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <twoway/random.hpp>

#include "daemon_config.hpp"

namespace twowayd {

enum class Admission { admit, past_max_startups, past_per_source };

class StartupLimiter {
public:
    StartupLimiter() = default;
    StartupLimiter(twoway::MaxStartups max, std::optional<std::uint32_t> per_source) { configure(max, per_source); }

    // New limits (SIGHUP); the connections already counted stay counted.
    void configure(twoway::MaxStartups max, std::optional<std::uint32_t> per_source) noexcept {
        max_ = max;
        per_source_ = per_source;
    }

    // Decides for a new connection from `source` (its address, without port). On admit the connection
    // is counted, and the caller must release(source) exactly once when it authenticates or ends.
    [[nodiscard]] Admission admit(const std::string& source, twoway::Rng& rng);
    void release(const std::string& source) noexcept;

    [[nodiscard]] std::uint32_t startups() const noexcept { return startups_; }
    [[nodiscard]] std::uint32_t from(const std::string& source) const noexcept;
    // True while new connections may be refused at random or outright (startups >= start).
    [[nodiscard]] bool throttling() const noexcept { return startups_ >= max_.start; }

    // sshd's drop probability in percent (0..100) at `startups` unauthenticated connections.
    [[nodiscard]] static std::uint32_t drop_percent(const twoway::MaxStartups& max, std::uint32_t startups) noexcept;

private:
    twoway::MaxStartups max_;
    std::optional<std::uint32_t> per_source_;
    std::uint32_t startups_ = 0;
    std::unordered_map<std::string, std::uint32_t> per_address_;
};

// A uniform number in [0, bound) from rng, without modulo bias. bound >= 1.
[[nodiscard]] std::uint32_t uniform(twoway::Rng& rng, std::uint32_t bound);

}  // namespace twowayd
