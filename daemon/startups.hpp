// The pre-authentication limits, decided at accept() time before any byte is read or any crypto is
// done, so a flood costs the daemon one accept and one close per connection:
//   PerSourceMaxStartups  at most N unauthenticated connections from one source (an address, or the
//                         block PerSourceNetBlockSize puts it in);
//   MaxStartups           sshd's random early drop: below `start` every connection is admitted, from
//                         `start` on a new one is refused with probability rate% rising linearly to
//                         100% at `full`.
//   PerSourcePenalties    OpenSSH 9.8's penalty box: a source that failed authentication, ran out of
//                         LoginGraceTime or went away without authenticating accrues refusal time;
//                         once enough has accrued, its new connections are closed at accept.
// A connection counts from its accept until it authenticates or ends. Pure bookkeeping: no I/O, the
// clock handed in as a time point, randomness only from the Rng handed in (tests pass a
// DeterministicRng).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <twoway/random.hpp>

#include "daemon_config.hpp"

namespace twowayd {

using SteadyTime = std::chrono::steady_clock::time_point;

// The most a client may send before the verdict; past it the connection is closed as a protocol
// violation. The framing already bounds each handshake message (client_hello and client_auth together
// are at most 14344 bytes with their headers; a unit test keeps that true), so a well-formed client
// never comes near: the cap keeps the daemon's promise of bounded pre-authentication work even if a
// later protocol change loosens those bounds.
inline constexpr std::size_t preauth_byte_cap = 16 * 1024;

enum class Admission { admit, past_max_startups, past_per_source };

// Where a connection comes from, as the limits see it: the address (for the exempt list) and the key
// PerSourceNetBlockSize groups it under (for PerSourceMaxStartups and the penalties).
struct Source {
    twoway::IpAddress address;
    std::string key;
};

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

    // For a connection just refused past_per_source: whether to log it at INFO. The first refusal of
    // a source in each DropLog interval is; the others go to VERBOSE, so one source hammering away
    // cannot flood the log, while each new offender still shows (fail2ban counts these lines). The
    // state lives in the source's counter, which exists while the source is at its limit: bounded.
    [[nodiscard]] bool per_source_drop_at_info(const std::string& source, SteadyTime now);

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
    struct PerAddress {
        std::uint32_t count = 0;
        bool drop_logged = false;
        SteadyTime drop_logged_at{};
    };
    std::unordered_map<std::string, PerAddress> per_address_;
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
    PenaltyBox(const twoway::PenaltyConfig& config, std::vector<twoway::AddressBlock> exempt) {
        configure(config, std::move(exempt));
    }

    // New settings (SIGHUP): entries stay (trimmed to the new table size); disabling forgets them all.
    void configure(const twoway::PenaltyConfig& config, std::vector<twoway::AddressBlock> exempt);

    [[nodiscard]] bool exempt(const twoway::IpAddress& address) const noexcept;

    struct Activation {
        std::chrono::seconds refused_for{0};  // time left on the penalty
    };
    // Records an event for the source; returns the activation when this event made the penalty active
    // (log it once), nothing otherwise (accruing, already active, exempt or disabled).
    std::optional<Activation> penalise(const twoway::IpAddress& address, const std::string& source, PenaltyKind kind,
                                       SteadyTime now);

    // The reason the source is refused now, if it is; expires stale entries first.
    [[nodiscard]] std::optional<PenaltyKind> refused(const twoway::IpAddress& address, const std::string& source,
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

    twoway::PenaltyConfig config_;
    std::vector<twoway::AddressBlock> exempt_;
    std::unordered_map<std::string, Entry> entries_;
    std::array<Order, 2> order_;  // [0] IPv4, [1] IPv6
};

// Keeps drop lines from flooding the log: per kind, the first drop in each interval is logged at INFO
// (with the number of drops since the previous INFO line of that kind), the others at VERBOSE.
// (PerSourceMaxStartups drops are limited per source instead: StartupLimiter.)
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

// A uniform number in [0, bound) from rng, without modulo bias. bound >= 1.
[[nodiscard]] std::uint32_t uniform(twoway::Rng& rng, std::uint32_t bound);

}  // namespace twowayd
