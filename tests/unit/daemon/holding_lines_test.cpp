// The large authorized_keys prefilter read in chunks (read_lines_holding) against lines_holding on the
// whole text: the same text, or (where the parser's bounds let it drop lines) the same parse.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include <twoway/file.hpp>
#include <twoway/key.hpp>
#include <twoway/trust.hpp>

#include "daemon_test_support.hpp"
#include "holding_lines.hpp"
#include "../../support/deterministic_rng.hpp"

using namespace twowayd;

namespace {

// A regular file holding text, read from its start.
twoway::UniqueFd file_with(std::string_view text) {
    twoway::UniqueFd fd(::memfd_create("holding-lines-test", MFD_CLOEXEC));
    REQUIRE(fd);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        REQUIRE(n > 0);
        done += static_cast<std::size_t>(n);
    }
    REQUIRE(::lseek(fd.get(), 0, SEEK_SET) == 0);
    return fd;
}

HoldingLines stream(std::string_view text, std::string_view needle, std::size_t chunk,
                    const twoway::TrustLimits& limits = {}, std::size_t max_size = twoway::max_trust_file_size) {
    const auto fd = file_with(text);
    auto r = read_lines_holding(fd.get(), needle, max_size, limits, chunk);
    REQUIRE(r);
    return std::move(*r);
}

// What read_lines_holding promises, written out over the whole text line by line (as TextLines splits
// it): lines_holding, with a line the parser would find too long emptied (the last one too, to an
// empty line), and nothing after line max_lines + 1.
HoldingLines expected(std::string_view text, std::string_view needle, const twoway::TrustLimits& limits) {
    HoldingLines out;
    std::size_t number = 0;
    while (!text.empty() && number <= limits.max_lines) {
        ++number;
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
        text.remove_prefix(line.size());
        std::string_view body = line;
        if (body.ends_with('\n')) body.remove_suffix(1);
        if (body.ends_with('\r')) body.remove_suffix(1);
        const bool holds = line.find(needle) != std::string_view::npos;
        if (holds && body.size() <= limits.max_line_length) {
            out.text += line;
            ++out.kept;
        } else if (holds || line.ends_with('\n')) {
            out.text += '\n';
        }
    }
    return out;
}

twoway::PublicKey key(std::uint64_t seed) {
    twoway_test::DeterministicRng rng(seed);
    return twoway::PrivateKey::generate(rng).public_key();
}

std::string base64_of(const twoway::PublicKey& k) {
    const std::string line = twoway::format_public_key_line(k);
    return line.substr(line.find(' ') + 1);
}

// Random authorized_keys-like text around needle (a key's base64): key lines holding it (some with
// options, long comments, CRLF), lines holding a part of it or another key, blank lines, long junk,
// and sometimes no final newline.
std::string random_text(std::mt19937_64& rng, const twoway::PublicKey& offered, std::size_t max_junk) {
    const std::string needle = base64_of(offered);
    const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const auto junk = [&](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += "abcXYZ+/= \t#\r"[pick(13)];
        return s;
    };
    std::string text;
    const std::size_t lines = pick(40);
    for (std::size_t i = 0; i < lines; ++i) {
        switch (pick(9)) {
        case 0: break;  // blank
        case 1: text += twoway::format_public_key_line(offered, junk(pick(20))); break;
        case 2: text += "no-pty " + twoway::format_public_key_line(offered, "c"); break;
        case 3: text += twoway::format_public_key_line(offered, junk(pick(3 * max_junk))); break;  // maybe too long
        case 4: text += junk(pick(8)) + needle + junk(pick(8)); break;                            // not a key line
        case 5: text += needle.substr(0, pick(needle.size())); break;                             // a near miss
        case 6: text += twoway::format_public_key_line(key(7 + pick(3)), "other"); break;
        case 7: text += junk(pick(3 * max_junk)); break;
        default: text += needle.substr(pick(needle.size())) + "\n" + needle.substr(0, pick(needle.size())); break;
        }
        text += pick(4) == 0 ? "\r\n" : "\n";
    }
    if (!text.empty() && pick(3) == 0) text.pop_back();  // no final newline (or a lone '\r' left last)
    return text;
}

