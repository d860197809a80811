#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <twoway/trust.hpp>

#include "client_config.hpp"

using namespace twoway_client;

namespace {

const ClientContext ctx{"/home/alice", "alice"};

std::vector<std::string> error_texts(const ParsedClientConfig& c) {
    std::vector<std::string> out;
    for (const auto& e : c.errors) out.push_back(e.text());
    return out;
}

ParsedClientConfig good(const std::string& text) {
    auto c = parse_client_config("/home/alice/.twoway/config", text);
    INFO(text);
    REQUIRE(error_texts(c) == std::vector<std::string>{});
    return c;
}

std::string error_of(const std::string& line) {
    auto c = parse_client_config("cfg", "Host *\n" + line + "\n");
    REQUIRE(c.errors.size() == 1);
    return c.errors[0].text();
}

std::string option_error(const std::string& option) {
    auto c = parse_client_option(option);
    REQUIRE(c.errors.size() == 1);
    return c.errors[0].text();
}

ClientSettings resolve_for(const ParsedClientConfig& c, std::string_view host, const std::vector<std::string>& cli = {}) {
    auto overrides = parse_client_options(cli);
    REQUIRE(overrides.ok());
    return resolve(c, host, overrides, ctx);
}

}  // namespace

TEST_CASE("client config: the defaults", "[config]") {
    auto s = resolve_for(good(""), "Server.Example");
    CHECK(s.host_alias == "server.example");
    CHECK(s.host_name == "server.example");
    CHECK(s.port == 4422);
    CHECK(s.user == "alice");
    CHECK(s.identity_files == std::vector<std::string>{"/home/alice/.twoway/id_ed25519", "/home/alice/.ssh/id_ed25519"});
    CHECK(s.user_known_hosts_files == std::vector<std::string>{"/home/alice/.twoway/known_hosts"});
    CHECK(s.strict_host_key_checking == StrictHostKeyChecking::ask);
    CHECK_FALSE(s.batch_mode);
    CHECK_FALSE(s.connect_timeout);
    CHECK(s.server_alive_interval == 0);  // no keep-alives unless asked for
    CHECK(s.server_alive_count_max == 3);
}

TEST_CASE("client config: every keyword", "[config]") {
    auto c = good("Host web\n"
                  "  HostName web1.example.com\n"
                  "  Port 2200\n"
                  "  User deploy\n"
                  "  IdentityFile ~/.twoway/deploy_key\n"
                  "  IdentityFile /keys/%r@%h:%p\n"
                  "  StrictHostKeyChecking accept-new\n"
                  "  UserKnownHostsFile ~/.twoway/known_hosts /etc/twoway/team_hosts\n"
                  "  BatchMode yes\n"
                  "  ConnectTimeout 1m30s\n"
                  "  ServerAliveInterval 1m\n"
                  "  ServerAliveCountMax 5\n");
    auto s = resolve_for(c, "web");
    CHECK(s.host_name == "web1.example.com");
    CHECK(s.port == 2200);
    CHECK(s.user == "deploy");
    CHECK(s.identity_files ==
          std::vector<std::string>{"/home/alice/.twoway/deploy_key", "/keys/deploy@web1.example.com:2200"});
    CHECK(s.strict_host_key_checking == StrictHostKeyChecking::accept_new);
    CHECK(s.user_known_hosts_files ==
          std::vector<std::string>{"/home/alice/.twoway/known_hosts", "/etc/twoway/team_hosts"});
    CHECK(s.batch_mode);
    CHECK(s.connect_timeout == 90U);
    CHECK(s.server_alive_interval == 60);
    CHECK(s.server_alive_count_max == 5);

    // Another host gets nothing from that block.
    auto other = resolve_for(c, "db");
    CHECK(other.host_name == "db");
    CHECK(other.port == 4422);
    CHECK(other.identity_files == std::vector<std::string>{"/home/alice/.twoway/id_ed25519", "/home/alice/.ssh/id_ed25519"});
}

TEST_CASE("client config: value forms", "[config]") {
    auto strict = [](const std::string& v) {
        return resolve_for(good("StrictHostKeyChecking " + v), "h").strict_host_key_checking;
    };
    CHECK(strict("yes") == StrictHostKeyChecking::yes);
    CHECK(strict("TRUE") == StrictHostKeyChecking::yes);
    CHECK(strict("no") == StrictHostKeyChecking::no);
    CHECK(strict("off") == StrictHostKeyChecking::no);
    CHECK(strict("false") == StrictHostKeyChecking::no);
    CHECK(strict("ask") == StrictHostKeyChecking::ask);
    CHECK(strict("Accept-New") == StrictHostKeyChecking::accept_new);

    CHECK(resolve_for(good("BatchMode true"), "h").batch_mode);
    CHECK_FALSE(resolve_for(good("BatchMode NO"), "h").batch_mode);
    CHECK(resolve_for(good("HashKnownHosts yes"), "h").hash_known_hosts);
    CHECK_FALSE(resolve_for(good("hashknownhosts no\nHashKnownHosts yes"), "h").hash_known_hosts);  // the first wins
    CHECK_FALSE(resolve_for(good("User u"), "h").hash_known_hosts);  // default no, as OpenSSH's
    CHECK(resolve_for(good("ConnectTimeout 10"), "h").connect_timeout == 10U);
    CHECK_FALSE(resolve_for(good("ConnectTimeout none"), "h").connect_timeout);
    CHECK_FALSE(resolve_for(good("ConnectTimeout 0"), "h").connect_timeout);
    CHECK(resolve_for(good("UserKnownHostsFile none"), "h").user_known_hosts_files.empty());
    CHECK_FALSE(resolve_for(good(""), "h").revoked_host_keys);
    CHECK_FALSE(resolve_for(good("RevokedHostKeys none\nRevokedHostKeys /x"), "h").revoked_host_keys);
    CHECK(resolve_for(good("RevokedHostKeys /etc/twoway/revoked_host_keys"), "h").revoked_host_keys ==
          std::optional<std::string>{"/etc/twoway/revoked_host_keys"});
    CHECK(resolve_for(good("HostName %h.internal.example"), "Box").host_name == "box.internal.example");
    CHECK(resolve_for(good("HostName 192.0.2.7"), "box").host_name == "192.0.2.7");
    CHECK(resolve_for(good("port=2201"), "h").port == 2201);
    CHECK(resolve_for(good("PORT = 2202"), "h").port == 2202);
    CHECK(resolve_for(good("IdentityFile \"/keys/my key\""), "h").identity_files ==
          std::vector<std::string>{"/keys/my key"});
}

TEST_CASE("client config: token and ~ expansion", "[config]") {
    auto s = resolve_for(good("Host box\n"
                              "HostName box.example\n"
                              "User bob\n"
                              "Port 2222\n"
                              "IdentityFile %d/keys/%u-%r-%h-%p\n"
                              "IdentityFile ~\n"
                              "IdentityFile 100%%/k\n"
                              "UserKnownHostsFile ~/kh/%h %d/kh2\n"
                              "RevokedHostKeys ~/revoked-%h\n"),
                         "box");
    CHECK(s.revoked_host_keys == std::optional<std::string>{"/home/alice/revoked-box.example"});
    CHECK(s.identity_files == std::vector<std::string>{"/home/alice/keys/alice-bob-box.example-2222", "/home/alice",
                                                       "100%/k"});
    CHECK(s.user_known_hosts_files == std::vector<std::string>{"/home/alice/kh/box.example", "/home/alice/kh2"});
}

