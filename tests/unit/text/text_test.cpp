// <twoway/text.hpp>: what untrusted text may put on a terminal (terminal_text: every class of character,
// in both charsets, and every kind of invalid UTF-8), into a log line (log_text) or into a message (quoted).
#include <catch2/catch.hpp>

#include <string>

#include <twoway/text.hpp>

using twoway::Charset;
using twoway::terminal_text;

namespace {

std::string utf8(std::string_view s) { return terminal_text(s, Charset::utf8); }
std::string ascii(std::string_view s) { return terminal_text(s, Charset::ascii); }

// The byte sequence of the UTF-8 encoding of a code point (without validity checks: for the tests).
std::string enc(char32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return out;
}

bool terminal_clean(const std::string& s, bool ascii_only) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || (ascii_only && u >= 0x80)) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("terminal_text: printable ASCII passes, controls and the backslash are escaped", "[text]") {
    for (int c = 0x20; c < 0x7f; ++c) {
        const std::string one(1, static_cast<char>(c));
        INFO(c);
        CHECK(utf8(one) == (c == '\\' ? "\\\\" : one));
        CHECK(ascii(one) == (c == '\\' ? "\\\\" : one));
    }
    CHECK(utf8("no such service: backup") == "no such service: backup");
    CHECK(utf8(std::string("\0", 1)) == "\\x00");
    CHECK(utf8("\x1b[2J\x1b]0;owned\x07") == "\\x1b[2J\\x1b]0;owned\\x07");
    CHECK(utf8("a\tb\nc\rd\x7f") == "a\\x09b\\x0ac\\x0dd\\x7f");
    // An escape cannot be forged: the text "\x1b" comes out with its backslash doubled.
    CHECK(utf8("\\x1b") == "\\\\x1b");
}

TEST_CASE("terminal_text: C1 controls are escaped, encoded or raw", "[text]") {
    for (char32_t cp = 0x80; cp <= 0x9f; ++cp) {
        INFO(static_cast<unsigned>(cp));
        char want[8];
        std::snprintf(want, sizeof want, "\\u%04x", static_cast<unsigned>(cp));
        CHECK(utf8(enc(cp)) == want);
        CHECK(ascii(enc(cp)) == want);
        // The raw byte (what an 8-bit terminal obeys as CSI, OSC ...) is invalid UTF-8.
        std::snprintf(want, sizeof want, "\\x%02x", static_cast<unsigned>(cp));
        CHECK(utf8(std::string(1, static_cast<char>(cp))) == want);
    }
    CHECK(utf8("\xc2\x9b" "31mred") == "\\u009b31mred");     // CSI
    CHECK(utf8("\xc2\x9d" "0;title\xc2\x9c") == "\\u009d0;title\\u009c");  // OSC ... ST
    CHECK(utf8("\x9b" "2J") == "\\x9b2J");
}

TEST_CASE("terminal_text: bidirectional formatting and line separators are escaped", "[text]") {
    for (char32_t cp : {U'\u061c', U'\u200e', U'\u200f', U'\u202a', U'\u202b', U'\u202c', U'\u202d', U'\u202e',
                        U'\u2066', U'\u2067', U'\u2068', U'\u2069', U'\u2028', U'\u2029'}) {
        INFO(static_cast<unsigned>(cp));
        char want[8];
        std::snprintf(want, sizeof want, "\\u%04x", static_cast<unsigned>(cp));
        CHECK(utf8(enc(cp)) == want);
        CHECK(ascii(enc(cp)) == want);
    }
    // "Trojan source": the override would show "denied" reversed as something else.
    CHECK(utf8("ok \xe2\x80\xae" "deined\xe2\x80\xac") == "ok \\u202edeined\\u202c");
    // Their neighbours are ordinary characters.
    for (char32_t cp : {U'\u061b', U'\u200d', U'\u2027', U'\u202f', U'\u2065', U'\u206a'}) {
        CHECK(utf8(enc(cp)) == enc(cp));
    }
}

TEST_CASE("terminal_text: valid UTF-8 passes with utf8, as \\u escapes with ascii", "[text]") {
    const std::string text = "Zugriff verweigert: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
    CHECK(utf8(text) == text);
    CHECK(ascii(text) == "Zugriff verweigert: \\u00e9t\\u00e9 \\u20ac \\u65e5\\u672c \\U0001f600");
    // The edges of each encoding length.
    for (char32_t cp : {U'\u00a0', U'\u07ff', U'\u0800', U'\ud7ff', U'\ue000', U'\ufffd', U'\uffff',
                        U'\U00010000', U'\U0010ffff'}) {
        INFO(static_cast<unsigned>(cp));
        CHECK(utf8(enc(cp)) == enc(cp));
        CHECK(terminal_clean(ascii(enc(cp)), true));
    }
    CHECK(ascii(enc(U'\U0010ffff')) == "\\U0010ffff");
}

