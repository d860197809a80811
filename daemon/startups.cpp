#include "startups.hpp"

#include <algorithm>

namespace twowayd {

std::string fairness_key(const twowayd::IpAddress& address, std::uint32_t bits4, std::uint32_t bits6) {
    return twowayd::source_key(address, bits4, std::min<std::uint32_t>(bits6, 64));
}

bool StartupTable::Bucket::empty() const noexcept {
    return std::all_of(firsts.begin(), firsts.end(), [](const Order& o) { return o.empty(); });
}

namespace {

template <class Key>
std::optional<Key> first_of_rank(const std::set<Key>& order, std::uint8_t rank) {
    auto it = order.lower_bound(Key{rank, SteadyTime::min(), 0});
    if (it == order.end() || it->rank != rank) return std::nullopt;
    return *it;
}

}  // namespace

template <class FirstOf>
std::optional<StartupTable::Key> StartupTable::candidate(FirstOf first_of, SteadyTime now) const {
    if (auto k = first_of(rank_concluded)) return k;
    // A connection that has made no progress, or whose last step is older than the allowance: of all
    // those, the one whose last step is oldest. Only the first of each rank can be the oldest of its rank.
    std::optional<Key> best = first_of(rank_accepted);
    for (std::uint8_t r = rank_accepted + 1; r < ranks; ++r) {
        auto k = first_of(r);
        if (!k || now - k->last <= allowance_) continue;
        if (!best || std::pair(k->last, k->id) < std::pair(best->last, best->id)) best = k;
    }
    if (best) return best;
    // Every connection made progress within the allowance: the least advanced, the stalest first.
    for (std::uint8_t r = rank_accepted + 1; r < ranks; ++r) {
        if (auto k = first_of(r)) return k;
    }
    return std::nullopt;
}

std::optional<StartupTable::Key> StartupTable::candidate_in(const Order& order, SteadyTime now) const {
    return candidate([&](std::uint8_t r) { return first_of_rank(order, r); }, now);
}

std::optional<StartupTable::Key> StartupTable::table_candidate(const std::string& newcomer_group,
                                                               SteadyTime now) const {
    if (buckets_.empty()) return std::nullopt;
    const auto& [most, bucket] = *buckets_.rbegin();
    // The newcomer's own group first when it already holds as many as any other: with it, it would hold
    // the most.
    if (auto own = groups_.find(newcomer_group); own != groups_.end() && own->second.size() >= most) {
        return candidate_in(own->second, now);
    }
    return candidate(
        [&](std::uint8_t r) -> std::optional<Key> {
            const auto& firsts = bucket.firsts[r];
            if (firsts.empty()) return std::nullopt;
            return *firsts.begin();
        },
        now);
}

// A group's entry in the bucket of its size: taken out before the group changes, put back after.
void StartupTable::unlist(const Order& group) {
    if (group.empty()) return;
    auto b = buckets_.find(static_cast<std::uint32_t>(group.size()));
    if (b == buckets_.end()) return;
    for (std::uint8_t r = 0; r < ranks; ++r) {
        if (auto k = first_of_rank(group, r)) b->second.firsts[r].erase(*k);
    }
    if (b->second.empty()) buckets_.erase(b);
}

void StartupTable::list(const Order& group) {
    if (group.empty()) return;
    auto& b = buckets_[static_cast<std::uint32_t>(group.size())];
    for (std::uint8_t r = 0; r < ranks; ++r) {
        if (auto k = first_of_rank(group, r)) b.firsts[r].insert(*k);
    }
}

void StartupTable::insert(const Entry& e) {
    auto& group = groups_[e.group];
    unlist(group);
    group.insert(e.key);
    list(group);
    sources_[e.source].order.insert(e.key);
}

StartupTable::Admitted StartupTable::admit(const std::string& source, const std::string& group, SteadyTime now) {
    Admitted out{next_id_++, {}};
    auto src = sources_.find(source);
    if (per_source_ && src != sources_.end()) {
        // The source's entry stays (with its log state) although it may be emptied: the newcomer joins it.
        while (!src->second.order.empty() && src->second.order.size() >= *per_source_) {
            const Id victim = candidate_in(src->second.order, now)->id;
            out.shed.push_back(Shed{victim, Admission::past_per_source});
            erase(entries_.find(victim), false);
        }
    }
    while (!entries_.empty() && entries_.size() >= max_) {
        const auto victim = table_candidate(group, now);
        if (!victim) break;
        out.shed.push_back(Shed{victim->id, Admission::past_max_startups});
        erase(entries_.find(victim->id), true);
    }
    const Entry e{source, group, Key{rank_accepted, now, out.id}};
    insert(e);
    entries_.emplace(out.id, e);
    return out;
}

void StartupTable::progress(Id id, Progress step, SteadyTime now) {
    const auto rank = static_cast<std::uint8_t>(1 + static_cast<int>(step));
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.key.rank == rank_concluded || rank <= it->second.key.rank) return;
    rekey(id, rank, now);
}

void StartupTable::conclude(Id id, SteadyTime now) { rekey(id, rank_concluded, now); }

void StartupTable::rekey(Id id, std::uint8_t rank, SteadyTime now) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto& e = it->second;
    auto& group = groups_[e.group];
    auto& per = sources_[e.source].order;
    unlist(group);
    group.erase(e.key);
    per.erase(e.key);
    e.key.rank = rank;
    e.key.last = std::max(now, e.key.last);
    group.insert(e.key);
    per.insert(e.key);
    list(group);
}

void StartupTable::release(Id id) { erase(entries_.find(id), true); }

void StartupTable::erase(std::unordered_map<Id, Entry>::iterator it, bool drop_empty_source) {
    if (it == entries_.end()) return;
    const Entry& e = it->second;
    if (auto g = groups_.find(e.group); g != groups_.end()) {
        unlist(g->second);
        g->second.erase(e.key);
        if (g->second.empty()) {
            groups_.erase(g);
        } else {
            list(g->second);
        }
    }
    auto src = sources_.find(e.source);
    if (src != sources_.end()) {
        src->second.order.erase(e.key);
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

std::uint32_t StartupTable::in_group(const std::string& group) const noexcept {
    auto it = groups_.find(group);
    return it == groups_.end() ? 0 : static_cast<std::uint32_t>(it->second.size());
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

void PenaltyBox::configure(const twowayd::PenaltyConfig& config, std::vector<twowayd::AddressBlock> exempt) {
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

bool PenaltyBox::exempt(const twowayd::IpAddress& address) const noexcept {
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

std::optional<PenaltyBox::Activation> PenaltyBox::penalise(const twowayd::IpAddress& address, const std::string& source,
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

std::optional<PenaltyKind> PenaltyBox::refused(const twowayd::IpAddress& address, const std::string& source,
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
