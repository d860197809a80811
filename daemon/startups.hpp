// The pre-authentication limits, applied at accept() time before any byte is read or any crypto is
// done, so a flood costs the daemon one accept and one close per connection:
//   MaxStartups           the table of unauthenticated connections has room for N; when it is full, a
//                         new connection is admitted and one already in the table is shed (closed
//                         without a byte): one of the source that holds the most of the table (its fair
//                         share exceeded the most), and within that source the one that has made the least
//                         progress, the stalest first. Not sshd's random early drop of newcomers, which
//                         lets one source holding the table lock everyone out.
//   PerSourceMaxStartups  the same within one source (an address, or the block PerSourceNetBlockSize
//                         puts it in): at N, that source's least advanced connection is shed, so a good
//                         client behind the attacker's address still gets in.
//   PerSourcePenalties    OpenSSH 9.8's penalty box: a source that failed authentication, ran out of
//                         LoginGraceTime or went away without authenticating accrues refusal time;
//                         once enough has accrued, its new connections are closed at accept.
// A connection counts from its accept until it authenticates, ends or is shed. Pure bookkeeping: no
// I/O, the clock handed in as a time point.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <map>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon_config.hpp"

namespace twowayd {

using SteadyTime = std::chrono::steady_clock::time_point;

// The most a client may send before the verdict; past it the connection is closed as a protocol
// violation. The framing already bounds each handshake message (client_hello and client_auth together
// are at most 14344 bytes with their headers; a unit test keeps that true), so a well-formed client
// never comes near: the cap keeps the daemon's promise of bounded pre-authentication work even if a
// later protocol change loosens those bounds.
inline constexpr std::size_t preauth_byte_cap = 16 * 1024;
// Each further client_auth a connection may send (MaxAuthTries, PROTOCOL.md 4.1.3) adds room for one
// more of the largest (its body is at most 10240 bytes, plus the header).
inline constexpr std::size_t client_auth_room = 4 + 10240;
inline constexpr std::size_t preauth_cap(std::uint32_t max_auth_tries) {
    return preauth_byte_cap + (max_auth_tries > 1 ? max_auth_tries - 1 : 0) * client_auth_room;
}

// Why a connection was shed to make room for a new one.
enum class Admission { past_max_startups, past_per_source };

// The steps of a handshake that count as progress, in order. Bytes alone do not: a client that drips
// one byte at a time (slowloris) ranks with one that sends nothing.
enum class Progress : std::uint8_t {
    accepted,  // the TCP connection was accepted
    answered,  // client_hello complete and our flight (server_hello .. server_auth) on its way
    proved,    // client_auth complete: the verdict is being decided
};

// Where a connection comes from, as the limits see it: the address (for the exempt list), the key
// PerSourceNetBlockSize groups it under (for PerSourceMaxStartups and the penalties) and the group its
// fair share of a full table is counted in (fairness_key: the same, but an IPv6 group is at most a /64).
struct Source {
    twowayd::IpAddress address;
    std::string key;
    std::string group;
};

// The group a full table's fair shares are counted in: the source's block (PerSourceNetBlockSize), but
// for IPv6 never narrower than a /64, since one host (one SLAAC or DHCPv6 customer, one cloud VM) is
// routinely given a whole /64 and can pick a new address in it for every connection.
[[nodiscard]] std::string fairness_key(const twowayd::IpAddress& address, std::uint32_t bits4, std::uint32_t bits6);

// How long a step of progress keeps its rank. A connection whose last step is older than this ranks as
// one that has made none (at the time of that step), so that a connection that answered long ago and
// stalled since cannot outrank a newcomer forever: replaying a client_hello costs an attacker nothing,
// so "answered" alone proves little. A real client needs a round trip plus its own work from our flight
// to its proof (twoway on loopback: median 0.6 ms, at most 4.7 ms in 50 logins), so 1 s keeps the rank
// of any client less than about a second away. Shorter is harder to game (to keep its slots ranked, a
// source must replay a client_hello, and get a flight of ours, for each slot every allowance) but strips
// the rank from distant clients: with a 20-slot table, one address replaying on 150 connections and
// flooding 500 empty ones a second, a good client from that same address got 37-40 of 40 logins in at
// 100 ms, 24-35 at 0.5-2 s (twowayd.md). Clients from other addresses are not affected (fair shares).
inline constexpr auto progress_allowance = std::chrono::milliseconds(1000);

class StartupTable {
public:
    using Id = std::uint64_t;

