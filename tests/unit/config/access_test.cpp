// sshd_config's access policy in twowayd.conf: every keyword of issue 15 (good values, bad values,
// values refused until implemented), the sshd keywords that mean nothing for twoway, Match (criteria,
// which keywords it allows, how applying blocks combine), Include, the access decision in sshd's order
// and sshd -T -C's connection spec.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "access.hpp"
#include "daemon_config.hpp"
#include "support/temp_dir.hpp"

using namespace twowayd;

namespace {

std::vector<std::string> errors_of(const DaemonConfigResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.text());
    return out;
}

DaemonConfig good(const std::string& text) {
    auto r = parse_daemon_config("a.conf", text);
    INFO(text);
    REQUIRE(errors_of(r) == std::vector<std::string>{});
    return r.config;
}

std::string only_error(const std::string& text) {
    auto r = parse_daemon_config("a.conf", text);
    INFO(text);
    REQUIRE(r.errors.size() == 1);
    return r.errors[0].text();
}

IpAddress ip(const char* text) { return *parse_ip_address(text); }

ConnectionFacts facts(const char* user, const char* addr, std::vector<std::string> groups = {}) {
    ConnectionFacts f;
    f.user = user;
    f.address = ip(addr);
    f.host = addr;
    f.groups = std::move(groups);
    f.local_address = ip("192.0.2.1");
    f.local_port = 4422;
    return f;
}

// An Include source from a map of path -> text; a glob "dir/*.conf" lists the map's paths under dir/
// that end in ".conf", sorted (the map's order).
struct MapReader final : IncludeReader {
    std::map<std::string, std::string> files;
    std::vector<IncludedFile> expand(const std::string& pattern, std::string& error) const override {
        error.clear();
        std::vector<IncludedFile> out;
        const auto star = pattern.find('*');
        for (const auto& [path, text] : files) {
            const bool hit = star == std::string::npos
                                 ? path == pattern
                                 : path.starts_with(pattern.substr(0, star)) && path.ends_with(pattern.substr(star + 1));
            if (hit) out.push_back(IncludedFile{path, text, {}});
        }
        return out;
    }
};

}  // namespace

TEST_CASE("access config: the defaults", "[config]") {
    const DaemonConfig d;
    const auto& c = d.connection;
    CHECK(c.permit_root_login.value == PermitRootLogin::prohibit_password);
    CHECK(c.permit_root_login.where.path.empty());
    CHECK(c.allow_users.empty());
    CHECK(c.deny_groups.empty());
    CHECK_FALSE(c.force_command);
    CHECK(c.permit_tty.value);
    CHECK_FALSE(c.disable_forwarding.value);
    CHECK(c.allow_tcp_forwarding.value);
    CHECK_FALSE(c.permit_service);
    CHECK(c.accept_env == std::vector<std::string>{"LANG", "LC_*"});
    CHECK(c.client_alive_interval == 0);
    CHECK(c.client_alive_count_max == 3);
    CHECK(c.chroot_directory == "none");
    CHECK_FALSE(d.use_pam);
    CHECK(d.permit_user_environment == "no");
    CHECK(d.pid_file == "/run/twowayd.pid");
    CHECK(d.matches.empty());
}

