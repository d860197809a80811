// Hashed known_hosts names (OpenSSH's HashKnownHosts, ssh-keygen -H): the field's form, HMAC-SHA1 against
// vectors computed outside twoway (Python's hmac), matching as plain names match, and fail-closed
// readings of fields that do not read.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/trust.hpp>

#include "../../support/deterministic_rng.hpp"
#include "trust_support.hpp"

using namespace twoway;
using twoway::test::key_text;
using twoway::test::test_key;

namespace {

// Salt 00 01 .. 13; the hashes from Python: hmac.new(salt, name, hashlib.sha1).
const std::string salt_b64 = "AAECAwQFBgcICQoLDA0ODxAREhM=";
const std::string hashed_host = "|1|" + salt_b64 + "|IZ1zV0swCfFUvwvqRtiJbYJ0/LA=";               // host.example
const std::string hashed_host_2222 = "|1|" + salt_b64 + "|DnpHtKjaC+vTmgwkAZCf9SqxJN8=";          // [host.example]:2222
const std::string hashed_host_default = "|1|" + salt_b64 + "|m9qLvjtwIt9P30Z0iqhlcLfjvXg=";       // [host.example]:4422
const std::string hashed_unbracketed = "|1|" + salt_b64 + "|EVE7o0Guf+ss+1mMjDDkz87GnEc=";        // host.example:2222

std::array<std::byte, hashed_host_name_size> test_salt() {
    std::array<std::byte, hashed_host_name_size> s{};
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::byte>(i);
    return s;
}

HostStatus status(const std::string& text, std::string_view host, std::uint16_t port, int key) {
    const std::vector<KnownHostsFile> files{parse_known_hosts("kh", text)};
    return check_host(files, host, port, test_key(key)).status;
}

}  // namespace

TEST_CASE("hashed names: HMAC-SHA1 of the name under the salt, as OpenSSH's host_hash", "[trust]") {
    const auto h = hash_host_name("host.example", test_salt());
    CHECK(format_hashed_host_name(h) == hashed_host);
    CHECK(format_hashed_host_name(hash_host_name("[host.example]:2222", test_salt())) == hashed_host_2222);
    auto parsed = parse_hashed_host_name(hashed_host);
    REQUIRE(parsed);
    CHECK(*parsed == h);
    CHECK(hashed_host_name_matches(h, "host.example"));
    // Exactly the name: no lower-casing here (callers lower-case, as ssh and ssh-keygen do).
    CHECK_FALSE(hashed_host_name_matches(h, "HOST.example"));
    CHECK_FALSE(hashed_host_name_matches(h, "host.exampl"));
    // A fresh salt per name, from the Rng: two hashes of one name differ, and both match it.
    twoway_test::DeterministicRng rng(3);
    const auto a = hash_host_name("host.example", rng);
    const auto b = hash_host_name("host.example", rng);
    CHECK(a.salt != b.salt);
    CHECK(a.hash != b.hash);
    CHECK(hashed_host_name_matches(a, "host.example"));
    CHECK(hashed_host_name_matches(b, "host.example"));
    CHECK(parse_hashed_host_name(format_hashed_host_name(a)) == a);
}

