#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/trust.hpp>

#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;

namespace {

const char* const ecdsa_line =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGdzETZVhMGYxEhC7zWs96gVYKWOdV4iaMKMPxttg"
    "sNd/ogDyzMkDgJWeXBxAk96Ua3JjQuVith+Bx+zMls5Usk= ec@example";
// An ed25519 key line as ssh-keygen wrote it.
const char* const ssh_keygen_line =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsXpDNxoSZx6wRBt6SjuMb1yY7yrNAlhoAeGQYgaJ9R alice@laptop";

std::string only_diagnostic(const std::string& line) {
    auto f = parse_authorized_keys("ak", line + "\n");
    REQUIRE(f.entries.empty());
    REQUIRE(f.diagnostics.size() == 1);
    CHECK(f.skipped == 1);
    return f.diagnostics[0].text();
}

}  // namespace

TEST_CASE("authorized_keys: plain key lines are entries", "[trust]") {
    const std::string text = "# keys for alice\n" + key_text(1, "alice@laptop") + "\n\n  " + key_text(2) + "\r\n" +
                             ssh_keygen_line + "\n";
    auto f = parse_authorized_keys("/home/alice/.twoway/authorized_keys", text);
    CHECK(f.diagnostics.empty());
    REQUIRE(f.entries.size() == 3);
    CHECK(f.entries[0].where == Location{"/home/alice/.twoway/authorized_keys", 2});
    CHECK(f.entries[0].key == test_key(1));
    CHECK(f.entries[0].comment == "alice@laptop");
    CHECK(f.entries[1].where.line == 4);
    CHECK(f.entries[1].comment.empty());
    CHECK(f.entries[2].where.line == 5);
    CHECK(f.entries[2].comment == "alice@laptop");
    CHECK(f.entries[2].key != test_key(1));
}

TEST_CASE("authorized_keys: lines with options are entries with their options", "[trust]") {
    const std::string k = " " + key_text(1);
    auto f = parse_authorized_keys("ak", "command=\"dump /home\",no-pty" + k + " backup\n" +
                                             "restrict,pty,command=\"nethack\"" + k + "\n");
    CHECK(f.diagnostics.empty());
    REQUIRE(f.entries.size() == 2);
    CHECK(f.entries[0].options.text == "command=\"dump /home\",no-pty");
    CHECK(f.entries[0].options.command == "dump /home");
    CHECK_FALSE(f.entries[0].options.pty);
    CHECK(f.entries[0].comment == "backup");
    CHECK(f.entries[0].key == test_key(1));
    CHECK(f.entries[1].options.restricted);
    CHECK(f.entries[1].options.pty);
    CHECK_FALSE(f.entries[1].options.port_forwarding);
    // A plain line has no options at all.
    CHECK(parse_authorized_keys("ak", key_text(2) + "\n").entries.at(0).options == KeyOptions{});
    // Bad options make the line unusable, saying why; the file's other lines still count.
    CHECK(only_diagnostic("from=\"10.0.0.0/8\",bogus" + k) == "ak:1: bad options: unknown option \"bogus\"");
    CHECK(only_diagnostic("command=\"a\",command=\"b\"" + k) == "ak:1: bad options: multiple command= options");
    // A first word with an '@' is options too, not a key type (found by the key_options fuzz target).
    auto at = parse_authorized_keys("ak", "from=\"*@h,10.0.0.1\"" + k + "\n");
    REQUIRE(at.entries.size() == 1);
    CHECK(at.entries[0].options.from == "*@h,10.0.0.1");
    // Options in front of another key type: the key type is what is wrong.
    CHECK(only_diagnostic(std::string("no-pty ") + ecdsa_line) ==
          "ak:1: key type \"ecdsa-sha2-nistp256\" is not supported (only ssh-ed25519)");
    // A cert-authority line never authorizes its own key; without connection facts, from= refuses.
    std::vector<AuthorizedKeysFile> files{parse_authorized_keys("ak", "cert-authority" + k + "\n" +
                                                                          "from=\"127.0.0.1\"" + k + "\n")};
    const auto v = check_authorized(files, test_key(1));
    CHECK_FALSE(v);
    REQUIRE(v.refusals.size() == 2);
    CHECK(v.refusals[0].starts_with("ak:1: cert-authority"));
    CHECK(v.refusals[1].starts_with("ak:2: from= cannot be checked"));
}

