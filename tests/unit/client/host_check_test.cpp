// The client's host key policy (client/twoway/host_check.cpp) over real known_hosts files in a scratch
// directory: the verdicts, what StrictHostKeyChecking makes of them, what gets recorded, and that a file
// twoway cannot use never makes a known host look new.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <unistd.h>

#include <twoway/trust.hpp>

#include "../../../client/twoway/host_check.hpp"
#include "client_test_support.hpp"

using namespace twoway_client;
using twoway::HostStatus;
using twoway_client::test::key_text;
using twoway_client::test::read_text;
using twoway_client::test::TempDir;
using twoway_client::test::test_key;

namespace {

// One user known_hosts file in dir, no global file, and never a prompt: with BatchMode an unknown host
// that needs a person is refused before /dev/tty is opened.
HostCheck check_for(const TempDir& dir, const std::string& host, std::uint16_t port = twoway::default_port) {
    HostCheck c;
    c.host = host;
    c.port = port;
    c.user_files = {dir.file("known_hosts")};
    c.global_files = {};
    c.batch_mode = true;
    return c;
}

HostAssessment assess(const HostCheck& c, int key) { return assess_host_key(c, test_key(key)); }

constexpr StrictHostKeyChecking all_modes[] = {StrictHostKeyChecking::yes, StrictHostKeyChecking::accept_new,
                                               StrictHostKeyChecking::no, StrictHostKeyChecking::ask};

}  // namespace

TEST_CASE("host_check: the policy table", "[client]") {
    for (auto mode : all_modes) {
        for (bool doubtful : {false, true}) {
            INFO("mode " << static_cast<int>(mode) << ", doubtful " << doubtful);
            CHECK(host_action(HostStatus::known, mode, doubtful) == HostAction::accept);
            CHECK(host_action(HostStatus::changed, mode, doubtful) == HostAction::refuse);
            CHECK(host_action(HostStatus::revoked, mode, doubtful) == HostAction::refuse);
            CHECK(host_action(HostStatus::uncertain, mode, doubtful) == HostAction::refuse);
        }
    }
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::yes, false) == HostAction::refuse);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::yes, true) == HostAction::refuse);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::accept_new, false) == HostAction::record);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::no, false) == HostAction::record);
    // A file that could not be read may hold another key: never recorded without the person.
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::accept_new, true) == HostAction::ask);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::no, true) == HostAction::ask);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::ask, false) == HostAction::ask);
    CHECK(host_action(HostStatus::unknown, StrictHostKeyChecking::ask, true) == HostAction::ask);
}

TEST_CASE("host_check: a known key is accepted in every mode", "[client]") {
    TempDir dir;
    const std::string text = "# mine\nexample.org " + key_text(1) + "\n";
    dir.write("known_hosts", text);
    auto c = check_for(dir, "Example.ORG");
    for (auto mode : all_modes) {
        c.strict = mode;
        const auto a = assess(c, 1);
        CHECK(a.action == HostAction::accept);
        CHECK(a.verdict.status == HostStatus::known);
        REQUIRE(a.verdict.matched);
        CHECK(a.verdict.matched->line == 2);
        CHECK_FALSE(a.doubtful);
        CHECK(verify_host_key(c, test_key(1)));
    }
    CHECK(read_text(dir.file("known_hosts")) == text);  // nothing written
    REQUIRE(expected_host_key(c));
    CHECK(*expected_host_key(c) == test_key(1));
}