TEST_CASE("client config: Host patterns, negation and first value wins", "[config]") {
    auto c = good("# general settings go last\n"
                  "Host bastion.example.com\n"
                  "  Port 2201\n"
                  "Host *.example.com !bastion.example.com\n"
                  "  User ops\n"
                  "  Port 2202\n"
                  "Host db? cache,queue\n"
                  "  Port 2203\n"
                  "Host *\n"
                  "  User nobody\n"
                  "  Port 2299\n"
                  "  IdentityFile ~/.twoway/general\n");
    auto bastion = resolve_for(c, "bastion.example.com");
    CHECK(bastion.port == 2201);
    CHECK(bastion.user == "nobody");  // the negation kept the *.example.com block out

    auto web = resolve_for(c, "WEB.example.com");
    CHECK(web.port == 2202);
    CHECK(web.user == "ops");
    CHECK(web.identity_files == std::vector<std::string>{"/home/alice/.twoway/general"});

    CHECK(resolve_for(c, "db1").port == 2203);
    CHECK(resolve_for(c, "db12").port == 2299);  // '?' is exactly one character
    CHECK(resolve_for(c, "cache").port == 2203);
    CHECK(resolve_for(c, "queue").port == 2203);
    CHECK(resolve_for(c, "example.com").port == 2299);
}

TEST_CASE("client config: lines before the first Host apply to every host", "[config]") {
    auto c = good("Port 2000\nHost special\n  Port 3000\n  User sp\n");
    CHECK(resolve_for(c, "special").port == 2000);  // it came first
    CHECK(resolve_for(c, "special").user == "sp");
    CHECK(resolve_for(c, "other").port == 2000);
}

TEST_CASE("client config: command-line options come first", "[config]") {
    auto c = good("Host h\n  Port 2000\n  User fileuser\n  IdentityFile ~/from_file\n  IdentityFile ~/shared\n");
    auto s = resolve_for(c, "h", {"Port=3000", "IdentityFile ~/from_cli", "IdentityFile=~/shared", "batchmode yes"});
    CHECK(s.port == 3000);
    CHECK(s.user == "fileuser");
    CHECK(s.batch_mode);
    // IdentityFile adds up, command line first, duplicates dropped.
    CHECK(s.identity_files ==
          std::vector<std::string>{"/home/alice/from_cli", "/home/alice/shared", "/home/alice/from_file"});
}

TEST_CASE("client -o options use the same keyword parser", "[config]") {
    auto one = parse_client_option("User=root");
    REQUIRE(one.ok());
    REQUIRE(one.directives.size() == 1);
    CHECK(one.directives[0].keyword == ClientKeyword::user);
    CHECK(one.directives[0].text == "root");
    CHECK(parse_client_option("StrictHostKeyChecking no").directives.at(0).strict == StrictHostKeyChecking::no);
    CHECK(parse_client_option("UserKnownHostsFile=/a /b").directives.at(0).files ==
          std::vector<std::string>{"/a", "/b"});

    CHECK(option_error("Host=x") == "command-line: Host directive not supported as a command-line option");
    CHECK(option_error("Match all") == "command-line: Match directive not supported as a command-line option");
    CHECK(option_error("Ciphers=aes") == "command-line: Ciphers \"aes\": twoway uses chacha20-poly1305@openssh.com "
                                         "only (by ssh's name), which this list excludes");
    // What scp, sftp and git pass: accepted, with a note when it means nothing for twoway; refused when
    // ignoring the value would change what was asked for.
    for (const char* ok : {"PermitLocalCommand=no", "ForwardAgent=no", "ForwardX11 no", "RemoteCommand=none",
                           "ControlMaster=auto", "Compression yes"}) {
        INFO(ok);
        auto c = parse_client_option(ok);
        CHECK(c.ok());
        CHECK(c.directives.empty());
        CHECK(c.notes.size() == 1);
    }
    CHECK(parse_client_option("ForwardAgent=no").notes.at(0).text() ==
          "command-line: ForwardAgent: ignored (twoway has no agent forwarding)");
    CHECK(option_error("ForwardAgent=yes") == "command-line: ForwardAgent \"yes\": twoway has no agent forwarding");
    CHECK(option_error("ForwardX11=yes") == "command-line: ForwardX11 \"yes\": twoway has no X11 forwarding");
    CHECK(option_error("RemoteCommand=ls") ==
          "command-line: RemoteCommand \"ls\": not supported yet: give the command on the command line");
    CHECK(option_error("RequestTTY=sometimes") ==
          "command-line: RequestTTY: unsupported option \"sometimes\" (expected no, yes, force or auto)");
    CHECK(parse_client_option("RequestTTY=no").directives.at(0).tty == RequestTty::no);
    CHECK(parse_client_option("RequestTTY force").directives.at(0).tty == RequestTty::force);
    CHECK(resolve_for(good(""), "h", {"RequestTTY=yes", "RequestTTY=no"}).request_tty == RequestTty::yes);
    CHECK(resolve_for(good(""), "h").request_tty == RequestTty::automatic);
    CHECK(resolve_for(good("ClearAllForwardings yes\n"), "h").clear_all_forwardings);
    CHECK_FALSE(resolve_for(good(""), "h").clear_all_forwardings);
    // SendEnv: every line adds, "-pattern" removes what came before it (as ssh's), Debian's default first.
    CHECK(resolve_for(good("SendEnv LANG LC_*\nSendEnv -LC_* TZ\n"), "h", {"SendEnv=GIT_PROTOCOL"}).send_env ==
          std::vector<std::string>{"LANG", "GIT_PROTOCOL", "TZ"});
    CHECK(resolve_for(good(""), "h").send_env == std::vector<std::string>{"LANG", "LC_*"});
    CHECK(resolve_for(good("SendEnv -*\n"), "h").send_env.empty());
    // EscapeChar and EnableEscapeCommandline.
    CHECK(resolve_for(good(""), "h").escape_char == '~');
    CHECK(resolve_for(good("EscapeChar none\n"), "h").escape_char == -1);
    CHECK(resolve_for(good("EscapeChar ^]\n"), "h").escape_char == 0x1d);
    CHECK(resolve_for(good("EscapeChar %\n"), "h").escape_char == '%');
    CHECK(option_error("EscapeChar=ab") == "command-line: EscapeChar: invalid escape character \"ab\" (one character, ^X or none)");
    CHECK(resolve_for(good(""), "h").enable_escape_commandline);
    CHECK_FALSE(resolve_for(good("EnableEscapeCommandline no\n"), "h").enable_escape_commandline);
    CHECK(option_error("SendEnv=A=B") == "command-line: SendEnv: invalid variable name pattern \"A=B\"");
    CHECK(option_error("Port=ssh") == "command-line: Port: bad port number \"ssh\" (expected 1-65535)");
    CHECK(option_error("Port") == "command-line: no argument after keyword \"Port\"");
    CHECK(option_error("") == "command-line: empty option");
    CHECK(option_error("User=a\nPort=1") == "command-line: line contains control characters");

    std::vector<std::string> many{"Port=1", "Nope=2", "User=x", "Port=0"};
    auto all = parse_client_options(many);
    CHECK(error_texts(all) == std::vector<std::string>{"command-line: Bad configuration option: Nope",
                                                       "command-line: Port: bad port number \"0\" (expected 1-65535)"});
    CHECK(all.directives.size() == 2);
}

