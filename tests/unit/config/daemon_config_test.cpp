#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "daemon_config.hpp"
#include "config_syntax.hpp"

using namespace twoway;
using namespace twowayd;
namespace config = twoway_common::config;

namespace {

std::vector<std::string> error_texts(const DaemonConfigResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.text());
    return out;
}

// The single error one line produces.
std::string error_of(const std::string& line) {
    auto r = parse_daemon_config("/etc/twoway/twowayd.conf", "# test\n" + line + "\n");
    REQUIRE(r.errors.size() == 1);
    return r.errors[0].text();
}

DaemonConfig good(const std::string& text) {
    auto r = parse_daemon_config("t.conf", text);
    INFO(text);
    REQUIRE(error_texts(r) == std::vector<std::string>{});
    return r.config;
}

}  // namespace

TEST_CASE("daemon config: the defaults (sshd's, but for the limits), on port 4422", "[config]") {
    const DaemonConfig d;
    CHECK(d.ports == std::vector<std::uint16_t>{4422});
    CHECK(d.listen_addresses == std::vector<ListenAddress>{{"0.0.0.0", 0}, {"::", 0}});
    CHECK(d.host_keys == std::vector<std::string>{"/etc/twoway/host_ed25519_key"});
    CHECK(d.authorized_keys_files == std::vector<std::string>{"%h/.twoway/authorized_keys"});
    CHECK(d.strict_modes);
    CHECK(d.login_grace_time == 120);
    CHECK(d.max_startups == default_max_startups);
    CHECK_FALSE(d.per_source_max_startups);
    CHECK(d.max_sessions_total == 1024U);
    CHECK(d.per_user_max_sessions == 256U);
    CHECK(d.per_session_max_buffer == 256 * 1024);
    CHECK(d.max_buffer_total == 128 * 1024 * 1024);
    CHECK(d.log_level == LogLevel::info);
    CHECK(d.services.empty());
    CHECK(listen_endpoints(d) == std::vector<Endpoint>{{"0.0.0.0", 4422}, {"::", 4422}});

    // An empty file, or one of comments, changes nothing.
    auto e = good("# nothing\n\n   \n\t# indented comment\n");
    CHECK(e.ports == d.ports);
    CHECK(e.listen_addresses == d.listen_addresses);
    CHECK(e.host_keys == d.host_keys);
}

TEST_CASE("daemon config: every keyword with good values", "[config]") {
    auto c = good(
        "Port 2222\n"
        "port=2223\n"
        "ListenAddress 127.0.0.1\n"
        "ListenAddress 192.0.2.1:8022\n"
        "ListenAddress [::1]:8023\n"
        "ListenAddress ::1\n"
        "ListenAddress [fe80::1%eth0]\n"
        "ListenAddress localhost:9000\n"
        "HostKey /etc/twoway/host_ed25519_key\n"
        "HOSTKEY \"/etc/twoway/other key\"\n"
        "AuthorizedKeysFile .twoway/authorized_keys /etc/twoway/keys/%u %%literal\n"
        "StrictModes no\n"
        "LoginGraceTime 1h30m\n"
        "MaxStartups 10:30:60\n"
        "PerSourceMaxStartups 3\n"
        "MaxSessionsTotal 500\n"
        "PerUserMaxSessions 50\n"
        "PerSessionMaxBuffer 1M\n"
        "MaxBufferTotal 64m\n"
        "LogLevel verbose\n"
        "Service web 127.0.0.1:8080\n"
        "Service db.main [::1]:5432   # trailing comment\n");
    CHECK(c.ports == std::vector<std::uint16_t>{2222, 2223});
    CHECK(c.listen_addresses == std::vector<ListenAddress>{{"127.0.0.1", 0},
                                                           {"192.0.2.1", 8022},
                                                           {"::1", 8023},
                                                           {"::1", 0},
                                                           {"fe80::1%eth0", 0},
                                                           {"localhost", 9000}});
    CHECK(c.host_keys == std::vector<std::string>{"/etc/twoway/host_ed25519_key", "/etc/twoway/other key"});
    CHECK(c.authorized_keys_files ==
          std::vector<std::string>{".twoway/authorized_keys", "/etc/twoway/keys/%u", "%%literal"});
    CHECK_FALSE(c.strict_modes);
    CHECK(c.login_grace_time == 5400);
    CHECK(c.max_startups == 60);
    CHECK(c.per_source_max_startups == 3U);
    CHECK(c.max_sessions_total == 500U);
    CHECK(c.per_user_max_sessions == 50U);
    CHECK(c.per_session_max_buffer == 1024 * 1024);
    CHECK(c.max_buffer_total == 64 * 1024 * 1024);
    CHECK(c.log_level == LogLevel::verbose);
    REQUIRE(c.services.size() == 2);
    CHECK(c.services[0].name == "web");
    CHECK(c.services[0].host == "127.0.0.1");
    CHECK(c.services[0].port == 8080);
    CHECK(c.services[0].where == Location{"t.conf", 21});
    CHECK(c.services[1].name == "db.main");
    CHECK(c.services[1].host == "::1");
    CHECK(c.services[1].port == 5432);

    // Addresses without a port listen on every Port; duplicates collapse.
    auto e = listen_endpoints(c);
    CHECK(e == std::vector<Endpoint>{{"127.0.0.1", 2222},
                                     {"127.0.0.1", 2223},
                                     {"192.0.2.1", 8022},
                                     {"::1", 8023},
                                     {"::1", 2222},
                                     {"::1", 2223},
                                     {"fe80::1%eth0", 2222},
                                     {"fe80::1%eth0", 2223},
                                     {"localhost", 9000}});
}