TEST_CASE("host_check: another key for the host is a changed key, refused in every mode", "[client]") {
    TempDir dir;
    const std::string text = "example.org " + key_text(1) + "\n";
    dir.write("known_hosts", text);
    auto c = check_for(dir, "example.org");
    for (auto mode : all_modes) {
        c.strict = mode;
        const auto a = assess(c, 2);
        CHECK(a.action == HostAction::refuse);
        CHECK(a.verdict.status == HostStatus::changed);
        REQUIRE(a.verdict.mismatches.size() == 1);
        CHECK(a.verdict.mismatches[0].key == test_key(1));
        CHECK(a.verdict.mismatches[0].where.line == 1);
        CHECK_FALSE(verify_host_key(c, test_key(2)));
    }
    CHECK(read_text(dir.file("known_hosts")) == text);
    // The proof sent to a stealth daemon is for the key on file, not the one offered.
    CHECK(expected_host_key(c) == test_key(1));
}

TEST_CASE("host_check: an unknown host, by StrictHostKeyChecking", "[client]") {
    TempDir dir;
    const std::string other = "other.example " + key_text(1) + "\n";
    dir.write("known_hosts", other);
    auto c = check_for(dir, "example.org");
    CHECK_FALSE(expected_host_key(c));

    SECTION("yes refuses and records nothing") {
        c.strict = StrictHostKeyChecking::yes;
        const auto a = assess(c, 2);
        CHECK(a.verdict.status == HostStatus::unknown);
        CHECK(a.action == HostAction::refuse);
        CHECK_FALSE(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("known_hosts")) == other);
    }
    SECTION("ask needs a person: refused in BatchMode, nothing recorded") {
        c.strict = StrictHostKeyChecking::ask;
        CHECK(assess(c, 2).action == HostAction::ask);
        CHECK_FALSE(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("known_hosts")) == other);
    }
    SECTION("accept-new records the key, which is then known") {
        c.strict = StrictHostKeyChecking::accept_new;
        CHECK(assess(c, 2).action == HostAction::record);
        CHECK(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("known_hosts")) == other + "example.org " + key_text(2) + "\n");
        CHECK(assess(c, 2).verdict.status == HostStatus::known);
        CHECK(assess(c, 3).verdict.status == HostStatus::changed);
        CHECK(expected_host_key(c) == test_key(2));
    }
    SECTION("no records it too, into a file that did not exist") {
        c.strict = StrictHostKeyChecking::no;
        c.user_files = {dir.file("new_known_hosts"), dir.file("known_hosts")};
        CHECK(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("new_known_hosts")) == "example.org " + key_text(2) + "\n");
        CHECK(read_text(dir.file("known_hosts")) == other);  // only the first file is written
    }
    SECTION("HashKnownHosts yes records the name hashed, and the hashed line makes the host known") {
        c.strict = StrictHostKeyChecking::accept_new;
        c.hash_known_hosts = true;
        CHECK(verify_host_key(c, test_key(2)));
        const std::string text = read_text(dir.file("known_hosts"));
        REQUIRE(text.starts_with(other + "|1|"));
        CHECK(text.ends_with("= " + key_text(2) + "\n"));
        CHECK(text.find("example.org") == std::string::npos);
        CHECK(assess(c, 2).verdict.status == HostStatus::known);
        CHECK(assess(c, 3).verdict.status == HostStatus::changed);
        CHECK(expected_host_key(c) == test_key(2));
        // Nothing more is written for a host the hashed line already knows.
        CHECK(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("known_hosts")) == text);
    }
    SECTION("UserKnownHostsFile none: accepted for this connection, recorded nowhere") {
        c.strict = StrictHostKeyChecking::accept_new;
        c.user_files = {};
        CHECK(verify_host_key(c, test_key(2)));
        CHECK(read_text(dir.file("known_hosts")) == other);
    }
}