TEST_CASE("client config: each bad line gives path:line and the problem", "[config]") {
    CHECK(error_of("Match hostname foo") == "cfg:2: Unsupported Match attribute hostname");
    CHECK(error_of("ProxyCommand nc %C %p") == "cfg:2: ProxyCommand: unknown token \"%C\" in \"nc %C %p\"");
    CHECK(error_of("HostName") == "cfg:2: no argument after keyword \"HostName\"");
    CHECK(error_of("HostName a b") == "cfg:2: keyword HostName extra arguments at end of line");
    CHECK(error_of("HostName bad/name") == "cfg:2: HostName: invalid host name \"bad/name\"");
    CHECK(error_of("HostName %p.example") == "cfg:2: HostName: unknown token \"%p\" in \"%p.example\"");
    CHECK(error_of("Port 0") == "cfg:2: Port: bad port number \"0\" (expected 1-65535)");
    CHECK(error_of("User \"a b\"") == "cfg:2: User: invalid user name \"a b\"");
    CHECK(error_of("IdentityFile ~bob/.twoway/id") ==
          "cfg:2: IdentityFile: ~user is not supported, only ~ for your own home: \"~bob/.twoway/id\"");
    CHECK(error_of("IdentityFile /k/%C") == "cfg:2: IdentityFile: unknown token \"%C\" in \"/k/%C\"");
    CHECK(error_of("IdentityFile /k/%") == "cfg:2: IdentityFile: '%' at the end of \"/k/%\"");
    CHECK(error_of("IdentityFile ''") == "cfg:2: IdentityFile: empty argument");
    CHECK(error_of("StrictHostKeyChecking maybe") ==
          "cfg:2: StrictHostKeyChecking: unsupported option \"maybe\" (expected yes, accept-new, no, off or ask)");
    CHECK(error_of("UserKnownHostsFile none /x") == "cfg:2: UserKnownHostsFile: \"none\" must appear alone");
    CHECK(error_of("UserKnownHostsFile /x %k") == "cfg:2: UserKnownHostsFile: unknown token \"%k\" in \"%k\"");
    CHECK(error_of("RevokedHostKeys /a /b") == "cfg:2: keyword RevokedHostKeys extra arguments at end of line");
    CHECK(error_of("RevokedHostKeys %k") == "cfg:2: RevokedHostKeys: unknown token \"%k\" in \"%k\"");
    CHECK(error_of("BatchMode 1") == "cfg:2: BatchMode: unsupported option \"1\" (expected yes or no)");
    CHECK(error_of("HashKnownHosts ask") == "cfg:2: HashKnownHosts: unsupported option \"ask\" (expected yes or no)");
    CHECK(error_of("ConnectTimeout soon") == "cfg:2: ConnectTimeout: invalid time value \"soon\"");
    CHECK(resolve_for(good("ServerAliveInterval 15\nServerAliveInterval 5"), "h").server_alive_interval == 15);
    CHECK(resolve_for(good("ServerAliveCountMax 0"), "h").server_alive_count_max == 0);
    CHECK(error_of("ServerAliveInterval often") == "cfg:2: ServerAliveInterval: invalid time value \"often\"");
    CHECK(error_of("ServerAliveCountMax -1") == "cfg:2: ServerAliveCountMax: invalid number \"-1\"");
    CHECK(error_of("Host a,,b") == "cfg:2: Host: empty pattern in \"a,,b\"");
    CHECK(error_of("Host !") == "cfg:2: Host: empty pattern in \"!\"");
    CHECK(error_of("Port \"22") == "cfg:2: invalid quotes");
}

TEST_CASE("client config: all errors are collected; a broken Host block applies to no host", "[config]") {
    auto c = parse_client_config("cfg",
                                 "Port 99999\n"
                                 "Host good\n"
                                 "  User g\n"
                                 "Host ok,,\n"
                                 "  User broken\n"
                                 "  Port 2\n"
                                 "  Frobnicate yes\n"
                                 "Host *\n"
                                 "  User everyone\n");
    CHECK(error_texts(c) == std::vector<std::string>{"cfg:1: Port: bad port number \"99999\" (expected 1-65535)",
                                                     "cfg:4: Host: empty pattern in \"ok,,\"",
                                                     "cfg:7: Bad configuration option: Frobnicate"});
    CHECK(resolve_for(c, "ok").user == "everyone");
    CHECK(resolve_for(c, "ok").port == 4422);
    CHECK(resolve_for(c, "good").user == "g");

    auto bare = parse_client_config("cfg", "Host a\nHost\n  User x\n");
    CHECK(error_texts(bare) == std::vector<std::string>{"cfg:2: no argument after keyword \"Host\""});
    CHECK(resolve_for(bare, "a").user == "alice");
}

TEST_CASE("client config: at most 100 IdentityFile lines", "[config]") {
    std::string text;
    for (int i = 0; i < 101; ++i) text += "IdentityFile /k/" + std::to_string(i) + "\n";
    auto c = parse_client_config("cfg", text);
    CHECK(error_texts(c) == std::vector<std::string>{"cfg:101: IdentityFile: too many identity files (max 100)"});
    CHECK(resolve_for(c, "h").identity_files.size() == 100);
}

