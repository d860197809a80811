// AuthorizedKeysCommand's argument splitting (OpenSSH's argv_split) and %-tokens (sshd's
// user_key_command_allowed2); the command itself runs in tests/integration/daemon_keys_command.py.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon_config.hpp"
#include "keys_command.hpp"

using Words = std::vector<std::string>;

TEST_CASE("split_command_line: OpenSSH's argv_split", "[daemon]") {
    struct Row {
        const char* text;
        Words want;
    };
    const Row rows[] = {
        {"/bin/cmd", {"/bin/cmd"}},
        {"  /bin/cmd   a\tb  ", {"/bin/cmd", "a", "b"}},
        {"/bin/cmd \"a b\" 'c d'", {"/bin/cmd", "a b", "c d"}},
        {"/bin/cmd a\"b c\"d", {"/bin/cmd", "ab cd"}},          // quotes group inside a word
        {"/bin/cmd \"it's\"", {"/bin/cmd", "it's"}},             // the other quote is literal
        {"/bin/cmd a\\ b", {"/bin/cmd", "a b"}},                  // an escaped blank outside quotes
        {"/bin/cmd \"a\\\"b\"", {"/bin/cmd", "a\"b"}},            // an escaped quote
        {"/bin/cmd a\\\\b", {"/bin/cmd", "a\\b"}},                // an escaped backslash
        {"/bin/cmd a\\nb", {"/bin/cmd", "a\\nb"}},                // any other backslash stays
        {"/bin/cmd \"\"", {"/bin/cmd", ""}},                      // an empty quoted word is a word
        {"", {}},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        auto got = twowayd::split_command_line(r.text);
        REQUIRE(got);
        CHECK(*got == r.want);
    }
    CHECK_FALSE(twowayd::split_command_line("/bin/cmd \"open"));
    CHECK_FALSE(twowayd::split_command_line("/bin/cmd 'open"));
}

TEST_CASE("keys_command_argv: tokens, absolute path, the user name by default", "[daemon]") {
    twowayd::KeysCommandTokens t;
    t.user = "alice";
    t.uid = "1001";
    t.home = "/home/alice";
    t.key_type = "ssh-ed25519";
    t.fingerprint = "SHA256:abc";
    t.key_base64 = "AAAAkey";
    t.connection = "192.0.2.9 50000 192.0.2.1 4422";
    std::string why;
    auto argv = twowayd::keys_command_argv("/usr/local/bin/keys %u %U %h %t %f %k %% x%uY", t, why);
    REQUIRE(argv);
    CHECK(*argv == Words{"/usr/local/bin/keys", "alice", "1001", "/home/alice", "ssh-ed25519", "SHA256:abc",
                         "AAAAkey", "%", "xaliceY"});

    argv = twowayd::keys_command_argv("/usr/local/bin/keys", t, why);
    REQUIRE(argv);
    CHECK(*argv == Words{"/usr/local/bin/keys", "alice"});

    // The program itself is not expanded (sshd expands the arguments only).
    argv = twowayd::keys_command_argv("/opt/%u/keys %u", t, why);
    REQUIRE(argv);
    CHECK(argv->front() == "/opt/%u/keys");

    for (const char* bad : {"keys %u", "./keys", "", "   ", "/bin/keys %x", "/bin/keys %", "/bin/keys \"%u"}) {
        INFO(bad);
        why.clear();
        CHECK_FALSE(twowayd::keys_command_argv(bad, t, why));
        CHECK_FALSE(why.empty());
    }
    // %C and %D (always empty: no routing domains); the certificate tokens only for the principals command.
    argv = twowayd::keys_command_argv("/bin/keys %C [%D]", t, why);
    REQUIRE(argv);
    CHECK(*argv == Words{"/bin/keys", "192.0.2.9 50000 192.0.2.1 4422", "[]"});
    why.clear();
    CHECK_FALSE(twowayd::keys_command_argv("/bin/keys %i", t, why));
    CHECK(why == "AuthorizedKeysCommand has an unknown %-token in %i");
    t.principals = true;
    t.ca_fingerprint = "SHA256:ca";
    t.key_id = "alice@laptop";
    t.ca_base64 = "AAAAca";
    t.serial = "42";
    t.ca_type = "ssh-ed25519";
    argv = twowayd::keys_command_argv("/bin/principals %u %F %i %K %s %T %t", t, why, "AuthorizedPrincipalsCommand");
    REQUIRE(argv);
    CHECK(*argv == Words{"/bin/principals", "alice", "SHA256:ca", "alice@laptop", "AAAAca", "42", "ssh-ed25519", "ssh-ed25519"});
    why.clear();
    CHECK_FALSE(twowayd::keys_command_argv("/bin/principals %x", t, why, "AuthorizedPrincipalsCommand"));
    CHECK(why == "AuthorizedPrincipalsCommand has an unknown %-token in %x");
}