    StartupTable() = default;
    StartupTable(std::uint32_t max, std::optional<std::uint32_t> per_source,
                 SteadyTime::duration allowance = progress_allowance)
        : allowance_(allowance) {
        configure(max, per_source);
    }

    // New limits (SIGHUP). The connections already counted stay; the next admission sheds as many as
    // it takes to bring the table (and the source) under the new limits.
    void configure(std::uint32_t max, std::optional<std::uint32_t> per_source) noexcept {
        max_ = max == 0 ? 1 : max;
        per_source_ = per_source;
    }

    struct Shed {
        Id id;
        Admission why;
    };
    struct Admitted {
        Id id;                   // the new connection's, for progress() and release()
        std::vector<Shed> shed;  // to close now, stalest first: they no longer count
    };
    // Admits a new connection from `source` (its key) in fairness group `group`, shedding what the
    // limits require: first the source's connections while the source is at PerSourceMaxStartups, then
    // the table's while it is at MaxStartups. Never the newcomer.
    //
    // Whom the table sheds: a connection of the group holding the most of the table (the newcomer's own
    // group when it holds at least as many as any other; among groups holding equally many, the one
    // whose candidate below ranks first). So a single source flooding the table only ever sheds its own
    // connections, and a client from elsewhere is never shed while the flooder holds more than it.
    //
    // Within a group (and within a source, for PerSourceMaxStartups): a concluded connection (below),
    // then the one with the least progress, and among equals the one whose last progress is oldest. A
    // step older than the allowance (progress_allowance) no longer counts: such a connection ranks as
    // one that has made no progress, at the time of its last step. Progress ranks before age because a
    // source that reopens every connection it loses makes newcomers arrive faster than a good client's
    // round trip: ordered by age alone, a good client's connection that has answered is shed after as
    // many arrivals as the source has slots (issue 13's lock-out test: 11 of 20 logins got through with
    // 10 slots). The allowance keeps the ranking from being bought with replayed client_hellos: slots
    // that answered and stalled are shed before a newcomer once the allowance has passed.
    // The caller must release(id) exactly once when the connection authenticates or ends.
    [[nodiscard]] Admitted admit(const std::string& source, const std::string& group, SteadyTime now);
    // The group is the source (IPv4 at PerSourceNetBlockSize's default, the tests).
    [[nodiscard]] Admitted admit(const std::string& source, SteadyTime now) { return admit(source, source, now); }

    // The connection made progress (a later step than its last; anything else is ignored).
    void progress(Id id, Progress step, SteadyTime now);
    // The connection's handshake is over without authentication (refused, or failed after our flight)
    // and it only lingers (the denial on its way): shed before any other of its group.
    void conclude(Id id, SteadyTime now);
    // The connection authenticated or ended. Unknown ids (already shed) are ignored.
    void release(Id id);

    // For a connection of `source` just shed past_per_source: whether to log it at INFO. The first of
    // a source in each DropLog interval is; the others go to VERBOSE, so one source hammering away
    // cannot flood the log, while each new offender still shows (fail2ban counts these lines). The
    // state lives in the source's entry, which exists while the source has connections: bounded.
    [[nodiscard]] bool per_source_drop_at_info(const std::string& source, SteadyTime now);