TEST_CASE("access config: each keyword with good values", "[config]") {
    struct Case {
        const char* text;
        bool (*holds)(const DaemonConfig&);
    };
    const Case cases[] = {
        {"PermitRootLogin no", [](const DaemonConfig& c) { return c.connection.permit_root_login.value == PermitRootLogin::no; }},
        {"PermitRootLogin yes", [](const DaemonConfig& c) { return c.connection.permit_root_login.value == PermitRootLogin::yes; }},
        {"PermitRootLogin without-password",
         [](const DaemonConfig& c) { return c.connection.permit_root_login.value == PermitRootLogin::prohibit_password; }},
        {"PermitRootLogin forced-commands-only",
         [](const DaemonConfig& c) { return c.connection.permit_root_login.value == PermitRootLogin::forced_commands_only; }},
        {"PermitRootLogin no\nPermitRootLogin yes",  // the first value wins
         [](const DaemonConfig& c) { return c.connection.permit_root_login.value == PermitRootLogin::no &&
                                            c.connection.permit_root_login.where.line == 1; }},
        {"AllowUsers a b@10.0.0.0/8\nAllowUsers c",  // lines add up
         [](const DaemonConfig& c) { return c.connection.allow_users.size() == 3 && c.connection.allow_users[2].where.line == 2; }},
        {"DenyUsers *@192.0.2.*,!192.0.2.1", [](const DaemonConfig& c) { return c.connection.deny_users.size() == 1; }},
        {"AllowGroups wheel staff", [](const DaemonConfig& c) { return c.connection.allow_groups.size() == 2; }},
        {"DenyGroups nogroup", [](const DaemonConfig& c) { return c.connection.deny_groups.size() == 1; }},
        {"ForceCommand  /usr/bin/backup --quiet \"a b\"  ",  // the rest of the line, as written
         [](const DaemonConfig& c) { return c.connection.force_command->value == "/usr/bin/backup --quiet \"a b\""; }},
        {"ForceCommand=echo hi", [](const DaemonConfig& c) { return c.connection.force_command->value == "echo hi"; }},
        {"PermitTTY no", [](const DaemonConfig& c) { return !c.connection.permit_tty.value; }},
        {"DisableForwarding yes", [](const DaemonConfig& c) { return c.connection.disable_forwarding.value; }},
        {"AllowTcpForwarding remote", [](const DaemonConfig& c) {
             return !c.connection.allow_tcp_forwarding.value && c.connection.allow_remote_forwarding.value; }},
        {"AllowTcpForwarding local", [](const DaemonConfig& c) {
             return c.connection.allow_tcp_forwarding.value && !c.connection.allow_remote_forwarding.value; }},
        {"AllowTcpForwarding no", [](const DaemonConfig& c) {
             return !c.connection.allow_tcp_forwarding.value && !c.connection.allow_remote_forwarding.value; }},
        {"AllowTcpForwarding all", [](const DaemonConfig& c) {
             return c.connection.allow_tcp_forwarding.value && c.connection.allow_remote_forwarding.value; }},
        {"PermitListen none", [](const DaemonConfig& c) {
             return c.connection.permit_listen.value && c.connection.permit_listen.value->empty(); }},
        {"PermitListen any", [](const DaemonConfig& c) { return !c.connection.permit_listen.value; }},
        {"PermitListen 8080 localhost:* *:0", [](const DaemonConfig& c) {
             return c.connection.permit_listen.value == std::vector<std::string>{"8080", "localhost:*", "*:0"}; }},
        {"GatewayPorts clientspecified", [](const DaemonConfig& c) {
             return c.connection.gateway_ports.value == GatewayPorts::clientspecified; }},
        {"GatewayPorts yes", [](const DaemonConfig& c) { return c.connection.gateway_ports.value == GatewayPorts::yes; }},
        {"PermitService web db", [](const DaemonConfig& c) {
             return c.connection.permit_service == std::vector<std::string>{"web", "db"}; }},
        {"PermitService none", [](const DaemonConfig& c) { return c.connection.permit_service && c.connection.permit_service->empty(); }},
        {"PermitService any", [](const DaemonConfig& c) { return !c.connection.permit_service; }},
        {"PermitOpen none", [](const DaemonConfig& c) {
             return c.connection.permit_open.value && c.connection.permit_open.value->empty(); }},
        {"PermitOpen any", [](const DaemonConfig& c) { return !c.connection.permit_open.value; }},
        {"PermitOpen db:5432 [::1]:* *:22", [](const DaemonConfig& c) {
             return c.connection.permit_open.value == std::vector<std::string>{"db:5432", "[::1]:*", "*:22"}; }},
        {"AcceptEnv TZ\nAcceptEnv LC_*", [](const DaemonConfig& c) {
             return c.connection.accept_env == std::vector<std::string>{"TZ", "LC_*"}; }},
        {"AcceptEnv none", [](const DaemonConfig& c) { return c.connection.accept_env.empty(); }},
        {"AcceptEnv TZ\nAcceptEnv none", [](const DaemonConfig& c) {  // lines add up: none adds nothing
             return c.connection.accept_env == std::vector<std::string>{"TZ"}; }},
        {"SetEnv A=1 B=2 A=3\nSetEnv C=4", [](const DaemonConfig& c) {  // first line only, first of each name
             return c.connection.set_env == std::vector<std::string>{"A=1", "B=2"}; }},
        {"Banner /etc/issue.net", [](const DaemonConfig& c) { return c.connection.banner == "/etc/issue.net"; }},
        {"ClientAliveInterval 0\nClientAliveCountMax 5", [](const DaemonConfig& c) {
             return c.connection.client_alive_interval == 0 && c.connection.client_alive_count_max == 5; }},
        {"ClientAliveInterval 30\nClientAliveInterval 5", [](const DaemonConfig& c) {  // the first one wins
             return c.connection.client_alive_interval == 30; }},
        {"ClientAliveInterval 2m\nClientAliveCountMax 0", [](const DaemonConfig& c) {
             return c.connection.client_alive_interval == 120 && c.connection.client_alive_count_max == 0; }},
        {"MaxSessions 1", [](const DaemonConfig& c) { return c.connection.max_sessions == 1; }},
        {"ChrootDirectory none", [](const DaemonConfig& c) { return c.connection.chroot_directory == "none"; }},
        {"ChrootDirectory NONE", [](const DaemonConfig& c) { return c.connection.chroot_directory == "none"; }},
        {"ChrootDirectory /srv/jail/%u", [](const DaemonConfig& c) { return c.connection.chroot_directory == "/srv/jail/%u"; }},
        {"ChrootDirectory %h", [](const DaemonConfig& c) { return c.connection.chroot_directory == "%h"; }},
        {"ChrootDirectory ~/jail", [](const DaemonConfig& c) { return c.connection.chroot_directory == "~/jail"; }},
        {"ChrootDirectory /j/%%/%U\nChrootDirectory /other",
         [](const DaemonConfig& c) { return c.connection.chroot_directory == "/j/%%/%U"; }},  // the first wins
        {"AuthorizedKeysCommand none\nAuthorizedKeysCommandUser nobody", [](const DaemonConfig& c) {
             return c.connection.authorized_keys_command_user == "nobody"; }},
        {"AuthorizedKeysCommand /usr/bin/keys \"%u x\" %f\nAuthorizedKeysCommandTimeout 2m", [](const DaemonConfig& c) {
             return c.connection.authorized_keys_command == "/usr/bin/keys \"%u x\" %f" &&
                    c.authorized_keys_command_timeout == 120; }},
        {"PidFile none", [](const DaemonConfig& c) { return c.pid_file == "none"; }},
        {"SyslogFacility local7", [](const DaemonConfig& c) { return c.syslog_facility == "LOCAL7"; }},
        {"UsePAM no", [](const DaemonConfig& c) { return !c.use_pam && c.pam_service_name == "twowayd"; }},
        {"UsePAM yes", [](const DaemonConfig& c) { return c.use_pam; }},
        {"PAMServiceName twowayd-test_1.x", [](const DaemonConfig& c) { return c.pam_service_name == "twowayd-test_1.x"; }},
        {"PermitUserEnvironment LANG,TZ", [](const DaemonConfig& c) { return c.permit_user_environment == "LANG,TZ"; }},
        {"PermitUserEnvironment YES", [](const DaemonConfig& c) { return c.permit_user_environment == "yes"; }},
        {"PrintMotd no", [](const DaemonConfig& c) { return !c.print_motd; }},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(c.holds(good(c.text)));
    }
}