TEST_CASE("daemon config: value forms", "[config]") {
    SECTION("time values") {
        CHECK(good("LoginGraceTime 0").login_grace_time == 0);
        CHECK(good("LoginGraceTime 600").login_grace_time == 600);
        CHECK(good("LoginGraceTime 30s").login_grace_time == 30);
        CHECK(good("LoginGraceTime 2M").login_grace_time == 120);
        CHECK(good("LoginGraceTime 1w1d1h1m1s").login_grace_time == 604800 + 86400 + 3600 + 60 + 1);
        CHECK(good("LoginGraceTime 10m5").login_grace_time == 605);
    }
    SECTION("yes and no in any case") {
        CHECK_FALSE(good("StrictModes NO").strict_modes);
        CHECK(good("StrictModes Yes").strict_modes);
    }
    SECTION("MaxStartups: a table size, or sshd's start:rate:full read as a table of full") {
        CHECK(good("MaxStartups 5").max_startups == 5);
        CHECK(good("MaxStartups 10:100:10").max_startups == 10);
        CHECK(good("MaxStartups 10:30:100").max_startups == 100);
        CHECK(good("MaxStartups 0:1:1").max_startups == 1);
    }
    SECTION("PerSourceMaxStartups none") {
        CHECK_FALSE(good("PerSourceMaxStartups none").per_source_max_startups);
    }
    SECTION("session limits: a number or none; sizes in bytes, K, M or G") {
        CHECK_FALSE(good("MaxSessionsTotal none").max_sessions_total);
        CHECK_FALSE(good("PerUserMaxSessions none").per_user_max_sessions);
        CHECK(good("PerUserMaxSessions 1").per_user_max_sessions == 1U);
        CHECK(good("PerSessionMaxBuffer 65536").per_session_max_buffer == 65536);
        CHECK(good("PerSessionMaxBuffer 64k").per_session_max_buffer == 65536);
        CHECK(good("PerSessionMaxBuffer 1G").per_session_max_buffer == 1024 * 1024 * 1024);
        CHECK(good("MaxBufferTotal 2G").max_buffer_total == 2ULL * 1024 * 1024 * 1024);
        CHECK(good("MaxBufferTotal 100000").max_buffer_total == 100000);
    }
    SECTION("every log level") {
        const std::pair<const char*, LogLevel> levels[] = {
            {"QUIET", LogLevel::quiet},   {"fatal", LogLevel::fatal},   {"Error", LogLevel::error},
            {"INFO", LogLevel::info},     {"VERBOSE", LogLevel::verbose}, {"DEBUG", LogLevel::debug1},
            {"DEBUG1", LogLevel::debug1}, {"debug2", LogLevel::debug2}, {"DEBUG3", LogLevel::debug3},
        };
        for (const auto& [name, level] : levels) {
            CHECK(good(std::string("LogLevel ") + name).log_level == level);
        }
        CHECK(log_level_name(LogLevel::debug1) == "DEBUG1");
        CHECK(log_level_name(LogLevel::quiet) == "QUIET");
    }
    SECTION("AuthorizedKeysFile none") {
        CHECK(good("AuthorizedKeysFile none").authorized_keys_files.empty());
    }
    SECTION("RevokedKeys: none by default, one or more absolute files, or none") {
        CHECK(DaemonConfig{}.revoked_keys_files.empty());
        CHECK(good("RevokedKeys /etc/twoway/revoked_keys").revoked_keys_files ==
              std::vector<std::string>{"/etc/twoway/revoked_keys"});
        CHECK(good("RevokedKeys /a /b\nRevokedKeys /c").revoked_keys_files == std::vector<std::string>{"/a", "/b"});
        CHECK(good("revokedkeys none").revoked_keys_files.empty());
    }
    SECTION("separators: blanks, '=', blanks around '='") {
        CHECK(good("Port=2000").ports == std::vector<std::uint16_t>{2000});
        CHECK(good("Port = 2001").ports == std::vector<std::uint16_t>{2001});
        CHECK(good("  Port\t2002  \r").ports == std::vector<std::uint16_t>{2002});
        CHECK(good("Port \"2003\"").ports == std::vector<std::uint16_t>{2003});
        CHECK(good("HostKey '/k/a b'").host_keys == std::vector<std::string>{"/k/a b"});
        CHECK(good("HostKey /k/a\\ b").host_keys == std::vector<std::string>{"/k/a b"});
        CHECK(good("HostKey /k/#x").host_keys == std::vector<std::string>{"/k/#x"});
    }
}

