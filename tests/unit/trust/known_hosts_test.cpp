#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/trust.hpp>

#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;

namespace {

const char* const rsa_line =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCqbraP6unV9hT0GOYlNRntunupLe+S6QMirterrr9L6OQWV40dqajbE0j4z0spIlwLFQ6s"
    "UjdX4eYjqbD8tWl48ixc3JdqPllJqU0PLkjWW5hVHK+qxYBAKcP2l+OH/VMGClQ70GwK0n2xbi0dOtuN0ysZq576jne+lws/kvvGlQ==";

const char* const hashed_name = "|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM=";

// The one diagnostic a one-line file produces, for a line that is skipped (or, with entry, kept as an
// entry whose bad names are ignored).
std::string only_diagnostic(const std::string& line, bool entry = false) {
    auto f = parse_known_hosts("kh", line + "\n");
    REQUIRE(f.entries.size() == (entry ? 1U : 0U));
    REQUIRE(f.diagnostics.size() == 1);
    CHECK(f.skipped == (entry ? 0U : 1U));
    return f.diagnostics[0].text();
}

HostVerdict check(const std::vector<KnownHostsFile>& files, std::string_view host, std::uint16_t port, int key) {
    return check_host(files, host, port, test_key(key));
}

}  // namespace

TEST_CASE("valid_host_name: the names known_hosts takes", "[trust]") {
    for (const char* good : {"example.org", "EXAMPLE.org", "host-1_a", "192.0.2.1", "::1", "fe80::1%eth0", "a"}) {
        CHECK(valid_host_name(good));
    }
    CHECK(valid_host_name(std::string(255, 'a')));
    // Negative: what would break a known_hosts line, pass for an option, or be a pattern or a port.
    for (const char* bad : {"", "-oProxyCommand=x", "host:22", "[host]", "a b", "a,b", "*.org", "h?st", "!host",
                            "tab\there", "new\nline", "caf\xc3\xa9", "a/b", "a@b"}) {
        CHECK_FALSE(valid_host_name(bad));
    }
    CHECK_FALSE(valid_host_name(std::string(256, 'a')));
    CHECK_FALSE(valid_host_name(std::string("a\0b", 3)));
    // The rule format_host_port applies.
    CHECK_FALSE(format_host_port("host:22", default_port));
    CHECK(format_host_port("::1", 2222));
}

TEST_CASE("match_pattern: '*' and '?' only, the whole text, case-sensitive", "[trust]") {
    CHECK(match_pattern("*.example.org", "www.example.org"));
    CHECK(match_pattern("*", ""));
    CHECK(match_pattern("h?st", "host"));
    CHECK(match_pattern("[h]:22", "[h]:22"));  // brackets are not special
    CHECK_FALSE(match_pattern("*.example.org", "example.org"));
    CHECK_FALSE(match_pattern("h?st", "hst"));
    CHECK_FALSE(match_pattern("host", "HOST"));      // lower-case both sides for host names
    CHECK_FALSE(match_pattern("host", "host.org"));  // the whole text
    CHECK_FALSE(match_pattern("!host", "host"));     // negation is the caller's
    CHECK_FALSE(match_pattern("", "x"));
    // A pattern built to make naive matching exponential still fails fast.
    CHECK_FALSE(match_pattern(std::string(50, '*') + std::string(50, 'a') + "b", std::string(5000, 'a')));
}

TEST_CASE("known_hosts: plain names, [host]:port and lists parse into entries", "[trust]") {
    const std::string text = "# comment line\n"
                             "\n"
                             "server.example.com " + key_text(1) + "\n"
                             "   [Alt.Example.com]:2200,alt " + key_text(2, "a comment with spaces") + "\r\n"
                             "192.0.2.10,::1 " + key_text(3) + "\n"
                             "[::1]:4422 " + key_text(4);  // no final newline
    auto f = parse_known_hosts("/home/u/.twoway/known_hosts", text);
    CHECK(f.diagnostics.empty());
    CHECK(f.skipped == 0);
    CHECK_FALSE(f.truncated);
    REQUIRE(f.entries.size() == 4);

    CHECK(f.entries[0].where == Location{"/home/u/.twoway/known_hosts", 3});
    CHECK(f.entries[0].hosts == std::vector<HostPort>{{"server.example.com", default_port}});
    CHECK(f.entries[0].key == test_key(1));
    CHECK(f.entries[0].comment.empty());

    // Names are lower-cased; the bracketed one carries its port, the bare one the default port.
    CHECK(f.entries[1].where.line == 4);
    CHECK(f.entries[1].hosts == std::vector<HostPort>{{"alt.example.com", 2200}, {"alt", default_port}});
    CHECK(f.entries[1].comment == "a comment with spaces");

    CHECK(f.entries[2].hosts == std::vector<HostPort>{{"192.0.2.10", default_port}, {"::1", default_port}});
    // [host]:4422 is the default port written the long way: the same as a bare name.
    CHECK(f.entries[3].hosts == std::vector<HostPort>{{"::1", default_port}});
    CHECK(f.entries[3].where.line == 6);
}