TEST_CASE("host_check: a port other than the default is [host]:port", "[client]") {
    TempDir dir;
    dir.write("known_hosts", "example.org " + key_text(1) + "\n[example.org]:2222 " + key_text(2) + "\n");
    // The bare name is twoway's default port, 4422 (not ssh's 22).
    CHECK(assess(check_for(dir, "example.org"), 1).verdict.status == HostStatus::known);
    CHECK(assess(check_for(dir, "example.org", 2222), 2).verdict.status == HostStatus::known);
    CHECK(assess(check_for(dir, "example.org", 2222), 1).verdict.status == HostStatus::changed);
    CHECK(assess(check_for(dir, "example.org"), 2).verdict.status == HostStatus::changed);
    CHECK(assess(check_for(dir, "example.org", 22), 1).verdict.status == HostStatus::unknown);

    // A new key for port 22 is recorded with brackets, as every port but 4422.
    auto c = check_for(dir, "example.org", 22);
    c.strict = StrictHostKeyChecking::accept_new;
    CHECK(verify_host_key(c, test_key(3)));
    CHECK(read_text(dir.file("known_hosts")).ends_with("\n[example.org]:22 " + key_text(3) + "\n"));
    CHECK(assess(c, 3).verdict.status == HostStatus::known);
}

TEST_CASE("host_check: a revoked key is refused in every mode", "[client]") {
    TempDir dir;

    SECTION("an @revoked line in known_hosts, even beside a line that knows the key") {
        dir.write("known_hosts", "example.org " + key_text(1) + "\n@revoked * " + key_text(1) + "\n");
        auto c = check_for(dir, "example.org");
        for (auto mode : all_modes) {
            c.strict = mode;
            const auto a = assess(c, 1);
            CHECK(a.verdict.status == HostStatus::revoked);
            REQUIRE(a.verdict.revoked);
            CHECK(a.verdict.revoked->line == 2);
            CHECK(a.action == HostAction::refuse);
            CHECK_FALSE(verify_host_key(c, test_key(1)));
        }
        CHECK_FALSE(expected_host_key(c));
    }
    SECTION("a key in the RevokedHostKeys list") {
        dir.write("known_hosts", "example.org " + key_text(1) + "\n");
        const std::string list = dir.write("revoked", "# stolen\n" + key_text(1) + "\n");
        auto c = check_for(dir, "example.org");
        c.revoked_file = list;
        c.strict = StrictHostKeyChecking::no;
        const auto a = assess(c, 1);
        CHECK(a.verdict.status == HostStatus::revoked);
        REQUIRE(a.verdict.revoked);
        CHECK(a.verdict.revoked->path == list);
        CHECK(a.verdict.revoked->line == 2);
        CHECK(a.action == HostAction::refuse);
        CHECK_FALSE(verify_host_key(c, test_key(1)));
        CHECK_FALSE(expected_host_key(c));
        // Another key is not revoked by it: here, a changed one.
        CHECK(assess(c, 2).verdict.status == HostStatus::changed);
    }
    SECTION("a RevokedHostKeys list that cannot be used refuses every key, a known one too") {
        dir.write("known_hosts", "example.org " + key_text(1) + "\n");
        auto c = check_for(dir, "example.org");
        c.strict = StrictHostKeyChecking::no;
        const std::vector<std::string> lists{dir.file("missing"), dir.write("bad", "ssh-ed25519 !!!notbase64\n"),
                                             dir.path()};
        for (const std::string& list : lists) {
            INFO(list);
            c.revoked_file = list;
            const auto a = assess(c, 1);
            CHECK(a.action == HostAction::refuse);
            CHECK_FALSE(a.revocation_problems.empty());
            CHECK_FALSE(verify_host_key(c, test_key(1)));
            CHECK_FALSE(expected_host_key(c));
        }
    }
}