TEST_CASE("daemon config: the first value wins; repeatable keywords add up", "[config]") {
    auto c = good("LoginGraceTime 10\nLoginGraceTime 20\nLogLevel ERROR\nLogLevel DEBUG3\n"
                  "AuthorizedKeysFile /a\nAuthorizedKeysFile /b\nMaxStartups 1\nMaxStartups 2\n"
                  "StrictModes no\nStrictModes yes\nPerSourceMaxStartups none\nPerSourceMaxStartups 4\n"
                  "HostKey /k1\nHostKey /k2\nPort 1\nPort 2\n");
    CHECK(c.login_grace_time == 10);
    CHECK(c.log_level == LogLevel::error);
    CHECK(c.authorized_keys_files == std::vector<std::string>{"/a"});
    CHECK(c.max_startups == 1);
    CHECK_FALSE(c.strict_modes);
    CHECK_FALSE(c.per_source_max_startups);
    CHECK(c.host_keys == std::vector<std::string>{"/k1", "/k2"});
    CHECK(c.ports == std::vector<std::uint16_t>{1, 2});
}

TEST_CASE("daemon config: each bad line gives path:line and the problem", "[config]") {
    const std::string at = "/etc/twoway/twowayd.conf:2: ";
    CHECK(error_of("PermitRootLogins no") == at + "Bad configuration option: PermitRootLogins");
    CHECK(error_of("Port") == at + "no argument after keyword \"Port\"");
    CHECK(error_of("Port 22 23") == at + "keyword Port extra arguments at end of line");
    CHECK(error_of("Port 0") == at + "Port: bad port number \"0\" (expected 1-65535)");
    CHECK(error_of("Port 65536") == at + "Port: bad port number \"65536\" (expected 1-65535)");
    CHECK(error_of("Port ssh") == at + "Port: bad port number \"ssh\" (expected 1-65535)");
    CHECK(error_of("Port -1") == at + "Port: bad port number \"-1\" (expected 1-65535)");
    CHECK(error_of("ListenAddress [::1") == at + "ListenAddress: bad address:port usage \"[::1\"");
    CHECK(error_of("ListenAddress [::1]x") == at + "ListenAddress: bad address:port usage \"[::1]x\"");
    CHECK(error_of("ListenAddress 1.2.3.4:0") == at + "ListenAddress: bad port number \"0\" (expected 1-65535)");
    CHECK(error_of("ListenAddress 300.1.1.1") == at + "ListenAddress: invalid address \"300.1.1.1\"");
    CHECK(error_of("ListenAddress ::g") == at + "ListenAddress: invalid address \"::g\"");
    CHECK(error_of("ListenAddress a/b") == at + "ListenAddress: invalid address \"a/b\"");
    CHECK(error_of("ListenAddress 0.0.0.0 rdomain 1") == at + "keyword ListenAddress extra arguments at end of line");
    CHECK(error_of("HostKey host_key") == at + "HostKey: must be an absolute path: \"host_key\"");
    CHECK(error_of("AuthorizedKeysFile \"\"") == at + "AuthorizedKeysFile: empty argument");
    CHECK(error_of("AuthorizedKeysFile none /x") == at + "AuthorizedKeysFile: \"none\" must appear alone");
    CHECK(error_of("AuthorizedKeysFile ~/.twoway/ak") ==
          at + "AuthorizedKeysFile: use %h instead of ~ for the home directory: \"~/.twoway/ak\"");
    CHECK(error_of("AuthorizedKeysFile %d/ak") == at + "AuthorizedKeysFile: unknown token \"%d\" in \"%d/ak\"");
    CHECK(error_of("AuthorizedKeysFile /ak%") == at + "AuthorizedKeysFile: '%' at the end of \"/ak%\"");
    CHECK(error_of("RevokedKeys revoked_keys") == at + "RevokedKeys: must be an absolute path: \"revoked_keys\"");
    CHECK(error_of("RevokedKeys none /r") == at + "RevokedKeys: \"none\" must appear alone");
    CHECK(error_of("RevokedKeys /etc/%u_revoked") ==
          at + "RevokedKeys: takes no % tokens (one list for every account): \"/etc/%u_revoked\"");
    CHECK(error_of("StrictModes maybe") == at + "StrictModes: unsupported option \"maybe\" (expected yes or no)");
    CHECK(error_of("StrictModes true") == at + "StrictModes: unsupported option \"true\" (expected yes or no)");
    CHECK(error_of("LoginGraceTime 2x") == at + "LoginGraceTime: invalid time value \"2x\"");
    CHECK(error_of("LoginGraceTime -5") == at + "LoginGraceTime: invalid time value \"-5\"");
    CHECK(error_of("LoginGraceTime m") == at + "LoginGraceTime: invalid time value \"m\"");
    CHECK(error_of("LoginGraceTime 9999999999") == at + "LoginGraceTime: invalid time value \"9999999999\"");
    CHECK(error_of("LoginGraceTime 40000w") == at + "LoginGraceTime: invalid time value \"40000w\"");
    const std::string ms = " (expected N, or start:rate:full with start <= full and rate 1-100)";
    CHECK(error_of("MaxStartups 10:30") == at + "MaxStartups: invalid spec \"10:30\"" + ms);
    CHECK(error_of("MaxStartups 60:30:10") == at + "MaxStartups: invalid spec \"60:30:10\"" + ms);
    CHECK(error_of("MaxStartups 10:0:60") == at + "MaxStartups: invalid spec \"10:0:60\"" + ms);
    CHECK(error_of("MaxStartups 10:101:60") == at + "MaxStartups: invalid spec \"10:101:60\"" + ms);
    CHECK(error_of("MaxStartups 0") == at + "MaxStartups: invalid spec \"0\"" + ms);
    CHECK(error_of("MaxStartups ten") == at + "MaxStartups: invalid spec \"ten\"" + ms);
    CHECK(error_of("MaxStartups 0:30:0") == at + "MaxStartups: invalid spec \"0:30:0\"" + ms);
    CHECK(error_of("PerSourceMaxStartups 0") ==
          at + "PerSourceMaxStartups: invalid value \"0\" (expected a number from 1, or none)");
    CHECK(error_of("PerSourceMaxStartups NONE") ==
          at + "PerSourceMaxStartups: invalid value \"NONE\" (expected a number from 1, or none)");
    CHECK(error_of("MaxSessionsTotal 0") ==
          at + "MaxSessionsTotal: invalid value \"0\" (expected a number from 1, or none)");
    CHECK(error_of("PerUserMaxSessions -1") ==
          at + "PerUserMaxSessions: invalid value \"-1\" (expected a number from 1, or none)");
    const std::string sz = " (expected bytes with an optional K, M or G, from 64K to ";
    CHECK(error_of("PerSessionMaxBuffer 1K") == at + "PerSessionMaxBuffer: invalid size \"1K\"" + sz + "1G)");
    CHECK(error_of("PerSessionMaxBuffer 2G") == at + "PerSessionMaxBuffer: invalid size \"2G\"" + sz + "1G)");
    CHECK(error_of("PerSessionMaxBuffer 64KB") == at + "PerSessionMaxBuffer: invalid size \"64KB\"" + sz + "1G)");
    CHECK(error_of("MaxBufferTotal 12X") == at + "MaxBufferTotal: invalid size \"12X\"" + sz + "1024G)");
    CHECK(error_of("MaxBufferTotal K") == at + "MaxBufferTotal: invalid size \"K\"" + sz + "1024G)");
    CHECK(error_of("MaxSessions 0") ==
          at + "MaxSessions: \"0\" is not supported yet (a connection always has its one session; from 1)");
    CHECK(error_of("LogLevel LOUD") == at + "LogLevel: unsupported log level \"LOUD\"");
    CHECK(error_of("Service Web 127.0.0.1:80") ==
          at + "Service: invalid name \"Web\" (expected [a-z0-9._-]+, at most 64)");
    CHECK(error_of("Service web") == at + "Service: missing host:port after \"web\"");
    CHECK(error_of("Service web localhost") == at + "Service: bad host:port \"localhost\"");
    CHECK(error_of("Service web localhost:http") == at + "Service: bad port number \"http\" (expected 1-65535)");
    CHECK(error_of("Service web bad_host!:80") == at + "Service: invalid host \"bad_host!\"");
    CHECK(error_of("Service web h:1 extra") == at + "keyword Service extra arguments at end of line");
    CHECK(error_of("HostKey \"/unterminated") == at + "invalid quotes");
    CHECK(error_of("=value") == at + "missing keyword before \"=\"");
    CHECK(error_of("Port 22\x01") == at + "line contains control characters");
    CHECK(error_of("HostKey /" + std::string(9000, 'k')) == at + "line too long (9009 bytes, limit 8192)");
}

