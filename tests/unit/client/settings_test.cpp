// From the command line to the effective settings (client/twoway/settings.cpp): -p, -l, -i, user@host
// and both -o forms go through the config parser, command-line values first, then the -F file.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../../../client/twoway/cli.hpp"
#include "../../../client/twoway/settings.hpp"
#include "client_test_support.hpp"

using namespace twoway_client;
using twoway_client::test::TempDir;

namespace {

using Args = std::vector<std::string>;

std::optional<ClientSettings> settings_for(const Args& args) {
    auto parsed = cli::parse(args);
    INFO("error: " << parsed.error);
    REQUIRE(parsed.line);
    return load_settings(*parsed.line);
}

}  // namespace

TEST_CASE("settings: command-line values, both -o forms", "[client]") {
    const auto s = settings_for({"-F", "none", "-p", "2222", "-o", "StrictHostKeyChecking=accept-new", "-o",
                                 "ConnectTimeout 7", "-oBatchMode=yes", "-i", "/keys/one", "-i", "/keys/my key",
                                 "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax 1", "alice@Example.ORG",
                                 "ls"});
    REQUIRE(s);
    CHECK(s->host_alias == "example.org");
    CHECK(s->host_name == "example.org");
    CHECK(s->port == 2222);
    CHECK(s->user == "alice");
    CHECK(s->strict_host_key_checking == StrictHostKeyChecking::accept_new);
    CHECK(s->connect_timeout == std::optional<std::uint32_t>(7));
    CHECK(s->server_alive_interval == 2);
    CHECK(s->server_alive_count_max == 1);
    CHECK(s->batch_mode);
    CHECK(s->identity_files == std::vector<std::string>{"/keys/one", "/keys/my key"});
}

TEST_CASE("settings: the first value wins, in command-line order", "[client]") {
    auto s = settings_for({"-F", "none", "-l", "bob", "-o", "User=carol", "alice@h"});
    REQUIRE(s);
    CHECK(s->user == "bob");
    s = settings_for({"-F", "none", "-o", "Port=2200", "-p", "2222", "h"});
    REQUIRE(s);
    CHECK(s->port == 2200);
}

TEST_CASE("settings: command-line values come before the -F file's", "[client]") {
    TempDir dir;
    const std::string config = dir.write("config", "Host web\n"
                                                   "  HostName web.example.org\n"
                                                   "  Port 2200\n"
                                                   "  User deploy\n"
                                                   "  IdentityFile /keys/deploy\n");
    auto s = settings_for({"-F", config, "-p", "2222", "-i", "/keys/mine", "web"});
    REQUIRE(s);
    CHECK(s->host_name == "web.example.org");
    CHECK(s->port == 2222);
    CHECK(s->user == "deploy");
    CHECK(s->identity_files == std::vector<std::string>{"/keys/mine", "/keys/deploy"});  // IdentityFile adds up
}

TEST_CASE("settings: a bad option or config file gives no settings", "[client]") {
    CHECK_FALSE(settings_for({"-F", "none", "-o", "Port=abc", "h"}));
    CHECK_FALSE(settings_for({"-F", "none", "-o", "Port", "h"}));
    CHECK_FALSE(settings_for({"-F", "none", "-o", "NoSuchKeyword yes", "h"}));
    CHECK_FALSE(settings_for({"-F", "none", "-o", "Host other", "h"}));  // not on the command line, as ssh
    CHECK_FALSE(settings_for({"-F", "none", "-o", "StrictHostKeyChecking=maybe", "h"}));

    TempDir dir;
    CHECK_FALSE(settings_for({"-F", dir.write("bad", "Port 0\n"), "h"}));
    // Others may write it: it could name keys to trust, so it is refused as ssh refuses it.
    const std::string open = dir.write("open", "Port 2200\n");
    REQUIRE(::chmod(open.c_str(), 0666) == 0);
    CHECK_FALSE(settings_for({"-F", open, "h"}));
    // A missing file is an empty one.
    CHECK(settings_for({"-F", dir.file("missing"), "h"}));
}
