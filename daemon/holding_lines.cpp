#include "holding_lines.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace twowayd {

std::string lines_holding(std::string_view text, std::string_view needle, std::size_t& kept) {
    std::string out;
    kept = 0;
    std::size_t done = 0;  // text[..done) has been copied or blanked into out
    while (done < text.size()) {
        const void* hit = ::memmem(text.data() + done, text.size() - done, needle.data(), needle.size());
        if (hit == nullptr) break;
        const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
        const auto nl_before = text.rfind('\n', at);
        const std::size_t start = nl_before == std::string_view::npos ? 0 : nl_before + 1;
        const auto nl_after = text.find('\n', at);
        const std::size_t end = nl_after == std::string_view::npos ? text.size() : nl_after + 1;
        if (start > done) out.append(static_cast<std::size_t>(std::count(text.begin() + done, text.begin() + start, '\n')), '\n');
        out.append(text.substr(start, end - start));
        ++kept;
        done = end;
    }
    if (done < text.size()) out.append(static_cast<std::size_t>(std::count(text.begin() + done, text.end(), '\n')), '\n');
    return out;
}

namespace {

// lines_holding's work, fed the file in pieces that end at line ends (and the last line, if it has no
// newline), so the reading loop only has to carry one partial line; it also applies the two bounds of
// read_lines_holding (the parser's line length and line count).
class LineFilter {
public:
    LineFilter(std::string_view needle, const twoway::TrustLimits& limits)
        : needle_(needle), max_line_length_(limits.max_line_length),
          room_(limits.max_lines == std::numeric_limits<std::size_t>::max() ? limits.max_lines : limits.max_lines + 1) {}

    // Whole lines, each with its newline.
    void lines(std::string_view text) {
        std::size_t done = 0;  // as in lines_holding
        while (done < text.size() && room_ > 0) {
            const void* hit = ::memmem(text.data() + done, text.size() - done, needle_.data(), needle_.size());
            if (hit == nullptr) break;
            const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
            const auto nl_before = text.rfind('\n', at);
            const std::size_t start = nl_before == std::string_view::npos || nl_before < done ? done : nl_before + 1;
            const std::size_t end = text.find('\n', at) + 1;  // text ends with one
            blank(newlines(text.substr(done, start - done)));
            line(text.substr(start, end - start));
            done = end;
        }
        if (room_ > 0) blank(newlines(text.substr(done)));
    }

    // The file's last line, which has no newline.
    void last(std::string_view text) {
        if (::memmem(text.data(), text.size(), needle_.data(), needle_.size()) != nullptr) line(text);
    }

    // A line holding the needle that the parser would skip as too long, or any line dropped unread for
    // growing that long (ended by its newline, or the last line when it held the needle): one empty
    // line in its place, so that the lines after it keep their numbers and, at max_lines + 1, the
    // parser still stops there.
    void dropped() { blank(1); }

    HoldingLines take() { return HoldingLines{std::move(text_), kept_}; }

private:
    static std::size_t newlines(std::string_view text) {
        return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    }

    void blank(std::size_t n) {
        n = std::min(n, room_);
        text_.append(n, '\n');
        room_ -= n;
    }

    // A line holding the needle (with its newline, unless it is the last): kept when the parser reads it
    // (TextLines: one '\r' before the newline is not the line's), emptied when it is too long to.
    void line(std::string_view text) {
        if (room_ == 0) return;
        std::string_view body = text;
        if (body.ends_with('\n')) body.remove_suffix(1);
        if (body.ends_with('\r')) body.remove_suffix(1);
        if (body.size() > max_line_length_) {
            dropped();
            return;
        }
        text_.append(text);
        ++kept_;
        --room_;
    }

    std::string_view needle_;
    std::size_t max_line_length_;
    std::size_t room_;  // lines that may still be added (the parser reads max_lines + 1)
    std::string text_;
    std::size_t kept_ = 0;
};

twoway::Failure os_error(int e) { return twoway::fail(std::error_code(e, std::generic_category())); }

}  // namespace

twoway::Result<HoldingLines> read_lines_holding(int fd, std::string_view needle, std::size_t max_size,
                                                const twoway::TrustLimits& limits, std::size_t chunk_size) {
    // read_fd's checks: a regular file (opened non-blocking, so that a FIFO could not stall the open), read
    // blocking, under the cap.
    struct stat st {};
    if (::fstat(fd, &st) != 0) return os_error(errno);
    if (!S_ISREG(st.st_mode)) return twoway::fail(twoway::errc::invalid_argument);
    if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (static_cast<std::uint64_t>(st.st_size) > max_size) return twoway::fail(twoway::errc::length_too_large);

    chunk_size = std::max<std::size_t>(chunk_size, 1);
    // A partial line longer than this is one the parser skips as too long, whatever follows: it is
    // dropped rather than carried, so the buffer stays one chunk and one line. Whether a dropped line
    // held the needle still matters if it turns out to be the last (lines_holding keeps it then, and
    // the parser counts it), so the end of what was dropped is carried, in case the needle crosses into
    // the next chunk.
    const std::size_t max_carry = std::min(limits.max_line_length, max_size) + 1;  // + a '\r'
    const std::size_t overlap = needle.empty() ? 0 : needle.size() - 1;
    std::string buffer(std::max(max_carry, overlap) + chunk_size, '\0');
    std::size_t carried = 0;  // buffer[..carried): the start of the line the last chunk ended in
    bool dropping = false;    // that line is being dropped (only its last `overlap` bytes carried)
    bool dropped_held = false;  // and it held the needle
    const auto holds = [&](std::string_view text) {
        return ::memmem(text.data(), text.size(), needle.data(), needle.size()) != nullptr;
    };
    const auto carry_end = [&](std::string_view text, std::size_t n) {
        n = std::min(n, text.size());
        std::memmove(buffer.data(), text.data() + text.size() - n, n);
        carried = n;
    };
    std::uint64_t total = 0;
    LineFilter filter(needle, limits);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data() + carried, chunk_size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return os_error(errno);
        if (n == 0) break;
        total += static_cast<std::uint64_t>(n);
        if (total > max_size) return twoway::fail(twoway::errc::length_too_large);

        std::string_view data(buffer.data(), carried + static_cast<std::size_t>(n));
        if (dropping) {
            const auto nl = data.find('\n');
            dropped_held = dropped_held || holds(data.substr(0, nl));
            if (nl == std::string_view::npos) {
                carry_end(data, overlap);
                continue;
            }
            filter.dropped();
            data.remove_prefix(nl + 1);
            dropping = false;
        }
        const auto last_nl = data.rfind('\n');
        if (last_nl != std::string_view::npos) {
            filter.lines(data.substr(0, last_nl + 1));
            data.remove_prefix(last_nl + 1);
        }
        if (data.size() > max_carry) {
            dropping = true;
            dropped_held = holds(data);
            carry_end(data, overlap);
        } else {
            carry_end(data, data.size());
        }
    }
    if (dropping) {
        if (dropped_held) filter.dropped();
    } else if (carried > 0) {
        filter.last(std::string_view(buffer.data(), carried));
    }
    return filter.take();
}

}  // namespace twowayd