TEST_CASE("Host patterns: wildcards and negation as in ssh_config", "[config]") {
    struct Case {
        const char* pattern;
        const char* name;
        bool matches;
    };
    for (const auto& [pattern, name, matches] : {
             Case{"*", "", true}, Case{"*", "anything", true}, Case{"*.co.uk", "www.example.co.uk", true},
             Case{"*.co.uk", "co.uk", false}, Case{"192.168.0.?", "192.168.0.7", true},
             Case{"192.168.0.?", "192.168.0.17", false}, Case{"a*b*c", "aXXbYYc", true},
             Case{"a*b*c", "aXXbYY", false}, Case{"**a", "a", true}, Case{"", "a", false},
             Case{"exact", "exact", true}, Case{"exact", "exactly", false}}) {
        INFO(pattern << " vs " << name);
        CHECK(twoway::match_pattern(pattern, name) == matches);
    }

    const std::vector<HostPattern> list{{"*.example.com", false}, {"bastion.example.com", true}};
    CHECK(host_matches(list, "web.example.com"));
    CHECK(host_matches(list, "WEB.EXAMPLE.COM"));
    CHECK_FALSE(host_matches(list, "bastion.example.com"));
    CHECK_FALSE(host_matches(list, "example.org"));
    // A negated pattern never matches by itself.
    CHECK_FALSE(host_matches(std::vector<HostPattern>{{"a", true}, {"b", true}}, "c"));
    CHECK(host_matches(std::vector<HostPattern>{{"a", true}, {"*", false}}, "c"));
    CHECK_FALSE(host_matches({}, "c"));

    // A pathological pattern stays fast (no exponential backtracking).
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(twoway::match_pattern(std::string(50, '*') + std::string(50, 'a') + "b", std::string(5000, 'a')));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("client config: load", "[config]") {
    auto missing = load_client_config("/nonexistent/.twoway/config");
    CHECK(missing.ok());
    CHECK(missing.directives.empty());
    auto dir = load_client_config("/");
    REQUIRE(dir.errors.size() == 1);
    CHECK(dir.errors[0].text() == "/: cannot read: not a regular file");
}

TEST_CASE("client config: password keywords (issue 17)", "[config]") {
    using M = AuthMethod;
    // ssh's defaults: PasswordAuthentication yes, publickey then password, three prompts.
    auto d = resolve_for(good(""), "h");
    CHECK(d.password_authentication);
    CHECK(d.preferred_authentications == std::vector<M>{M::publickey, M::password});
    CHECK(d.number_of_password_prompts == 3);
    CHECK_FALSE(d.update_host_keys_by_password);

    auto s = resolve_for(good("Host h\n"
                              "  PasswordAuthentication no\n"
                              "  PreferredAuthentications password,keyboard-interactive,publickey\n"
                              "  NumberOfPasswordPrompts 1\n"
                              "  UpdateHostKeysByPassword yes\n"),
                         "h");
    CHECK_FALSE(s.password_authentication);
    // Names twoway does not know are left out, as ssh leaves them out.
    CHECK(s.preferred_authentications == std::vector<M>{M::password, M::publickey});
    CHECK(s.number_of_password_prompts == 1);
    CHECK(s.update_host_keys_by_password);

    // Only unknown names: nothing to try (the client then says so and exits 255).
    CHECK(resolve_for(good("PreferredAuthentications gssapi-with-mic,hostbased\n"), "h").preferred_authentications.empty());
    // A name twice counts once, at its first place.
    CHECK(resolve_for(good("PreferredAuthentications password,publickey,password\n"), "h").preferred_authentications ==
          std::vector<M>{M::password, M::publickey});

    // -o first, as every keyword.
    auto o = resolve_for(good("PreferredAuthentications publickey\nPasswordAuthentication no\n"), "h",
                         {"PreferredAuthentications=password", "PasswordAuthentication=yes", "NumberOfPasswordPrompts=0",
                          "UpdateHostKeysByPassword=yes"});
    CHECK(o.preferred_authentications == std::vector<M>{M::password});
    CHECK(o.password_authentication);
    CHECK(o.number_of_password_prompts == 0);
    CHECK(o.update_host_keys_by_password);

    CHECK(error_of("PasswordAuthentication maybe") ==
          "cfg:2: PasswordAuthentication: unsupported option \"maybe\" (expected yes or no)");
    CHECK(error_of("UpdateHostKeysByPassword ask") ==
          "cfg:2: UpdateHostKeysByPassword: unsupported option \"ask\" (expected yes or no)");
    CHECK(error_of("NumberOfPasswordPrompts -1") == "cfg:2: NumberOfPasswordPrompts: invalid number \"-1\"");
    CHECK(error_of("PreferredAuthentications publickey,,password") ==
          "cfg:2: PreferredAuthentications: empty method name in \"publickey,,password\"");
    CHECK(error_of("PreferredAuthentications publickey password") ==
          "cfg:2: keyword PreferredAuthentications extra arguments at end of line");
    CHECK(auth_method_name(M::publickey) == std::string("publickey"));
    CHECK(auth_method_name(M::password) == std::string("password"));
}

// ---- Include, Match, IgnoreUnknown (issue 18) ----

namespace {

// Files from memory for Include: the reader globs with the same pattern matcher, sorted by path (a
// std::map), and counts its calls.
struct MemoryFiles {
    std::map<std::string, std::string> files;
    std::vector<std::string> patterns;  // what the parser asked for
    std::string error_for;              // a pattern that gets an error

    ParseOptions options() {
        return ParseOptions{
            .user_dir = "/home/alice/.twoway",
            .home = "/home/alice",
            .read_include = [this](const std::string& pattern) {
                patterns.push_back(pattern);
                IncludeResult r;
                if (pattern == error_for) {
                    r.error = pattern + ": Bad owner or permissions";
                    return r;
                }
                for (const auto& [path, text] : files) {
                    if (twoway::match_pattern(pattern, path)) r.files.push_back(IncludedFile{.path = path, .text = text});
                }
                return r;
            },
            .ignore_unknown = {},
        };
    }
    ParsedClientConfig parse(const std::string& text) {
        return parse_client_config("/home/alice/.twoway/config", text, options());
    }
};

}  // namespace

TEST_CASE("client config: Include reads files from the reader, in place", "[config]") {
    MemoryFiles m;
    m.files["/home/alice/.twoway/config.d/b.conf"] = "Port 2202\nUser bee\n";
    m.files["/home/alice/.twoway/config.d/a.conf"] = "Port 2201\n";
    m.files["/etc/twoway/extra"] = "Host db\n  HostName db.example\n";
    auto c = m.parse("Include config.d/*.conf ~/none/* /etc/twoway/extra\nUser top\n");
    REQUIRE(error_texts(c) == std::vector<std::string>{});
    // Relative to ~/.twoway, ~ expanded, absolute as it is.
    CHECK(m.patterns == std::vector<std::string>{"/home/alice/.twoway/config.d/*.conf", "/home/alice/none/*",
                                                 "/etc/twoway/extra"});
    auto s = resolve_for(c, "web");
    CHECK(s.port == 2201);   // a.conf first: the matches in sorted order
    CHECK(s.user == "bee");  // b.conf's line comes before the including file's next line
    CHECK(s.host_name == "web");
    CHECK(resolve_for(c, "db").host_name == "db.example");
    // Directives keep their own file's path and line.
    CHECK(c.directives[0].where.text() == "/home/alice/.twoway/config.d/a.conf:1");

    // An error in an included file names that file.
    m.files["/home/alice/.twoway/bad"] = "\nPort 0\n";
    auto bad = m.parse("Include bad\n");
    CHECK(error_texts(bad) ==
          std::vector<std::string>{"/home/alice/.twoway/bad:2: Port: bad port number \"0\" (expected 1-65535)"});
}

TEST_CASE("client config: Include inside a Host block applies only with that block", "[config]") {
    MemoryFiles m;
    m.files["/home/alice/.twoway/web"] = "Port 8022\nHost *\n  User inner\nMatch all\n  IdentityFile ~/.twoway/web_key\n";
    auto c = m.parse("Host web\n  Include web\n  HostName web.example\nHost *\n  User outer\n");
    REQUIRE(c.ok());
    auto web = resolve_for(c, "web");
    CHECK(web.port == 8022);
    CHECK(web.user == "inner");
    // After the included file, the including file goes on in its Host block, whatever blocks the
    // included file opened.
    CHECK(web.host_name == "web.example");
    CHECK(web.identity_files == std::vector<std::string>{"/home/alice/.twoway/web_key"});
    auto db = resolve_for(c, "db");
    CHECK(db.port == 4422);
    CHECK(db.user == "outer");  // the included "Host *" and "Match all" do not apply outside Host web
    CHECK(db.identity_files == std::vector<std::string>{"/home/alice/.twoway/id_ed25519", "/home/alice/.ssh/id_ed25519"});
}

TEST_CASE("client config: Include nesting, depth limit, missing files, reader errors", "[config]") {
    MemoryFiles m;
    m.files["/home/alice/.twoway/one"] = "Include two\n";
    m.files["/home/alice/.twoway/two"] = "Port 2222\n";
    CHECK(resolve_for(m.parse("Include one\n"), "h").port == 2222);

    // A file matched by no pattern is fine, as for ssh.
    auto missing = m.parse("Include nothing/here *.none\nPort 2000\n");
    CHECK(missing.ok());
    CHECK(resolve_for(missing, "h").port == 2000);

    // A file including itself stops at the depth limit with one error.
    m.files["/home/alice/.twoway/loop"] = "Include loop\n";
    auto loop = m.parse("Include loop\n");
    REQUIRE(loop.errors.size() == 1);
    CHECK(loop.errors[0].text() == "/home/alice/.twoway/loop:1: Include \"loop\": too many recursive configuration "
                                   "includes (max 16)");

    // The reader's error (an included file's owner or permissions) ends the parse, as for ssh.
    m.error_for = "/home/alice/.twoway/two";
    auto perm = m.parse("Include one\nPort x\n");
    CHECK(error_texts(perm) == std::vector<std::string>{"/home/alice/.twoway/one:1: Include \"two\": "
                                                        "/home/alice/.twoway/two: Bad owner or permissions"});

    // Without a reader (parse_client_config(path, text)), and on the command line, Include is refused.
    CHECK(error_of("Include x") == "cfg:2: Include: no files can be included here");
    CHECK(option_error("Include=x") == "command-line: Include directive not supported as a command-line option");
    auto user = m.parse("Include ~bob/x\n");
    CHECK(error_texts(user) == std::vector<std::string>{"/home/alice/.twoway/config:1: Include: ~user is not "
                                                        "supported, only ~ for your own home: \"~bob/x\""});
}

TEST_CASE("client config: at most max_included_files files in all", "[config]") {
    MemoryFiles m;
    for (int i = 0; i < 300; ++i) m.files["/f/" + std::to_string(1000 + i)] = "Port 1\n";
    auto c = m.parse("Include /f/*\n");
    CHECK(error_texts(c) == std::vector<std::string>{"/home/alice/.twoway/config:1: Include: too many included files "
                                                     "(max 256)"});
}

TEST_CASE("client config: Match criteria", "[config]") {
    auto c = good("Match host web*.example !user root\n"
                  "  Port 1001\n"
                  "Match originalhost w\n"
                  "  HostName web1.example\n"
                  "Match host web1.example\n"  // sees the HostName just obtained
                  "  User deploy\n"
                  "Match user deploy localuser alice\n"
                  "  ConnectTimeout 5\n"
                  "Match localuser bob\n"
                  "  BatchMode yes\n"
                  "Match !localuser bob,carol\n"
                  "  ServerAliveInterval 7\n"
                  "Match all\n"
                  "  ServerAliveCountMax 9\n");
    auto w = resolve_for(c, "w");
    CHECK(w.host_name == "web1.example");
    CHECK(w.port == 4422);  // the first Match came before HostName was obtained
    CHECK(w.user == "deploy");
    CHECK(w.connect_timeout == 5U);
    CHECK_FALSE(w.batch_mode);
    CHECK(w.server_alive_interval == 7);
    CHECK(w.server_alive_count_max == 9);

    auto web = resolve_for(c, "web2.example");
    CHECK(web.port == 1001);
    CHECK(web.user == "alice");
    CHECK_FALSE(web.connect_timeout);
    // "!user root": -o User=root (obtained first) makes the first block not apply.
    CHECK(resolve_for(c, "web2.example", {"User=root"}).port == 4422);
    // Host names are case-insensitive, user names not.
    CHECK(resolve_for(good("Match host WEB\n Port 7\n"), "web").port == 7);
    CHECK(resolve_for(good("Match user Alice\n Port 7\n"), "web").port == 4422);
}

TEST_CASE("client config: Match exec runs through the injected runner, only when reached", "[config]") {
    std::vector<std::string> ran;
    ClientContext context{"/home/alice", "alice"};
    context.local_host = "box.example";
    context.run_exec = [&](const std::string& command) -> std::optional<int> {
        ran.push_back(command);
        if (command.starts_with("fail")) return std::nullopt;
        return command.starts_with("true") ? 0 : 1;
    };
    auto run = [&](const std::string& text, std::string_view host = "h") {
        ran.clear();
        return resolve(good(text), host, parse_client_options({}), context);
    };
    auto s = run("Match exec \"true %h %n %p %r %u %d %l %L %%\"\n  Port 1\n");
    CHECK(ran == std::vector<std::string>{"true h h 4422 alice alice /home/alice box.example box %"});
    CHECK(s.port == 1);
    CHECK(run("Match exec false\n  Port 1\n").port == 4422);
    CHECK(run("Match !exec false\n  Port 1\n").port == 1);
    // Not run when an earlier criterion failed, nor in a block that cannot apply.
    run("Match host other exec true\n  Port 1\n");
    CHECK(ran.empty());
    MemoryFiles m;
    m.files["/home/alice/.twoway/x"] = "Match exec true\n  Port 3\n";
    ran.clear();
    auto inc = resolve(m.parse("Host other\n  Include x\n"), "h", parse_client_options({}), context);
    CHECK(ran.empty());
    CHECK(inc.port == 4422);
    // A command that cannot run is an error, located at its Match line.
    auto f = run("Port 5\nMatch exec fail\n  Port 1\n");
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0].text() == "/home/alice/.twoway/config:2: Match exec \"fail\" error");
    // Without a runner (as in the fuzz target) exec never matches.
    CHECK(resolve_for(good("Match exec true\n  Port 1\n"), "h").port == 4422);
    CHECK(error_of("Match exec \"echo %C\"") == "cfg:2: Match exec: unknown token \"%C\" in \"echo %C\"");
}