TEST_CASE("authorized_keys: other key types and bad lines are skipped with why", "[trust]") {
    CHECK(only_diagnostic(ecdsa_line) == "ak:1: key type \"ecdsa-sha2-nistp256\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("ssh-rsa AAAAB3NzaC1yc2E= x") ==
          "ak:1: key type \"ssh-rsa\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("sk-ssh-ed25519@openssh.com AAAA") ==
          "ak:1: key type \"sk-ssh-ed25519@openssh.com\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("ssh-ed25519-cert-v01@openssh.com AAAA") ==
          "ak:1: key type \"ssh-ed25519-cert-v01@openssh.com\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("ssh-ed25519 AAAA===") == "ak:1: invalid ssh-ed25519 key data");
    CHECK(only_diagnostic("ssh-ed25519") == "ak:1: missing ssh-ed25519 key data");
    CHECK(only_diagnostic("hello") == "ak:1: not a key line");
    CHECK(only_diagnostic("command=\"unterminated " + key_text(1)) == "ak:1: not a key line");
    CHECK(only_diagnostic(key_text(1) + "\x7f") == "ak:1: line contains control characters");
}

TEST_CASE("authorized_keys: a bad line does not void the file; check_authorized reports path:line", "[trust]") {
    std::vector<AuthorizedKeysFile> files{
        parse_authorized_keys("first", "garbage\n" + key_text(1) + "\n"),
        parse_authorized_keys("second", "# other file\n" + key_text(2) + "\n" + key_text(1) + "\n"),
    };
    CHECK(files[0].entries.size() == 1);
    CHECK(files[0].diagnostics.size() == 1);

    auto one = check_authorized(files, test_key(1));
    CHECK(one);
    CHECK(one.authorized);
    CHECK(*one.matched == Location{"first", 2});

    auto two = check_authorized(files, test_key(2));
    CHECK(two);
    CHECK(*two.matched == Location{"second", 2});

    auto no = check_authorized(files, test_key(3));
    CHECK_FALSE(no);
    CHECK_FALSE(no.matched);
    CHECK_FALSE(check_authorized({}, test_key(1)));
}

TEST_CASE("authorized_keys limits", "[trust]") {
    const std::string good = key_text(1);
    TrustLimits limits;
    limits.max_entries = 1;
    limits.max_line_length = good.size();
    auto f = parse_authorized_keys("ak", good + " comment\n" + good + "\n" + key_text(2) + "\n" + key_text(3) + "\n",
                                   limits);
    REQUIRE(f.entries.size() == 1);
    CHECK(f.entries[0].where.line == 2);
    CHECK(f.truncated);
    REQUIRE(f.diagnostics.size() == 2);
    CHECK(f.diagnostics[0].where.line == 1);
    CHECK(f.diagnostics[0].message.starts_with("line too long"));
    CHECK(f.diagnostics[1].text() == "ak:3: too many entries (limit 1); the rest of the file is ignored");
    // A key past the limit is not authorized: the cap fails closed.
    std::vector<AuthorizedKeysFile> files{f};
    CHECK_FALSE(check_authorized(files, test_key(3)));
}

TEST_CASE("authorized_keys reader: statuses and text", "[trust]") {
    const std::string text = "#\n" + key_text(1) + "\nrestrict " + key_text(2);
    AuthorizedKeysReader r("ak", text);  // the reader keeps a view: text must outlive it
    auto a = r.next();
    REQUIRE(a);
    CHECK(a->status == LineStatus::comment);
    auto b = r.next();
    REQUIRE(b);
    CHECK(b->status == LineStatus::entry);
    CHECK(b->text == key_text(1));
    REQUIRE(b->entry);
    CHECK(b->entry->key == test_key(1));
    auto c = r.next();
    REQUIRE(c);
    CHECK(c->status == LineStatus::entry);
    REQUIRE(c->entry);
    CHECK(c->entry->options.restricted);
    CHECK_FALSE(r.next());
}
