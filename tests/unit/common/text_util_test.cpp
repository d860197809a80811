// common/text_util.hpp: the config parsers' text helpers. Numbers and ports are the ones a config line
// gives (Port, ListenAddress, ConnectTimeout), so the refusals matter most.
#include <catch2/catch.hpp>

#include <string>

#include "text_util.hpp"

namespace text = twoway_common::text;

TEST_CASE("common text: case folding and comparison are ASCII only", "[common]") {
    CHECK(text::ascii_lower("HostName Port") == "hostname port");
    CHECK(text::ascii_lower("\xc3\x89") == "\xc3\x89");  // UTF-8 is left alone
    CHECK(text::iequals("PasswordAuthentication", "passwordauthentication"));
    CHECK_FALSE(text::iequals("Port", "Ports"));
    CHECK_FALSE(text::iequals("Port", "Por\xd4"));
    CHECK(text::iequals("", ""));
}

TEST_CASE("common text: control bytes are anything below 0x20 but tab, and 0x7f", "[common]") {
    CHECK_FALSE(text::has_control("plain\ttext with tabs"));
    CHECK_FALSE(text::has_control("caf\xc3\xa9"));
    CHECK(text::has_control("a\nb"));
    CHECK(text::has_control("a\rb"));
    CHECK(text::has_control(std::string("a\0b", 3)));
    CHECK(text::has_control("\x7f"));
}

TEST_CASE("common text: decimal numbers and ports, digits only and in range", "[common]") {
    CHECK(text::parse_decimal("0", 10) == 0u);
    CHECK(text::parse_decimal("10", 10) == 10u);
    CHECK(text::parse_decimal("18446744073709551615", UINT64_MAX) == UINT64_MAX);
    for (const char* bad : {"", "11", "-1", "+1", " 1", "1 ", "1x", "0x1", "1.0"}) CHECK_FALSE(text::parse_decimal(bad, 10));
    CHECK_FALSE(text::parse_decimal("18446744073709551616", UINT64_MAX));  // one past: no wrap-around

    CHECK(text::parse_port("22") == 22);
    CHECK(text::parse_port("65535") == 65535);
    CHECK(text::parse_port("0022") == 22);  // leading zeros, as a2port()
    for (const char* bad : {"0", "65536", "", "-22", "22 ", "ssh", "99999999999999999999"}) CHECK_FALSE(text::parse_port(bad));
}

TEST_CASE("common text: host and port split as sshd's hpdelim", "[common]") {
    auto s = text::split_host_port("example.org:2222");
    REQUIRE(s);
    CHECK(s->host == "example.org");
    CHECK(s->port == "2222");
    CHECK_FALSE(s->bracketed);
    s = text::split_host_port("[::1]:22");
    REQUIRE(s);
    CHECK(s->host == "::1");
    CHECK(s->port == "22");
    CHECK(s->bracketed);
    s = text::split_host_port("fe80::1");  // bare IPv6: no port
    REQUIRE(s);
    CHECK(s->host == "fe80::1");
    CHECK_FALSE(s->port);
    s = text::split_host_port("[host]");
    REQUIRE(s);
    CHECK(s->host == "host");
    CHECK_FALSE(s->port);
    // Negative: empty hosts, unclosed brackets, junk after ']'.
    for (const char* bad : {"", ":22", "[]:22", "[::1", "[::1]22", "[::1]x:22"}) CHECK_FALSE(text::split_host_port(bad));
}