void check_same_parse(const std::string& streamed, const std::string& whole, const twoway::TrustLimits& limits) {
    // lines_holding's text as the parser sees it, against the stream's: the same but for the "line too
    // long" diagnostics of lines the stream emptied.
    const auto a = twoway::parse_authorized_keys("f", streamed, limits);
    const auto b = twoway::parse_authorized_keys("f", whole, limits);
    REQUIRE(a.entries.size() == b.entries.size());
    for (std::size_t i = 0; i < a.entries.size(); ++i) {
        CHECK(a.entries[i].where == b.entries[i].where);
        CHECK(a.entries[i].key == b.entries[i].key);
        CHECK(a.entries[i].comment == b.entries[i].comment);
        CHECK(a.entries[i].options == b.entries[i].options);
    }
    CHECK(a.truncated == b.truncated);
    std::vector<std::string> b_rest;
    for (const auto& d : b.diagnostics) {
        if (d.message.rfind("line too long", 0) != 0) b_rest.push_back(d.text());
    }
    std::vector<std::string> a_all;
    for (const auto& d : a.diagnostics) a_all.push_back(d.text());
    CHECK(a_all == b_rest);
    CHECK(a.skipped == a.diagnostics.size());  // max_diagnostics is never reached here
    CHECK(b.skipped == b.diagnostics.size());
}

}  // namespace

TEST_CASE("holding lines: read in chunks, the same as lines_holding on the whole text", "[daemon]") {
    const auto offered = key(1);
    const std::string needle = base64_of(offered);
    for (std::uint64_t seed = 1; seed <= 400; ++seed) {
        std::mt19937_64 rng(seed);
        const std::string text = random_text(rng, offered, 100);
        std::size_t kept = 0;
        const std::string whole = lines_holding(text, needle, kept);
        // Limits the text never reaches: exactly lines_holding.
        twoway::TrustLimits roomy;
        roomy.max_line_length = 1u << 20;
        roomy.max_diagnostics = 1u << 20;
        for (const std::size_t chunk : {1, 2, 3, 7, 13, 64, 100, 4096, 256 * 1024}) {
            INFO("seed " << seed << ", chunk " << chunk);
            const auto s = stream(text, needle, chunk, roomy);
            CHECK(s.text == whole);
            CHECK(s.kept == kept);
        }
        // The parser's own limits, and small ones the text goes past: the documented text, and the
        // same parse as lines_holding's.
        twoway::TrustLimits tight;
        tight.max_line_length = 60 + static_cast<std::size_t>(rng() % 120);
        tight.max_lines = 1 + static_cast<std::size_t>(rng() % 50);
        tight.max_diagnostics = 1u << 20;
        for (const auto& limits : {twoway::TrustLimits{}, tight}) {
            const auto want = expected(text, needle, limits);
            for (const std::size_t chunk : {1, 7, 64, 4096}) {
                INFO("seed " << seed << ", chunk " << chunk << ", max_line_length " << limits.max_line_length
                             << ", max_lines " << limits.max_lines);
                const auto s = stream(text, needle, chunk, limits);
                CHECK(s.text == want.text);
                CHECK(s.kept == want.kept);
                check_same_parse(s.text, whole, limits);
            }
        }
    }
}

TEST_CASE("holding lines: a needle across every chunk boundary, a line longer than a chunk", "[daemon]") {
    const std::string needle = "NEEDLE";
    for (std::size_t before = 0; before < 24; ++before) {
        for (const bool newline_after : {false, true}) {
            // "x...xNEEDLEy" after a line, so the needle starts at every offset in a 7-byte chunk.
            const std::string text = "abc\n" + std::string(before, 'x') + needle + "y" + (newline_after ? "\nzz\n" : "");
            for (const std::size_t chunk : {1, 2, 3, 5, 7, 8}) {
                INFO("before " << before << ", chunk " << chunk << ", newline after " << newline_after);
                const auto s = stream(text, needle, chunk);
                CHECK(s.text == "\n" + std::string(before, 'x') + needle + "y" + (newline_after ? "\n\n" : ""));
                CHECK(s.kept == 1);
            }
        }
    }
    // A needle split by a newline is not in any line.
    CHECK(stream("NEE\nDLE\n", needle, 2).text == "\n\n");
    // The same line twice across boundaries, CRLF, no final newline.
    const std::string two = "NEEDLE one\r\nno\r\n\r\nz NEEDLE";
    std::size_t kept = 0;
    const std::string whole = lines_holding(two, needle, kept);
    REQUIRE(kept == 2);
    for (std::size_t chunk = 1; chunk <= two.size() + 1; ++chunk) {
        const auto s = stream(two, needle, chunk);
        CHECK(s.text == whole);
        CHECK(s.kept == 2);
    }
}

