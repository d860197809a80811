#include "startups.hpp"

#include <algorithm>

namespace twowayd {

StartupTable::Admitted StartupTable::admit(const std::string& source, SteadyTime now) {
    Admitted out{next_id_++, {}};
    auto src = sources_.find(source);
    if (per_source_ && src != sources_.end()) {
        // The source's entry stays (with its log state) although it may be emptied: the newcomer joins it.
        while (!src->second.order.empty() && src->second.order.size() >= *per_source_) {
            const Id victim = src->second.order.begin()->id;
            out.shed.push_back(Shed{victim, Admission::past_per_source});
            erase(entries_.find(victim), false);
        }
    }
    while (!order_.empty() && entries_.size() >= max_) {
        const Id victim = order_.begin()->id;
        out.shed.push_back(Shed{victim, Admission::past_max_startups});
        erase(entries_.find(victim), true);
    }
    const Key key{1, now, out.id};
    entries_.emplace(out.id, Entry{source, key});
    order_.insert(key);
    sources_[source].order.insert(key);
    return out;
}

void StartupTable::progress(Id id, Progress step, SteadyTime now) {
    const auto rank = static_cast<std::uint8_t>(1 + static_cast<int>(step));
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.key.rank == 0 || rank <= it->second.key.rank) return;
    rekey(id, rank, now);
}

void StartupTable::conclude(Id id, SteadyTime now) { rekey(id, 0, now); }

void StartupTable::rekey(Id id, std::uint8_t rank, SteadyTime now) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto& e = it->second;
    auto& per = sources_[e.source].order;
    order_.erase(e.key);
    per.erase(e.key);
    e.key.rank = rank;
    e.key.last = std::max(now, e.key.last);
    order_.insert(e.key);
    per.insert(e.key);
}

void StartupTable::release(Id id) noexcept { erase(entries_.find(id), true); }

void StartupTable::erase(std::unordered_map<Id, Entry>::iterator it, bool drop_empty_source) noexcept {
    if (it == entries_.end()) return;
    order_.erase(it->second.key);
    auto src = sources_.find(it->second.source);
    if (src != sources_.end()) {
        src->second.order.erase(it->second.key);
        if (drop_empty_source && src->second.order.empty()) sources_.erase(src);
    }
    entries_.erase(it);
}

bool StartupTable::below_throttling() const noexcept {
    const std::uint32_t low = max_ - std::max<std::uint32_t>(1, max_ / 4);
    return startups() <= low;
}

std::uint32_t StartupTable::from(const std::string& source) const noexcept {
    auto it = sources_.find(source);
    return it == sources_.end() ? 0 : static_cast<std::uint32_t>(it->second.order.size());
}

bool StartupTable::per_source_drop_at_info(const std::string& source, SteadyTime now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) return true;
    auto& a = it->second;
    if (a.drop_logged && now - a.drop_logged_at < DropLog::interval) return false;
    a.drop_logged = true;
    a.drop_logged_at = now;
    return true;
}

std::vector<int> ShedHold::configure(std::size_t capacity) {
    capacity_ = capacity;
    return trim();
}

std::vector<int> ShedHold::hold(int fd, SteadyTime until) {
    held_.emplace(until, fd);
    return trim();
}

std::vector<int> ShedHold::trim() {
    std::vector<int> out;
    while (held_.size() > capacity_) {
        out.push_back(held_.begin()->second);
        held_.erase(held_.begin());
    }
    return out;
}

std::vector<int> ShedHold::expired(SteadyTime now) {
    std::vector<int> out;
    while (!held_.empty() && held_.begin()->first <= now) {
        out.push_back(held_.begin()->second);
        held_.erase(held_.begin());
    }
    return out;
}

std::vector<int> ShedHold::take_all() {
    std::vector<int> out;
    for (const auto& [until, fd] : held_) out.push_back(fd);
    held_.clear();
    return out;
}

std::optional<SteadyTime> ShedHold::next() const {
    if (held_.empty()) return std::nullopt;
    return held_.begin()->first;
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
