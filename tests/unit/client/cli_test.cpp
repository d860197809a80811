// twoway's command line (client/twoway/cli.cpp): ssh's getopt rules, what becomes an ssh_config option,
// and the errors main() prints before the usage text and exit status 255.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../../../client/twoway/cli.hpp"

using namespace twoway_client::cli;

namespace {

using Args = std::vector<std::string>;

CommandLine good(const Args& args) {
    auto r = parse(args);
    INFO("error: " << r.error);
    REQUIRE(r.line.has_value());
    return *r.line;
}

// The error line of a refused command line ("" for the bare usage text).
std::string refused(const Args& args) {
    auto r = parse(args);
    REQUIRE_FALSE(r.line.has_value());
    return r.error;
}

}  // namespace

TEST_CASE("cli: a destination alone", "[client]") {
    const auto l = good({"example.org"});
    CHECK(l.destination == "example.org");
    CHECK(l.host == "example.org");
    CHECK(l.command.empty());
    CHECK(l.options.empty());
    CHECK(l.tty == TtyRequest::automatic);
    CHECK(l.family == AddressFamily::any);
    CHECK(l.verbosity == 0);
    CHECK_FALSE(l.escape_char.has_value());
}

TEST_CASE("cli: flags, alone and bundled", "[client]") {
    const auto l = good({"-4", "-qnN", "-G", "-vvvv", "h"});
    CHECK(l.family == AddressFamily::inet);
    CHECK(l.quiet);
    CHECK(l.stdin_null);
    CHECK(l.no_command);
    CHECK(l.print_config);
    CHECK(l.verbosity == 3);  // more -v count no further
    CHECK(good({"-46", "h"}).family == AddressFamily::inet6);  // the last one wins

    CHECK(good({"-t", "h"}).tty == TtyRequest::yes);
    CHECK(good({"-tt", "h"}).tty == TtyRequest::force);
    CHECK(good({"-t", "-t", "h"}).tty == TtyRequest::force);
    CHECK(good({"-T", "h"}).tty == TtyRequest::no);
    CHECK(good({"-tT", "h"}).tty == TtyRequest::no);
    CHECK(good({"-Tt", "h"}).tty == TtyRequest::yes);
}

TEST_CASE("cli: -V needs no destination", "[client]") {
    CHECK(good({"-V"}).version);
    CHECK(good({"-V"}).destination.empty());
}

TEST_CASE("cli: -p, -l and -i become ssh_config lines in command-line order", "[client]") {
    const auto l = good({"-p", "2222", "-lbob", "-i", "/keys/one", "-i/keys/two", "h"});
    CHECK(l.options == Args{"Port 2222", "User bob", "IdentityFile /keys/one", "IdentityFile /keys/two"});

    // Values with blanks (or characters the config lexer gives a meaning) are quoted, backslashes doubled.
    CHECK(good({"-i", "/keys/my key", "h"}).options == Args{"IdentityFile \"/keys/my key\""});
    CHECK(good({"-i", "C:\\key", "h"}).options == Args{"IdentityFile \"C:\\\\key\""});
    CHECK(good({"-l", "#bob", "h"}).options == Args{"User \"#bob\""});
    CHECK(good({"-l", "", "h"}).options == Args{"User \"\""});
}

TEST_CASE("cli: -p takes 1-65535 only", "[client]") {
    CHECK(good({"-p", "1", "h"}).options == Args{"Port 1"});
    CHECK(good({"-p65535", "h"}).options == Args{"Port 65535"});
    CHECK(refused({"-p", "0", "h"}) == "Bad port '0'");
    CHECK(refused({"-p", "65536", "h"}) == "Bad port '65536'");
    CHECK(refused({"-p", "22x", "h"}) == "Bad port '22x'");
    CHECK(refused({"-p", "-1", "h"}) == "Bad port '-1'");
    CHECK(refused({"-p", "", "h"}) == "Bad port ''");
    CHECK(refused({"-p", "000022", "h"}) == "Bad port '000022'");  // more than five digits
}

TEST_CASE("cli: -o passes Key=Value and 'Key Value' through as written", "[client]") {
    const auto l = good({"-o", "Port=2200", "-o", "StrictHostKeyChecking accept-new", "-oBatchMode=yes", "h"});
    CHECK(l.options == Args{"Port=2200", "StrictHostKeyChecking accept-new", "BatchMode=yes"});
    // -o is checked by the config parser later (settings_test), not here.
    CHECK(good({"-o", "NoSuchKeyword x", "h"}).options == Args{"NoSuchKeyword x"});
}