TEST_CASE("access config: bad values and values refused until implemented", "[config]") {
    const std::pair<const char*, const char*> cases[] = {
        {"PermitRootLogin maybe",
         "a.conf:1: PermitRootLogin: unsupported option \"maybe\" (expected yes, prohibit-password, forced-commands-only or no)"},
        {"AllowUsers bob@10.0.0.1/8", "a.conf:1: AllowUsers: invalid AllowUsers pattern: \"bob@10.0.0.1/8\""},
        {"DenyUsers bob@", "a.conf:1: DenyUsers: invalid DenyUsers pattern: \"bob@\""},
        {"AllowGroups \"\"", "a.conf:1: AllowGroups: invalid AllowGroups pattern: \"\""},
        {"PermitTTY maybe", "a.conf:1: PermitTTY: unsupported option \"maybe\" (expected yes or no)"},
        {"AllowTcpForwarding sometimes",
         "a.conf:1: AllowTcpForwarding: unsupported option \"sometimes\" (expected yes, all, local, remote or no)"},
        {"PermitService Web", "a.conf:1: PermitService: invalid service name \"Web\" (expected any, none or names)"},
        {"PermitOpen db",
         "a.conf:1: PermitOpen: invalid destination \"db\" (expected any, none or host:port, [IPv6]:port, * for either)"},
        {"PermitListen host:", "a.conf:1: PermitListen: invalid listen address \"host:\" (expected any, none or [host:]port, * for either)"},
        {"PermitListen 70000", "a.conf:1: PermitListen: invalid listen address \"70000\" (expected any, none or [host:]port, * for either)"},
        {"GatewayPorts maybe", "a.conf:1: GatewayPorts: unsupported option \"maybe\" (expected no, yes or clientspecified)"},
        {"PermitOpen db:1 any", "a.conf:1: PermitOpen: invalid destination \"any\" (expected any, none or host:port, [IPv6]:port, * for either)"},
        {"AcceptEnv A=B", "a.conf:1: AcceptEnv: Invalid environment name \"A=B\""},
        {"AcceptEnv TZ none", "a.conf:1: AcceptEnv: none must be alone"},
        {"SetEnv NOVALUE", "a.conf:1: SetEnv: Invalid environment \"NOVALUE\""},
        {"ClientAliveInterval soon", "a.conf:1: ClientAliveInterval: invalid time value \"soon\""},
        {"ClientAliveCountMax x", "a.conf:1: ClientAliveCountMax: invalid number \"x\""},
        {"ChrootDirectory /srv/%x", "a.conf:1: ChrootDirectory: unknown token \"%x\" in \"/srv/%x\""},
        {"ChrootDirectory /srv/%", "a.conf:1: ChrootDirectory: '%' at the end of \"/srv/%\""},
        {"ChrootDirectory srv/%u", "a.conf:1: ChrootDirectory: must be an absolute path: \"srv/%u\""},
        {"ChrootDirectory %u", "a.conf:1: ChrootDirectory: must be an absolute path: \"%u\""},
        {"AuthorizedKeysCommand keys %u",
         "a.conf:1: AuthorizedKeysCommand: must be an absolute path: \"keys %u\""},
        {"AuthorizedKeysCommand \"/usr/bin/keys %u",
         "a.conf:1: invalid quotes"},  // the line's own quoting, checked before the keyword's
        {"AuthorizedKeysCommandTimeout 0", "a.conf:1: AuthorizedKeysCommandTimeout: invalid time value \"0\" (1s to 1h)"},
        {"UsePAM maybe", "a.conf:1: UsePAM: unsupported option \"maybe\" (expected yes or no)"},
        {"PAMServiceName ../sshd",
         "a.conf:1: PAMServiceName: invalid PAM service name \"../sshd\" (letters, digits, '.', '_', '-'; at most 64)"},
        {"PAMServiceName .hidden",
         "a.conf:1: PAMServiceName: invalid PAM service name \".hidden\" (letters, digits, '.', '_', '-'; at most 64)"},
        {"PidFile run/twowayd.pid", "a.conf:1: PidFile: must be an absolute path or none: \"run/twowayd.pid\""},
        {"SyslogFacility KERN", "a.conf:1: SyslogFacility: unsupported log facility \"KERN\""},
        {"ForceCommand", "a.conf:1: no argument after keyword \"ForceCommand\""},
        {"PubkeyAuthentication no",
         "a.conf:1: PubkeyAuthentication \"no\": public keys are twoway's only method: \"no\" would be ignored"},
        {"AuthenticationMethods publickey,password",
         "a.conf:1: AuthenticationMethods \"publickey,password\": not supported yet: twoway has one method (publickey); a list requiring more would be ignored"},
        {"AddressFamily inet", "a.conf:1: AddressFamily \"inet\": not supported yet: listen only where wanted with ListenAddress"},
        {"ChannelTimeout session=5m", "a.conf:1: ChannelTimeout \"session=5m\": not supported yet: idle channels would stay open"},
        {"UnusedConnectionTimeout 1h",
         "a.conf:1: UnusedConnectionTimeout \"1h\": not supported yet: unused connections would stay open"},
        {"Include x.conf", "a.conf:1: Include: cannot read included files here"},
    };
    for (const auto& [text, error] : cases) {
        INFO(text);
        CHECK(only_error(text) == error);
    }
}