TEST_CASE("hashed names: only the exact |1|salt|hash form reads", "[trust]") {
    const std::string hash = "IZ1zV0swCfFUvwvqRtiJbYJ0/LA=";
    for (const std::string& bad : std::vector<std::string>{
             "", "|", "|1|", "|1|" + salt_b64, "|1|" + salt_b64 + "|", "|2|" + salt_b64 + "|" + hash,
             "1|" + salt_b64 + "|" + hash,
             "|1|" + salt_b64.substr(0, 27) + "|" + hash,           // padding missing
             "|1|AAECAwQFBgcICQoLDA0ODxAREhN=|" + hash,             // stray bits after the 20th byte
             "|1|AAECAwQFBgcICQoLDA0ODxAREg==|" + hash,             // a 19-byte salt
             "|1|" + salt_b64 + "|" + hash + "x", "|1|" + salt_b64 + "|" + hash + "|",
             "|1|" + salt_b64 + "|" + hash + ",host.example",       // no list after a hash
             "|1|" + salt_b64 + "|" + hash.substr(0, 27),
             "|1|" + salt_b64 + "|IZ1zV0swCfFUvwvqRtiJbYJ0/LA", "|1|" + salt_b64 + "|" + hash + "=",
             "|1|" + salt_b64 + "|IZ1zV0sw CfFUvwvqRtiJbYJ0/LA=", "|1|" + salt_b64 + "|IZ1zV0sw\nCfFUvwvqRtiJbYJ0/LA=",
             "|1|" + salt_b64 + "|IZ1zV0swCfFUvwvqRtiJbYJ0-LA="}) {
        INFO(bad);
        CHECK_FALSE(parse_hashed_host_name(bad));
    }
}

TEST_CASE("check_host: a hashed name counts as the plain name it hashes", "[trust]") {
    const std::string k1 = " " + key_text(1) + "\n";
    // Known for its key, changed for another, unknown for other hosts: as the plain line "host.example".
    CHECK(status(hashed_host + k1, "host.example", default_port, 1) == HostStatus::known);
    CHECK(status(hashed_host + k1, "HOST.Example", default_port, 1) == HostStatus::known);
    CHECK(status(hashed_host + k1, "host.example", default_port, 2) == HostStatus::changed);
    CHECK(status(hashed_host + k1, "other.example", default_port, 1) == HostStatus::unknown);
    CHECK(status(hashed_host + k1, "host.example", 2222, 1) == HostStatus::unknown);
    // Another port: the hash of "[host]:port", as ssh hashes it.
    CHECK(status(hashed_host_2222 + k1, "host.example", 2222, 1) == HostStatus::known);
    CHECK(status(hashed_host_2222 + k1, "host.example", 2222, 2) == HostStatus::changed);
    CHECK(status(hashed_host_2222 + k1, "host.example", default_port, 2) == HostStatus::unknown);
    // twoway's default port written "[host]:4422" reads as "host", hashed or not.
    CHECK(status(hashed_host_default + k1, "host.example", default_port, 1) == HostStatus::known);
    // "host:2222" hashed names the literal "host:2222", which no host is called.
    CHECK(status(hashed_unbracketed + k1, "host.example", 2222, 2) == HostStatus::unknown);

    const auto f = parse_known_hosts("kh", hashed_host + k1);
    REQUIRE(f.entries.size() == 1);
    CHECK(f.diagnostics.empty());
    const auto& e = f.entries[0];
    REQUIRE(e.hashed);
    CHECK(format_hashed_host_name(*e.hashed) == hashed_host);
    CHECK((e.hosts.empty() && e.patterns.empty() && e.bad_names.empty()));
    CHECK(known_host_naming(e, "host.example", default_port) == HostNaming::yes);
    CHECK(known_host_naming(e, "host.example", 22) == HostNaming::no);
    const std::vector<KnownHostsFile> files{f};
    auto v = check_host(files, "host.example", default_port, test_key(1));
    CHECK(v.matched == Location{"kh", 1});
    CHECK(known_host_keys(files, "host.example", default_port) == std::vector<PublicKey>{test_key(1)});
    CHECK(known_host_keys(files, "other.example", default_port).empty());
    auto changed = check_host(files, "host.example", default_port, test_key(2));
    REQUIRE(changed.mismatches.size() == 1);
    CHECK(changed.mismatches[0].key == test_key(1));
    CHECK(changed.mismatches[0].where == Location{"kh", 1});
}