TEST_CASE("cli: user@host", "[client]") {
    auto l = good({"alice@example.org"});
    CHECK(l.destination == "alice@example.org");
    CHECK(l.host == "example.org");
    CHECK(l.options == Args{"User alice"});

    // The last '@' separates them, as ssh's strrchr does.
    l = good({"alice@corp@example.org"});
    CHECK(l.host == "example.org");
    CHECK(l.options == Args{"User alice@corp"});

    // -l before the destination comes first, so it wins (the first value of a keyword wins) ...
    CHECK(good({"-l", "bob", "alice@h"}).options == Args{"User bob", "User alice"});
    // ... and user@host wins over an -l after it.
    CHECK(good({"alice@h", "-l", "bob"}).options == Args{"User alice", "User bob"});

    CHECK(refused({"@example.org"}) == "invalid destination '@example.org' (no user before '@')");
    CHECK(refused({"alice@"}) == "invalid destination 'alice@' (no host)");
    CHECK(refused({"alice@-oProxyCommand=x"}) == "invalid destination 'alice@-oProxyCommand=x'");
    CHECK(refused({"bad\"user@h"}) == "remote username contains invalid characters");
    CHECK(refused({"-i", "/keys/a\tb", "h"}) ==
          "invalid argument for IdentityFile: double quotes and control characters are not allowed");
    CHECK(refused({"-l", "x\x7f", "h"}) == "remote username contains invalid characters");
}

TEST_CASE("cli: the remote command keeps its own dashes", "[client]") {
    auto l = good({"h", "ls", "-l", "-a", "/tmp"});
    CHECK(l.command == Args{"ls", "-l", "-a", "/tmp"});
    CHECK(l.command_line() == "ls -l -a /tmp");
    CHECK(l.options.empty());

    // Options right after the destination are still twoway's (as `ssh host -v ls`) ...
    l = good({"h", "-v", "-p", "2222", "ls", "-v"});
    CHECK(l.verbosity == 1);
    CHECK(l.options == Args{"Port 2222"});
    CHECK(l.command == Args{"ls", "-v"});

    // ... up to the first word that is not an option, or "--".
    l = good({"h", "--", "-v", "x"});
    CHECK(l.verbosity == 0);
    CHECK(l.command == Args{"-v", "x"});

    l = good({"-v", "--", "h", "-v", "x"});  // "--" before the destination ends the options for good
    CHECK(l.verbosity == 1);
    CHECK(l.host == "h");
    CHECK(l.command == Args{"-v", "x"});

    // The words are joined with single spaces, as ssh sends them.
    CHECK(good({"h", "echo", "a  b", "", "c"}).command_line() == "echo a  b  c");
    CHECK(good({"h", "--"}).command.empty());
}

TEST_CASE("cli: unknown flags and missing arguments are errors", "[client]") {
    CHECK(refused({"-X", "h"}) == "unknown option -- X");
    CHECK(refused({"-vA", "h"}) == "unknown option -- A");
    CHECK(refused({"h", "-Y"}) == "unknown option -- Y");  // after the destination too
    CHECK(refused({"-p"}) == "option requires an argument -- p");
    CHECK(refused({"h", "-l"}) == "option requires an argument -- l");
    // A flag that takes no argument does not swallow the next word.
    CHECK(good({"-v", "h"}).host == "h");
}

TEST_CASE("cli: no destination prints only the usage text", "[client]") {
    CHECK(refused({}).empty());
    CHECK(refused({"-v"}).empty());
    CHECK(refused({"-p", "2222"}).empty());
    CHECK(refused({"--"}).empty());
    CHECK(refused({"-"}) == "invalid destination '-'");  // "-" is a word, not an option
    CHECK(refused({"--", "-h"}) == "invalid destination '-h'");
    CHECK(std::string(usage()).starts_with("usage: twoway [-46aCGNnqsTtVvx]"));
}