TEST_CASE("daemon config: all errors are collected, good lines still count", "[config]") {
    auto r = parse_daemon_config("d.conf",
                                 "Port 2222\n"
                                 "Bogus yes\n"
                                 "Port 99999\n"
                                 "LogLevel INFO\n"
                                 "Service web 127.0.0.1:80\n"
                                 "Service web 127.0.0.1:81\n"
                                 "LoginGraceTime soon\n");
    CHECK_FALSE(r.ok());
    CHECK(error_texts(r) == std::vector<std::string>{
                                "d.conf:2: Bad configuration option: Bogus",
                                "d.conf:3: Port: bad port number \"99999\" (expected 1-65535)",
                                "d.conf:6: Service: \"web\" is already defined at d.conf:5",
                                "d.conf:7: LoginGraceTime: invalid time value \"soon\"",
                            });
    CHECK(r.config.ports == std::vector<std::uint16_t>{2222});
    CHECK(r.config.services.size() == 1);
}

TEST_CASE("daemon config: the error list is capped", "[config]") {
    std::string text;
    for (int i = 0; i < 500; ++i) text += "Nope " + std::to_string(i) + "\n";
    auto r = parse_daemon_config("d.conf", text);
    REQUIRE(r.errors.size() == 101);
    CHECK(r.errors[99].text() == "d.conf:100: Bad configuration option: Nope");
    CHECK(r.errors[100].text() == "d.conf:101: too many errors; the rest are not shown");
}