TEST_CASE("client config: Match final and canonical (no canonicalization: a final pass)", "[config]") {
    // Without a "final" criterion there is one pass: canonical and final never hold.
    CHECK(resolve_for(good("Match canonical\n  Port 1\n"), "h").port == 4422);
    // "Match final" asks for a second pass, where final and canonical hold, Host lines match the
    // HostName resolved, and values from the first pass stay.
    auto c = good("Host short\n  HostName long.example\n  User first\n"
                  "Host long.example\n  Port 2\n"
                  "Match final\n  User second\n  ConnectTimeout 3\n"
                  "Match canonical\n  ServerAliveInterval 4\n"
                  "Match !final\n  ServerAliveCountMax 5\n");
    auto s = resolve_for(c, "short");
    CHECK(s.host_name == "long.example");
    CHECK(s.user == "first");
    CHECK(s.port == 2);
    CHECK(s.connect_timeout == 3U);
    CHECK(s.server_alive_interval == 4);
    CHECK(s.server_alive_count_max == 5);  // obtained in the first pass
    // "!final" alone asks for no second pass.
    CHECK(resolve_for(good("Match !final\n  Port 1\nHost x\n Port 2\n"), "y").port == 1);

    CHECK(error_of("Match all host x") == "cfg:2: 'all' cannot be combined with other Match attributes");
    CHECK(error_of("Match host x all") == "cfg:2: 'all' cannot be combined with other Match attributes");
    CHECK(good("Match canonical all\n").ok());
    CHECK(error_of("Match host") == "cfg:2: Missing Match criteria for host");
    CHECK(error_of("Match user a,,b") == "cfg:2: Match: bad pattern list \"a,,b\"");
    // A broken Match line applies to no host, as a broken Host line.
    auto broken = parse_client_config("cfg", "Match bogus\n  Port 1\n");
    CHECK_FALSE(broken.ok());
    CHECK(resolve(broken, "h", parse_client_options({}), ctx).port == 4422);
}

TEST_CASE("client config: IgnoreUnknown", "[config]") {
    // AddKeysToAgent is a keyword twoway knows: IgnoreUnknown does not touch it (no note; it applies).
    auto c = good("IgnoreUnknown UseKeychain,AddKeys*\nUseKeychain yes\nAddKeysToAgent yes\n");
    REQUIRE(c.notes.size() == 1);
    CHECK(c.notes[0].text() == "/home/alice/.twoway/config:2: Ignored unknown option \"UseKeychain\"");
    // It covers only the lines after it, and only unknown keywords (a bad value stays an error).
    CHECK(parse_client_config("cfg", "UseKeychain yes\nIgnoreUnknown UseKeychain\n").errors.size() == 1);
    CHECK(parse_client_config("cfg", "IgnoreUnknown Port\nPort x\n").errors.size() == 1);
    // -o IgnoreUnknown covers the file, as ssh reads -o first.
    auto o = parse_client_option("IgnoreUnknown=usekeychain");
    REQUIRE(o.ok());
    MemoryFiles m;
    auto opts = m.options();
    opts.ignore_unknown = o.ignore_unknown;
    CHECK(parse_client_config("cfg", "UseKeychain yes\n", opts).ok());
}

