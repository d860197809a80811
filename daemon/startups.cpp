#include "startups.hpp"

#include <array>
#include <cstddef>
#include <limits>

namespace twowayd {

std::uint32_t uniform(twoway::Rng& rng, std::uint32_t bound) {
    if (bound <= 1) return 0;
    // Reject the top partial range so every residue is equally likely.
    const std::uint32_t limit = std::numeric_limits<std::uint32_t>::max() - std::numeric_limits<std::uint32_t>::max() % bound;
    for (;;) {
        std::array<std::byte, 4> b{};
        rng.fill(b);
        const std::uint32_t v = (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) |
                                std::uint32_t(b[3]);
        if (v < limit) return v % bound;
    }
}

std::uint32_t StartupLimiter::drop_percent(const twoway::MaxStartups& max, std::uint32_t startups) noexcept {
    if (startups < max.start) return 0;
    if (startups >= max.full || max.rate >= 100) return 100;
    // Linear from rate% at start to 100% at full (full > start here, since start <= startups < full).
    const std::uint64_t span = max.full - max.start;
    const std::uint64_t p = max.rate + (std::uint64_t{100} - max.rate) * (startups - max.start) / span;
    return static_cast<std::uint32_t>(p);
}

Admission StartupLimiter::admit(const std::string& source, twoway::Rng& rng) {
    if (per_source_ && from(source) >= *per_source_) return Admission::past_per_source;
    const std::uint32_t p = drop_percent(max_, startups_);
    if (p >= 100 || (p > 0 && uniform(rng, 100) < p)) return Admission::past_max_startups;
    ++startups_;
    ++per_address_[source];
    return Admission::admit;
}

void StartupLimiter::release(const std::string& source) noexcept {
    if (startups_ > 0) --startups_;
    auto it = per_address_.find(source);
    if (it == per_address_.end()) return;
    if (--it->second == 0) per_address_.erase(it);
}

std::uint32_t StartupLimiter::from(const std::string& source) const noexcept {
    auto it = per_address_.find(source);
    return it == per_address_.end() ? 0 : it->second;
}

}  // namespace twowayd
