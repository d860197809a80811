// The client's password login (issue 17): which method each connection uses (auth.hpp), what known_hosts
// makes of a password login's host key (host_check.hpp's password_host_action), and the recording of a
// host key proven by the password, over real files in a scratch directory.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/trust.hpp>

#include "../../../client/twoway/auth.hpp"
#include "../../../client/twoway/host_check.hpp"
#include "client_test_support.hpp"

using namespace twoway_client;
using twoway::HostStatus;
using twoway_client::test::key_text;
using twoway_client::test::read_text;
using twoway_client::test::TempDir;
using twoway_client::test::test_key;

namespace {

using M = AuthMethod;

AuthFacts facts(std::vector<M> preferred, bool identity, bool terminal, bool batch = false, bool password_auth = true) {
    return AuthFacts{std::move(preferred), identity, password_auth, batch, terminal, 3};
}

HostCheck check_for(const TempDir& dir, const std::string& host) {
    HostCheck c;
    c.host = host;
    c.user_files = {dir.file("known_hosts")};
    c.global_files = {};
    c.batch_mode = true;
    return c;
}

}  // namespace

TEST_CASE("auth plan: PreferredAuthentications order, usable methods only", "[client]") {
    const std::vector<M> both{M::publickey, M::password};
    CHECK(plan_authentication(facts(both, true, true)).methods == both);
    CHECK(plan_authentication(facts({M::password, M::publickey}, true, true)).methods ==
          std::vector<M>{M::password, M::publickey});
    // No key: the password alone; no terminal: the key alone.
    CHECK(plan_authentication(facts(both, false, true)).methods == std::vector<M>{M::password});
    CHECK(plan_authentication(facts(both, true, false)).methods == std::vector<M>{M::publickey});
    // BatchMode and PasswordAuthentication no leave the password out even with a terminal.
    CHECK(plan_authentication(facts(both, true, true, true)).methods == std::vector<M>{M::publickey});
    CHECK(plan_authentication(facts(both, true, true, false, false)).methods == std::vector<M>{M::publickey});
    CHECK(plan_authentication(facts({M::publickey}, true, true)).methods == std::vector<M>{M::publickey});

    // Nothing left: one line's worth of reasons, so the client fails before connecting.
    const AuthPlan none = plan_authentication(facts({M::password}, false, true, true));
    CHECK(none.methods.empty());
    CHECK(none.why_none == "password: BatchMode is set");
    CHECK(plan_authentication(facts(both, false, false)).why_none ==
          "publickey: no identity key to offer; password: no terminal to ask for it on");
    CHECK(plan_authentication(facts({M::password}, true, true, false, false)).why_none ==
          "password: PasswordAuthentication is no");
    AuthFacts zero = facts({M::password}, true, true);
    zero.password_prompts = 0;
    CHECK(plan_authentication(zero).why_none == "password: NumberOfPasswordPrompts is 0");
    CHECK(plan_authentication(facts({}, true, true)).why_none == "PreferredAuthentications names no method twoway knows");
    CHECK(plan_authentication(facts(both, true, true)).why_none.empty());

    CHECK(method_list(both) == "publickey,password");
    CHECK(method_list({M::password}) == "password");
}

TEST_CASE("password mode: the host key policy table", "[client]") {
    using A = PasswordHostAction;
    for (auto strict : {StrictHostKeyChecking::yes, StrictHostKeyChecking::accept_new, StrictHostKeyChecking::no,
                        StrictHostKeyChecking::ask}) {
        for (bool update : {false, true}) {
            INFO("strict " << static_cast<int>(strict) << ", update " << update);
            CHECK(password_host_action(HostStatus::known, strict, update) == A::accept);
            // Revoked and uncertain: whatever the password.
            CHECK(password_host_action(HostStatus::revoked, strict, update) == A::refuse);
            CHECK(password_host_action(HostStatus::uncertain, strict, update) == A::refuse);
            CHECK(password_host_action(HostStatus::changed, strict, update) == (update ? A::defer : A::refuse));
            // Unknown: the password proves the host (no TOFU prompt), except under an explicit "yes".
            CHECK(password_host_action(HostStatus::unknown, strict, update) ==
                  (strict == StrictHostKeyChecking::yes ? A::refuse : A::defer));
        }
    }
}

