// The prefilter for an authorized_keys file too large to parse whole (authorized.cpp, read_opened): only
// the lines that hold the offered key's text are kept, every other line is emptied to its newline so
// that the parser's line numbers stay the file's. No Asio here, so the fuzz build links it alone
// (fuzz/account/holding_lines.cpp checks the streaming filter against lines_holding).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <twoway/result.hpp>
#include <twoway/trust.hpp>

namespace twowayd {

// `text` with every line that does not contain `needle` emptied (its newline kept, so the parser's line
// numbers stay the file's); `kept` counts the lines that remain. It needs the whole text in memory: the
// reference read_lines_holding is tested against. needle holds no newline.
[[nodiscard]] std::string lines_holding(std::string_view text, std::string_view needle, std::size_t& kept);

struct HoldingLines {
    std::string text;      // for parse_authorized_keys(path, text, limits)
    std::size_t kept = 0;  // lines of text holding the needle
};

inline constexpr std::size_t holding_lines_chunk = 256 * 1024;

// lines_holding over the regular file open at fd (from its offset to its end), read blocking in chunks
// of chunk_size bytes into one reused buffer, so that memory is a chunk plus what is kept, never the
// file: the file is read on a decision thread while the daemon forks session children, and a large
// heap buffer written then costs every fork its page tables and the writes copy-on-write faults.
// Errors as read_fd's (twoway/file.hpp): not a regular file is invalid_argument, more than max_size
// bytes length_too_large (by fstat, and by what was read), a failed fstat or read its errno code; it
// clears O_NONBLOCK on fd. needle holds no newline.
//
// What parse_authorized_keys(path, text, limits) makes of the result is what it makes of lines_holding's
// on the whole file, except that a line holding the needle that the parser would skip as too long gives
// no "line too long" diagnostic (nor counts as skipped):
// - such a line is emptied like the others (the last line too, which has no newline, becomes an empty
//   one), so that at most one line the parser could read (its max_line_length, and a '\r') is carried
//   from one chunk to the next; the lines after it keep their numbers;
// - after limits.max_lines + 1 lines nothing more is added (the parser stops at that line with "too many
//   lines"), so that a file of newlines costs no more than that many bytes; kept counts up to there.
// The verdict (entries, their lines and options, truncated) is the same.
[[nodiscard]] twoway::Result<HoldingLines> read_lines_holding(int fd, std::string_view needle, std::size_t max_size,
                                                              const twoway::TrustLimits& limits = {},
                                                              std::size_t chunk_size = holding_lines_chunk);

}  // namespace twowayd