TEST_CASE("access config: sshd keywords without meaning for twoway are accepted with one note each", "[config]") {
    auto r = parse_daemon_config("sshd_config",
                                 "PermitEmptyPasswords yes\n"
                                 "permitemptypasswords no\n"
                                 "KbdInteractiveAuthentication no\n"
                                 "ChallengeResponseAuthentication no\n"
                                 "GSSAPIAuthentication yes\n"
                                 "X11Forwarding yes\n"
                                 "UsePrivilegeSeparation sandbox\n"
                                 "Compression yes\n"
                                 "PubkeyAuthentication yes\n"
                                 "AuthenticationMethods publickey\n"
                                 "ChannelTimeout none\n");
    REQUIRE(errors_of(r) == std::vector<std::string>{});
    REQUIRE(r.notes.size() == 11);
    CHECK(r.notes[0].text() == "sshd_config:1: PermitEmptyPasswords: ignored (twoway authenticates with keys only)");
    CHECK(r.notes[5].text() == "sshd_config:6: X11Forwarding: ignored (twoway has no X11 forwarding)");
    CHECK(r.notes[8].text() == "sshd_config:9: PubkeyAuthentication yes: accepted, twowayd behaves so already");
}

TEST_CASE("access config: Match lines", "[config]") {
    auto c = good("PermitTTY yes\n"
                  "Match User alice,!bob Group staff\n"
                  "    PermitTTY no\n"
                  "    ForceCommand /bin/restricted\n"
                  "Match Address 10.0.0.0/8,192.0.2.* LocalAddress 192.0.2.1 LocalPort 4422 Host *.example\n"
                  "    DenyUsers eve\n"
                  "Match all\n"
                  "    Banner /etc/banner\n");
    REQUIRE(c.matches.size() == 3);
    CHECK(c.matches[0].where.line == 2);
    CHECK(c.matches[0].criteria.size() == 2);
    CHECK(c.matches[0].set[static_cast<std::size_t>(ConnectionKey::permit_tty)]);
    CHECK_FALSE(c.matches[0].set[static_cast<std::size_t>(ConnectionKey::banner)]);
    CHECK(c.matches[1].criteria[2].port == 4422);
    CHECK(c.connection.permit_tty.value);  // the global value stays
    CHECK(format_match_criteria(c.matches[1].criteria) ==
          "address 10.0.0.0/8,192.0.2.* localaddress 192.0.2.1 localport 4422 host *.example");

    const std::pair<const char*, const char*> bad[] = {
        {"Match", "a.conf:1: no argument after keyword \"Match\""},
        {"Match User", "a.conf:1: Missing Match criteria for User; Bad Match condition"},
        {"Match all User bob", "a.conf:1: 'all' cannot be combined with other Match attributes; Bad Match condition"},
        {"Match User bob all", "a.conf:1: 'all' cannot be combined with other Match attributes; Bad Match condition"},
        {"Match Colour blue", "a.conf:1: Unsupported Match attribute Colour; Bad Match condition"},
        {"Match Address 10.0.0.1/8", "a.conf:1: Invalid Match Address argument \"10.0.0.1/8\"; Bad Match condition"},
        {"Match Address 10.0.0.0/8,,1.2.3.4", "a.conf:1: Invalid Match Address argument \"10.0.0.0/8,,1.2.3.4\"; Bad Match condition"},
        {"Match LocalPort 0", "a.conf:1: Invalid LocalPort \"0\" on Match line; Bad Match condition"},
        {"Match RDomain x", "a.conf:1: Match RDomain is not supported (twowayd has no routing domains); Bad Match condition"},
        // Only the keywords sshd allows inside Match.
        {"Match all\nPort 22", "a.conf:2: Directive 'Port' is not allowed within a Match block"},
        {"Match all\nUsePAM no", "a.conf:2: Directive 'UsePAM' is not allowed within a Match block"},
        {"Match all\nPAMServiceName x", "a.conf:2: Directive 'PAMServiceName' is not allowed within a Match block"},
        {"Match all\nSubsystem x y", "a.conf:2: Directive 'Subsystem' is not allowed within a Match block"},
        {"Match all\nService web h:1", "a.conf:2: Directive 'Service' is not allowed within a Match block"},
        {"Match all\nAuthorizedKeysFile /k", "a.conf:2: AuthorizedKeysFile is not supported inside a Match block yet"},
        {"Match all\nClientAliveInterval -5", "a.conf:2: ClientAliveInterval: invalid time value \"-5\""},
    };
    for (const auto& [text, error] : bad) {
        INFO(text);
        CHECK(only_error(text) == error);
    }
    // Keywords sshd allows in Match are accepted there, the meaningless ones with their note.
    auto r = parse_daemon_config("a.conf", "Match User x\n X11Forwarding no\n PasswordAuthentication no\n");
    CHECK(r.ok());
    REQUIRE(r.notes.size() == 1);  // PasswordAuthentication means something there (password mode)
}

