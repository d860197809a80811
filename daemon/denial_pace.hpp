// When a refused client gets its denial. PROTOCOL.md 10.10: nothing on the wire tells an unknown account
// from a refused key; the time does, unless every denial leaves at the same pace: deciding on an existing
// account (its groups, its authorized_keys as the account, StrictModes) took ~160 us longer here than
// finding no such name. So every denial is sent at one deadline after the client's proof (client_auth)
// arrived, as OpenSSH pads failed authentications to a minimum (auth2.c, ensure_minimum_time_since). A
// decision that overruns the pace doubles it, as OpenSSH does, and the doubled pace stays for every
// later denial (everyone's, unknown names' too) until a minute passes without an overrun, when it halves
// again: an overrun shows once, not for each try at an account. Successful logins are not paced.
// Pure: the caller waits (a timer in the event loop) and hands in the clock.
#pragma once

#include <chrono>

#include "startups.hpp"

namespace twowayd {

class DenialPace {
public:
    static constexpr std::chrono::nanoseconds floor = std::chrono::milliseconds(10);
    static constexpr std::chrono::nanoseconds ceiling = std::chrono::seconds(2);
    static constexpr std::chrono::seconds calm = std::chrono::seconds(60);

    // When to send the denial for a proof that arrived at `proof` and was decided at `decided`.
    [[nodiscard]] SteadyTime deadline(SteadyTime proof, SteadyTime decided);
    [[nodiscard]] std::chrono::nanoseconds pace() const noexcept { return pace_; }

private:
    std::chrono::nanoseconds pace_ = floor;
    SteadyTime changed_{};  // when pace_ last rose or fell
};

}  // namespace twowayd