TEST_CASE("cli: what scp, sftp, rsync and git pass to their transport", "[client]") {
    // scp (OpenSSH 9.2, SFTP mode), as it runs its -S program.
    auto scp = good({"-x", "-oPermitLocalCommand=no", "-oClearAllForwardings=yes", "-oRemoteCommand=none",
                     "-oRequestTTY=no", "-v", "-C", "-4", "-q", "-o", "BatchMode=yes", "-oForwardAgent=no", "-p",
                     "2222", "-l", "user", "-s", "--", "host", "sftp"});
    CHECK(scp.subsystem);
    CHECK(scp.host == "host");
    CHECK(scp.command == Args{"sftp"});
    CHECK(scp.quiet);
    CHECK(scp.verbosity == 1);
    CHECK(scp.family == AddressFamily::inet);
    CHECK(scp.options == Args{"PermitLocalCommand=no", "ClearAllForwardings=yes", "RemoteCommand=none", "RequestTTY=no",
                              "BatchMode=yes", "ForwardAgent=no", "Port 2222", "User user"});
    CHECK(scp.notes == Args{"-x: twoway has no X11 forwarding", "-C: twoway does not compress"});
    // sftp's form of the same, with blanks instead of '='.
    auto sftp = good({"-oForwardX11 no", "-oPermitLocalCommand no", "-oClearAllForwardings yes", "-oForwardAgent no",
                      "-oPort 2222", "-l", "u", "-s", "--", "host", "sftp"});
    CHECK(sftp.subsystem);
    CHECK(sftp.options.front() == "ForwardX11 no");
    // Legacy scp (-O) runs a command; rsync and git give -p and -l before the host.
    auto legacy = good({"-x", "-a", "--", "host", "scp -v -t x"});
    CHECK_FALSE(legacy.subsystem);
    CHECK(legacy.command_line() == "scp -v -t x");
    CHECK(legacy.notes == Args{"-x: twoway has no X11 forwarding", "-a: twoway has no agent forwarding"});
    auto git = good({"-G", "-o", "SendEnv=GIT_PROTOCOL", "-p", "2222", "127.0.0.1"});
    CHECK(git.print_config);
    CHECK(good({"-xxs", "h", "sftp"}).notes.size() == 1);  // one note per flag
}

TEST_CASE("cli: -F, -W and -e", "[client]") {
    CHECK(good({"-F", "none", "h"}).config_file == std::optional<std::string>("none"));
    CHECK(good({"-W", "postgres", "h"}).stdio_service == std::optional<std::string>("postgres"));
    CHECK(refused({"-W", "", "h"}) == "Bad stdio forwarding specification ''");

    CHECK(good({"-e", "none", "h"}).escape_char == std::optional<int>(-1));
    CHECK(good({"-e", "#", "h"}).escape_char == std::optional<int>('#'));
    CHECK(good({"-e^A", "h"}).escape_char == std::optional<int>(1));
    CHECK(refused({"-e", "ab", "h"}) == "Bad escape character 'ab'.");
    CHECK(refused({"-e", "", "h"}) == "Bad escape character ''.");
}

TEST_CASE("cli: parse_escape_char", "[client]") {
    CHECK(parse_escape_char("~") == std::optional<int>('~'));
    CHECK(parse_escape_char("none") == std::optional<int>(-1));
    CHECK(parse_escape_char("^]") == std::optional<int>(0x1d));
    CHECK(parse_escape_char("^a") == std::optional<int>(1));  // as ssh: the letter's low five bits
    CHECK(parse_escape_char("^?") == std::nullopt);
    CHECK(parse_escape_char("^") == std::optional<int>('^'));  // one character is itself
    CHECK(parse_escape_char("^AB") == std::nullopt);
    CHECK(parse_escape_char("") == std::nullopt);
}

TEST_CASE("cli: -L [bind_address:]port:service", "[client]") {
    auto f = parse_local_forward("8080:web");
    REQUIRE(f);
    CHECK(f->bind_address == "127.0.0.1");  // loopback unless told otherwise
    CHECK(f->port == 8080);
    CHECK(f->service == "web");
    CHECK(f->spec == "8080:web");

    f = parse_local_forward("*:0:db");
    REQUIRE(f);
    CHECK(f->bind_address == "0.0.0.0");
    CHECK(f->port == 0);  // the system chooses

    f = parse_local_forward("[::1]:5432:db");
    REQUIRE(f);
    CHECK(f->bind_address == "::1");
    CHECK(f->port == 5432);

    f = parse_local_forward("192.0.2.1:80:web");
    REQUIRE(f);
    CHECK(f->bind_address == "192.0.2.1");

    CHECK_FALSE(parse_local_forward("8080"));
    CHECK_FALSE(parse_local_forward("8080:"));
    CHECK_FALSE(parse_local_forward(":8080:web"));
    CHECK_FALSE(parse_local_forward("65536:web"));
    CHECK_FALSE(parse_local_forward("http:web"));
    CHECK_FALSE(parse_local_forward("::1:80:web"));  // an IPv6 address needs its brackets
    CHECK_FALSE(parse_local_forward("[::1:80:web"));
    CHECK_FALSE(parse_local_forward("a:1:2:web"));

    const auto l = good({"-L", "8080:web", "-L9090:db", "h"});
    REQUIRE(l.local_forwards.size() == 2);
    CHECK(l.local_forwards[1].service == "db");
    CHECK(refused({"-L", "8080", "h"}) == "Bad local forwarding specification '8080'");
}