TEST_CASE("host_check: a file that cannot be read never makes a known host look new", "[client]") {
    TempDir dir;
    const std::string mine = dir.write("known_hosts", "");

    SECTION("a directory where a known_hosts file should be") {
        auto c = check_for(dir, "example.org");
        c.global_files = {dir.path()};
        c.strict = StrictHostKeyChecking::accept_new;
        const auto a = assess(c, 1);
        CHECK(a.verdict.status == HostStatus::unknown);
        CHECK(a.doubtful);
        CHECK(a.action == HostAction::ask);  // not record
        CHECK_FALSE(verify_host_key(c, test_key(1)));
        CHECK(read_text(mine).empty());
    }
    SECTION("lines it cannot read that may name the host make it uncertain") {
        // A hashed field that does not read (the hash's padding is missing): it may name any host.
        const char* const hashed = "|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM ";
        const std::vector<std::string> lines{std::string(hashed) + key_text(1), "example.org ssh-ed25519 AAAA%%%%",
                                             std::string("\x01\x02\xff binary ") + key_text(1),
                                             "@cert-authority example.org " + key_text(1)};
        for (const std::string& line : lines) {
            INFO(line);
            dir.write("known_hosts", line + "\n");
            auto c = check_for(dir, "example.org");
            for (auto mode : all_modes) {
                c.strict = mode;
                const auto a = assess(c, 2);
                CHECK(a.verdict.status == HostStatus::uncertain);
                CHECK_FALSE(a.verdict.unreadable.empty());
                CHECK(a.action == HostAction::refuse);
                CHECK_FALSE(verify_host_key(c, test_key(2)));
            }
            CHECK(read_text(mine) == line + "\n");
        }
    }
    SECTION("an unreadable line beside a readable one: the readable one decides") {
        dir.write("known_hosts", "garbage line\nexample.org " + key_text(1) + "\n");
        auto c = check_for(dir, "example.org");
        CHECK(assess(c, 1).verdict.status == HostStatus::known);
        CHECK(assess(c, 2).verdict.status == HostStatus::changed);
    }
    SECTION("a file cut short by a limit") {
        std::string text;
        for (int i = 0; i < 1'000'001; ++i) text += "#\n";
        text += "example.org " + key_text(1) + "\n";  // past the line limit: never read
        dir.write("big_known_hosts", text);
        auto c = check_for(dir, "example.org");
        c.global_files = {dir.file("big_known_hosts")};
        c.strict = StrictHostKeyChecking::no;
        const auto a = assess(c, 2);
        CHECK(a.verdict.status == HostStatus::unknown);
        CHECK(a.verdict.incomplete);
        CHECK(a.doubtful);
        CHECK(a.action == HostAction::ask);
        CHECK_FALSE(verify_host_key(c, test_key(2)));
        CHECK(read_text(mine).empty());
    }
    SECTION("a file another user owns is not used") {
        if (::geteuid() != 0) {
            WARN("not root: cannot give a file to another user, skipped");
            return;
        }
        const std::string theirs = dir.write("their_known_hosts", "example.org " + key_text(1) + "\n");
        REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
        auto c = check_for(dir, "example.org");
        c.global_files = {theirs};
        c.strict = StrictHostKeyChecking::accept_new;
        const auto a = assess(c, 1);
        CHECK(a.verdict.status == HostStatus::unknown);  // its key vouches for nothing ...
        CHECK(a.doubtful);                               // ... and its host is not new either
        CHECK(a.action == HostAction::ask);
        CHECK_FALSE(verify_host_key(c, test_key(1)));
        CHECK_FALSE(expected_host_key(c));
        CHECK(read_text(mine).empty());
        // Root's own files count.
        REQUIRE(::chown(theirs.c_str(), 0, 0) == 0);
        CHECK(assess(c, 1).verdict.status == HostStatus::known);
    }
    SECTION("a file without read permission") {
        if (::geteuid() == 0) {
            WARN("root reads any file: skipped");
            return;
        }
        dir.write("known_hosts", "example.org " + key_text(1) + "\n");
        REQUIRE(::chmod(mine.c_str(), 0) == 0);
        auto c = check_for(dir, "example.org");
        c.strict = StrictHostKeyChecking::accept_new;
        const auto a = assess(c, 1);
        CHECK(a.verdict.status == HostStatus::unknown);
        CHECK(a.doubtful);
        CHECK(a.action == HostAction::ask);
        CHECK_FALSE(verify_host_key(c, test_key(1)));
    }
}
