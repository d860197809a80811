#include "trust/trust_lines.hpp"

#include "trust/text_util.hpp"

namespace twoway::trust {

std::optional<FramedLine> next_framed(TextLines& lines, const TrustLimits& limits, bool& truncated) {
    if (truncated) return std::nullopt;
    auto line = lines.next();
    if (!line) return std::nullopt;
    FramedLine out{*line, LineStatus::entry, {}};
    if (line->number > limits.max_lines) {
        truncated = true;
        out.status = LineStatus::skipped;
        out.reason = "too many lines (limit " + std::to_string(limits.max_lines) + "); the rest of the file is ignored";
        return out;
    }
    if (line->too_long) {
        out.status = LineStatus::skipped;
        out.reason = "line too long (" + std::to_string(line->text.size()) + " bytes, limit " +
                     std::to_string(limits.max_line_length) + ")";
        return out;
    }
    std::size_t i = 0;
    while (i < line->text.size() && text::is_blank(line->text[i])) ++i;
    if (i == line->text.size()) {
        out.status = LineStatus::blank;
    } else if (line->text[i] == '#') {
        out.status = LineStatus::comment;
    } else if (text::has_control(line->text)) {
        out.status = LineStatus::skipped;
        out.reason = "line contains control characters";
    }
    return out;
}

void count_entry(FramedLine& framed, const TrustLimits& limits, std::size_t& entries, bool& truncated) {
    if (entries >= limits.max_entries) {
        truncated = true;
        framed.status = LineStatus::skipped;
        framed.reason =
            "too many entries (limit " + std::to_string(limits.max_entries) + "); the rest of the file is ignored";
        return;
    }
    ++entries;
}

}  // namespace twoway::trust