TEST_CASE("cli: -D [bind_address:]port", "[client][socks]") {
    auto f = parse_dynamic_forward("1080");
    REQUIRE(f);
    CHECK(f->dynamic);
    CHECK(f->bind_address == "127.0.0.1");  // loopback unless told otherwise, as -L
    CHECK_FALSE(f->bind_given);
    CHECK(f->port == 1080);
    CHECK(f->target() == "SOCKS");
    f = parse_dynamic_forward("*:0");
    REQUIRE(f);
    CHECK(f->bind_address == "0.0.0.0");
    CHECK(f->bind_given);
    CHECK(f->port == 0);
    f = parse_dynamic_forward("[::1]:1080");
    REQUIRE(f);
    CHECK(f->bind_address == "::1");
    for (const char* bad : {"", "x", "65536", ":1080", "a:b:1", "::1:1080", "[::1]1080", "[::1", "1080:", "-1"}) {
        INFO(bad);
        CHECK_FALSE(parse_dynamic_forward(bad));
    }
    const auto l = good({"-D", "1080", "-L", "8080:web", "-D127.0.0.1:1081", "h"});
    REQUIRE(l.local_forwards.size() == 3);
    CHECK(l.local_forwards[0].dynamic);
    CHECK_FALSE(l.local_forwards[1].dynamic);
    CHECK(l.local_forwards[2].port == 1081);
    CHECK(refused({"-D", "a:b:c", "h"}) == "Bad dynamic forwarding specification 'a:b:c'");
}

TEST_CASE("cli: -R [bind_address:]port:host:hostport, several, in order", "[client]") {
    const auto l = good({"-R", "8080:localhost:80", "-R*:0:[::1]:22", "-NR", "[::1]:9000:db:5432", "h"});
    REQUIRE(l.remote_forwards.size() == 3);
    CHECK(l.remote_forwards[0].listen == twoway::session::ListenAddress{"", 8080});
    CHECK(l.remote_forwards[0].target() == "localhost:80");
    CHECK(l.remote_forwards[1].listen == twoway::session::ListenAddress{"*", 0});
    CHECK(l.remote_forwards[1].host == "::1");
    CHECK(l.remote_forwards[2].listen == twoway::session::ListenAddress{"::1", 9000});
    CHECK(l.no_command);
    CHECK(l.local_forwards.empty());
    // The forms twoway does not do: one line each, then the usage text and 255.
    CHECK(refused({"-R", "8080", "h"}) ==
          "Bad remote forwarding specification \"8080\": twoway has no remote dynamic (SOCKS) forwarding; give "
          "[bind_address:]port:host:hostport");
    CHECK(refused({"-R", "8080:/run/app.sock", "h"}) ==
          "Bad remote forwarding specification \"8080:/run/app.sock\": twoway does not forward Unix-domain sockets");
    CHECK(refused({"-R", "8080:h:x", "h"}) == "Bad remote forwarding specification \"8080:h:x\": bad port \"x\"");
    CHECK(refused({"-R"}) == "option requires an argument -- R");
}

