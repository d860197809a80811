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
    ++per_address_[source].count;
    return Admission::admit;
}

void StartupLimiter::release(const std::string& source) noexcept {
    if (startups_ > 0) --startups_;
    auto it = per_address_.find(source);
    if (it == per_address_.end()) return;
    if (--it->second.count == 0) per_address_.erase(it);
}

std::uint32_t StartupLimiter::from(const std::string& source) const noexcept {
    auto it = per_address_.find(source);
    return it == per_address_.end() ? 0 : it->second.count;
}

bool StartupLimiter::per_source_drop_at_info(const std::string& source, SteadyTime now) {
    auto it = per_address_.find(source);
    if (it == per_address_.end()) return true;
    auto& a = it->second;
    if (a.drop_logged && now - a.drop_logged_at < DropLog::interval) return false;
    a.drop_logged = true;
    a.drop_logged_at = now;
    return true;
}

}  // namespace twowayd

namespace twowayd {

std::string_view penalty_reason(PenaltyKind kind) noexcept {
    switch (kind) {
        case PenaltyKind::authfail: return "failed authentication";
        case PenaltyKind::noauth: return "no authentication";
        case PenaltyKind::grace_exceeded: return "exceeded LoginGraceTime";
    }
    return "penalty";
}

void PenaltyBox::configure(const twoway::PenaltyConfig& config, std::vector<twoway::AddressBlock> exempt) {
    config_ = config;
    exempt_ = std::move(exempt);
    if (!config_.enabled) {
        entries_.clear();
        for (auto& o : order_) o.clear();
        return;
    }
    trim(false, 0);
    trim(true, 0);
}

bool PenaltyBox::exempt(const twoway::IpAddress& address) const noexcept {
    for (const auto& block : exempt_) {
        if (block.contains(address)) return true;
    }
    return false;
}

std::uint32_t PenaltyBox::seconds_for(PenaltyKind kind) const noexcept {
    switch (kind) {
        case PenaltyKind::authfail: return config_.authfail;
        case PenaltyKind::noauth: return config_.noauth;
        case PenaltyKind::grace_exceeded: return config_.grace_exceeded;
    }
    return 0;
}

void PenaltyBox::erase(Order& order, Order::iterator it) {
    entries_.erase(it->second);
    order.erase(it);
}

void PenaltyBox::expire(SteadyTime now) {
    for (auto& order : order_) {
        while (!order.empty() && order.begin()->first <= now) erase(order, order.begin());
    }
}

// Forgets the entries closest to expiry until the family has room for `room_for` more.
void PenaltyBox::trim(bool v6, std::size_t room_for) {
    auto& order = order_[v6 ? 1 : 0];
    const std::size_t cap = v6 ? config_.max_sources6 : config_.max_sources4;
    while (!order.empty() && order.size() + room_for > cap) erase(order, order.begin());
}

std::optional<PenaltyBox::Activation> PenaltyBox::penalise(const twoway::IpAddress& address, const std::string& source,
                                                           PenaltyKind kind, SteadyTime now) {
    if (!config_.enabled || exempt(address)) return std::nullopt;
    const auto seconds = seconds_for(kind);
    if (seconds == 0) return std::nullopt;
    expire(now);
    const auto add = std::chrono::seconds(seconds);
    const auto cap = now + std::chrono::seconds(config_.max);
    const auto min = std::chrono::seconds(config_.min);
    auto& order = order_[address.v6 ? 1 : 0];

    auto it = entries_.find(source);
    if (it == entries_.end()) {
        trim(address.v6, 1);
        if ((address.v6 ? config_.max_sources6 : config_.max_sources4) == 0) return std::nullopt;
        Entry e{std::min(now + add, cap), false, address.v6, kind};
        e.active = e.expiry - now >= min;
        it = entries_.emplace(source, e).first;
        order.emplace(e.expiry, source);
        if (!e.active) return std::nullopt;
        return Activation{std::chrono::duration_cast<std::chrono::seconds>(e.expiry - now)};
    }
    Entry& e = it->second;
    order.erase({e.expiry, source});
    e.expiry = std::min(e.expiry + add, cap);
    order.emplace(e.expiry, source);
    if (e.active || e.expiry - now < min) return std::nullopt;
    e.active = true;
    e.reason = kind;
    return Activation{std::chrono::duration_cast<std::chrono::seconds>(e.expiry - now)};
}

std::optional<PenaltyKind> PenaltyBox::refused(const twoway::IpAddress& address, const std::string& source,
                                               SteadyTime now) {
    if (!config_.enabled || entries_.empty()) return std::nullopt;
    expire(now);
    auto it = entries_.find(source);
    if (it == entries_.end() || !it->second.active) return std::nullopt;
    // Checked after the lookup: an address exempted by a reload is let in at once.
    if (exempt(address)) return std::nullopt;
    return it->second.reason;
}

DropLog::Decision DropLog::note(DropKind kind, SteadyTime now) {
    State& s = state_[static_cast<std::size_t>(kind)];
    if (s.started && now - s.last_info < interval) {
        ++s.unshown;
        return Decision{false, s.unshown};
    }
    Decision d{true, s.unshown};
    s.started = true;
    s.last_info = now;
    s.unshown = 0;
    return d;
}

}  // namespace twowayd