    [[nodiscard]] std::uint32_t startups() const noexcept { return static_cast<std::uint32_t>(entries_.size()); }
    [[nodiscard]] std::uint32_t from(const std::string& source) const noexcept;
    [[nodiscard]] std::uint32_t in_group(const std::string& group) const noexcept;
    [[nodiscard]] bool contains(Id id) const noexcept { return entries_.contains(id); }
    [[nodiscard]] std::uint32_t max() const noexcept { return max_; }
    // A throttling episode (sshd's "beginning/exited MaxStartups throttling") lasts from the first shed
    // until the table is down to three quarters of its size, so that one connection leaving the full
    // table of a flood does not end the episode only for the next arrival to begin another.
    [[nodiscard]] bool below_throttling() const noexcept;

private:
    // Ordered: shed first. rank 0 is a concluded connection, then 1 + Progress.
    struct Key {
        std::uint8_t rank;
        SteadyTime last;
        Id id;
        friend auto operator<=>(const Key&, const Key&) = default;
    };
    static constexpr std::uint8_t rank_concluded = 0;
    static constexpr std::uint8_t rank_accepted = 1;
    static constexpr std::size_t ranks = 4;
    using Order = std::set<Key>;  // shed first first

    struct Entry {
        std::string source;
        std::string group;
        Key key;
    };
    struct PerSource {
        Order order;
        bool drop_logged = false;
        SteadyTime drop_logged_at{};
    };
    // For every group size, the first connection of each rank of every group of that size: the
    // candidate of all groups holding equally many is found from these without visiting each group.
    struct Bucket {
        std::array<Order, ranks> firsts;
        [[nodiscard]] bool empty() const noexcept;
    };

    // The connection to shed first among those `first_of(rank)` gives the first of, at `now`.
    template <class FirstOf>
    [[nodiscard]] std::optional<Key> candidate(FirstOf first_of, SteadyTime now) const;
    [[nodiscard]] std::optional<Key> candidate_in(const Order& order, SteadyTime now) const;
    [[nodiscard]] std::optional<Key> table_candidate(const std::string& newcomer_group, SteadyTime now) const;
    void unlist(const Order& group);
    void list(const Order& group);
    void insert(const Entry& e);
    void rekey(Id id, std::uint8_t rank, SteadyTime now);
    void erase(std::unordered_map<Id, Entry>::iterator it, bool drop_empty_source);

    std::uint32_t max_ = 1;
    std::optional<std::uint32_t> per_source_;
    SteadyTime::duration allowance_ = progress_allowance;
    Id next_id_ = 1;
    std::unordered_map<Id, Entry> entries_;
    std::unordered_map<std::string, PerSource> sources_;
    std::unordered_map<std::string, Order> groups_;
    std::map<std::uint32_t, Bucket> buckets_;  // by group size; the last holds the groups holding the most
};

// Connections shed from the table are closed after a pause rather than at once (without a byte either
// way, and nothing is read from them meanwhile). A source that reopens every connection it loses learns
// of a loss only at the close: closed at once, it reopens at the speed of the machine and its newcomers
// shed each other (and any good client's connection from the same address that has not answered yet)
// within milliseconds; held for a pause of about a second, it can reopen only as many connections per
// second as it has held. The hold is bounded: at `capacity` held, the one closest to its close is
// closed at once. Pure bookkeeping of descriptors: the caller closes what it is handed.
class ShedHold {
public:
    explicit ShedHold(std::size_t capacity = 0) : capacity_(capacity) {}

    // A new capacity (SIGHUP); returns the descriptors over it, to close now.
    [[nodiscard]] std::vector<int> configure(std::size_t capacity);
    // Holds fd until `until`; returns the descriptors to close now (over capacity: the earliest ones).
    [[nodiscard]] std::vector<int> hold(int fd, SteadyTime until);
    // The descriptors whose time has come.
    [[nodiscard]] std::vector<int> expired(SteadyTime now);
    // Everything held (shutdown).
    [[nodiscard]] std::vector<int> take_all();
    [[nodiscard]] std::optional<SteadyTime> next() const;
    [[nodiscard]] std::size_t size() const noexcept { return held_.size(); }

private:
    std::vector<int> trim();