TEST_CASE("access config: Match evaluation", "[config]") {
    auto c = good("ForceCommand /bin/global\n"
                  "AllowUsers alice bob carol root\n"
                  "AcceptEnv LANG\n"
                  "Match Group staff,!interns\n"
                  "    ForceCommand /bin/staff\n"
                  "    PermitTTY no\n"
                  "    AllowUsers dave\n"
                  "Match Address 10.0.0.0/8\n"
                  "    ForceCommand /bin/internal\n"
                  "    PermitRootLogin no\n"
                  "    AllowUsers erin\n"
                  "Match User bob LocalPort 2222\n"
                  "    DisableForwarding yes\n"
                  "Match Host *.example,192.0.2.*\n"
                  "    AcceptEnv TZ\n");
    struct Case {
        ConnectionFacts f;
        std::vector<std::size_t> lines;  // Match lines that apply
        const char* force_command;
        bool tty;
        std::size_t allow_users;
    };
    auto bob_on = [](const char* addr, std::uint16_t lport) {
        auto f = facts("bob", addr);
        f.local_port = lport;
        return f;
    };
    const Case cases[] = {
        {facts("alice", "203.0.113.5"), {}, "/bin/global", true, 4},
        {facts("alice", "203.0.113.5", {"alice", "staff"}), {4}, "/bin/staff", false, 1},
        // a negated group wins over a listed one
        {facts("alice", "203.0.113.5", {"staff", "interns"}), {}, "/bin/global", true, 4},
        // both blocks: the first applying block's ForceCommand wins; AllowUsers add up
        {facts("alice", "10.1.2.3", {"staff"}), {4, 8}, "/bin/staff", false, 2},
        {facts("carol", "10.1.2.3"), {8}, "/bin/internal", true, 1},
        {bob_on("203.0.113.5", 2222), {12}, "/bin/global", true, 4},
        {bob_on("203.0.113.5", 4422), {}, "/bin/global", true, 4},
        {facts("carol", "192.0.2.9"), {14}, "/bin/global", true, 4},
    };
    for (const auto& k : cases) {
        INFO(*k.f.user << " from " << *k.f.host);
        std::vector<twoway::Location> applied;
        const auto p = effective_config(c, k.f, &applied);
        std::vector<std::size_t> lines;
        for (const auto& a : applied) lines.push_back(a.line);
        CHECK(lines == k.lines);
        CHECK(p.force_command->value == k.force_command);
        CHECK(p.permit_tty.value == k.tty);
        CHECK(p.allow_users.size() == k.allow_users);
    }
    // "ForceCommand none" in a block lifts the global one.
    const auto lifted = good("ForceCommand /bin/global\nMatch User admin\n ForceCommand none\n");
    CHECK_FALSE(effective_config(lifted, facts("admin", "192.0.2.1")).force_command);
    CHECK(effective_config(lifted, facts("other", "192.0.2.1")).force_command->value == "/bin/global");
    CHECK(format_daemon_config(lifted).find("match user admin\n    forcecommand none\n") != std::string::npos);
    // ChrootDirectory in a Match block, for that user only; "none" there lifts a global one.
    const auto jailed = good("Match User sftp*\n ChrootDirectory /srv/jail/%u\nMatch User admin\n ChrootDirectory none\n");
    CHECK(effective_config(jailed, facts("sftp1", "192.0.2.1")).chroot_directory == "/srv/jail/%u");
    CHECK(effective_config(jailed, facts("alice", "192.0.2.1")).chroot_directory == "none");
    const auto global = good("ChrootDirectory %h\nMatch User admin\n ChrootDirectory none\n");
    CHECK(effective_config(global, facts("admin", "192.0.2.1")).chroot_directory == "none");
    CHECK(effective_config(global, facts("alice", "192.0.2.1")).chroot_directory == "%h");
    CHECK(format_daemon_config(jailed).find("match user sftp*\n    chrootdirectory /srv/jail/%u\n") != std::string::npos);
    // ClientAliveInterval and ClientAliveCountMax per connection, as sshd allows them in Match.
    const auto alive = good("ClientAliveInterval 60\nMatch User laptop\n ClientAliveInterval 5\n ClientAliveCountMax 2\n");
    CHECK(effective_config(alive, facts("laptop", "192.0.2.1")).client_alive_interval == 5);
    CHECK(effective_config(alive, facts("laptop", "192.0.2.1")).client_alive_count_max == 2);
    CHECK(effective_config(alive, facts("other", "192.0.2.1")).client_alive_interval == 60);
    CHECK(effective_config(alive, facts("other", "192.0.2.1")).client_alive_count_max == 3);
    CHECK(format_daemon_config(alive).find("clientaliveinterval 60\n") != std::string::npos);
    // A Match block's AcceptEnv replaces the global list.
    CHECK(effective_config(c, facts("carol", "192.0.2.9")).accept_env == std::vector<std::string>{"TZ"});
    CHECK(effective_config(c, facts("carol", "198.51.100.1")).accept_env == std::vector<std::string>{"LANG"});
    // A fact that is missing (twowayd -T -C without it) makes its criterion fail.
    ConnectionFacts none;
    none.user = "bob";
    CHECK(effective_config(c, none).force_command->value == "/bin/global");
    CHECK(needs_groups(c));
    CHECK_FALSE(needs_groups(good("AllowUsers x\nMatch User y\n PermitTTY no\n")));
}