TEST_CASE("check_host: hashed lines with other keys, @revoked and bad key data", "[trust]") {
    // A key of another type under a hashed name: a recorded key, not this one (changed), as plain.
    const std::string rsa =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCqbraP6unV9hT0GOYlNRntunupLe+S6QMirterrr9L6OQWV40dqajbE0j4z0spIlwLFQ6s"
        "UjdX4eYjqbD8tWl48ixc3JdqPllJqU0PLkjWW5hVHK+qxYBAKcP2l+OH/VMGClQ70GwK0n2xbi0dOtuN0ysZq576jne+lws/kvvGlQ==";
    CHECK(status(hashed_host + " " + rsa + "\n", "host.example", default_port, 1) == HostStatus::changed);
    CHECK(status(hashed_host + " " + rsa + "\n", "other.example", default_port, 1) == HostStatus::unknown);
    // Bad key data under a hashed name: uncertain for that host only.
    CHECK(status(hashed_host + " ssh-ed25519 AAAA!!!!\n", "host.example", default_port, 1) == HostStatus::uncertain);
    CHECK(status(hashed_host + " ssh-ed25519 AAAA!!!!\n", "other.example", default_port, 1) == HostStatus::unknown);
    // @revoked refuses the key for every host, whatever its (hashed) field.
    const auto r = parse_known_hosts("kh", "@revoked " + hashed_host + " " + key_text(1) + "\n");
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].revoked);
    CHECK(r.entries[0].hashed);
    CHECK(status("@revoked " + hashed_host + " " + key_text(1) + "\n", "other.example", 22, 1) == HostStatus::revoked);
}

TEST_CASE("check_host: a hashed field that does not read is uncertain for every host, never unknown", "[trust]") {
    for (const std::string& field : std::vector<std::string>{
             "|1|" + salt_b64 + "|IZ1zV0swCfFUvwvqRtiJbYJ0/LA",  // the hash's padding lost
             "|2|" + salt_b64 + "|IZ1zV0swCfFUvwvqRtiJbYJ0/LA=", "|1|AAAA|BBBB", "|1|" + hashed_host.substr(3) + ",x"}) {
        INFO(field);
        const std::string text = field + " " + key_text(1) + "\n";
        const auto f = parse_known_hosts("kh", text);
        REQUIRE(f.unusable.size() == 1);
        CHECK(f.unusable[0].kind == UnusableKind::any_host);
        for (int key : {1, 2}) {
            CHECK(status(text, "host.example", default_port, key) == HostStatus::uncertain);
            CHECK(status(text, "any.example", 22, key) == HostStatus::uncertain);
        }
        // An @revoked line with such a field still revokes its key everywhere; an @cert-authority one
        // makes every host uncertain for a plain key.
        CHECK(status("@revoked " + text, "any.example", 22, 1) == HostStatus::revoked);
        CHECK(status("@cert-authority " + text, "any.example", 22, 2) == HostStatus::uncertain);
    }
}

TEST_CASE("format_hashed_known_hosts_line: a line check_host reads as the plain one", "[trust]") {
    twoway_test::DeterministicRng rng(9);
    for (std::uint16_t port : {default_port, std::uint16_t{22}, std::uint16_t{2222}}) {
        INFO(port);
        auto line = format_hashed_known_hosts_line("Host.Example", port, test_key(1), rng);
        REQUIRE(line);
        CHECK(line->starts_with("|1|"));
        CHECK(line->ends_with(" " + key_text(1)));
        CHECK(line->find("host") == std::string::npos);
        CHECK(status(*line + "\n", "host.example", port, 1) == HostStatus::known);
        CHECK(status(*line + "\n", "host.example", port, 2) == HostStatus::changed);
        CHECK(status(*line + "\n", "host.example", static_cast<std::uint16_t>(port + 1), 1) == HostStatus::unknown);
    }
    CHECK_FALSE(format_hashed_known_hosts_line("bad host", 22, test_key(1), rng));
    CHECK_FALSE(format_hashed_known_hosts_line("h", 0, test_key(1), rng));
}
