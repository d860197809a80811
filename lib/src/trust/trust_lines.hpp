// The framing both trust-file readers share: limits, blank and comment lines, over-long lines and lines
// of binary junk. What is left (LineStatus::entry, "to be parsed") goes to the format's own line parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <twoway/trust.hpp>

namespace twoway::trust {

struct FramedLine {
    TextLines::Line line;
    LineStatus status = LineStatus::entry;  // entry: parse it; skipped: reason says why
    std::string reason;
};

// The next line of the file, or nothing at its end or once a limit stopped the reading (which sets
// truncated; the line that hit the limit comes back skipped, saying so).
[[nodiscard]] std::optional<FramedLine> next_framed(TextLines& lines, const TrustLimits& limits, bool& truncated);

// Called by a reader when a line parsed into an entry: counts it against max_entries, and when over the
// limit turns the line into the "too many entries" one and stops the reading.
void count_entry(FramedLine& framed, const TrustLimits& limits, std::size_t& entries, bool& truncated);

// Runs a reader (KnownHostsReader, AuthorizedKeysReader) over the whole file and collects the result.
template <class File, class Reader>
[[nodiscard]] File parse_all(std::string_view path, Reader& reader, const TrustLimits& limits) {
    File file;
    file.path = std::string(path);
    while (auto line = reader.next()) {
        if (line->status == LineStatus::entry) {
            file.entries.push_back(std::move(*line->entry));
        } else if (line->status == LineStatus::skipped) {
            ++file.skipped;
            if (file.diagnostics.size() < limits.max_diagnostics) {
                file.diagnostics.push_back(Diagnostic{std::move(line->where), std::move(line->reason)});
            }
        }
    }
    file.truncated = reader.truncated();
    return file;
}

}  // namespace twoway::trust