TEST_CASE("password mode: verify_host_key_for_password over known_hosts", "[client]") {
    TempDir dir;
    HostCheck c = check_for(dir, "server.example");
    SECTION("unknown: deferred, without a terminal or BatchMode mattering") {
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, false).action == PasswordHostAction::defer);
    }
    SECTION("known") {
        dir.write("known_hosts", "server.example " + key_text(1) + "\n");
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, false).action == PasswordHostAction::accept);
    }
    SECTION("changed: refused unless UpdateHostKeysByPassword") {
        dir.write("known_hosts", "server.example " + key_text(2) + "\n");
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, false).action == PasswordHostAction::refuse);
        const auto d = verify_host_key_for_password(c, test_key(1), nullptr, true);
        CHECK(d.action == PasswordHostAction::defer);
        CHECK(d.changed);
    }
    SECTION("@revoked: refused whatever the password") {
        dir.write("known_hosts", "@revoked * " + key_text(1) + "\n");
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, true).action == PasswordHostAction::refuse);
    }
    SECTION("StrictHostKeyChecking yes") {
        c.strict = StrictHostKeyChecking::yes;
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, false).action == PasswordHostAction::refuse);
    }
    SECTION("an unusable RevokedHostKeys list refuses") {
        c.revoked_file = dir.file("missing_krl");
        CHECK(verify_host_key_for_password(c, test_key(1), nullptr, false).action == PasswordHostAction::refuse);
    }
}

TEST_CASE("password mode: the proven host key goes to known_hosts with its comment", "[client]") {
    CHECK(proven_by_password_comment("alice", 0) == "proven by password for alice 1970-01-01");
    CHECK(proven_by_password_comment("bob", 1780000000) == "proven by password for bob 2026-05-28");
    CHECK(remove_lines("a\nb\nc\n", {2}) == "a\nc\n");
    CHECK(remove_lines("a\nb\nc", {1, 3}) == "b\n");
    CHECK(remove_lines("", {1}).empty());

    TempDir dir;
    HostCheck c = check_for(dir, "server.example");
    const std::string comment_prefix = " proven by password for alice ";
    SECTION("first contact: appended, and known afterwards") {
        dir.write("known_hosts", "other.example " + key_text(3) + "\n");
        REQUIRE(record_proven_host_key(c, test_key(1), "alice", false));
        const std::string text = read_text(dir.file("known_hosts"));
        CHECK(text.starts_with("other.example " + key_text(3) + "\nserver.example " + key_text(1) + comment_prefix));
        CHECK(text.ends_with("\n"));
        CHECK(assess_host_key(c, test_key(1)).verdict.status == HostStatus::known);
    }
    SECTION("a missing file is created") {
        REQUIRE(record_proven_host_key(c, test_key(1), "alice", false));
        CHECK(read_text(dir.file("known_hosts")).starts_with("server.example " + key_text(1) + comment_prefix));
    }
    SECTION("HashKnownHosts") {
        c.hash_known_hosts = true;
        REQUIRE(record_proven_host_key(c, test_key(1), "alice", false));
        const std::string text = read_text(dir.file("known_hosts"));
        CHECK(text.starts_with("|1|"));
        CHECK(text.find(comment_prefix) != std::string::npos);
        CHECK(text.find("server.example") == std::string::npos);
        CHECK(assess_host_key(c, test_key(1)).verdict.status == HostStatus::known);
    }
    SECTION("a changed key: replaced only when asked") {
        const std::string before = "# mine\nserver.example " + key_text(2) + "\nother.example " + key_text(3) +
                                   "\nserver.example,alias " + key_text(4) + "\n";
        dir.write("known_hosts", before);
        CHECK_FALSE(record_proven_host_key(c, test_key(1), "alice", false));
        CHECK(read_text(dir.file("known_hosts")) == before);
        REQUIRE(record_proven_host_key(c, test_key(1), "alice", true));
        const std::string text = read_text(dir.file("known_hosts"));
        CHECK(text.starts_with("# mine\nother.example " + key_text(3) + "\nserver.example " + key_text(1) +
                               comment_prefix));
        CHECK(assess_host_key(c, test_key(1)).verdict.status == HostStatus::known);
        CHECK(assess_host_key(c, test_key(2)).verdict.status == HostStatus::changed);
    }
    SECTION("a revoked key is never written") {
        const std::string before = "@revoked * " + key_text(1) + "\n";
        dir.write("known_hosts", before);
        CHECK_FALSE(record_proven_host_key(c, test_key(1), "alice", true));
        CHECK(read_text(dir.file("known_hosts")) == before);
    }
    SECTION("UserKnownHostsFile none: nothing written") {
        c.user_files.clear();
        CHECK_FALSE(record_proven_host_key(c, test_key(1), "alice", false));
    }
}