TEST_CASE("access config: the access decision in sshd's order, with the deciding line", "[config]") {
    struct Case {
        const char* config;
        ConnectionFacts f;
        bool root;
        bool allowed;
        const char* message;
    };
    const Case cases[] = {
        {"", facts("bob", "192.0.2.7"), false, true, ""},
        {"DenyUsers eve bob", facts("bob", "192.0.2.7"), false, false,
         "User bob from 192.0.2.7 not allowed because listed in DenyUsers (a.conf:1)"},
        {"DenyUsers *@10.0.0.0/8", facts("bob", "192.0.2.7"), false, true, ""},
        {"DenyUsers *@10.0.0.0/8", facts("bob", "10.9.9.9"), false, false,
         "User bob from 10.9.9.9 not allowed because listed in DenyUsers (a.conf:1)"},
        {"AllowUsers alice\nAllowUsers b?b@192.0.2.*", facts("bob", "192.0.2.7"), false, true, ""},
        {"AllowUsers alice\nAllowUsers bob@10.0.0.0/8", facts("bob", "192.0.2.7"), false, false,
         "User bob from 192.0.2.7 not allowed because not listed in AllowUsers (a.conf:1)"},
        // DenyUsers is looked at before AllowUsers
        {"AllowUsers bob\nDenyUsers bob", facts("bob", "192.0.2.7"), false, false,
         "User bob from 192.0.2.7 not allowed because listed in DenyUsers (a.conf:2)"},
        {"AllowGroups staff", facts("bob", "192.0.2.7", {"bob", "staff"}), false, true, ""},
        {"AllowGroups staff", facts("bob", "192.0.2.7", {"bob"}), false, false,
         "User bob from 192.0.2.7 not allowed because none of user's groups are listed in AllowGroups (a.conf:1)"},
        {"AllowGroups staff", facts("bob", "192.0.2.7"), false, false,
         "User bob from 192.0.2.7 not allowed because not in any group (a.conf:1)"},
        {"AllowGroups st*\nDenyGroups interns", facts("bob", "192.0.2.7", {"staff", "interns"}), false, false,
         "User bob from 192.0.2.7 not allowed because a group is listed in DenyGroups (a.conf:2)"},
        // PermitRootLogin: only for uid 0
        {"PermitRootLogin no", facts("bob", "192.0.2.7"), false, true, ""},
        {"PermitRootLogin no", facts("root", "192.0.2.7"), true, false,
         "ROOT LOGIN REFUSED FROM 192.0.2.7 port 5555: PermitRootLogin no (a.conf:1)"},
        {"", facts("root", "192.0.2.7"), true, true, ""},
        {"PermitRootLogin yes", facts("root", "192.0.2.7"), true, true, ""},
        {"PermitRootLogin prohibit-password", facts("root", "192.0.2.7"), true, true, ""},
        {"PermitRootLogin forced-commands-only", facts("root", "192.0.2.7"), true, false,
         "ROOT LOGIN REFUSED FROM 192.0.2.7 port 5555: PermitRootLogin forced-commands-only (a.conf:1)"},
        {"PermitRootLogin forced-commands-only\nForceCommand /bin/backup", facts("root", "192.0.2.7"), true, true,
         "Root login accepted for forced command."},
        {"PermitRootLogin no\nMatch Address 192.0.2.0/24\n PermitRootLogin yes", facts("root", "192.0.2.7"), true, true, ""},
        {"PermitRootLogin yes\nMatch Address 192.0.2.0/24\n PermitRootLogin no", facts("root", "192.0.2.7"), true, false,
         "ROOT LOGIN REFUSED FROM 192.0.2.7 port 5555: PermitRootLogin no (a.conf:3)"},
    };
    for (const auto& k : cases) {
        INFO(k.config << " / " << *k.f.user);
        const auto c = good(k.config);
        const auto v = decide_access(effective_config(c, k.f), k.f, AccessFacts{k.root, 5555, false});
        CHECK(v.allowed == k.allowed);
        CHECK(v.message == k.message);
    }
    // The command= hook: a key with a forced command lets root in under forced-commands-only.
    const auto c = good("PermitRootLogin forced-commands-only");
    CHECK(decide_access(c.connection, facts("root", "192.0.2.7"), AccessFacts{true, 1, true}).allowed);
    CHECK(decide_access(c.connection, facts("root", "192.0.2.7"), AccessFacts{true, 1, true}).keyword.empty());
    const auto v = decide_access(c.connection, facts("root", "192.0.2.7"), AccessFacts{true, 1, false});
    CHECK(v.keyword == "PermitRootLogin");
    CHECK(v.where == twoway::Location{"a.conf", 1});
    // The default is reported as such.
    const auto d = decide_access(good("").connection, facts("root", "192.0.2.7"), AccessFacts{true, 1, false});
    CHECK(d.allowed);
}

TEST_CASE("access config: Include", "[config]") {
    MapReader reader;
    reader.files["/etc/twoway/conf.d/10-a.conf"] = "PermitRootLogin no\nMatch User x\n  PermitTTY no\n";
    reader.files["/etc/twoway/conf.d/20-b.conf"] = "PermitRootLogin yes\nAllowUsers z\nBogus 1\n";
    reader.files["/etc/twoway/inner.conf"] = "DisableForwarding yes\nMatch Address 10.0.0.0/8\n  PermitTTY no\n";
    reader.files["/abs/loop.conf"] = "Include /abs/loop.conf\n";
    auto r = parse_daemon_config("main.conf",
                                 "Include conf.d/*.conf\n"
                                 "AllowUsers y\n"  // after the include: still global (the included Match ended)
                                 "Include /nothing/*.conf\n"
                                 "Match Group g\n"
                                 "  Include inner.conf\n"
                                 "  PermitTTY yes\n",
                                 &reader);
    CHECK(errors_of(r) == std::vector<std::string>{"/etc/twoway/conf.d/20-b.conf:3: Bad configuration option: Bogus"});
    const auto& c = r.config;
    CHECK(c.connection.permit_root_login.value == PermitRootLogin::no);
    CHECK(c.connection.permit_root_login.where == twoway::Location{"/etc/twoway/conf.d/10-a.conf", 1});
    REQUIRE(c.connection.allow_users.size() == 2);
    CHECK(c.connection.allow_users[0].pattern == "z");
    CHECK(c.connection.allow_users[1].where == twoway::Location{"main.conf", 2});
    REQUIRE(c.matches.size() == 3);
    // inner.conf's first line belongs to the Match Group block it was included from; its own Match
    // applies only with that block's criteria too.
    CHECK(c.matches[1].settings.disable_forwarding.value);
    CHECK(c.matches[1].set[static_cast<std::size_t>(ConnectionKey::permit_tty)]);  // "PermitTTY yes" after the include
    CHECK(c.matches[1].settings.permit_tty.value);
    CHECK(format_match_criteria(c.matches[2].criteria) == "group g address 10.0.0.0/8");
    CHECK(c.matches[2].where == twoway::Location{"/etc/twoway/inner.conf", 2});

    auto loop = parse_daemon_config("main.conf", "Include /abs/loop.conf\n", &reader);
    REQUIRE_FALSE(loop.ok());
    CHECK(loop.errors[0].text() == "/abs/loop.conf:1: Include: too many recursive configuration includes (limit 16)");
}

