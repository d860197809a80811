// <twoway/text.hpp>'s small parser helpers, which the library's trust-file readers and the programs'
// config parsers share. Numbers and ports are the ones a config line gives (Port, ListenAddress,
// ConnectTimeout) or a known_hosts "[host]:port", so the refusals matter most.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <twoway/text.hpp>

// The trivial ones are constexpr: usable in constant expressions.
static_assert(twoway::ascii_lower('Q') == 'q' && twoway::ascii_lower('q') == 'q' && twoway::ascii_lower('@') == '@');
static_assert(twoway::is_blank(' ') && twoway::is_blank('\t') && !twoway::is_blank('\n') && !twoway::is_blank('x'));
static_assert(twoway::is_control('\0') && twoway::is_control('\x1b') && twoway::is_control('\x7f'));
static_assert(!twoway::is_control('\t') && !twoway::is_control(' ') && !twoway::is_control('\x80'));

TEST_CASE("text helpers: case folding and comparison are ASCII only", "[text]") {
    CHECK(twoway::ascii_lower("HostName Port") == "hostname port");
    CHECK(twoway::ascii_lower("\xc3\x89") == "\xc3\x89");  // UTF-8 is left alone
    CHECK(twoway::iequals("PasswordAuthentication", "passwordauthentication"));
    CHECK_FALSE(twoway::iequals("Port", "Ports"));
    CHECK_FALSE(twoway::iequals("Port", "Por\xd4"));
    CHECK(twoway::iequals("", ""));
    CHECK_FALSE(twoway::iequals("\xc3\x89", "\xc3\xa9"));  // no case folding beyond ASCII
    CHECK(twoway::ascii_lower('Z') == 'z');
    CHECK(twoway::ascii_lower('[') == '[');  // the byte after 'Z'
    CHECK(twoway::ascii_lower('@') == '@');  // the byte before 'A'
}

TEST_CASE("text helpers: control bytes are anything below 0x20 but tab, and 0x7f", "[text]") {
    CHECK_FALSE(twoway::has_control("plain\ttext with tabs"));
    CHECK_FALSE(twoway::has_control("caf\xc3\xa9"));
    CHECK(twoway::has_control("a\nb"));
    CHECK(twoway::has_control("a\rb"));
    CHECK(twoway::has_control(std::string("a\0b", 3)));
    CHECK(twoway::has_control("\x7f"));
    CHECK_FALSE(twoway::has_control(""));
    CHECK_FALSE(twoway::has_control("\x80\xff"));  // high bytes are not controls (UTF-8, or junk for others)
}

TEST_CASE("text helpers: decimal numbers and ports, digits only and in range", "[text]") {
    CHECK(twoway::parse_decimal("0", 10) == 0u);
    CHECK(twoway::parse_decimal("10", 10) == 10u);
    CHECK(twoway::parse_decimal("18446744073709551615", UINT64_MAX) == UINT64_MAX);
    for (const char* bad : {"", "11", "-1", "+1", " 1", "1 ", "1x", "0x1", "1.0"}) CHECK_FALSE(twoway::parse_decimal(bad, 10));
    CHECK_FALSE(twoway::parse_decimal("18446744073709551616", UINT64_MAX));  // one past: no wrap-around

    CHECK(twoway::parse_port("22") == 22);
    CHECK(twoway::parse_port("65535") == 65535);
    CHECK(twoway::parse_port("0022") == 22);  // leading zeros, as a2port()
    for (const char* bad : {"0", "65536", "", "-22", "22 ", "ssh", "99999999999999999999"}) CHECK_FALSE(twoway::parse_port(bad));
}

TEST_CASE("text helpers: host and port split as sshd's hpdelim", "[text]") {
    auto s = twoway::split_host_port("example.org:2222");
    REQUIRE(s);
    CHECK(s->host == "example.org");
    CHECK(s->port == "2222");
    CHECK_FALSE(s->bracketed);
    s = twoway::split_host_port("[::1]:22");
    REQUIRE(s);
    CHECK(s->host == "::1");
    CHECK(s->port == "22");
    CHECK(s->bracketed);
    s = twoway::split_host_port("fe80::1");  // bare IPv6: no port
    REQUIRE(s);
    CHECK(s->host == "fe80::1");
    CHECK_FALSE(s->port);
    s = twoway::split_host_port("[host]");
    REQUIRE(s);
    CHECK(s->host == "host");
    CHECK_FALSE(s->port);
    // Negative: empty hosts, unclosed brackets, junk after ']'.
    for (const char* bad : {"", ":22", "[]:22", "[::1", "[::1]22", "[::1]x:22"}) CHECK_FALSE(twoway::split_host_port(bad));
}