TEST_CASE("daemon config: repeatable keywords are capped", "[config]") {
    std::string text;
    for (int i = 1; i <= 300; ++i) text += "Port " + std::to_string(i) + "\n";
    auto r = parse_daemon_config("d.conf", text);
    CHECK(r.config.ports.size() == 256);
    REQUIRE(r.errors.size() == 44);
    CHECK(r.errors[0].text() == "d.conf:257: Port: too many Port lines (limit 256)");
}

TEST_CASE("AuthorizedKeysFile expansion: %h %u %U %% and paths relative to home", "[config]") {
    const AccountInfo alice{"alice", "/home/alice", 1000};
    CHECK(*expand_authorized_keys_path("%h/.twoway/authorized_keys", alice) == "/home/alice/.twoway/authorized_keys");
    CHECK(*expand_authorized_keys_path("/etc/twoway/keys/%u.%U", alice) == "/etc/twoway/keys/alice.1000");
    CHECK(*expand_authorized_keys_path(".twoway/ak", alice) == "/home/alice/.twoway/ak");
    CHECK(*expand_authorized_keys_path("/x/100%%", alice) == "/x/100%");
    CHECK(*expand_authorized_keys_path("ak", AccountInfo{"root", "/", 0}) == "/ak");
    CHECK(expand_authorized_keys_path("%d/ak", alice).error() == errc::invalid_argument);
    CHECK(expand_authorized_keys_path("/ak%", alice).error() == errc::invalid_argument);
    CHECK(expand_authorized_keys_path("", alice).error() == errc::invalid_argument);

    auto paths = authorized_keys_paths(DaemonConfig{}, alice);
    REQUIRE(paths);
    CHECK(*paths == std::vector<std::string>{"/home/alice/.twoway/authorized_keys"});
    auto none = authorized_keys_paths(good("AuthorizedKeysFile none"), alice);
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("daemon config: load reports an unreadable file as one error", "[config]") {
    auto r = load_daemon_config("/nonexistent/twowayd.conf");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].text() == "/nonexistent/twowayd.conf: cannot read: No such file or directory");
    auto dir = load_daemon_config("/");
    REQUIRE(dir.errors.size() == 1);
    CHECK(dir.errors[0].text() == "/: cannot read: not a regular file");
}

