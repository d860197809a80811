// PerUserMaxPasswordFailures: failed passwords counted per account name, so that online guessing at one
// account is slowed wherever it comes from (PerSourcePenalties slows it per source). After `max` failed
// passwords for one name within `window`, password attempts for that name are refused at once, without
// a record lookup, until the oldest of those failures is older than `window`.
//
// Names are counted as the client sent them, whether or not an account or a record exists: a lockout
// that only real accounts could reach would tell which accounts exist. The table is bounded (max_names):
// names whose failures have all aged out go first, then the least recently failed ones, so that a flood
// of made-up names costs bounded memory (and can only make the limit forget, never lock anyone out).
// Pure: the caller passes the time. Used from the event loop only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace twowayd {

class PasswordFailures {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t max_names = 16384;

    // max 0: no limit (failures are not even counted).
    void configure(std::uint32_t max, std::chrono::seconds window);

    // True while `name` is locked out at `now`.
    [[nodiscard]] bool locked(const std::string& name, Clock::time_point now);
    // Counts a failed password for `name`; true when this failure is the one that locks it (log once).
    bool record(const std::string& name, Clock::time_point now);
    // How many names are remembered (for tests).
    [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

private:
    struct Entry {
        std::deque<Clock::time_point> failures;  // within the window, oldest first; at most max_
    };
    void expire(Entry& e, Clock::time_point now) const;
    void make_room(Clock::time_point now);

    std::uint32_t max_ = 0;
    std::chrono::seconds window_{0};
    std::unordered_map<std::string, Entry> names_;
};

}  // namespace twowayd