TEST_CASE("client config: every ssh_config keyword is classified", "[config]") {
    // OpenSSH 9.2's keywords (ssh_config(5)): none is "Bad configuration option" any more.
    for (const char* line :
         {"AddKeysToAgent yes", "AddressFamily any", "BatchMode no", "CASignatureAlgorithms ssh-ed25519,rsa-sha2-512",
          "CanonicalDomains example.com", "CanonicalizeFallbackLocal yes", "CanonicalizeHostname no",
          "CanonicalizeMaxDots 1", "CanonicalizePermittedCNAMEs *.a:*.b", "CertificateFile ~/c", "CheckHostIP yes",
          "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com", "ClearAllForwardings no", "Compression yes",
          "ConnectTimeout 5", "ConnectionAttempts 1", "ControlMaster auto", "ControlPath none", "ControlPersist no",
          "EnableEscapeCommandline no", "EnableSSHKeysign no", "EscapeChar ~", "ExitOnForwardFailure no",
          "FingerprintHash sha256", "ForkAfterAuthentication no", "ForwardAgent no", "ForwardX11 no",
          "ForwardX11Timeout 20m", "ForwardX11Trusted yes", "GSSAPIAuthentication yes", "GSSAPIClientIdentity x",
          "GSSAPIDelegateCredentials no", "GSSAPIKexAlgorithms gss-gex-sha1-", "GSSAPIKeyExchange no",
          "GSSAPIRenewalForcesRekey no", "GSSAPIServerIdentity x", "GSSAPITrustDns no", "GatewayPorts no",
          "HashKnownHosts yes", "HostKeyAlgorithms +ssh-rsa",
          "HostbasedAcceptedAlgorithms *", "HostbasedAuthentication no", "Hostname h", "IPQoS af21 cs1",
          "IdentitiesOnly yes", "IdentityAgent none", "IdentityFile ~/k", "IgnoreUnknown Foo",
          "KbdInteractiveAuthentication no", "KbdInteractiveDevices pam", "KexAlgorithms -diffie-hellman*",
          "KnownHostsCommand none", "LocalCommand ls", "LogLevel VERBOSE", "LogVerbose kex.c:*",
          "MACs hmac-sha2-256", "NoHostAuthenticationForLocalhost yes", "NumberOfPasswordPrompts 3",
          "PKCS11Provider none", "PasswordAuthentication yes", "PermitLocalCommand no", "PermitRemoteOpen any",
          "Port 22", "PreferredAuthentications publickey", "ProxyCommand none", "ProxyJump none",
          "ProxyUseFdpass no", "PubkeyAcceptedAlgorithms ssh-ed25519", "PubkeyAuthentication yes",
          "RekeyLimit 1G 1h", "RemoteCommand none", "RequestTTY auto", "RequiredRSASize 2048",
          "RevokedHostKeys none", "SecurityKeyProvider internal", "SendEnv LANG LC_*", "ServerAliveCountMax 3",
          "ServerAliveInterval 0", "SessionType default", "StdinNull no", "StreamLocalBindMask 0177",
          "StreamLocalBindUnlink no", "StrictHostKeyChecking ask", "SyslogFacility USER", "TCPKeepAlive yes",
          "Tunnel no", "TunnelDevice any:any", "UpdateHostKeys no", "User u", "UserKnownHostsFile none",
          "VerifyHostKeyDNS no", "VisualHostKey yes", "XAuthLocation /usr/bin/xauth",
          // What OpenSSH 9.2 itself reads and ignores (old names), and an alias it keeps.
          "ChallengeResponseAuthentication no", "Protocol 2", "Cipher blowfish", "CompressionLevel 6",
          "RSAAuthentication yes", "RhostsRSAAuthentication no", "UsePrivilegedPort no", "UseRoaming no",
          "FallBackToRsh no", "UseRsh no"}) {
        auto c = parse_client_config("cfg", std::string(line) + "\n");
        INFO(line);
        CHECK(error_texts(c) == std::vector<std::string>{});
    }
    // An accepted-as-meaningless keyword leaves one note for -v.
    auto g = parse_client_config("cfg", "Host *\n  GSSAPIAuthentication yes\n");
    REQUIRE(g.notes.size() == 1);
    CHECK(g.notes[0].text() == "cfg:2: GSSAPIAuthentication: ignored (twoway has no GSSAPI (Kerberos) authentication)");

    // A value that asks for something twoway does not do is refused, with path:line.
    CHECK(error_of("ProxyUseFdpass yes") ==
          "cfg:2: ProxyUseFdpass \"yes\": not supported yet: twoway talks through the ProxyCommand's standard input "
          "and output");
    CHECK(error_of("CanonicalizeHostname yes") == "cfg:2: CanonicalizeHostname \"yes\": twoway does not canonicalize "
                                                  "host names");
    CHECK(error_of("PubkeyAuthentication no") ==
          "cfg:2: PubkeyAuthentication \"no\": not supported yet: use PreferredAuthentications password");
    CHECK(resolve_for(good("ConnectionAttempts 3\n"), "h").connection_attempts == 3);
    CHECK(resolve_for(good(""), "h").connection_attempts == 1);
    CHECK(error_of("ConnectionAttempts 0") == "cfg:2: ConnectionAttempts: invalid number \"0\" (expected 1-1000)");
    // Refused whatever the value.
    CHECK(error_of("LocalForward 8080") == "cfg:2: LocalForward: expected [bind_address:]port host:hostport");
    CHECK(error_of("RemoteForward 8080") ==
          "cfg:2: RemoteForward: Bad remote forwarding specification \"8080\": twoway has no remote dynamic (SOCKS) "
          "forwarding; give [bind_address:]port:host:hostport");
    // DynamicForward: every line adds (a duplicate does not), in ssh -G's form; the syntax is -D's.
    CHECK(resolve_for(good("Host h\nDynamicForward 1080\nHost *\nDynamicForward [::1]:1081\nDynamicForward 1080\n"),
                      "h", {"DynamicForward=*:1082"})
              .dynamic_forwards == std::vector<std::string>{"[*]:1082", "1080", "[::1]:1081"});
    CHECK(resolve_for(good("DynamicForward localhost:0\n"), "h").dynamic_forwards ==
          std::vector<std::string>{"[localhost]:0"});
    CHECK(resolve_for(good(""), "h").dynamic_forwards.empty());
    CHECK(error_of("DynamicForward 65536") == "cfg:2: DynamicForward: bad dynamic forwarding specification \"65536\"");
    CHECK(error_of("DynamicForward a:b:1") == "cfg:2: DynamicForward: bad dynamic forwarding specification \"a:b:1\"");
    CHECK(error_of("DynamicForward ::1:1080") ==
          "cfg:2: DynamicForward: bad dynamic forwarding specification \"::1:1080\"");
    CHECK(error_of("DynamicForward :1080") == "cfg:2: DynamicForward: bad dynamic forwarding specification \":1080\"");
    CHECK(error_of("DynamicForward 1080 x") == "cfg:2: keyword DynamicForward extra arguments at end of line");
    CHECK(error_of("GlobalKnownHostsFile /dev/null") ==
          "cfg:2: GlobalKnownHostsFile: not supported yet: twoway's global file is /etc/twoway/known_hosts");
    // Algorithm lists: accepted while they allow twoway's fixed suite, refused when they exclude it.
    CHECK(error_of("KexAlgorithms diffie-hellman-group16-sha512") ==
          "cfg:2: KexAlgorithms \"diffie-hellman-group16-sha512\": twoway uses curve25519-sha256 only (by ssh's name), "
          "which this list excludes");
    CHECK(error_of("HostKeyAlgorithms -ssh-ed25519*") ==
          "cfg:2: HostKeyAlgorithms \"-ssh-ed25519*\": twoway uses ssh-ed25519 only (by ssh's name), which this list "
          "excludes");
    CHECK(error_of("PubkeyAcceptedAlgorithms rsa-sha2-512") ==
          "cfg:2: PubkeyAcceptedAlgorithms \"rsa-sha2-512\": twoway uses ssh-ed25519 only (by ssh's name), which this "
          "list excludes");
    CHECK(parse_client_config("cfg", "Ciphers ^aes128-ctr\nKexAlgorithms curve25519-sha256@libssh.org\n").ok());
    CHECK(error_of("Bogus 1") == "cfg:2: Bad configuration option: Bogus");
}

TEST_CASE("client config: HostKeyAlias", "[config]") {
    auto c = good("Host web*\n  HostKeyAlias Web.Cluster\nHost *\n  HostKeyAlias other\n");
    CHECK(resolve_for(c, "web1").host_key_alias == "web.cluster");
    CHECK(resolve_for(c, "db").host_key_alias == "other");
    CHECK_FALSE(resolve_for(good(""), "db").host_key_alias);
    CHECK(resolve_for(c, "web1", {"HostKeyAlias=cli"}).host_key_alias == "cli");
    // The name is written into known_hosts lines: it must be a host name a line can hold.
    CHECK(error_of("HostKeyAlias a,b") == "cfg:2: HostKeyAlias: invalid host name \"a,b\"");
    CHECK(error_of("HostKeyAlias *") == "cfg:2: HostKeyAlias: invalid host name \"*\"");
    CHECK(error_of("HostKeyAlias a b") == "cfg:2: keyword HostKeyAlias extra arguments at end of line");
}

TEST_CASE("client config: SetEnv", "[config]") {
    auto c = good("Host a\n  SetEnv LC_X=1 \"LC_Y=two words\" LC_X=dup EMPTY=\nHost *\n  SetEnv LC_Z=later\n");
    // The first SetEnv line obtained gives every variable; a repeated name counts once.
    CHECK(resolve_for(c, "a").set_env == std::vector<std::string>{"LC_X=1", "LC_Y=two words", "EMPTY="});
    CHECK(resolve_for(c, "b").set_env == std::vector<std::string>{"LC_Z=later"});
    CHECK(resolve_for(c, "a", {"SetEnv=A=b"}).set_env == std::vector<std::string>{"A=b"});
    CHECK(resolve_for(good(""), "a").set_env.empty());
    CHECK(error_of("SetEnv NOEQUALS") == "cfg:2: SetEnv: invalid NAME=value \"NOEQUALS\"");
    CHECK(error_of("SetEnv 1A=b") == "cfg:2: SetEnv: invalid NAME=value \"1A=b\"");
    CHECK(error_of("SetEnv A-B=c") == "cfg:2: SetEnv: invalid NAME=value \"A-B=c\"");
}

