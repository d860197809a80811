// Fuzz target, differential: the large authorized_keys prefilter read in chunks (read_lines_holding, from
// a memfd) against lines_holding on the whole text, for a fuzzer-chosen chunk size, needle and limits.
//
// Input: chunk size (2 bytes), max_line_length, max_lines, flags, needle length, the needle, the text.
// Beyond "no crash": the stream's text is lines_holding's with what read_lines_holding documents applied
// (lines after max_lines + 1 left out, a kept line the parser would find too long emptied, the last one
// too), kept counts
// its lines; the parser makes the same entries of both texts, stops at the same place, and skips the same
// lines but for the "line too long" ones. One byte over max_size is refused, as read_fd refuses it.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <twoway/file.hpp>
#include <twoway/trust.hpp>

#include "holding_lines.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

// lines_holding's text (whose lines are the kept ones and empty ones) as read_lines_holding bounds it.
twowayd::HoldingLines bounded(std::string_view whole, const twoway::TrustLimits& limits) {
    twowayd::HoldingLines out;
    std::size_t number = 0;
    while (!whole.empty() && number <= limits.max_lines) {
        ++number;
        const auto nl = whole.find('\n');
        const std::string_view line = whole.substr(0, nl == std::string_view::npos ? whole.size() : nl + 1);
        whole.remove_prefix(line.size());
        std::string_view body = line;
        if (body.ends_with('\n')) body.remove_suffix(1);
        if (body.empty()) {
            out.text += line;
            continue;
        }
        if (body.ends_with('\r')) body.remove_suffix(1);
        if (body.size() > limits.max_line_length) {
            out.text += '\n';
            continue;
        }
        out.text += line;
        ++out.kept;
    }
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 6) return 0;
    const std::size_t chunk = (std::size_t{data[0]} + 1) << (data[1] % 10);
    twoway::TrustLimits limits;
    if (data[2] != 255) limits.max_line_length = data[2];
    if (data[3] != 255) limits.max_lines = data[3];
    limits.max_diagnostics = 1u << 20;
    const bool over = (data[4] & 1) != 0;
    const std::size_t needle_size = std::min<std::size_t>(std::max<std::size_t>(data[5], 1), size - 6);
    if (needle_size == 0) return 0;
    std::string needle(reinterpret_cast<const char*>(data + 6), needle_size);
    for (char& c : needle) {
        if (c == '\n') c = 'n';  // a needle holds no newline (a key's base64)
    }
    std::string_view text(reinterpret_cast<const char*>(data + 6 + needle_size), size - 6 - needle_size);
    // At most 256 reads a run: a 1-byte chunk over a 5 KiB input made one read(2) per byte, and the
    // target ran at under 300 executions a second. Small chunks still meet every line boundary case
    // over the shorter text.
    if (text.size() > chunk * 256) text = text.substr(0, chunk * 256);

    // One memory file for the whole run, emptied each time (creating one per input cost a system call
    // or two more per execution).
    static const twoway::UniqueFd fd(::memfd_create("holding-lines", MFD_CLOEXEC));
    check(static_cast<bool>(fd));
    check(::ftruncate(fd.get(), 0) == 0 && ::lseek(fd.get(), 0, SEEK_SET) == 0);
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        check(n > 0);
        done += static_cast<std::size_t>(n);
    }
    check(::lseek(fd.get(), 0, SEEK_SET) == 0);

    if (over && !text.empty()) {
        const auto r = twowayd::read_lines_holding(fd.get(), needle, text.size() - 1, limits, chunk);
        check(!r && r.error() == twoway::errc::length_too_large);
        return 0;
    }
    const auto r = twowayd::read_lines_holding(fd.get(), needle, text.size(), limits, chunk);
    check(r.has_value());

    std::size_t kept = 0;
    const std::string whole = twowayd::lines_holding(text, needle, kept);
    const auto want = bounded(whole, limits);
    check(r->text == want.text);
    check(r->kept == want.kept);
    check(r->kept <= kept);

    const auto a = twoway::parse_authorized_keys("f", r->text, limits);
    const auto b = twoway::parse_authorized_keys("f", whole, limits);
    check(a.entries.size() == b.entries.size());
    for (std::size_t i = 0; i < a.entries.size(); ++i) {
        check(a.entries[i].where == b.entries[i].where);
        check(a.entries[i].key == b.entries[i].key);
        check(a.entries[i].options == b.entries[i].options);
        check(a.entries[i].comment == b.entries[i].comment);
    }
    check(a.truncated == b.truncated);
    std::size_t too_long = 0;
    std::size_t j = 0;
    for (const auto& d : b.diagnostics) {
        if (d.message.rfind("line too long", 0) == 0) {
            ++too_long;
            continue;
        }
        check(j < a.diagnostics.size() && a.diagnostics[j].text() == d.text());
        ++j;
    }
    check(j == a.diagnostics.size());
    check(a.skipped + too_long == b.skipped);
    return 0;
}