TEST_CASE("terminal_text: invalid UTF-8 is escaped byte by byte", "[text]") {
    // Overlong encodings (of '/', of NUL, of U+07FF, of U+FFFF).
    CHECK(utf8("\xc0\xaf") == "\\xc0\\xaf");
    CHECK(utf8("\xc1\xbf") == "\\xc1\\xbf");
    CHECK(utf8("\xc0\x80") == "\\xc0\\x80");
    CHECK(utf8("\xe0\x9f\xbf") == "\\xe0\\x9f\\xbf");
    CHECK(utf8("\xf0\x8f\xbf\xbf") == "\\xf0\\x8f\\xbf\\xbf");
    // Surrogates, alone and paired (CESU-8).
    CHECK(utf8("\xed\xa0\x80") == "\\xed\\xa0\\x80");
    CHECK(utf8("\xed\xbf\xbf") == "\\xed\\xbf\\xbf");
    CHECK(utf8("\xed\xa0\xbd\xed\xb8\x80") == "\\xed\\xa0\\xbd\\xed\\xb8\\x80");
    // Past U+10FFFF, and bytes that never occur.
    CHECK(utf8("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
    CHECK(utf8("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
    CHECK(utf8("\xfe\xff") == "\\xfe\\xff");
    // Cut sequences, at the end and before an ASCII byte; a stray continuation byte.
    CHECK(utf8("\xe2\x82") == "\\xe2\\x82");
    CHECK(utf8("\xe2\x82" "a") == "\\xe2\\x82a");
    CHECK(utf8("\xf0\x9f\x98") == "\\xf0\\x9f\\x98");
    CHECK(utf8("a\x80" "b") == "a\\x80b");
    // A valid character right after an invalid byte is still recognised.
    CHECK(utf8("\xff\xc3\xa9") == "\\xff\xc3\xa9");
    CHECK(utf8("\xc3\xc3\xa9") == "\\xc3\xc3\xa9");
}

TEST_CASE("terminal_text: no input leaves a control byte in the output", "[text]") {
    // Every one- and two-byte input, and three-byte inputs around the interesting lead bytes.
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            const std::string s{static_cast<char>(a), static_cast<char>(b)};
            REQUIRE(terminal_clean(utf8(s), false));
            REQUIRE(terminal_clean(ascii(s), true));
        }
    }
    for (int a : {0xc2, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4}) {
        for (int b = 0x80; b < 0xc0; ++b) {
            for (int c = 0; c < 256; ++c) {
                const std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
                REQUIRE(terminal_clean(utf8(s), false));
                REQUIRE(terminal_clean(ascii(s), true));
                // Whatever passes raw is valid UTF-8 that is not a control: C1 never survives encoded.
                const std::string out = utf8(s);
                REQUIRE(out.find("\xc2\x80") == std::string::npos);
                REQUIRE(out.find("\xc2\x9b") == std::string::npos);
                REQUIRE(out.find("\xe2\x80\xae") == std::string::npos);
            }
        }
    }
}

TEST_CASE("log_text: safe UTF-8 is kept, every byte of anything else is \\xNN", "[text]") {
    using twoway::log_text;
    CHECK(log_text("alice from 192.0.2.1") == "alice from 192.0.2.1");
    CHECK(log_text("caf\xc3\xa9 \xe6\x97\xa5") == "caf\xc3\xa9 \xe6\x97\xa5");  // valid UTF-8 stays
    CHECK(log_text("back\\slash") == "back\\slash");                           // left alone (see the header)
    // Negative: what could forge or hide a log line.
    CHECK(log_text("x\nDec 1 sshd: Accepted") == "x\\x0aDec 1 sshd: Accepted");
    CHECK(log_text("a\rb\tc") == "a\\x0db\\x09c");
    CHECK(log_text(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(log_text("\x1b[2J\x7f") == "\\x1b[2J\\x7f");
    CHECK(log_text("\xc2\x9b") == "\\xc2\\x9b");              // C1 CSI, encoded: both bytes
    CHECK(log_text("\xe2\x80\xae") == "\\xe2\\x80\\xae");     // RIGHT-TO-LEFT OVERRIDE
    CHECK(log_text("\xe2\x80\xa8") == "\\xe2\\x80\\xa8");     // LINE SEPARATOR
    CHECK(log_text("\x9b") == "\\x9b");                       // a raw C1 byte, not UTF-8
    CHECK(log_text("\xc0\xaf") == "\\xc0\\xaf");              // overlong '/'
    CHECK(log_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");     // a surrogate
    CHECK(log_text("cut \xe6\x97") == "cut \\xe6\\x97");      // a cut sequence
    CHECK(log_text("").empty());
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            const std::string out = log_text(std::string{static_cast<char>(a), static_cast<char>(b)});
            for (char c : out) {
                const auto u = static_cast<unsigned char>(c);
                REQUIRE((u >= 0x20 && u != 0x7f));
            }
        }
    }
}

TEST_CASE("quoted: plain ASCII in double quotes, everything else escaped, long text cut", "[text]") {
    using twoway::quoted;
    CHECK(quoted("HostName") == "\"HostName\"");
    CHECK(quoted("") == "\"\"");
    CHECK(quoted("say \"hi\" \\o/") == "\"say \\\"hi\\\" \\\\o/\"");
    CHECK(quoted("a\nb\x1b\x7f") == "\"a\\x0ab\\x1b\\x7f\"");
    CHECK(quoted("caf\xc3\xa9") == "\"caf\\xc3\\xa9\"");  // non-ASCII byte by byte: the result is ASCII
    CHECK(quoted(std::string("\0", 1)) == "\"\\x00\"");
    // Cut after max bytes of the input, marked with "...".
    CHECK(quoted("abcdef", 3) == "\"abc...\"");
    CHECK(quoted("abc", 3) == "\"abc\"");
    CHECK(quoted("abc", 0) == "\"...\"");
    const std::string flood(8192, 'x');
    CHECK(quoted(flood) == "\"" + std::string(64, 'x') + "...\"");
}