TEST_CASE("known_hosts: every unsupported or bad line or name is reported with path:line and why", "[trust]") {
    const std::string k = " " + key_text(1);
    // Bad names: the line stays an entry (the names are read one by one), with a note.
    CHECK(only_diagnostic("host,!" + k, true) ==
          "kh:1: empty negated pattern \"!\"; the line's other names still count");
    CHECK(only_diagnostic("web/*" + k, true) == "kh:1: invalid host pattern \"web/*\"");
    CHECK(only_diagnostic("!a\\b" + k, true) == "kh:1: invalid host pattern \"!a\\\\b\"");
    CHECK(only_diagnostic("*.example.com:2200" + k, true) ==
          "kh:1: a host with a port must be written [host]:port: \"*.example.com:2200\"");
    CHECK(only_diagnostic(std::string(513, '*') + k, true) == "kh:1: host pattern longer than 512 characters");
    CHECK(only_diagnostic("a,,b" + k, true) == "kh:1: empty host name in the list; the line's other names still count");
    CHECK(only_diagnostic("a:1,b,c:2,d:3" + k, true) ==
          "kh:1: a host with a port must be written [host]:port: \"a:1\" (and 2 more bad names); the line's other "
          "names still count");
    CHECK(only_diagnostic("host/name" + k, true) == "kh:1: invalid host name \"host/name\"");
    CHECK(only_diagnostic("-oProxyCommand" + k, true) == "kh:1: invalid host name \"-oProxyCommand\"");
    CHECK(only_diagnostic("host:2200" + k, true) ==
          "kh:1: a host with a port must be written [host]:port: \"host:2200\"");
    CHECK(only_diagnostic("[host]" + k, true) == "kh:1: invalid [host]:port entry \"[host]\"");
    CHECK(only_diagnostic("[host]:" + k, true) == "kh:1: invalid port in \"[host]:\"");
    CHECK(only_diagnostic("[host]:0" + k, true) == "kh:1: invalid port in \"[host]:0\"");
    CHECK(only_diagnostic("[host]:65536" + k, true) == "kh:1: invalid port in \"[host]:65536\"");
    CHECK(only_diagnostic("[host]x:22" + k, true) == "kh:1: invalid [host]:port entry \"[host]x:22\"");
    CHECK(only_diagnostic("[]:22" + k, true) == "kh:1: invalid [host]:port entry \"[]:22\"");
    CHECK(only_diagnostic("[fe80:1]:22" + k, true) == "kh:1: invalid host name \"[fe80:1]:22\"");
    // Lines that are not entries.
    CHECK(only_diagnostic("|1|a=|b=" + k) ==
          "kh:1: malformed hashed host name (not |1|salt|hash with a 20-byte salt and hash): it may name any host");
    CHECK(only_diagnostic("@cert-authority *.example.com " + twoway::test::cert_text(1)) ==
          "kh:1: @cert-authority: the CA key is a certificate, which cannot be a CA");
    CHECK(only_diagnostic("@cert-authority *.example.com " + std::string(rsa_line)) ==
          "kh:1: @cert-authority: key type \"ssh-rsa\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("@revoked") == "kh:1: no host names after @revoked");
    CHECK(only_diagnostic("@revoked " + key_text(1)) ==
          "kh:1: @revoked needs host names before the key (\"*\" for every host)");
    CHECK(only_diagnostic("@revoked *") == "kh:1: @revoked: no key after the host names");
    CHECK(only_diagnostic(std::string("@revoked * ") + rsa_line) ==
          "kh:1: @revoked: key type \"ssh-rsa\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("@revoked * ssh-ed25519 AAAA!!!!") == "kh:1: @revoked: invalid ssh-ed25519 key data");
    CHECK(only_diagnostic("@trusted host" + k) == "kh:1: unknown marker \"@trusted\"");
    CHECK(only_diagnostic(key_text(1)) == "kh:1: no host names before the key");
    CHECK(only_diagnostic("host") == "kh:1: no key after the host names");
    CHECK(only_diagnostic("host ssh-ed25519") == "kh:1: missing ssh-ed25519 key data");
    CHECK(only_diagnostic(std::string("host ") + rsa_line) ==
          "kh:1: key type \"ssh-rsa\" is not supported (only ssh-ed25519)");
    CHECK(only_diagnostic("host ssh-ed25519 AAAA!!!!") == "kh:1: invalid ssh-ed25519 key data");
    CHECK(only_diagnostic("host hello world") == "kh:1: not a key: \"hello\"");
    CHECK(only_diagnostic("host:22 hello") == "kh:1: not a key: \"hello\"; a host with a port must be written "
                                              "[host]:port: \"host:22\"");
    CHECK(only_diagnostic("host" + k + "\x01") == "kh:1: line contains control characters");
    CHECK(only_diagnostic(std::string("ho\0st", 5) + k) == "kh:1: line contains control characters");
}

TEST_CASE("known_hosts: a bad line does not void the file", "[trust]") {
    const std::string text = "good1 " + key_text(1) + "\n" +
                             "bad/name " + key_text(2) + "\n" +
                             "garbage\n" +
                             "good2 " + key_text(3) + "\n";
    auto f = parse_known_hosts("kh", text);
    REQUIRE(f.entries.size() == 3);
    CHECK(f.entries[0].hosts[0].host == "good1");
    // A line whose only name is bad is kept, naming no host for certain.
    CHECK(f.entries[1].hosts.empty());
    CHECK(f.entries[1].bad_names == std::vector<std::string>{"bad/name"});
    CHECK(f.entries[2].hosts[0].host == "good2");
    CHECK(f.entries[2].where.line == 4);
    // "garbage" names a host and holds no key.
    REQUIRE(f.unusable.size() == 1);
    CHECK(f.unusable[0].where == Location{"kh", 3});
    CHECK(f.unusable[0].kind == UnusableKind::named);
    CHECK(f.unusable[0].hosts == std::vector<HostPort>{{"garbage", default_port}});
    CHECK(f.skipped == 1);
    REQUIRE(f.diagnostics.size() == 2);
    CHECK(f.diagnostics[0].where == Location{"kh", 2});
    CHECK(f.diagnostics[1].where == Location{"kh", 3});
}

TEST_CASE("known_hosts: the reader reports every line's status and text", "[trust]") {
    const std::string text = "# c\n\n  \t\nhost " + key_text(1) + "\n|1|a=|b= " + key_text(1) + "\n";
    KnownHostsReader r("kh", text);
    std::vector<LineStatus> statuses;
    std::vector<std::size_t> numbers;
    while (auto l = r.next()) {
        statuses.push_back(l->status);
        numbers.push_back(l->where.line);
        CHECK(l->where.path == "kh");
        if (l->status == LineStatus::entry) {
            CHECK(l->text == "host " + key_text(1));
            REQUIRE(l->entry);
        } else {
            CHECK_FALSE(l->entry);
        }
        if (l->status == LineStatus::skipped) CHECK_FALSE(l->reason.empty());
    }
    CHECK(statuses == std::vector<LineStatus>{LineStatus::comment, LineStatus::blank, LineStatus::blank,
                                              LineStatus::entry, LineStatus::skipped});
    // The hashed line comes back with what check_host needs to know about it.
    KnownHostsReader again("kh", text);
    for (int i = 0; i < 4; ++i) CHECK_FALSE(again.next()->unusable);
    auto hashed = again.next();
    REQUIRE(hashed->unusable);
    CHECK(hashed->unusable->kind == UnusableKind::any_host);
    CHECK(hashed->unusable->where == Location{"kh", 5});
    CHECK(numbers == std::vector<std::size_t>{1, 2, 3, 4, 5});
    CHECK_FALSE(r.truncated());
}

TEST_CASE("check_host: known, unknown and changed, with path:line", "[trust]") {
    std::vector<KnownHostsFile> files{parse_known_hosts("user", "a.example " + key_text(1) + "\n" +
                                                                    "b.example " + key_text(2) + "\n")};
    auto known = check(files, "a.example", default_port, 1);
    CHECK(known.status == HostStatus::known);
    REQUIRE(known.matched);
    CHECK(*known.matched == Location{"user", 1});
    CHECK(known.mismatches.empty());

    auto unknown = check(files, "c.example", default_port, 1);
    CHECK(unknown.status == HostStatus::unknown);
    CHECK_FALSE(unknown.matched);
    CHECK(unknown.mismatches.empty());
    CHECK_FALSE(unknown.incomplete);

    auto changed = check(files, "b.example", default_port, 9);
    CHECK(changed.status == HostStatus::changed);
    CHECK_FALSE(changed.matched);
    REQUIRE(changed.mismatches.size() == 1);
    CHECK(changed.mismatches[0].where == Location{"user", 2});
    CHECK(changed.mismatches[0].key == test_key(2));
}

TEST_CASE("check_host: every offending line of every file is reported", "[trust]") {
    std::vector<KnownHostsFile> files{
        parse_known_hosts("user", "h " + key_text(1) + "\nother " + key_text(5) + "\nh,x " + key_text(2) + "\n"),
        parse_known_hosts("global", "# global\nH " + key_text(3) + "\n"),
    };
    auto v = check(files, "h", default_port, 7);
    CHECK(v.status == HostStatus::changed);
    REQUIRE(v.mismatches.size() == 3);
    CHECK(v.mismatches[0].where == Location{"user", 1});
    CHECK(v.mismatches[0].key == test_key(1));
    CHECK(v.mismatches[1].where == Location{"user", 3});
    CHECK(v.mismatches[1].key == test_key(2));
    CHECK(v.mismatches[2].where == Location{"global", 2});
    CHECK(v.mismatches[2].key == test_key(3));

    // Any entry holding the key makes the host known (as OpenSSH), here one in the global file.
    auto k = check(files, "h", default_port, 3);
    CHECK(k.status == HostStatus::known);
    CHECK(*k.matched == Location{"global", 2});
    CHECK(k.mismatches.empty());
}

TEST_CASE("check_host: [host]:port and bare host are different entries", "[trust]") {
    std::vector<KnownHostsFile> files{parse_known_hosts(
        "kh", "srv " + key_text(1) + "\n[srv]:2200 " + key_text(2) + "\n[srv]:" + std::to_string(default_port) + " " +
                  key_text(3) + "\n")};
    CHECK(check(files, "srv", default_port, 1).status == HostStatus::known);
    CHECK(check(files, "srv", default_port, 3).status == HostStatus::known);  // [srv]:4422 is the default port
    CHECK(check(files, "srv", 2200, 2).status == HostStatus::known);
    // The default-port keys say nothing about port 2200, and the reverse.
    auto v = check(files, "srv", 2200, 1);
    CHECK(v.status == HostStatus::changed);
    REQUIRE(v.mismatches.size() == 1);
    CHECK(v.mismatches[0].where.line == 2);
    CHECK(check(files, "srv", 2201, 1).status == HostStatus::unknown);
    auto d = check(files, "srv", default_port, 2);
    CHECK(d.status == HostStatus::changed);
    CHECK(d.mismatches.size() == 2);
}

TEST_CASE("check_host: host names compare case-insensitively", "[trust]") {
    std::vector<KnownHostsFile> files{parse_known_hosts("kh", "WWW.Example.COM " + key_text(1) + "\n")};
    CHECK(check(files, "www.example.com", default_port, 1).status == HostStatus::known);
    CHECK(check(files, "WWW.EXAMPLE.COM", default_port, 1).status == HostStatus::known);
    CHECK(check(files, "www.example.co", default_port, 1).status == HostStatus::unknown);
}

TEST_CASE("check_host: lines twoway cannot read never vouch for a key, and a readable line still counts", "[trust]") {
    std::vector<KnownHostsFile> files{parse_known_hosts(
        "kh", "|1|abc=|def= " + key_text(1) + "\n@cert-authority * " + key_text(1) + "\nhost,!,* " + key_text(1) +
                  "\nhost:22,* " + key_text(1) + "\n")};
    REQUIRE(files[0].entries.size() == 3);
    CHECK(files[0].entries[0].cert_authority);  // a CA's key: it never vouches for a host key
    CHECK(files[0].entries[1].bad_names == std::vector<std::string>{"!"});
    CHECK(files[0].entries[2].bad_names == std::vector<std::string>{"host:22"});
    REQUIRE(files[0].unusable.size() == 1);
    // Lines 3 and 4 name "host" and every host with their good names ("!" negates nothing, as in
    // OpenSSH): known wins over the hashed and @cert-authority lines.
    CHECK(check(files, "host", default_port, 1).status == HostStatus::known);
    CHECK(check(files, "*", default_port, 1).status == HostStatus::known);
    // Another key: changed, and the lines that cannot be read are listed too.
    auto v = check(files, "host", default_port, 2);
    CHECK(v.status == HostStatus::changed);
    CHECK(v.mismatches.size() == 2);
    REQUIRE(v.unreadable.size() == 2);
    CHECK(v.unreadable[0].where.line == 1);
    CHECK(v.unreadable[1].where.line == 2);
    // "host:22" (meant as [host]:22) is one bad name: port 22 of host is uncertain, not known, on line 4.
    auto p22 = check(files, "host", 22, 2);
    CHECK(p22.status == HostStatus::changed);  // line 3's "*" names [host]:22 with another key
}

TEST_CASE("check_host: one bad name does not void the line's good ones (the issue 13 line)", "[trust]") {
    std::vector<KnownHostsFile> files{
        parse_known_hosts("kh", "[127.0.0.1]:4497,legacy-host:4497 " + key_text(1) + "\n")};
    REQUIRE(files[0].entries.size() == 1);
    CHECK(files[0].entries[0].hosts == std::vector<HostPort>{{"127.0.0.1", 4497}});
    CHECK(files[0].entries[0].bad_names == std::vector<std::string>{"legacy-host:4497"});
    REQUIRE(files[0].diagnostics.size() == 1);
    CHECK(files[0].diagnostics[0].text() == "kh:1: a host with a port must be written [host]:port: "
                                            "\"legacy-host:4497\"; the line's other names still count");
    // The good name decides, as in OpenSSH: the impostor's key is a changed key, never a new host.
    CHECK(check(files, "127.0.0.1", 4497, 1).status == HostStatus::known);
    auto impostor = check(files, "127.0.0.1", 4497, 2);
    CHECK(impostor.status == HostStatus::changed);
    REQUIRE(impostor.mismatches.size() == 1);
    CHECK(impostor.mismatches[0].key == test_key(1));
    CHECK(known_host_keys(files, "127.0.0.1", 4497) == std::vector<PublicKey>{test_key(1)});
    // The bad name was probably meant as [legacy-host]:4497: that host is uncertain with any key, and
    // gets no stealth proof from it.
    for (int key : {1, 2}) {
        auto v = check(files, "legacy-host", 4497, key);
        CHECK(v.status == HostStatus::uncertain);
        REQUIRE(v.unreadable.size() == 1);
        CHECK(v.unreadable[0].where == Location{"kh", 1});
    }
    CHECK(known_host_keys(files, "legacy-host", 4497).empty());
    CHECK(known_host_naming(files[0].entries[0], "LEGACY-HOST", 4497) == HostNaming::maybe);
    // Other hosts and ports are unaffected.
    CHECK(check(files, "legacy-host", default_port, 2).status == HostStatus::unknown);
    CHECK(check(files, "127.0.0.2", 4497, 2).status == HostStatus::unknown);
}

TEST_CASE("check_host: a malformed hashed line makes every host uncertain unless a readable line knows the key",
          "[trust]") {
    const std::string hashed = "|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM " + key_text(1) + "\n";
    std::vector<KnownHostsFile> only{parse_known_hosts("user", "# ssh's HashKnownHosts\n" + hashed)};
    REQUIRE(only[0].unusable.size() == 1);
    CHECK(only[0].unusable[0].kind == UnusableKind::any_host);
    // Whatever the key, even the one the hashed line holds: twoway cannot tell which host it names.
    for (int key : {1, 2}) {
        for (std::uint16_t port : {default_port, std::uint16_t{4497}}) {
            auto v = check(only, "any.example", port, key);
            CHECK(v.status == HostStatus::uncertain);
            CHECK_FALSE(v.matched);
            CHECK(v.mismatches.empty());
            REQUIRE(v.unreadable.size() == 1);
            CHECK(v.unreadable[0].text() ==
                  "user:2: malformed hashed host name (not |1|salt|hash with a 20-byte salt and hash): it may "
                  "name any host");
            CHECK_FALSE(v.revocation_unreadable);
        }
    }
    CHECK(known_host_keys(only, "any.example", default_port).empty());

    // With a readable line for h: h is known with its key and changed with another; other hosts stay
    // uncertain. The hashed line may be in another file (the global one) and still counts.
    std::vector<KnownHostsFile> both{parse_known_hosts("user", "h " + key_text(3) + "\n"),
                                     parse_known_hosts("global", hashed)};
    auto known = check(both, "h", default_port, 3);
    CHECK(known.status == HostStatus::known);
    CHECK(known.unreadable.empty());
    auto changed = check(both, "h", default_port, 1);
    CHECK(changed.status == HostStatus::changed);
    REQUIRE(changed.unreadable.size() == 1);
    CHECK(changed.unreadable[0].where == Location{"global", 1});
    CHECK(check(both, "other", default_port, 3).status == HostStatus::uncertain);
    CHECK(known_host_keys(both, "h", default_port) == std::vector<PublicKey>{test_key(3)});
    CHECK(known_host_keys(both, "other", default_port).empty());
}

TEST_CASE("check_host: a line whose names are read but whose key is not makes those hosts uncertain", "[trust]") {
    for (const std::string& rest : std::vector<std::string>{"", " ssh-ed25519", " ssh-ed25519 AAAA!!!!", " hello world",
                                                           " ssh-ed25519 " + key_text(1).substr(12, 40)}) {
        INFO(rest);
        std::vector<KnownHostsFile> files{parse_known_hosts("kh", "h,[h]:22" + rest + "\nz " + key_text(5) + "\n")};
        REQUIRE(files[0].unusable.size() == 1);
        CHECK(files[0].unusable[0].kind == UnusableKind::named);
        CHECK(check(files, "h", default_port, 1).status == HostStatus::uncertain);
        CHECK(check(files, "h", 22, 1).status == HostStatus::uncertain);
        CHECK(check(files, "h", 23, 1).status == HostStatus::unknown);
        CHECK(check(files, "other", default_port, 1).status == HostStatus::unknown);
        CHECK(check(files, "z", default_port, 5).status == HostStatus::known);
        CHECK(known_host_keys(files, "h", default_port).empty());
    }
}

TEST_CASE("check_host: a key of another type recorded for the host is a changed key, as in OpenSSH", "[trust]") {
    // OpenSSH's check_hostkeys_by_key_or_type: any recorded key of the host that is not the one offered
    // makes HOST_CHANGED, whatever its type; a line with the offered key makes HOST_OK.
    std::vector<KnownHostsFile> files{parse_known_hosts("kh", std::string("rsa.example ") + rsa_line + "\n")};
    REQUIRE(files[0].unusable.size() == 1);
    CHECK(files[0].unusable[0].kind == UnusableKind::other_key_type);
    CHECK(files[0].unusable[0].key_type == "ssh-rsa");
    auto v = check(files, "rsa.example", default_port, 1);
    CHECK(v.status == HostStatus::changed);
    REQUIRE(v.mismatches.size() == 1);
    CHECK(v.mismatches[0].key_type == "ssh-rsa");
    CHECK(v.mismatches[0].where == Location{"kh", 1});
    CHECK(v.unreadable.empty());
    CHECK(check(files, "elsewhere", default_port, 1).status == HostStatus::unknown);
    CHECK(known_host_keys(files, "rsa.example", default_port).empty());
    // Known with an Ed25519 key too: the Ed25519 line decides.
    files.push_back(parse_known_hosts("kh2", "rsa.example " + key_text(1) + "\n"));
    CHECK(check(files, "rsa.example", default_port, 1).status == HostStatus::known);
    auto both = check(files, "rsa.example", default_port, 2);
    CHECK(both.status == HostStatus::changed);
    CHECK(both.mismatches.size() == 2);
    // A bad name on such a line that could mean the host: uncertain, not changed.
    std::vector<KnownHostsFile> bad{parse_known_hosts("kh", std::string("rsa.example:22 ") + rsa_line + "\n")};
    CHECK(check(bad, "rsa.example", 22, 1).status == HostStatus::uncertain);
}

TEST_CASE("check_host: @cert-authority (for a plain key), unknown markers, missing host names and junk make hosts "
          "uncertain", "[trust]") {
    const auto status = [](const std::string& text, std::string_view host) {
        const std::vector<KnownHostsFile> files{parse_known_hosts("kh", text)};
        return check(files, host, default_port, 1).status;
    };
    const std::string k = " " + key_text(1) + "\n";
    // The hosts the line names are to present a certificate: a plain key is not taken as new for them.
    CHECK(status("@cert-authority *.example.com" + k, "a.example.com") == HostStatus::uncertain);
    const auto ca = parse_known_hosts("kh", "@cert-authority *.example.com" + k + "@cert-authority |1|a=|b=" + k +
                                                "@cert-authority *.example.com " + twoway::test::cert_text(1) + "\n");
    REQUIRE(ca.entries.size() == 1);
    CHECK(ca.entries[0].cert_authority);
    CHECK(ca.entries[0].patterns == std::vector<std::string>{"*.example.com"});
    REQUIRE(ca.unusable.size() == 2);
    CHECK((ca.unusable[0].cert_authority && ca.unusable[0].kind == UnusableKind::any_host));
    CHECK((ca.unusable[1].cert_authority && ca.unusable[1].kind == UnusableKind::named));
    CHECK(status("@cert-authority *.example.com" + k, "a.example.org") == HostStatus::unknown);
    CHECK(status("@cert-authority " + std::string(hashed_name) + k, "a.example.org") == HostStatus::unknown);
    CHECK(status("@cert-authority |1|a=|b=" + k, "a.example.org") == HostStatus::uncertain);
    CHECK(status("@cert-authority" + k, "a.example.org") == HostStatus::uncertain);
    // The CA's key is never a host key: not known, not in known_host_keys.
    const std::vector<KnownHostsFile> ca_files{parse_known_hosts("kh", "@cert-authority *.example.com" + k)};
    auto v = check(ca_files, "a.example.com", default_port, 1);
    CHECK(v.status == HostStatus::uncertain);
    REQUIRE(v.unreadable.size() == 1);
    CHECK(v.unreadable[0].text() ==
          "kh:1: @cert-authority: this host is to present a certificate from this CA, not a plain key");
    CHECK(known_host_keys(ca_files, "a.example.com", default_port).empty());
    // Nothing can be read: every host.
    CHECK(status("@trusted host" + k, "anything") == HostStatus::uncertain);
    CHECK(status(key_text(2) + "\n", "anything") == HostStatus::uncertain);
    CHECK(status("host" + std::string(1, '\0') + k, "anything") == HostStatus::uncertain);
    CHECK(status("h\x1b[31m" + k, "anything") == HostStatus::uncertain);
    CHECK(status("h\r" + k, "anything") == HostStatus::uncertain);  // a CR inside the line
    CHECK(status("h " + key_text(1) + " " + std::string(8192, 'c') + "\n", "anything") == HostStatus::uncertain);
    // A CRLF line ending is only a line ending.
    CHECK(status("h " + key_text(1) + "\r\n", "h") == HostStatus::known);
    CHECK(status("h " + key_text(1) + "\r\n", "other") == HostStatus::unknown);
    // Blank lines and comments concern no host.
    CHECK(status("\n   \n# |1|abc= junk\n\t# x\n", "anything") == HostStatus::unknown);
}

TEST_CASE("check_host: an @revoked line twoway cannot read makes every verdict uncertain, known ones too",
          "[trust]") {
    for (const std::string& revoked : std::vector<std::string>{"@revoked * ssh-ed25519 AAAA!!!!", "@revoked",
                                                              "@revoked *", "@revoked " + key_text(9),
                                                              "@revoked * hello"}) {
        INFO(revoked);
        std::vector<KnownHostsFile> files{parse_known_hosts("kh", "h " + key_text(1) + "\n" + revoked + "\n")};
        REQUIRE(files[0].unusable.size() == 1);
        CHECK(files[0].unusable[0].kind == UnusableKind::revocation);
        auto v = check(files, "h", default_port, 1);
        CHECK(v.status == HostStatus::uncertain);
        CHECK(v.revocation_unreadable);
        CHECK_FALSE(v.matched);
        REQUIRE(v.unreadable.size() == 1);
        CHECK(v.unreadable[0].where.line == 2);
        CHECK(check(files, "elsewhere", default_port, 2).status == HostStatus::uncertain);
        // No stealth proof for a key the line may revoke.
        CHECK(known_host_keys(files, "h", default_port).empty());
    }
    // A revoked key of another type cannot be an Ed25519 key: the line changes nothing.
    std::vector<KnownHostsFile> rsa{
        parse_known_hosts("kh", "h " + key_text(1) + "\n@revoked * " + std::string(rsa_line) + "\n")};
    CHECK(rsa[0].unusable.empty());
    CHECK(check(rsa, "h", default_port, 1).status == HostStatus::known);
    CHECK(check(rsa, "other", default_port, 1).status == HostStatus::unknown);
    // A readable @revoked line still wins over an unreadable one.
    std::vector<KnownHostsFile> both{
        parse_known_hosts("kh", "@revoked * ssh-ed25519 AAAA!!!!\n@revoked * " + key_text(1) + "\n")};
    CHECK(check(both, "h", default_port, 1).status == HostStatus::revoked);
}

TEST_CASE("known_hosts: only an exact key type name means the host names are missing", "[trust]") {
    // Host names may start like key types (found by the known_hosts fuzz target: "ecdsa-web.example"
    // was taken for a missing host field, and the line made every host uncertain).
    for (const char* host : {"ssh-gw.example", "ecdsa-web.example", "sk-1", "ssh-ed25519x"}) {
        INFO(host);
        std::vector<KnownHostsFile> files{parse_known_hosts("kh", std::string(host) + " " + key_text(1) + "\n" +
                                                                      "@revoked " + host + " " + key_text(2) + "\n")};
        CHECK(files[0].unusable.empty());
        CHECK(files[0].diagnostics.empty());
        REQUIRE(files[0].entries.size() == 2);
        CHECK(check(files, host, default_port, 1).status == HostStatus::known);
        CHECK(check(files, "other", default_port, 1).status == HostStatus::unknown);
        CHECK(check(files, "other", default_port, 2).status == HostStatus::revoked);
    }
    for (const char* type : {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"}) {
        INFO(type);
        auto f = parse_known_hosts("kh", std::string(type) + " AAAA\n@revoked " + type + " AAAA\n");
        REQUIRE(f.unusable.size() == 2);
        CHECK(f.unusable[0].kind == UnusableKind::any_host);
        CHECK(f.unusable[1].kind == UnusableKind::revocation);
    }
    // A host may be named like a key type when a key type follows (found by the known_hosts fuzz target:
    // format_known_hosts_line writes "ssh-dss ssh-ed25519 AAAA..." for a host called ssh-dss, which then
    // read back as a line without host names and made every host uncertain). OpenSSH reads the first
    // field as host names always.
    for (const char* host : {"ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256"}) {
        INFO(host);
        const auto line = format_known_hosts_line(host, default_port, test_key(1));
        REQUIRE(line);
        std::vector<KnownHostsFile> files{parse_known_hosts("kh", *line + "\n@revoked " + host + " " + key_text(2) + "\n")};
        CHECK(files[0].unusable.empty());
        REQUIRE(files[0].entries.size() == 2);
        CHECK(check(files, host, default_port, 1).status == HostStatus::known);
        CHECK(check(files, "other", default_port, 1).status == HostStatus::unknown);
        CHECK(check(files, "other", default_port, 2).status == HostStatus::revoked);
    }
}

TEST_CASE("known_hosts: an @revoked certificate revokes the key it certifies; an unreadable one revokes all",
          "[trust]") {
    // OpenSSH's check_key_not_revoked compares a certificate with a plain key by the certified key
    // (sshkey_equal_public), so `@revoked * <cert>` revokes that key (issue 13 review).
    std::vector<KnownHostsFile> files{parse_known_hosts("kh", "host " + key_text(1) + "\n@revoked * " +
                                                                   test::cert_text(1, "old cert") + "\n")};
    CHECK(files[0].unusable.empty());
    CHECK(check(files, "host", default_port, 1).status == HostStatus::revoked);
    CHECK(check(files, "other", default_port, 1).status == HostStatus::revoked);
    CHECK(check(files, "host", default_port, 2).status == HostStatus::changed);
    // Its key cut off: it may revoke any key, so every verdict is uncertain.
    std::vector<KnownHostsFile> cut{parse_known_hosts("kh", "host " + key_text(1) + "\n@revoked * " +
                                                                 test::cert_text(1, "", true) + "\n")};
    REQUIRE(cut[0].unusable.size() == 1);
    CHECK(cut[0].unusable[0].kind == UnusableKind::revocation);
    CHECK(check(cut, "host", default_port, 1).status == HostStatus::uncertain);
    // A plain (unmarked) line holding an ssh-ed25519 certificate is no key of another type: the hosts it
    // names are uncertain, not changed and not new.
    std::vector<KnownHostsFile> plain{parse_known_hosts("kh", "host " + test::cert_text(1) + "\n")};
    CHECK(check(plain, "host", default_port, 2).status == HostStatus::uncertain);
    CHECK(check(plain, "other", default_port, 2).status == HostStatus::unknown);
}

TEST_CASE("known_host_naming: bad names read as OpenSSH would, or as the [host]:port meant", "[trust]") {
    const auto naming = [](const std::string& names, std::string_view host, std::uint16_t port) {
        auto f = parse_known_hosts("kh", names + " " + key_text(1) + "\n");
        REQUIRE(f.entries.size() == 1);
        return known_host_naming(f.entries[0], host, port);
    };
    CHECK(naming("web:2200", "web", 2200) == HostNaming::maybe);  // [web]:2200 was meant
    CHECK(naming("web:2200", "web", default_port) == HostNaming::no);
    CHECK(naming("web:4422", "web", default_port) == HostNaming::maybe);
    CHECK(naming("*.corp:2200", "a.corp", 2200) == HostNaming::maybe);
    CHECK(naming("[web]", "web", default_port) == HostNaming::no);  // OpenSSH's literal "[web]" matches nothing
    CHECK(naming("we/b", "we/b", default_port) == HostNaming::maybe);  // literally, as OpenSSH compares it
    CHECK(naming("a,,b", "a", default_port) == HostNaming::yes);  // an empty name means nothing
    CHECK(naming("a,,b", "c", default_port) == HostNaming::no);
    // A good negation takes the line out whatever else; a bad one that could mean the host makes it maybe.
    CHECK(naming("*,!web,web:22", "web", 22) == HostNaming::yes);
    CHECK(naming("*,!web,web:22", "web", default_port) == HostNaming::no);
    CHECK(naming("*,![web]:22,we/b", "web", 22) == HostNaming::no);
    CHECK(naming("*,!web:22", "web", 22) == HostNaming::maybe);
    CHECK(naming("*,!web:22", "web", 23) == HostNaming::yes);
    CHECK(naming("web,web:22", "web", default_port) == HostNaming::yes);  // the good name already names it
    auto u = parse_known_hosts("kh", "|1|a=|b= " + key_text(1) + "\n");
    REQUIRE(u.unusable.size() == 1);
    CHECK(known_host_naming(u.unusable[0], "x", 1) == HostNaming::maybe);
}

TEST_CASE("known_hosts: patterns are kept apart from plain names, lower-cased, once each", "[trust]") {
    auto f = parse_known_hosts("kh", "Web.Example,*.Example.COM,!Old.example.com,[10.0.0.?]:2222,*.example.com " +
                                         key_text(1) + "\n");
    REQUIRE(f.entries.size() == 1);
    CHECK(f.diagnostics.empty());
    CHECK(f.entries[0].hosts == std::vector<HostPort>{{"web.example", default_port}});
    CHECK(f.entries[0].patterns ==
          std::vector<std::string>{"*.example.com", "!old.example.com", "[10.0.0.?]:2222"});
}

TEST_CASE("check_host: wildcards and negation match as OpenSSH's match_hostname", "[trust]") {
    // Expected results from ssh-keygen -F (OpenSSH 9.2) on the same lines; tests/interop compares the
    // two programs on a file like this one.
    std::vector<KnownHostsFile> files{parse_known_hosts(
        "kh", "*.example.com,!bad.example.com " + key_text(1) + "\n" +  // 1
                  "[*.example.com]:2222 " + key_text(2) + "\n" +        // 2
                  "db?.internal " + key_text(3) + "\n" +                // 3
                  "!skip.example.net,*.example.net " + key_text(4) + "\n")};  // 4: order does not matter
    const auto status = [&](std::string_view host, std::uint16_t port, int key) {
        return check(files, host, port, key).status;
    };
    CHECK(status("www.example.com", default_port, 1) == HostStatus::known);
    CHECK(status("WWW.Example.COM", default_port, 1) == HostStatus::known);
    CHECK(status("a.b.example.com", default_port, 1) == HostStatus::known);      // '*' crosses dots
    CHECK(status("www.example.com", default_port, 9) == HostStatus::changed);    // a pattern line can conflict
    CHECK(status("bad.example.com", default_port, 1) == HostStatus::unknown);    // negated: the line is out
    CHECK(status("example.com", default_port, 1) == HostStatus::unknown);        // "*." needs the dot
    CHECK(status("www.example.com", 2222, 1) == HostStatus::changed);            // line 2 has another key
    CHECK(status("www.example.com", 2222, 2) == HostStatus::known);
    CHECK(status("www.example.com", 2223, 2) == HostStatus::unknown);            // other ports: "[h]:p" whole
    CHECK(status("db1.internal", default_port, 3) == HostStatus::known);
    CHECK(status("db12.internal", default_port, 3) == HostStatus::unknown);      // '?' is one character
    CHECK(status("db.internal", default_port, 3) == HostStatus::unknown);
    CHECK(status("skip.example.net", default_port, 4) == HostStatus::unknown);
    CHECK(status("go.example.net", default_port, 4) == HostStatus::known);

    // A negated pattern beats a plain name on the same line, as in OpenSSH.
    std::vector<KnownHostsFile> both{parse_known_hosts("kh", "host,!h* " + key_text(1) + "\n")};
    CHECK(check(both, "host", default_port, 1).status == HostStatus::unknown);
    // "[pattern]:4422" is the pattern, as "[host]:4422" is the host: the default port is matched bare.
    std::vector<KnownHostsFile> dflt{parse_known_hosts("kh", "*,![gw]:4422,[db*]:4422 " + key_text(1) + "\n")};
    REQUIRE(dflt[0].entries.size() == 1);
    CHECK(dflt[0].entries[0].patterns == std::vector<std::string>{"*", "!gw", "db*"});
    CHECK(check(dflt, "gw", default_port, 1).status == HostStatus::unknown);
    CHECK(check(dflt, "gw", 2222, 1).status == HostStatus::known);
    // A line of negations alone matches nothing.
    std::vector<KnownHostsFile> none{parse_known_hosts("kh", "!a,!b " + key_text(1) + "\n")};
    REQUIRE(none[0].entries.size() == 1);
    CHECK(check(none, "c", default_port, 1).status == HostStatus::unknown);
    // "*" is every host and port; known_host_keys follows the same matching.
    std::vector<KnownHostsFile> all{parse_known_hosts("kh", "* " + key_text(5) + "\n")};
    CHECK(check(all, "anything", 1, 5).status == HostStatus::known);
    CHECK(known_host_keys(all, "anything", 1) == std::vector<PublicKey>{test_key(5)});
    CHECK(known_host_keys(files, "bad.example.com", default_port).empty());
}

TEST_CASE("known_host_matches answers for one entry, revoked or not", "[trust]") {
    auto f = parse_known_hosts("kh", "@revoked *.example.com " + key_text(1) + "\n" + "host,[host]:2200 " +
                                         key_text(2) + "\n" + "@revoked bad/name " + key_text(3) + "\n");
    REQUIRE(f.entries.size() == 3);
    CHECK(known_host_matches(f.entries[0], "a.example.com", default_port));
    CHECK_FALSE(known_host_matches(f.entries[0], "a.example.org", default_port));
    CHECK(known_host_matches(f.entries[1], "HOST", default_port));
    CHECK(known_host_matches(f.entries[1], "host", 2200));
    CHECK_FALSE(known_host_matches(f.entries[1], "host", 2201));
    // A host field twoway cannot read names no host, and the key is still revoked.
    CHECK(f.entries[2].revoked);
    CHECK_FALSE(known_host_matches(f.entries[2], "bad/name", default_port));
    CHECK(check(std::vector<KnownHostsFile>{f}, "x", 1, 3).status == HostStatus::revoked);
}

TEST_CASE("format_host_port and format_known_hosts_line write what ssh writes", "[trust]") {
    CHECK(*format_host_port("Server.Example", default_port) == "server.example");
    CHECK(*format_host_port("server", 2200) == "[server]:2200");
    CHECK(*format_host_port("::1", default_port) == "::1");
    CHECK(*format_host_port("fe80::1%eth0", 22) == "[fe80::1%eth0]:22");
    CHECK(*format_known_hosts_line("Host", default_port, test_key(1)) == "host " + key_text(1));
    CHECK(*format_known_hosts_line("host", 65535, test_key(2)) == "[host]:65535 " + key_text(2));

    for (const char* bad : {"", "a b", "a,b", "*.x", "h?", "!h", "[h]", "h\n", "-h", "|1|x", "a:b"}) {
        INFO(bad);
        CHECK(format_host_port(bad, default_port).error() == errc::invalid_argument);
        CHECK(format_known_hosts_line(bad, default_port, test_key(1)).error() == errc::invalid_argument);
    }
    CHECK(format_host_port("host", 0).error() == errc::invalid_argument);
    CHECK(format_host_port("a:b", 22).error() == errc::invalid_argument);
    CHECK(format_host_port(std::string(256, 'a'), default_port).error() == errc::invalid_argument);
}

TEST_CASE("parse_host_port reads one name as known_hosts holds it, and what format_host_port writes", "[trust]") {
    CHECK(parse_host_port("Server.Example") == HostPort{"server.example", default_port});
    CHECK(parse_host_port("[server]:2200") == HostPort{"server", 2200});
    CHECK(parse_host_port("[Server]:4422") == HostPort{"server", default_port});
    CHECK(parse_host_port("::1") == HostPort{"::1", default_port});
    CHECK(parse_host_port("[::1]:22") == HostPort{"::1", 22});
    for (const char* bad : {"", "*", "*.x", "h?", "!h", "|1|a=|b=", "h:22", "[h]", "[h]:0", "[h]:x", "a b", "-h"}) {
        INFO(bad);
        CHECK_FALSE(parse_host_port(bad));
    }
    for (std::uint16_t port : {default_port, std::uint16_t{1}, std::uint16_t{65535}}) {
        CHECK(parse_host_port(*format_host_port("H.example", port)) == HostPort{"h.example", port});
    }
}

TEST_CASE("a written line reads back as known", "[trust]") {
    for (std::uint16_t port : {default_port, std::uint16_t{22}, std::uint16_t{65535}}) {
        auto line = format_known_hosts_line("Mixed.Case.example", port, test_key(4));
        REQUIRE(line);
        std::vector<KnownHostsFile> files{parse_known_hosts("kh", *line + "\n")};
        REQUIRE(files[0].entries.size() == 1);
        CHECK(check(files, "mixed.case.example", port, 4).status == HostStatus::known);
        CHECK(check(files, "mixed.case.example", port, 5).status == HostStatus::changed);
    }
}

TEST_CASE("known_hosts limits: line length, lines, entries and diagnostics", "[trust]") {
    const std::string good = "h " + key_text(1);
    SECTION("an over-long line is skipped, not cut") {
        TrustLimits limits;
        limits.max_line_length = good.size();
        auto f = parse_known_hosts("kh", good + "\n" + good + " x\n" + good + "\n", limits);
        CHECK(f.entries.size() == 2);
        REQUIRE(f.diagnostics.size() == 1);
        CHECK(f.diagnostics[0].text() == "kh:2: line too long (" + std::to_string(good.size() + 2) + " bytes, limit " +
                                             std::to_string(good.size()) + ")");
        CHECK_FALSE(f.truncated);
    }
    SECTION("the default line limit is 8 KiB") {
        auto f = parse_known_hosts("kh", good + " " + std::string(8192, 'c') + "\n" + good + "\n");
        CHECK(f.entries.size() == 1);
        CHECK(f.diagnostics.at(0).where.line == 1);
    }
    SECTION("entries beyond the limit stop the reading and say so") {
        TrustLimits limits;
        limits.max_entries = 2;
        auto f = parse_known_hosts("kh", good + "\n# c\n" + good + "\n" + good + "\n" + good + "\n", limits);
        CHECK(f.entries.size() == 2);
        CHECK(f.truncated);
        REQUIRE(f.diagnostics.size() == 1);
        CHECK(f.diagnostics[0].text() == "kh:4: too many entries (limit 2); the rest of the file is ignored");
        // A truncated file makes "unknown" uncertain.
        std::vector<KnownHostsFile> files{f};
        auto v = check(files, "other", default_port, 1);
        CHECK(v.status == HostStatus::unknown);
        CHECK(v.incomplete);
    }
    SECTION("lines beyond the limit stop the reading") {
        TrustLimits limits;
        limits.max_lines = 3;
        auto f = parse_known_hosts("kh", "\n\n\n" + good + "\n", limits);
        CHECK(f.entries.empty());
        CHECK(f.truncated);
        CHECK(f.diagnostics.at(0).text() == "kh:4: too many lines (limit 3); the rest of the file is ignored");
    }
    SECTION("lines twoway cannot use count as entries: a flood of them stops the reading") {
        TrustLimits limits;
        limits.max_entries = 2;
        auto f = parse_known_hosts("kh", "|1|a=|b= " + key_text(1) + "\nh " + key_text(2) + "\n|1|c=|d= " +
                                             key_text(1) + "\n" + good + "\n", limits);
        CHECK(f.unusable.size() == 1);
        CHECK(f.entries.size() == 1);
        CHECK(f.truncated);
        CHECK(f.diagnostics.back().text() == "kh:3: too many entries (limit 2); the rest of the file is ignored");
    }
    SECTION("diagnostics are capped, skipped lines still counted") {
        TrustLimits limits;
        limits.max_diagnostics = 3;
        std::string text;
        for (int i = 0; i < 10; ++i) text += "|1|a=|b= " + key_text(1) + "\n";
        text += good + "\n";
        auto f = parse_known_hosts("kh", text, limits);
        CHECK(f.diagnostics.size() == 3);
        CHECK(f.skipped == 10);
        CHECK(f.entries.size() == 1);
        CHECK_FALSE(f.truncated);
    }
}

TEST_CASE("TextLines splits on newlines and strips one CR", "[trust]") {
    TextLines lines("a\r\n\nb\r\r\nlast", 3);
    std::vector<std::string> got;
    while (auto l = lines.next()) {
        got.push_back(std::to_string(l->number) + ":" + std::string(l->text) + (l->too_long ? "!" : ""));
    }
    CHECK(got == std::vector<std::string>{"1:a", "2:", "3:b\r", "4:last!"});
    TextLines empty("", 10);
    CHECK_FALSE(empty.next());
}

TEST_CASE("known_hosts: known_host_keys lists a host's keys once each, in file order", "[trust]") {
    const std::vector<KnownHostsFile> files = {
        parse_known_hosts("user", "[h.example]:2200 " + key_text(2) + "\n" + "h.example " + key_text(1) + "\n" +
                                      "[H.Example]:2200 " + key_text(3) + "\n" + "[h.example]:2200 " + key_text(2) + "\n"),
        parse_known_hosts("global", "[h.example]:2200 " + key_text(4) + "\n" + "other " + key_text(5) + "\n"),
    };
    const auto keys = known_host_keys(files, "h.example", 2200);
    REQUIRE(keys.size() == 3);
    CHECK(keys[0] == test_key(2));
    CHECK(keys[1] == test_key(3));
    CHECK(keys[2] == test_key(4));
    const auto default_port_keys = known_host_keys(files, "H.EXAMPLE", default_port);
    REQUIRE(default_port_keys.size() == 1);
    CHECK(default_port_keys[0] == test_key(1));
    CHECK(known_host_keys(files, "h.example", 2201).empty());
    CHECK(known_host_keys(files, "nobody", default_port).empty());
}

TEST_CASE("known_hosts: @revoked lines hold keys revoked for every host, whatever the host field", "[trust]") {
    const std::string text = "@revoked * " + key_text(1, "stolen laptop") + "\n" +
                             "@revoked |1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM= " + key_text(2) +
                             "\n" + "  @revoked\tweb?,!db " + key_text(3) + "\n" + "host " + key_text(4) + "\n";
    auto f = parse_known_hosts("kh", text);
    CHECK(f.diagnostics.empty());
    REQUIRE(f.entries.size() == 4);
    for (int i = 0; i < 3; ++i) {
        INFO(i);
        CHECK(f.entries[i].revoked);
        CHECK(f.entries[i].hosts.empty());
        CHECK(f.entries[i].key == test_key(i + 1));
        CHECK(f.entries[i].where.line == static_cast<std::size_t>(i + 1));
    }
    // The host field is read where it can be (for twoway-keygen -F); a hashed one cannot.
    CHECK(f.entries[0].patterns == std::vector<std::string>{"*"});
    CHECK(f.entries[1].patterns.empty());
    CHECK(f.entries[2].patterns == std::vector<std::string>{"web?", "!db"});
    CHECK(f.entries[0].comment == "stolen laptop");
    CHECK_FALSE(f.entries[3].revoked);

    // The line reader reports them as entries too.
    KnownHostsReader reader("kh", text);
    auto first = reader.next();
    REQUIRE(first);
    CHECK(first->status == LineStatus::entry);
    REQUIRE(first->entry);
    CHECK(first->entry->revoked);
}

TEST_CASE("check_host: a revoked key is refused for every host, even where another line trusts it", "[trust]") {
    const std::vector<KnownHostsFile> files = {
        parse_known_hosts("user", "srv " + key_text(1) + "\n[srv]:2200 " + key_text(2) + "\n"),
        parse_known_hosts("global", "# revoked keys\n@revoked * " + key_text(1) + "\n@revoked other " +
                                        key_text(3) + "\n@revoked x " + key_text(1) + "\n"),
    };
    // Listed for the host in the user file, revoked in the global one: revoked, at the first such line.
    auto v = check(files, "srv", default_port, 1);
    CHECK(v.status == HostStatus::revoked);
    CHECK(v.revoked == Location{"global", 2});
    CHECK_FALSE(v.matched);
    CHECK(v.mismatches.empty());
    // Revoked for a host no line names (never offered for adding), and whatever names the line gives.
    CHECK(check(files, "unknown.example", default_port, 1).status == HostStatus::revoked);
    CHECK(check(files, "srv", 2200, 3).status == HostStatus::revoked);
    // Keys not revoked are judged as before.
    CHECK(check(files, "srv", 2200, 2).status == HostStatus::known);
    CHECK(check(files, "srv", 2200, 4).status == HostStatus::changed);
    CHECK(check(files, "srv", default_port, 4).status == HostStatus::changed);  // its recorded key is revoked
    CHECK(check(files, "elsewhere", default_port, 4).status == HostStatus::unknown);
}

TEST_CASE("known_hosts: known_host_keys leaves revoked keys out", "[trust]") {
    const std::vector<KnownHostsFile> files = {
        parse_known_hosts("user", "h " + key_text(1) + "\nh " + key_text(2) + "\n"),
        parse_known_hosts("global", "@revoked * " + key_text(1) + "\n"),
    };
    const auto keys = known_host_keys(files, "h", default_port);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0] == test_key(2));
}

TEST_CASE("known_hosts limits: @revoked lines count as entries", "[trust]") {
    TrustLimits limits;
    limits.max_entries = 1;
    auto f = parse_known_hosts("kh", "@revoked * " + key_text(1) + "\nh " + key_text(2) + "\n", limits);
    REQUIRE(f.entries.size() == 1);
    CHECK(f.entries[0].revoked);
    CHECK(f.truncated);
}