TEST_CASE("holding lines: a line the parser would skip as too long is dropped, its newline counted", "[daemon]") {
    twoway::TrustLimits limits;
    limits.max_line_length = 10;
    const std::string needle = "KEY";
    // 10 bytes (+ '\r') is read by the parser; 11 is too long; so is a long line with no newline,
    // which still counts as a line when it holds the needle (lines_holding keeps it), and not otherwise.
    const std::string text = "KEY4567890\r\n"
                             "KEY45678901\n"
                             "KEY4567890\n"
                             + std::string(100, 'z') + "KEY" + std::string(100, 'z') + "\n"
                             "KEY\n" + std::string(50, 'q') + "KEY";
    for (const std::size_t chunk : {1, 3, 7, 11, 12, 13, 64, 1000}) {
        INFO("chunk " << chunk);
        const auto s = stream(text, needle, chunk, limits);
        CHECK(s.text == "KEY4567890\r\n\nKEY4567890\n\nKEY\n\n");
        CHECK(s.kept == 3);
        CHECK(stream("KEY\n" + std::string(50, 'q'), needle, chunk, limits).text == "KEY\n");
        CHECK(stream("KEY\nKEY45678901", needle, chunk, limits).text == "KEY\n\n");
        // The needle across the end of a chunk after the line began to be dropped.
        for (std::size_t at = 0; at < 30; ++at) {
            CHECK(stream("KEY\n" + std::string(20 + at, 'q') + "KEY" + "qq", needle, chunk, limits).text == "KEY\n\n");
        }
    }
    // At max_lines + 1 the parser stops ("too many lines") whatever the line: it must still be there.
    limits.max_lines = 1;
    const auto s = stream("KEY\n" + std::string(50, 'q') + "KEY", needle, 7, limits);
    CHECK(s.text == "KEY\n\n");
    CHECK(twoway::parse_authorized_keys("f", s.text, limits).truncated);
}

TEST_CASE("holding lines: nothing after the parser's last line", "[daemon]") {
    twoway::TrustLimits limits;
    limits.max_lines = 3;
    // Line 4 is the one the parser stops at ("too many lines"); nothing after it matters.
    CHECK(stream("\n\n\n\nK\nK\n", "K", 2, limits).text == "\n\n\n\n");
    CHECK(stream("\nK\n\nK\nK\n", "K", 2, limits).text == "\nK\n\nK\n");
    CHECK(stream("\nK\n\nK\nK\n", "K", 2, limits).kept == 2);
    CHECK(stream("\n\n\nK", "K", 1, limits).text == "\n\n\nK");
    // A file of newlines costs at most max_lines + 1 bytes.
    CHECK(stream(std::string(100000, '\n'), "K", 4096).text.size() == 100000);
    limits.max_lines = 1000;
    CHECK(stream(std::string(100000, '\n'), "K", 4096, limits).text.size() == 1001);
}

TEST_CASE("holding lines: read_fd's rules for size and kind", "[daemon]") {
    const std::string needle = "K";
    CHECK(stream("", needle, 7).text.empty());
    CHECK(stream("", needle, 7).kept == 0);
    // Exactly max_size bytes are read; one more is refused.
    const std::string text = std::string(99, 'x') + "K";
    for (const std::size_t chunk : {1, 7, 100, 4096}) {
        CHECK(stream(text, needle, chunk, {}, 100).text == text);
        const auto fd = file_with(text + "\n");
        const auto r = read_lines_holding(fd.get(), needle, 100, {}, chunk);
        REQUIRE_FALSE(r);
        CHECK(r.error() == twoway::errc::length_too_large);
    }
    // Also when fstat does not tell (a file that grew; /proc's files say size 0): by what was read.
    {
        twoway::UniqueFd proc(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
        REQUIRE(proc);
        const auto r = read_lines_holding(proc.get(), needle, 100, {}, 7);
        REQUIRE_FALSE(r);
        CHECK(r.error() == twoway::errc::length_too_large);
    }
    // Not a regular file.
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    twoway::UniqueFd rd(p[0]), wr(p[1]);
    const auto r = read_lines_holding(rd.get(), needle, 100);
    REQUIRE_FALSE(r);
    CHECK(r.error() == twoway::errc::invalid_argument);
    // Opened non-blocking (as twowayd opens it), read blocking.
    twowayd::test::TempDir dir;
    const auto path = dir.write("f", "a\nK\n");
    twoway::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(fd);
    const auto nb = read_lines_holding(fd.get(), needle, 100);
    REQUIRE(nb);
    CHECK(nb->text == "\nK\n");
    CHECK((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);
}