TEST_CASE("daemon config: -T's text lists every keyword and reads back as the same configuration", "[config]") {
    // The keywords of issue 15 (pidfile on) are checked in access_test.cpp.
    const auto until_access = [](const std::string& t) { return t.substr(0, t.find("pidfile ")); };
    const auto defaults = format_daemon_config(DaemonConfig{});
    CHECK(until_access(defaults) ==
          "port 4422\n"
          "listenaddress 0.0.0.0\n"
          "listenaddress ::\n"
          "hostkey /etc/twoway/host_ed25519_key\n"
          "authorizedkeysfile %h/.twoway/authorized_keys\n"
          "revokedkeys none\n"
          "strictmodes yes\n"
          "stealthmode no\n"
          "logingracetime 120\n"
          "maxauthtries 6\n"
          "maxstartups 1000\n"
          "persourcemaxstartups none\n"
          "persourcenetblocksize 32:128\n"
          "persourcepenalties no\n"
          "persourcepenaltyexemptlist none\n"
          "maxsessionstotal 1024\n"
          "perusermaxsessions 256\n"
          "persessionmaxbuffer 256K\n"
          "maxbuffertotal 128M\n"
          "loglevel INFO\n");
    CHECK(good(defaults).ports == DaemonConfig{}.ports);

    const auto c = good("Port 2000\nPort 2001\nListenAddress [::1]:2222\nListenAddress 127.0.0.1\n"
                        "HostKey \"/k/a b\"\nHostKey /k/#x\nAuthorizedKeysFile \"%h/my \\\"keys\\\"\" /etc/ak/%u\n"
                        "RevokedKeys /etc/r1 /etc/r2\nStrictModes no\nStealthMode yes\nLoginGraceTime 1m30s\nMaxAuthTries 3\n"
                        "MaxStartups 5\nPerSourceMaxStartups 3\nPerSourceNetBlockSize 24:56\n"
                        "PerSourcePenalties authfail:1m max-sources6:99\n"
                        "PerSourcePenaltyExemptList 10.0.0.0/8,192.0.2.7 2001:db8::/32\nMaxSessionsTotal none\n"
                        "PerUserMaxSessions 7\nPerSessionMaxBuffer 100000\nMaxBufferTotal 3072K\nLogLevel DEBUG\n"
                        "Service web 127.0.0.1:8080\nService db [::1]:5432\n");
    const auto text = format_daemon_config(c);
    CHECK(until_access(text) ==
          "port 2000\n"
          "port 2001\n"
          "listenaddress [::1]:2222\n"
          "listenaddress 127.0.0.1\n"
          "hostkey \"/k/a b\"\n"
          "hostkey /k/#x\n"
          "authorizedkeysfile '%h/my \"keys\"' /etc/ak/%u\n"
          "revokedkeys /etc/r1 /etc/r2\n"
          "strictmodes no\n"
          "stealthmode yes\n"
          "logingracetime 90\n"
          "maxauthtries 3\n"
          "maxstartups 5\n"
          "persourcemaxstartups 3\n"
          "persourcenetblocksize 24:56\n"
          "persourcepenalties authfail:60s noauth:1s grace-exceeded:10s max:600s min:15s max-sources4:65536 "
          "max-sources6:99 overflow:permissive overflow6:permissive\n"
          "persourcepenaltyexemptlist 10.0.0.0/8,192.0.2.7,2001:db8::/32\n"
          "maxsessionstotal none\n"
          "perusermaxsessions 7\n"
          "persessionmaxbuffer 100000\n"
          "maxbuffertotal 3M\n"
          "loglevel DEBUG1\n"
          "service web 127.0.0.1:8080\n"
          "service db [::1]:5432\n");
    // The text is a config file meaning the same.
    const auto back = good(text);
    CHECK(back.ports == c.ports);
    CHECK(back.listen_addresses == c.listen_addresses);
    CHECK(back.host_keys == c.host_keys);
    CHECK(back.authorized_keys_files == c.authorized_keys_files);
    CHECK(back.revoked_keys_files == c.revoked_keys_files);
    CHECK(back.login_grace_time == c.login_grace_time);
    CHECK(back.max_startups == c.max_startups);
    CHECK(back.max_sessions_total == c.max_sessions_total);
    CHECK(back.per_user_max_sessions == c.per_user_max_sessions);
    CHECK(back.per_session_max_buffer == c.per_session_max_buffer);
    CHECK(back.max_buffer_total == c.max_buffer_total);
    CHECK(back.penalties == c.penalties);
    CHECK(back.penalty_exempt == c.penalty_exempt);
    CHECK(back.log_level == c.log_level);
    CHECK(format_daemon_config(back) == text);
}

TEST_CASE("sizes: bytes, K, M or G, bounded, and written back in their shortest form", "[config]") {
    CHECK(parse_size("0", 10) == 0U);
    CHECK(parse_size("10", 10) == 10U);
    CHECK_FALSE(parse_size("11", 10));
    // A bound below the digit (the decimal parser once wrapped around there and took "2" under 1).
    CHECK(parse_size("1G", std::uint64_t{1} << 30) == std::uint64_t{1} << 30);
    CHECK_FALSE(parse_size("2G", std::uint64_t{1} << 30));
    CHECK_FALSE(parse_size("9", 8));
    CHECK(parse_size("3m", 1ULL << 40) == 3ULL << 20);
    CHECK(parse_size("7k", 1ULL << 40) == 7ULL << 10);
    for (const char* bad : {"", "K", "-1", "1.5M", "1KB", "1T", " 1", "0x10"}) CHECK_FALSE(parse_size(bad, 1ULL << 40));
    CHECK(format_size(0) == "0");
    CHECK(format_size(1000) == "1000");
    CHECK(format_size(65536) == "64K");
    CHECK(format_size(3 * 1024 * 1024) == "3M");
    CHECK(format_size(1ULL << 40) == "1024G");
    for (std::uint64_t v : {1ULL, 1023ULL, 1024ULL, 1536ULL, 1ULL << 20, (1ULL << 30) + 1}) {
        CHECK(parse_size(format_size(v), 1ULL << 40) == v);
    }
}