TEST_CASE("client config: LogLevel", "[config]") {
    auto level = [](const std::string& v) { return resolve_for(good("LogLevel " + v + "\n"), "h"); };
    CHECK(level("quiet").log_level == LogLevel::quiet);
    CHECK(level("FATAL").log_level == LogLevel::quiet);
    CHECK(level("ERROR").log_level == LogLevel::quiet);
    CHECK(level("INFO").log_level == LogLevel::info);
    CHECK(level("VERBOSE").log_level == LogLevel::info);
    CHECK(level("DEBUG").log_level == LogLevel::debug1);
    CHECK(level("debug1").log_level == LogLevel::debug1);
    CHECK(level("DEBUG2").log_level == LogLevel::debug2);
    CHECK(level("DEBUG3").log_level == LogLevel::debug3);
    CHECK(level("debug3").log_level_name == "DEBUG3");
    CHECK_FALSE(resolve_for(good(""), "h").log_level);
    CHECK(resolve_for(good(""), "h").log_level_name == "INFO");
    CHECK(error_of("LogLevel DEBUG4") == "cfg:2: LogLevel: unsupported log level \"DEBUG4\"");
}

TEST_CASE("client config: ProxyCommand takes the rest of the line and ssh's tokens", "[config]") {
    ClientContext context{"/home/alice", "alice", "box.example.org"};
    context.local_uid = "1000";
    const auto settings = [&](const std::string& text, std::string_view host = "web") {
        return resolve(good(text), host, parse_client_options({}), context);
    };
    // As written, quotes and all (the shell reads them), tokens expanded; "exec" is added when run.
    auto s = settings("Host web\n  HostName web.internal\n  User bob\n  Port 2222\n"
                      "  ProxyCommand sh -c \"nc %h %p\" # %n %r %k %d %u %l %L %i %%\n");
    REQUIRE(s.proxy_command);
    CHECK(*s.proxy_command == "sh -c \"nc web.internal 2222\" # web bob web /home/alice alice box.example.org box 1000 %");
    CHECK(s.proxy_command_text == "sh -c \"nc %h %p\" # %n %r %k %d %u %l %L %i %%");
    CHECK(s.proxy_jump.empty());
    // %k is HostKeyAlias when set.
    CHECK(*settings("HostKeyAlias alias\nProxyCommand x %k\n").proxy_command == "x alias");
    // The = form, and -o.
    CHECK(*resolve(good(""), "h", parse_client_option("ProxyCommand=nc %h %p"), context).proxy_command == "nc h 4422");
    // none: direct.
    CHECK_FALSE(settings("ProxyCommand none\n").proxy_command);
    CHECK_FALSE(settings("ProxyCommand NONE\nProxyCommand nc %h %p\n").proxy_command);
    CHECK(error_of("ProxyCommand nc %j") == "cfg:2: ProxyCommand: unknown token \"%j\" in \"nc %j\"");
    CHECK(error_of("ProxyCommand nc %") == "cfg:2: ProxyCommand: '%' at the end of \"nc %\"");
    CHECK(error_of("ProxyCommand \"nc") == "cfg:2: invalid quotes");
}

TEST_CASE("client config: ProxyJump hops, ssh:// URIs and errors", "[config]") {
    auto j = parse_jump_spec("alice@bastion:2222,[::1],ssh://bob@[fe80::1]:22/,gw");
    REQUIRE(j.error.empty());
    REQUIRE(j.hops.size() == 4);
    CHECK(j.hops[0].spec == "alice@bastion:2222");
    CHECK(j.hops[0].user == "alice");
    CHECK(j.hops[0].host == "bastion");
    CHECK(j.hops[0].port == std::optional<std::uint16_t>(2222));
    CHECK(j.hops[1].host == "::1");
    CHECK(j.hops[1].user.empty());
    CHECK_FALSE(j.hops[1].port);
    CHECK(j.hops[2].user == "bob");
    CHECK(j.hops[2].host == "fe80::1");
    CHECK(j.hops[2].port == std::optional<std::uint16_t>(22));
    CHECK(j.hops[3].spec == "gw");
    CHECK(parse_jump_spec("none").hops.empty());
    CHECK(parse_jump_spec("none").error.empty());
    // The user ends at the last '@', as ssh reads it.
    CHECK(parse_jump_spec("a@b@host").hops.at(0).user == "a@b");

    CHECK(parse_jump_spec("").error == "empty jump host");
    CHECK(parse_jump_spec("a,").error == "empty jump host");
    CHECK(parse_jump_spec("h:0").error == "bad port in \"h:0\"");
    CHECK(parse_jump_spec("h:x").error == "bad port in \"h:x\"");
    CHECK(parse_jump_spec("@h").error == "invalid user name in \"@h\"");
    CHECK(parse_jump_spec("-oProxyCommand=x").error == "invalid host in \"-oProxyCommand=x\"");
    CHECK(parse_jump_spec("-l@h").error == "invalid user name in \"-l@h\"");
    CHECK(parse_jump_spec("a b").error == "invalid host in \"a b\"");
    CHECK(parse_jump_spec("[h").error == "invalid host in \"[h\"");
    CHECK(parse_jump_spec("ssh://h/x").error == "a path in an ssh:// URI \"ssh://h/x\"");
    std::string many = "h";
    for (std::size_t i = 0; i < max_jump_hops; ++i) many += ",h";
    CHECK(parse_jump_spec(many).error == "too many jump hosts (max 32)");

    CHECK(error_of("ProxyJump a,,b") == "cfg:2: ProxyJump \"a,,b\": empty jump host");
    CHECK(error_of("ProxyJump a b") == "cfg:2: keyword ProxyJump extra arguments at end of line");

    auto s = resolve_for(good("Host web\n  ProxyJump alice@bastion:2222,gw\n"), "web");
    REQUIRE(s.proxy_jump.size() == 2);
    CHECK(s.proxy_jump[1].host == "gw");
    CHECK_FALSE(s.proxy_command);
    CHECK(resolve_for(good("ProxyJump none\n"), "web").proxy_jump.empty());
}

TEST_CASE("client config: ProxyCommand and ProxyJump, the first one obtained wins", "[config]") {
    // As ssh's readconf.c: one slot for both, "none" included.
    auto s = resolve_for(good("ProxyJump bastion\nProxyCommand nc %h %p\n"), "web");
    CHECK(s.proxy_jump.size() == 1);
    CHECK_FALSE(s.proxy_command);
    s = resolve_for(good("ProxyCommand nc %h %p\nProxyJump bastion\n"), "web");
    CHECK(s.proxy_jump.empty());
    CHECK(s.proxy_command == std::optional<std::string>("nc web 4422"));
    s = resolve_for(good("ProxyCommand none\nProxyJump bastion\n"), "web");
    CHECK(s.proxy_jump.empty());
    CHECK_FALSE(s.proxy_command);
    s = resolve_for(good("ProxyJump none\nProxyCommand nc %h %p\n"), "web");
    CHECK(s.proxy_jump.empty());
    CHECK_FALSE(s.proxy_command);
    // The command line (-J becomes a ProxyJump option) comes before the file.
    s = resolve_for(good("ProxyCommand nc %h %p\n"), "web", {"ProxyJump gw"});
    CHECK(s.proxy_jump.size() == 1);
    CHECK_FALSE(s.proxy_command);
}