TEST_CASE("access config: -T prints Match blocks and reads back the same", "[config]") {
    const auto c = good("PermitRootLogin forced-commands-only\nAllowUsers \"a b\" c@10.0.0.0/8\n"
                        "ForceCommand echo \"hi there\"\nSetEnv A=1 \"B=two words\"\nPermitService web\n"
                        "Match User x Address 10.0.0.0/8\n PermitTTY no\n AcceptEnv TZ\n");
    const std::string text = format_daemon_config(c);
    CHECK(text.find("permitrootlogin forced-commands-only\n") != std::string::npos);
    CHECK(text.find("forcecommand echo \"hi there\"\n") != std::string::npos);
    CHECK(text.find("match user x address 10.0.0.0/8\n    permittty no\n    acceptenv TZ\n") != std::string::npos);
    const auto back = good(text);
    CHECK(format_daemon_config(back) == text);
    CHECK(back.connection.allow_users.size() == 2);
    CHECK(back.connection.set_env == c.connection.set_env);
    // -T -C: one connection's configuration, Match applied, no Match lines.
    const auto p = effective_config(c, facts("x", "10.0.0.1"));
    const std::string one = format_connection_config(c, p);
    CHECK(one.find("permittty no\n") != std::string::npos);
    CHECK(one.find("match ") == std::string::npos);
}

TEST_CASE("access config: sshd -T -C connection specs", "[config]") {
    std::string error;
    auto f = parse_connection_spec("user=bob,addr=192.0.2.7,laddr=::1,lport=2222", error);
    CHECK(error.empty());
    CHECK(f.user == "bob");
    CHECK(f.address == ip("192.0.2.7"));
    CHECK(f.host == "192.0.2.7");  // no host=: the address's text
    CHECK(f.local_address == ip("::1"));
    CHECK(f.local_port == 2222);
    f = parse_connection_spec("user=bob,host=h.example,addr=192.0.2.7", error);
    CHECK(f.host == "h.example");
    const char* bad[] = {"user", "addr=nonsense", "lport=0", "lport=99999", "colour=blue", "rdomain=x", "laddr=1.2.3"};
    for (const char* b : bad) {
        INFO(b);
        (void)parse_connection_spec(b, error);
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("access config: Include reads real files through glob, in order", "[config]") {
    twoway_test::TempDir dir("twowayd-include");
    std::filesystem::create_directory(dir.file("conf.d"));
    dir.write("conf.d/20-b.conf", "AllowUsers b\n");
    dir.write("conf.d/10-a.conf", "AllowUsers a\nPermitRootLogin no\n");
    dir.write("conf.d/notes.txt", "Bogus\n");
    const std::string main = dir.write("twowayd.conf", "Include " + dir.file("conf.d") + "/*.conf " + dir.file("none") +
                                                           "/*.conf\nAllowUsers c\n");
    auto r = load_daemon_config(main);
    REQUIRE(errors_of(r) == std::vector<std::string>{});
    REQUIRE(r.config.connection.allow_users.size() == 3);
    CHECK(r.config.connection.allow_users[0].pattern == "a");
    CHECK(r.config.connection.allow_users[1].pattern == "b");
    CHECK(r.config.connection.allow_users[2].where == twoway::Location{main, 2});
    CHECK(r.config.connection.permit_root_login.where == twoway::Location{dir.file("conf.d/10-a.conf"), 2});
    // A directory that matches is not a file: its error names it.
    dir.write("d.conf", "Include " + dir.path() + "/conf.*\n");
    auto bad = load_daemon_config(dir.file("d.conf"));
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].text() == dir.file("d.conf") + ":1: Include: " + dir.file("conf.d") + ": cannot read: not a regular file");
}

TEST_CASE("access config: list keywords are capped in the whole file, so -T -C always reads back", "[config]") {
    // Two Match blocks that both apply add their lists up: with a cap per block, a connection's list
    // could pass the cap and -T -C would print a configuration that does not read back (found by the
    // daemon_config fuzz target).
    std::string groups;
    for (int i = 0; i < 200; ++i) groups += " g" + std::to_string(i);
    const std::string text = "Match all\n DenyGroups" + groups + "\nMatch User root\n DenyGroups" + groups + "\n";
    CHECK(only_error(text) == "a.conf:4: DenyGroups: too many patterns (limit 256 in the whole file, Match blocks included)");
    std::string names;
    for (int i = 0; i < 200; ++i) names += " V" + std::to_string(i);
    const auto c = good("Match all\n AcceptEnv" + names + "\nMatch User root\n AcceptEnv" + names + "\n");
    const auto p = effective_config(c, facts("root", "10.0.0.1"));
    // The rest dropped: narrower, never wider. The global default (LANG LC_*) counts while it stands.
    CHECK(p.accept_env.size() == 254);
    const std::string one = format_connection_config(c, p);
    const auto back = good(one);
    CHECK(format_connection_config(back, back.connection) == one);
}

TEST_CASE("access config: AcceptEnv's default counts toward the cap, so -T reads back with the default", "[config]") {
    // -T prints the global default as two explicit lines, which count when read back: a Match block
    // allowed the whole cap beside the default printed a file whose block lost its last two names
    // (found by the daemon_config fuzz target).
    std::string names;  // two lines of 150 (a line takes at most 256 arguments)
    for (int i = 0; i < 300; ++i) names += (i == 150 ? "\n AcceptEnv V" : " V") + std::to_string(i);
    const auto c = good("Match User alice\n AcceptEnv" + names + "\n");
    REQUIRE(c.matches.size() == 1);
    CHECK(c.matches[0].settings.accept_env.size() == 254);
    const std::string text = format_daemon_config(c);
    const auto back = good(text);
    CHECK(format_daemon_config(back) == text);
    // Set globally, the default is replaced and no longer counts.
    const auto g = good("AcceptEnv A\nMatch User alice\n AcceptEnv" + names + "\n");
    CHECK(g.connection.accept_env.size() == 1);
    REQUIRE(g.matches.size() == 1);
    CHECK(g.matches[0].settings.accept_env.size() == 255);
    CHECK(format_daemon_config(good(format_daemon_config(g))) == format_daemon_config(g));
}