TEST_CASE("config syntax: quote_arg writes what split_line reads back", "[config]") {
    for (const std::string arg : {"plain", "", "a b", "tab\there", "\"", "'", "\\", "a\\\"b", "#start", "mid#dle",
                                  "=start", "mid=dle", "  ", "\"quoted\"", "\\a\\b", "end\\", "a\\ b", "'\"'\"",
                                  "\\'", "x\\\\y"}) {
        INFO(arg);
        const auto split = config::split_line("Keyword " + config::quote_arg(arg));
        REQUIRE(split.kind == config::SplitLine::Kind::directive);
        REQUIRE(split.directive.args.size() == 1);
        CHECK(split.directive.args[0] == arg);
    }
    CHECK(config::quote_arg("/etc/twoway/revoked_keys") == "/etc/twoway/revoked_keys");
    CHECK(config::quote_arg("a b") == "\"a b\"");
    CHECK(config::quote_arg("\\a\\b") == "\\a\\b");            // a backslash before 'a' is no escape: bare
    CHECK(config::quote_arg("say \"hi\"") == "'say \"hi\"'");      // the quote needing fewer escapes
    CHECK(config::quote_arg("it's") == "\"it's\"");
}

TEST_CASE("daemon config: PasswordAuthentication, OpaqueKey and OpaqueRecords (issue 17)", "[config]") {
    const DaemonConfig d;
    CHECK_FALSE(d.password_authentication);
    CHECK(d.opaque_key == "/etc/twoway/opaque_key");
    CHECK(d.opaque_records == "/etc/twoway/opaque/");
    const auto defaults = format_daemon_config(d);
    CHECK(defaults.find("\npasswordauthentication no\n") != std::string::npos);
    CHECK(defaults.find("\nopaquekey /etc/twoway/opaque_key\n") != std::string::npos);
    CHECK(defaults.find("\nopaquerecords /etc/twoway/opaque/\n") != std::string::npos);

    auto c = good("passwordauthentication YES\nOpaqueKey /srv/tw/opaque_key\nOpaqueRecords /srv/tw/records\n"
                  "OpaqueKey /ignored/second\n");
    CHECK(c.password_authentication);
    CHECK(c.opaque_key == "/srv/tw/opaque_key");  // the first value obtained is used, as sshd
    CHECK(c.opaque_records == "/srv/tw/records");
    const auto text = format_daemon_config(c);
    CHECK(text.find("\npasswordauthentication yes\n") != std::string::npos);
    CHECK(text.find("\nopaquekey /srv/tw/opaque_key\n") != std::string::npos);
    CHECK(text.find("\nopaquerecords /srv/tw/records\n") != std::string::npos);
    CHECK(format_daemon_config(good(text)) == text);

    CHECK(error_of("OpaqueKey opaque_key") ==
          "/etc/twoway/twowayd.conf:2: OpaqueKey: must be an absolute path: \"opaque_key\"");
    CHECK(error_of("OpaqueRecords records/") ==
          "/etc/twoway/twowayd.conf:2: OpaqueRecords: must be an absolute path: \"records/\"");
    CHECK(error_of("PasswordAuthentication maybe") ==
          "/etc/twoway/twowayd.conf:2: PasswordAuthentication: unsupported option \"maybe\" (expected yes or no)");
    CHECK(error_of("OpaqueKey /a /b") == "/etc/twoway/twowayd.conf:2: keyword OpaqueKey extra arguments at end of line");
    CHECK(error_of("Match all\nOpaqueKey /k") ==
          "/etc/twoway/twowayd.conf:3: Directive 'OpaqueKey' is not allowed within a Match block");
}

