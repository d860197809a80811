#include "denial_pace.hpp"

#include <algorithm>

namespace twowayd {

SteadyTime DenialPace::deadline(SteadyTime proof, SteadyTime decided) {
    // A calm minute since the pace last changed: one step back down.
    if (pace_ > floor && decided - changed_ >= calm) {
        pace_ = std::max(floor, pace_ / 2);
        changed_ = decided;
    }
    const auto work = decided - proof;
    if (work >= pace_) {
        while (pace_ <= work && pace_ < ceiling) pace_ *= 2;
        pace_ = std::min(pace_, ceiling);
        changed_ = decided;
    }
    // Past the ceiling (a decision that took seconds) there is nothing left to hide it with: send now.
    return std::max(proof + pace_, decided);
}

}  // namespace twowayd
