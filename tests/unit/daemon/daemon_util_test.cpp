// Small daemon pieces with security weight: the log escaping that keeps peer-chosen names from
// forging log lines, the signal names a client may use, the child's exec report, and how many sessions
// a descriptor limit serves.
#include <catch2/catch.hpp>

#include <csignal>
#include <cerrno>
#include <cstring>
#include <vector>

#include "child.hpp"
#include "descriptors.hpp"
#include "log.hpp"

using namespace twowayd;

TEST_CASE("log_safe leaves real account names alone", "[daemon]") {
    CHECK(log_safe("alice") == "alice");
    CHECK(log_safe("svc-backup_2.x$") == "svc-backup_2.x$");
}

TEST_CASE("log_safe escapes what could forge a log line", "[daemon]") {
    // A name carrying a fake source address cannot keep its spaces ...
    const std::string forged = log_safe("x from 10.9.9.9 port 1");
    CHECK(forged == "x\\x20from\\x2010.9.9.9\\x20port\\x201");
    CHECK(forged.find(' ') == std::string::npos);
    // ... nor a line break, a terminal escape, a tab, DEL or non-ASCII bytes.
    CHECK(log_safe("a\nb") == "a\\x0ab");
    CHECK(log_safe("\x1b[2J") == "\\x1b[2J");
    CHECK(log_safe("t\tab") == "t\\x09ab");
    CHECK(log_safe("\x7f") == "\\x7f");
    CHECK(log_safe("\xc3\xa9") == "\\xc3\\xa9");
    // The backslash itself is escaped, so an escaped form cannot be faked by a name.
    CHECK(log_safe("a\\x20b") == "a\\x5cx20b");
    CHECK(log_safe("") == "");
}

TEST_CASE("log lines keep UTF-8 text and escape what a terminal acts on", "[daemon]") {
    // The review of issue 13: bytes of 0x80 and above went to the log as they were.
    CHECK(escape_controls("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 ok") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 ok");
    CHECK(escape_controls("a\nb\x1b[2J\x7f") == "a\\x0ab\\x1b[2J\\x7f");
    CHECK(escape_controls("\x9b" "2J") == "\\x9b2J");                      // a raw C1 byte (CSI in Latin-1)
    CHECK(escape_controls("\xc2\x9b" "2J") == "\\xc2\\x9b2J");            // U+009B, CSI in UTF-8
    CHECK(escape_controls("x\xe2\x80\xae" "evil") == "x\\xe2\\x80\\xaeevil");  // U+202E right-to-left override
    CHECK(escape_controls("\xe2\x80\xa8") == "\\xe2\\x80\\xa8");           // U+2028 line separator
    CHECK(escape_controls("\xc0\xaf") == "\\xc0\\xaf");                   // an overlong '/'
    CHECK(escape_controls("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
    CHECK(escape_controls("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");   // past U+10FFFF
    CHECK(escape_controls("\xe2\x82") == "\\xe2\\x82");                   // cut short
    CHECK(escape_controls("\xff\xfe") == "\\xff\\xfe");
}

TEST_CASE("cat joins strings and numbers", "[daemon]") {
    CHECK(cat("port ", 4422, ", ", std::string("x"), '!', std::uint16_t{7}) == "port 4422, x!7");
    CHECK(cat(-3, " ", 0u) == "-3 0");
}

TEST_CASE("clients may send the RFC 4254 signal names only", "[daemon]") {
    CHECK(signal_from_name("INT") == SIGINT);
    CHECK(signal_from_name("TERM") == SIGTERM);
    CHECK(signal_from_name("KILL") == SIGKILL);
    CHECK(signal_from_name("USR2") == SIGUSR2);
    CHECK_FALSE(signal_from_name("STOP").has_value());  // not in the list: a client cannot freeze a session
    CHECK_FALSE(signal_from_name("CHLD").has_value());
    CHECK_FALSE(signal_from_name("int").has_value());
    CHECK_FALSE(signal_from_name("SIGINT").has_value());
    CHECK_FALSE(signal_from_name("").has_value());
}

TEST_CASE("exit signals are named as the session protocol names them", "[daemon]") {
    CHECK(signal_name(SIGHUP) == "HUP");
    CHECK(signal_name(SIGSEGV) == "SEGV");
    for (const char* n : {"ABRT", "ALRM", "FPE", "HUP", "ILL", "INT", "KILL", "PIPE", "QUIT", "SEGV", "TERM", "USR1",
                          "USR2"}) {
        const auto sig = signal_from_name(n);
        REQUIRE(sig.has_value());
        CHECK(signal_name(*sig) == n);
    }
    // A signal outside the list still gets a name the protocol accepts ([A-Z0-9]+).
    CHECK(signal_name(SIGWINCH) == "SIG" + std::to_string(SIGWINCH));
}

TEST_CASE("the exec report: end of file means the program runs", "[daemon]") {
    CHECK_FALSE(decode_spawn_report({}).has_value());
}

TEST_CASE("the exec report names the failed step and errno", "[daemon]") {
    const int report[2] = {8, ENOENT};  // exec failed: no such file
    std::vector<unsigned char> bytes(sizeof report);
    std::memcpy(bytes.data(), report, sizeof report);
    const auto why = decode_spawn_report(bytes);
    REQUIRE(why.has_value());
    CHECK(why->find("exec") != std::string::npos);
    CHECK(why->find(std::strerror(ENOENT)) != std::string::npos);

    const int setuid_failed[2] = {6, EPERM};
    std::memcpy(bytes.data(), setuid_failed, sizeof setuid_failed);
    CHECK(decode_spawn_report(bytes)->find("setuid") == 0);
}

TEST_CASE("a short or long exec report is reported as malformed, not read past", "[daemon]") {
    CHECK(decode_spawn_report({1, 2, 3})->find("malformed") != std::string::npos);
    CHECK(decode_spawn_report(std::vector<unsigned char>(9, 0))->find("malformed") != std::string::npos);
}

TEST_CASE("a descriptor limit serves sessions of four descriptors in three quarters of what it leaves", "[daemon]") {
    CHECK(sessions_descriptors_serve(256) == 36);      // (256 - 64) * 3/4 / 4
    CHECK(sessions_descriptors_serve(1024) == 180);    // systemd's default soft limit
    CHECK(sessions_descriptors_serve(524288) == 98292);  // systemd's default hard limit: no default is lowered
    CHECK(sessions_descriptors_serve(64) == 1);
    CHECK(sessions_descriptors_serve(0) == 1);
    CHECK(sessions_descriptors_serve(RLIM_INFINITY) == UINT64_MAX);
}

TEST_CASE("the spare descriptor is given up and taken back", "[daemon]") {
    SpareDescriptor spare;
    REQUIRE(spare.held());
    spare.release();
    CHECK_FALSE(spare.held());
    CHECK(spare.restore());
    CHECK(spare.held());
}