TEST_CASE("daemon config: PerUserMaxPasswordFailures", "[config]") {
    const DaemonConfig d;
    CHECK(d.per_user_max_password_failures == 10);
    CHECK(d.password_failure_window == 600);
    CHECK(format_daemon_config(d).find("\nperusermaxpasswordfailures 10 600\n") != std::string::npos);
    auto c = good("PerUserMaxPasswordFailures 3 1m\nPerUserMaxPasswordFailures 7\n");
    CHECK(c.per_user_max_password_failures == 3);  // the first value obtained is used
    CHECK(c.password_failure_window == 60);
    CHECK(good("PerUserMaxPasswordFailures 5\n").password_failure_window == 600);
    const auto none = good("PerUserMaxPasswordFailures none\n");
    CHECK(none.per_user_max_password_failures == 0);
    CHECK(format_daemon_config(none).find("\nperusermaxpasswordfailures none\n") != std::string::npos);
    CHECK(good(format_daemon_config(c)).per_user_max_password_failures == 3);
    CHECK(good(format_daemon_config(c)).password_failure_window == 60);
    for (const char* bad : {"PerUserMaxPasswordFailures -1\n", "PerUserMaxPasswordFailures 1001\n",
                            "PerUserMaxPasswordFailures 3 0\n", "PerUserMaxPasswordFailures 3 2d\n",
                            "PerUserMaxPasswordFailures 3 1m x\n", "Match all\n PerUserMaxPasswordFailures 3\n"}) {
        INFO(bad);
        CHECK_FALSE(parse_daemon_config("a.conf", bad).ok());
    }
}

TEST_CASE("daemon config: Subsystem as sshd_config's (Debian 12: a name defined twice is an error)", "[config]") {
    CHECK(DaemonConfig{}.subsystems.empty());
    CHECK(format_daemon_config(DaemonConfig{}).find("subsystem") == std::string::npos);
    const auto c = good("Subsystem sftp /usr/lib/openssh/sftp-server -l INFO\n"
                        "subsystem netconf@example.com \"/opt/net conf/bin\" --x\n");
    REQUIRE(c.subsystems.size() == 2);
    CHECK(c.subsystems[0].name == "sftp");
    CHECK(c.subsystems[0].words == std::vector<std::string>{"/usr/lib/openssh/sftp-server", "-l", "INFO"});
    CHECK(c.subsystems[0].command_line() == "/usr/lib/openssh/sftp-server -l INFO");
    CHECK(c.subsystems[0].where.text() == "t.conf:1");
    CHECK(c.subsystems[1].name == "netconf@example.com");
    CHECK(c.subsystems[1].command_line() == "/opt/net conf/bin --x");  // joined as sshd joins them
    const auto text = format_daemon_config(c);
    CHECK(text.find("\nsubsystem sftp /usr/lib/openssh/sftp-server -l INFO\n"
                    "subsystem netconf@example.com \"/opt/net conf/bin\" --x\n") != std::string::npos);
    const auto back = good(text);
    REQUIRE(back.subsystems.size() == 2);
    CHECK(back.subsystems[1].words == c.subsystems[1].words);
    CHECK(format_daemon_config(back) == text);

    const std::string at = "/etc/twoway/twowayd.conf:2: ";
    CHECK(error_of("Subsystem sftp") == at + "Subsystem: missing subsystem command after \"sftp\"");
    CHECK(error_of("Subsystem") == at + "no argument after keyword \"Subsystem\"");
    CHECK(error_of("Subsystem sftp internal-sftp") ==
          at + "Subsystem: internal-sftp is not supported: name the program, e.g. /usr/lib/openssh/sftp-server");
    CHECK(error_of("Subsystem \"sf tp\" /bin/x") ==
          at + "Subsystem: invalid subsystem name \"sf tp\" (printable ASCII without blanks, at most 64)");
    auto twice = parse_daemon_config("a.conf", "Subsystem sftp /a\nSubsystem sftp /b\n");
    REQUIRE(twice.errors.size() == 1);
    CHECK(twice.errors[0].text() == "a.conf:2: Subsystem: subsystem \"sftp\" already defined at a.conf:1");
}

TEST_CASE("MaxAuthTries: 1 to 64, global", "[config]") {
    for (const char* bad : {"0", "65", "-1", "six"}) {
        INFO(bad);
        CHECK_FALSE(parse_daemon_config("t", std::string("MaxAuthTries ") + bad + "\n").ok());
    }
    CHECK(error_of("MaxAuthTries 0") ==
          "/etc/twoway/twowayd.conf:2: MaxAuthTries: invalid value \"0\" (expected a number from 1 to 64)");
    CHECK(good("MaxAuthTries 1\n").max_auth_tries == 1);
    CHECK(good("MaxAuthTries 64\nMaxAuthTries 2\n").max_auth_tries == 64);  // the first value wins, as in sshd
    CHECK(DaemonConfig{}.max_auth_tries == 6);
    CHECK_FALSE(parse_daemon_config("t", "Match User alice\n  MaxAuthTries 2\n").ok());
}
