#include "password_failures.hpp"

#include <algorithm>

namespace twowayd {

void PasswordFailures::configure(std::uint32_t max, std::chrono::seconds window) {
    max_ = max;
    window_ = window;
    if (max_ == 0) names_.clear();
}

void PasswordFailures::expire(Entry& e, Clock::time_point now) const {
    while (!e.failures.empty() && now - e.failures.front() >= window_) e.failures.pop_front();
}

bool PasswordFailures::locked(const std::string& name, Clock::time_point now) {
    if (max_ == 0) return false;
    const auto it = names_.find(name);
    if (it == names_.end()) return false;
    expire(it->second, now);
    if (it->second.failures.empty()) {
        names_.erase(it);
        return false;
    }
    return it->second.failures.size() >= max_;
}

bool PasswordFailures::record(const std::string& name, Clock::time_point now) {
    if (max_ == 0) return false;
    if (names_.find(name) == names_.end() && names_.size() >= max_names) make_room(now);
    Entry& e = names_[name];
    expire(e, now);
    e.failures.push_back(now);
    while (e.failures.size() > max_) e.failures.pop_front();
    return e.failures.size() == max_;
}

void PasswordFailures::make_room(Clock::time_point now) {
    // First every name whose failures have aged out; if that frees nothing, the least recently failed.
    for (auto it = names_.begin(); it != names_.end();) {
        expire(it->second, now);
        it = it->second.failures.empty() ? names_.erase(it) : std::next(it);
    }
    if (names_.size() < max_names) return;
    const auto oldest = std::min_element(names_.begin(), names_.end(), [](const auto& a, const auto& b) {
        return a.second.failures.back() < b.second.failures.back();
    });
    names_.erase(oldest);
}

}  // namespace twowayd