TEST_CASE("cli: -L [bind_address:]port:host:hostport and -W host:port, ssh's direct forms", "[client]") {
    auto f = parse_local_forward("8080:db.example:5432");
    REQUIRE(f);
    CHECK(f->bind_address == "127.0.0.1");
    CHECK(f->port == 8080);
    CHECK(f->service.empty());
    CHECK(f->destination == "db.example:5432");
    CHECK(f->target() == "db.example:5432");

    f = parse_local_forward("*:0:[::1]:22");
    REQUIRE(f);
    CHECK(f->bind_address == "0.0.0.0");
    CHECK(f->port == 0);
    CHECK(f->destination == "[::1]:22");

    f = parse_local_forward("0:[fe80::1]:443");
    REQUIRE(f);
    CHECK(f->destination == "[fe80::1]:443");

    f = parse_local_forward("127.0.0.1:80:web");  // three parts, the first not a port: a service
    REQUIRE(f);
    CHECK(f->service == "web");
    CHECK(f->target() == "service web");

    CHECK_FALSE(parse_local_forward("8080:db:0"));
    CHECK_FALSE(parse_local_forward("8080:db:65536"));
    CHECK_FALSE(parse_local_forward("8080:-db:22"));
    CHECK_FALSE(parse_local_forward("a:8080:db:x"));
    CHECK_FALSE(parse_local_forward("a:b:8080:db:22"));

    auto l = good({"-W", "db.example:5432", "h"});
    CHECK(l.stdio_service == "db.example:5432");
    CHECK(is_destination(*l.stdio_service));
    l = good({"-W", "web", "h"});
    CHECK_FALSE(is_destination(*l.stdio_service));
    CHECK(refused({"-W", "db:0", "h"}) == "Bad stdio forwarding specification 'db:0'");
    CHECK(refused({"-W", "db:", "h"}) == "Bad stdio forwarding specification 'db:'");
    // ssh's -W [host]:port, for any host (ProxyJump's inner twoway gets -W '[%h]:%p').
    CHECK(good({"-W", "[db.example]:5432", "h"}).stdio_service == std::optional<std::string>("db.example:5432"));
    CHECK(good({"-W", "[::1]:22", "h"}).stdio_service == std::optional<std::string>("[::1]:22"));
    CHECK(refused({"-W", "[db]:", "h"}) == "Bad stdio forwarding specification '[db]:'");
    CHECK(refused({"-W", "[db:22", "h"}) == "Bad stdio forwarding specification '[db:22'");
}

TEST_CASE("cli: -J becomes a ProxyJump option where it stands", "[client]") {
    auto l = good({"-J", "alice@bastion:2222,gw", "h"});
    CHECK(l.jump == std::optional<std::string>("alice@bastion:2222,gw"));
    CHECK(l.options == std::vector<std::string>{"ProxyJump alice@bastion:2222,gw"});
    l = good({"-Jnone", "-o", "ProxyCommand=nc %h %p", "h"});
    CHECK(l.options == std::vector<std::string>{"ProxyJump none", "ProxyCommand=nc %h %p"});
    CHECK(refused({"-J", "a", "-J", "b", "h"}) ==
          "Only a single -J option is permitted (use commas to separate multiple jump hops)");
    CHECK(refused({"-o", "ProxyJump=a", "-J", "b", "h"}) ==
          "Only a single -J option is permitted (use commas to separate multiple jump hops)");
    CHECK(refused({"-o", "ProxyCommand nc %h %p", "-J", "b", "h"}) == "Cannot specify -J with ProxyCommand");
    CHECK(refused({"-J", "a,,b", "h"}) == "Invalid -J argument 'a,,b': empty jump host");
    CHECK(refused({"-J", "a:0", "h"}) == "Invalid -J argument 'a:0': bad port in \"a:0\"");
    CHECK(refused({"-J"}) == "option requires an argument -- J");
    CHECK(std::string(usage()).find("[-J destination]") != std::string::npos);
}

TEST_CASE("cli: host and user names that could reach a shell through %h/%r are refused (OpenSSH 9.6)", "[client]") {
    for (const char* host : {"a;touch x", "a$(id)", "a`id`", "a|b", "a&b", "a>b", "a'b", "a\"b", "a\\b", "a\tb", "a{b}"}) {
        INFO(host);
        CHECK(refused({host}) == "hostname contains invalid characters");
    }
    CHECK(refused({"u;id@host"}) == "remote username contains invalid characters");
    CHECK(refused({"-l", "u$(id)", "host"}) == "remote username contains invalid characters");
    // Ordinary names, IPv6 literals with a scope, and user names with dots and dashes are fine.
    for (const char* ok : {"host.example", "[::1]", "fe80::1%eth0", "alice.b-c@10.0.0.1", "a_b@h"}) {
        INFO(ok);
        CHECK(good({ok}).host.size() > 0);
    }
}
