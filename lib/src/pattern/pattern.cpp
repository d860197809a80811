// OpenSSH's wildcard patterns and pattern lists (match.c). The wildcard match is the iterative form
// (on a mismatch, retry from the last `*` one character further), which decides exactly what the
// recursive one does in O(len(text) * len(pattern)) steps at worst: patterns come from files users
// write (authorized_keys from=), and a pattern like "*a*a*a*a*b" must not cost the event loop
// exponential time.
#include <twoway/pattern.hpp>

namespace twoway {

namespace {

char fold(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool wildcard_match(std::string_view text, std::string_view pattern, bool fold_case) noexcept {
    std::size_t t = 0;
    std::size_t p = 0;
    std::size_t star = std::string_view::npos;  // the pattern position just after the last '*'
    std::size_t star_text = 0;                  // where in the text that '*' currently ends
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = ++p;
            star_text = t;
            continue;
        }
        if (p < pattern.size() &&
            (pattern[p] == '?' || (fold_case ? fold(pattern[p]) == fold(text[t]) : pattern[p] == text[t]))) {
            ++p;
            ++t;
            continue;
        }
        if (star == std::string_view::npos) return false;
        p = star;  // let the last '*' swallow one more character
        t = ++star_text;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace

bool match_pattern(std::string_view pattern, std::string_view text) noexcept {
    return wildcard_match(text, pattern, false);
}

PatternMatch match_pattern_list(std::string_view text, std::string_view list, bool fold_case) {
    if (list.empty()) return PatternMatch::none;  // OpenSSH's loop never runs for an empty list
    bool positive = false;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t comma = list.find(',', pos);
        std::string_view entry = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        const bool negated = !entry.empty() && entry.front() == '!';
        if (negated) entry.remove_prefix(1);
        if (wildcard_match(text, entry, fold_case)) {
            if (negated) return PatternMatch::negated;
            positive = true;
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
        // OpenSSH's loop ends at the end of the list: a trailing comma adds no empty entry.
        if (pos == list.size()) break;
    }
    return positive ? PatternMatch::match : PatternMatch::none;
}

}  // namespace twoway