TEST_CASE("access config: an empty AcceptEnv list prints as none, not as nothing (the default)", "[config]") {
    // A Match block whose AcceptEnv names all come past the file's cap has an empty list: -T -C printed no
    // acceptenv line for it, which reads back as the default LANG LC_* (found by the daemon_config fuzz
    // target). It prints "acceptenv none", which is also how an administrator turns the default off.
    std::string names;
    for (int i = 0; i < 254; ++i) names += " V" + std::to_string(i);
    const auto c = good("Match all\n AcceptEnv" + names + "\nMatch User root\n AcceptEnv X Y\n");
    REQUIRE(c.matches.size() == 2);
    CHECK(c.matches[1].settings.accept_env.empty());
    const std::string text = format_daemon_config(c);
    CHECK(text.find("\n    acceptenv none\n") != std::string::npos);
    CHECK(format_daemon_config(good(text)) == text);
    const auto p = effective_config(c, facts("alice", "10.0.0.1"));
    CHECK(p.accept_env.size() == 254);
    const auto none = good("AcceptEnv none\n");
    CHECK(none.connection.accept_env.empty());
    const std::string one = format_connection_config(none, none.connection);
    CHECK(one.find("acceptenv none\n") != std::string::npos);
    CHECK(format_connection_config(good(one), good(one).connection) == one);
    CHECK(good(one).connection.accept_env.empty());
}

TEST_CASE("access: a ForceCommand that starts with '=' reads back from -T as itself", "[config]") {
    // "ForceCommand= =/T" gives "=/T" (the first '=' is the separator, sshd's rule); printed as
    // "forcecommand =/T" it read back as "/T" (found by fuzz_daemon_config's round-trip invariant).
    const auto c = good("ForceCommand= =/T\n");
    REQUIRE(c.connection.force_command);
    CHECK(c.connection.force_command->value == "=/T");
    const std::string text = format_daemon_config(c);
    CHECK(text.find("forcecommand= =/T\n") != std::string::npos);
    const auto again = good(text);
    REQUIRE(again.connection.force_command);
    CHECK(again.connection.force_command->value == "=/T");
    CHECK(format_daemon_config(again) == text);
}

TEST_CASE("access: ForceCommand's value starts where the tokenizer ends the keyword, at a quote too", "[config]") {
    // The tokenizer (config_syntax.cpp, as OpenSSH's strdelim) ends a keyword at a blank, '=' or '"'; the
    // rest of the line used to end it at a blank or '=' only, so 'ForceCommand"a b"c' took the quote and
    // what followed for part of the keyword, and -T's text did not read back the same (fuzz_daemon_config).
    const auto c = good("ForceCommand\"a b\"c\n");
    REQUIRE(c.connection.force_command);
    CHECK(c.connection.force_command->value == "\"a b\"c");
    const std::string text = format_daemon_config(c);
    const auto again = good(text);
    REQUIRE(again.connection.force_command);
    CHECK(again.connection.force_command->value == "\"a b\"c");
    CHECK(format_daemon_config(again) == text);
}

TEST_CASE("access: PermitRootLogin for a password login lets root in with yes only", "[config]") {
    const auto f = facts("root", "192.0.2.7");
    CHECK(decide_root_password_login(good("PermitRootLogin yes").connection, f, true, 1).allowed);
    for (const char* v : {"prohibit-password", "without-password", "forced-commands-only", "no"}) {
        INFO(v);
        const DaemonConfig c = good(std::string("PermitRootLogin ") + v);
        const auto verdict = decide_root_password_login(c.connection, f, true, 4242);
        CHECK_FALSE(verdict.allowed);
        CHECK(verdict.keyword == "PermitRootLogin");
        CHECK(verdict.message.find("ROOT LOGIN REFUSED FROM 192.0.2.7 port 4242") == 0);
    }
    // The default (prohibit-password) refuses root by password, even with a ForceCommand.
    CHECK_FALSE(decide_root_password_login(good("ForceCommand true").connection, f, true, 1).allowed);
    // Anyone but root: PermitRootLogin has nothing to say.
    CHECK(decide_root_password_login(good("PermitRootLogin no").connection, facts("alice", "192.0.2.7"), false, 1).allowed);
}

TEST_CASE("access: PasswordAuthentication in Match blocks, the first applying one winning", "[config]") {
    const DaemonConfig off_but = good("PasswordAuthentication no\nMatch User alice\n PasswordAuthentication yes\n"
                                      "Match User alice,bob\n PasswordAuthentication no\n");
    CHECK(effective_password_authentication(off_but, facts("alice", "192.0.2.7")));
    CHECK_FALSE(effective_password_authentication(off_but, facts("bob", "192.0.2.7")));
    CHECK_FALSE(effective_password_authentication(off_but, facts("carol", "192.0.2.7")));
    CHECK(password_authentication_anywhere(off_but));

    const DaemonConfig on_but = good("PasswordAuthentication yes\nMatch Address 10.0.0.0/8\n PasswordAuthentication no\n");
    CHECK(effective_password_authentication(on_but, facts("alice", "192.0.2.7")));
    CHECK_FALSE(effective_password_authentication(on_but, facts("alice", "10.1.2.3")));
    CHECK(password_authentication_anywhere(on_but));

    const DaemonConfig never = good("Match User alice\n PasswordAuthentication no\n");
    CHECK_FALSE(password_authentication_anywhere(never));
    CHECK_FALSE(effective_password_authentication(never, facts("alice", "192.0.2.7")));
    CHECK(only_error("Match all\n PasswordAuthentication maybe\n") ==
          "a.conf:2: PasswordAuthentication: unsupported option \"maybe\" (expected yes or no)");

    // -T prints the block's value inside the block, and reads back the same.
    const std::string text = format_daemon_config(off_but);
    CHECK(text.find("match user alice\n") != std::string::npos);
    CHECK(text.find("    passwordauthentication yes\n") != std::string::npos);
    CHECK(text.find("    passwordauthentication no\n") != std::string::npos);
    const DaemonConfig again = good(text);
    CHECK(effective_password_authentication(again, facts("alice", "192.0.2.7")));
    CHECK_FALSE(effective_password_authentication(again, facts("bob", "192.0.2.7")));
}