TEST_CASE("client config: IdentitiesOnly, IdentityAgent, AddKeysToAgent", "[config]") {
    const auto add = [](const std::string& v) {
        auto c = parse_client_config("cfg", "AddKeysToAgent " + v + "\n");
        return c;
    };
    for (const char* bad : {"ask", "maybe", "confirm x", "yes 1h", "0", "1h 2h"}) {
        INFO(bad);
        CHECK_FALSE(add(bad).ok());
    }
    const auto resolved = [&](const std::string& text) { return resolve(good(text), "h", parse_client_options({}), ctx); };
    CHECK_FALSE(resolved("").add_keys_to_agent.add);
    auto yes = resolved("AddKeysToAgent yes\n").add_keys_to_agent;
    CHECK((yes.add && !yes.confirm && yes.lifetime == 0));
    auto confirm = resolved("AddKeysToAgent confirm 1h\n").add_keys_to_agent;
    CHECK((confirm.add && confirm.confirm && confirm.lifetime == 3600));
    auto timed = resolved("AddKeysToAgent 90\n").add_keys_to_agent;
    CHECK((timed.add && !timed.confirm && timed.lifetime == 90));
    CHECK(resolved("").identity_agent == "SSH_AUTH_SOCK");
    CHECK(resolved("IdentityAgent none\n").identity_agent == "none");
    CHECK(resolved("IdentityAgent ~/agent.%r\n").identity_agent == "/home/alice/agent.alice");
    CHECK_FALSE(resolved("").identities_only);
    CHECK(resolved("IdentitiesOnly yes\n").identities_only);
}

TEST_CASE("client config: LocalForward, as ssh joins its two arguments", "[config]") {
    for (const char* bad : {"8080", "8080 db", "x db:5432", "8080 db:x", ":8080 db:1", "70000 db:1", "8080 db:1 extra"}) {
        INFO(bad);
        CHECK_FALSE(parse_client_config("cfg", std::string("LocalForward ") + bad + "\n").ok());
    }
    const auto s = resolve(good("LocalForward 8080 localhost:80\nHost h\n  LocalForward 127.0.0.1:9090 [::1]:22\n"), "h",
                           parse_client_options({}), ctx);
    CHECK(s.local_forwards == std::vector<std::string>{"8080:localhost:80", "127.0.0.1:9090:[::1]:22"});
}

TEST_CASE("client config: RemoteForward, as ssh joins its two arguments", "[config]") {
    for (const char* bad : {"8080", "*:8080", "8080 db", "x db:5432", "8080 db:x", "8080 db:0", "70000 db:1",
                            "8080 db:1 extra", "8080 /tmp/socket", "/tmp/socket db:1", "8080 ::1:22"}) {
        INFO(bad);
        CHECK_FALSE(parse_client_config("cfg", std::string("RemoteForward ") + bad + "\n").ok());
    }
    CHECK(error_of("RemoteForward 8080 /run/x.sock") ==
          "cfg:2: RemoteForward: Bad remote forwarding specification \"8080:/run/x.sock\": twoway does not forward "
          "Unix-domain sockets");
    // Every line adds, a duplicate does not; -o lines come first.
    const auto s = resolve(good("RemoteForward 8080 localhost:80\nHost h\n  RemoteForward [::1]:0 [::1]:22\n"
                                "  RemoteForward 8080 localhost:80\n"),
                           "h", parse_client_options(std::vector<std::string>{"RemoteForward=*:9000 web:80"}), ctx);
    CHECK(s.remote_forwards == std::vector<std::string>{"*:9000:web:80", "8080:localhost:80", "[::1]:0:[::1]:22"});
    CHECK(resolve_for(good(""), "h").remote_forwards.empty());
}

TEST_CASE("client config: ExitOnForwardFailure", "[config]") {
    CHECK_FALSE(resolve_for(good(""), "h").exit_on_forward_failure);
    CHECK(resolve_for(good("ExitOnForwardFailure yes\n"), "h").exit_on_forward_failure);
    CHECK_FALSE(resolve_for(good("ExitOnForwardFailure no\nExitOnForwardFailure yes\n"), "h").exit_on_forward_failure);
    CHECK(resolve_for(good("ExitOnForwardFailure no\n"), "h", {"ExitOnForwardFailure=yes"}).exit_on_forward_failure);
    CHECK_FALSE(parse_client_config("cfg", "ExitOnForwardFailure maybe\n").ok());
}

TEST_CASE("client config: parse_remote_forward, ssh's -R forms", "[config]") {
    using twoway::session::ListenAddress;
    auto r = parse_remote_forward("8080:localhost:80");
    REQUIRE(r.forward);
    CHECK_FALSE(r.forward->bind_address);
    CHECK(r.forward->listen == ListenAddress{"", 8080});  // sent as "8080": the server's default address
    CHECK(r.forward->host == "localhost");
    CHECK(r.forward->host_port == 80);
    CHECK(r.forward->target() == "localhost:80");
    CHECK(r.forward->spec == "8080:localhost:80");
    CHECK(remote_forward_text(*r.forward) == "8080 [localhost]:80");
    CHECK(twoway::session::listen_address_text(r.forward->listen) == "8080");

    // An empty bind address or "*": every interface, sent as "*:port".
    for (const char* every : {":8080:localhost:80", "*:8080:localhost:80", "[*]:8080:localhost:80"}) {
        INFO(every);
        r = parse_remote_forward(every);
        REQUIRE(r.forward);
        CHECK(r.forward->listen == ListenAddress{"*", 8080});
        CHECK(twoway::session::listen_address_text(r.forward->listen) == "*:8080");
    }
    CHECK(remote_forward_text(*parse_remote_forward(":8080:h:1").forward) == "[]:8080 [h]:1");  // as ssh -G

    // IPv6 in brackets on either side; port 0: the server chooses.
    r = parse_remote_forward("[::1]:0:[fe80::1]:22");
    REQUIRE(r.forward);
    CHECK(r.forward->bind_address == "::1");
    CHECK(r.forward->listen == ListenAddress{"::1", 0});
    CHECK(twoway::session::listen_address_text(r.forward->listen) == "[::1]:0");
    CHECK(r.forward->host == "fe80::1");
    CHECK(r.forward->target() == "fe80::1:22");  // ssh's messages write it unbracketed
    CHECK(remote_forward_text(*r.forward) == "[::1]:0 [fe80::1]:22");
    r = parse_remote_forward("192.0.2.1:443:[::1]:8443");
    REQUIRE(r.forward);
    CHECK(r.forward->listen == ListenAddress{"192.0.2.1", 443});
    r = parse_remote_forward("0:db.example:5432");
    REQUIRE(r.forward);
    CHECK(r.forward->listen.port == 0);
    r = parse_remote_forward("08080:localhost:080");  // leading zeros, as ssh's a2port reads them
    REQUIRE(r.forward);
    CHECK(r.forward->listen.port == 8080);
    CHECK(r.forward->host_port == 80);

    // ssh's remote dynamic forwarding and Unix-domain socket forms: refused with the reason.
    for (const char* dynamic : {"8080", "0", "*:8080", "localhost:8080", "[::1]:8080"}) {
        INFO(dynamic);
        r = parse_remote_forward(dynamic);
        CHECK_FALSE(r.forward);
        CHECK(r.error.find("no remote dynamic (SOCKS) forwarding") != std::string::npos);
    }
    for (const char* unix_form : {"/tmp/l.sock:/tmp/c.sock", "8080:/tmp/c.sock", "/tmp/l.sock:localhost:80",
                                  "localhost:8080:/tmp/c.sock", "[/tmp/x]:1:h:1"}) {
        INFO(unix_form);
        r = parse_remote_forward(unix_form);
        CHECK_FALSE(r.forward);
        CHECK(r.error.find("Unix-domain sockets") != std::string::npos);
    }
    // Malformed.
    for (const char* bad : {"", "8080:localhost", "8080:localhost:0", "8080:localhost:65536", "65536:localhost:80",
                            "x:localhost:80", "8080::80", "8080:[::1:80", "8080:::1:80", "[::1]8080:h:80",
                            "a:b:8080:h:80", "bad host:8080:h:80", "8080:-h:80", "8080:h:+80", "8080:h:-1",
                            "8080:h:80:", "[::1]:8080:h:80:9"}) {
        INFO(bad);
        r = parse_remote_forward(bad);
        CHECK_FALSE(r.forward);
        CHECK(r.error.starts_with("Bad remote forwarding specification"));
    }
}
