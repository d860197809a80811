#include <twoway/trust.hpp>

namespace twoway {

std::string Location::text() const {
    if (line == 0) return path;
    return path + ":" + std::to_string(line);
}

std::string Diagnostic::text() const { return where.text() + ": " + message; }

std::optional<TextLines::Line> TextLines::next() noexcept {
    // A final "\n" ends the last line; it does not start an empty one.
    if (rest_.empty()) return std::nullopt;
    std::string_view line;
    const auto nl = rest_.find('\n');
    if (nl == std::string_view::npos) {
        line = rest_;
        rest_ = {};
    } else {
        line = rest_.substr(0, nl);
        rest_.remove_prefix(nl + 1);
    }
    if (line.ends_with('\r')) line.remove_suffix(1);
    ++number_;
    return Line{number_, line, line.size() > max_line_length_};
}

}  // namespace twoway