    std::size_t capacity_;
    std::multimap<SteadyTime, int> held_;
};

// Why a source is penalised: OpenSSH's names for the events (authfail, noauth, grace-exceeded).
enum class PenaltyKind { authfail, noauth, grace_exceeded };

// For the log: "failed authentication", "no authentication", "exceeded LoginGraceTime".
[[nodiscard]] std::string_view penalty_reason(PenaltyKind kind) noexcept;

// Per-source penalties. A source is the key PerSourceNetBlockSize makes of an address (source_key);
// the address itself is only checked against the exempt list. Each event adds its duration to the
// source's expiry (capped at now + max); once the time left reaches min, the penalty is active and
// the source's new connections are refused until it expires. The table holds at most max-sources4
// IPv4 and max-sources6 IPv6 sources: past that, the entry closest to expiry is forgotten (OpenSSH's
// overflow:permissive), so a flood from ever new addresses costs bounded memory.
class PenaltyBox {
public:
    PenaltyBox() = default;
    PenaltyBox(const twowayd::PenaltyConfig& config, std::vector<twowayd::AddressBlock> exempt) {
        configure(config, std::move(exempt));
    }

    // New settings (SIGHUP): entries stay (trimmed to the new table size); disabling forgets them all.
    void configure(const twowayd::PenaltyConfig& config, std::vector<twowayd::AddressBlock> exempt);

    [[nodiscard]] bool exempt(const twowayd::IpAddress& address) const noexcept;

    struct Activation {
        std::chrono::seconds refused_for{0};  // time left on the penalty
    };
    // Records an event for the source; returns the activation when this event made the penalty active
    // (log it once), nothing otherwise (accruing, already active, exempt or disabled).
    std::optional<Activation> penalise(const twowayd::IpAddress& address, const std::string& source, PenaltyKind kind,
                                       SteadyTime now);

    // The reason the source is refused now, if it is; expires stale entries first.
    [[nodiscard]] std::optional<PenaltyKind> refused(const twowayd::IpAddress& address, const std::string& source,
                                                     SteadyTime now);

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool enabled() const noexcept { return config_.enabled; }

private:
    struct Entry {
        SteadyTime expiry;
        bool active = false;
        bool v6 = false;
        PenaltyKind reason = PenaltyKind::noauth;  // the event that activated it (or the last one)
    };
    using Order = std::set<std::pair<SteadyTime, std::string>>;  // per family, soonest expiry first

    void expire(SteadyTime now);
    void trim(bool v6, std::size_t room_for);
    void erase(Order& order, Order::iterator it);
    [[nodiscard]] std::uint32_t seconds_for(PenaltyKind kind) const noexcept;

    twowayd::PenaltyConfig config_;
    std::vector<twowayd::AddressBlock> exempt_;
    std::unordered_map<std::string, Entry> entries_;
    std::array<Order, 2> order_;  // [0] IPv4, [1] IPv6
};

// Keeps drop lines from flooding the log: per kind, the first drop in each interval is logged at INFO
// (with the number of drops since the previous INFO line of that kind), the others at VERBOSE.
// (PerSourceMaxStartups sheds are limited per source instead: StartupTable.)
enum class DropKind { penalty, byte_cap, accept_error, count_ };

class DropLog {
public:
    static constexpr auto interval = std::chrono::seconds(10);

    struct Decision {
        bool info = false;          // log this one at INFO (else VERBOSE)
        std::uint64_t unshown = 0;  // drops of this kind logged at VERBOSE since the last INFO line
    };
    [[nodiscard]] Decision note(DropKind kind, SteadyTime now);

private:
    struct State {
        bool started = false;
        SteadyTime last_info{};
        std::uint64_t unshown = 0;
    };
    std::array<State, static_cast<std::size_t>(DropKind::count_)> state_{};
};

}  // namespace twowayd
