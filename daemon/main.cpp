// twowayd: the twoway daemon. Flags follow sshd's: -f config, -p port, -h host_key, -D (do not
// detach), -d (debug: foreground, DEBUG level, stderr), -e (log to stderr), -t (test the configuration
// and the host keys, then exit), -T (the same, then print the effective configuration).
// docs/twowayd.md is the reference.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "access.hpp"
#include "account.hpp"
#include "policy.hpp"
#include "descriptors.hpp"
#include "log.hpp"
#include "notify.hpp"
#include "pam.hpp"
#include "passwd_serve.hpp"
#include "server.hpp"
#include "settings.hpp"

#ifndef TWOWAYD_VERSION
#define TWOWAYD_VERSION "unknown"
#endif

namespace {

using namespace twowayd;

struct Flags {
    std::string config_path{twowayd::default_daemon_config_path};
    std::vector<int> ports;
    std::vector<std::string> host_keys;
    bool no_detach = false;
    int debug = 0;
    bool log_stderr = false;
    bool test = false;
    bool extended_test = false;  // -T: -t, then print the effective configuration
    std::string connection_spec;  // -C: the connection -T prints the configuration for
};

// The user's group names, for Match Group and AllowGroups in -T -C (as sshd looks them up).
std::vector<std::string> group_names_of(const std::string& user) {
    std::string why;
    auto account = lookup_account(user, why);
    if (!account) return {};
    return account_group_names(*account);
}

// -T -C: the configuration that applies to the connection, and the access verdict on stderr.
int print_connection_config(const Settings& settings, const std::string& spec) {
    std::string error;
    ConnectionFacts facts = parse_connection_spec(spec, error);
    if (!error.empty()) {
        std::fprintf(stderr, "twowayd: -C: %s\n", error.c_str());
        return 1;
    }
    if (facts.user) facts.groups = group_names_of(*facts.user);
    std::vector<twoway::Location> applied;
    const ConnectionConfig policy = effective_config(settings.config, facts, &applied);
    for (const auto& where : applied) std::fprintf(stderr, "Match block applies: %s\n", where.text().c_str());
    // PasswordAuthentication is a global keyword in DaemonConfig that Match may set too: print its effect.
    DaemonConfig config = settings.config;
    config.password_authentication = effective_password_authentication(settings.config, facts);
    const std::string text = format_connection_config(config, policy);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (facts.user) {
        std::string why;
        const auto account = lookup_account(*facts.user, why);
        const AccessVerdict v = decide_access(policy, facts, AccessFacts{account && account->uid == 0, 0, false});
        if (!v.allowed) {
            std::fprintf(stderr, "access: refused: %s\n", v.message.c_str());
        } else {
            std::fprintf(stderr, "access: allowed%s%s\n", v.message.empty() ? "" : ": ", v.message.c_str());
        }
    }
    return 0;
}

// As sshd's sanitise_stdfd: descriptors 0-2 must be open, or the first pipe or socket we create could
// land on one and be clobbered by a child's dup2.
void sanitise_stdfd() {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFL) == -1) (void)::dup2(null, fd);
    }
    if (null > 2) ::close(null);
}

// sshd's daemonize: fork, new session, fork again (so we can never regain a terminal), chdir /, stdio
// to /dev/null. Asio is told, so that its epoll and signal descriptors are renewed in the child.
bool detach(asio::io_context& io) {
    io.notify_fork(asio::io_context::fork_prepare);
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid > 0) ::_exit(0);
    if (::setsid() < 0) ::_exit(1);
    pid = ::fork();
    if (pid < 0) ::_exit(1);
    if (pid > 0) ::_exit(0);
    io.notify_fork(asio::io_context::fork_child);
    if (::chdir("/") != 0) return false;
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0) return false;
    (void)::dup2(null, 0);
    (void)::dup2(null, 1);
    (void)::dup2(null, 2);
    if (null > 2) ::close(null);
    return true;
}

// The daemon changes to / when it detaches and re-reads its files on SIGHUP, so relative paths from
// the command line are made absolute first.
std::string absolute(const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
    return std::string(cwd) + "/" + path;
}

bool write_pid_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return false;
    const std::string text = std::to_string(::getpid()) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

LogLevel debug_level(int count) {
    if (count >= 3) return LogLevel::debug3;
    if (count == 2) return LogLevel::debug2;
    return LogLevel::debug1;
}

int run(const Flags& flags) {
    Overrides overrides;
    for (int p : flags.ports) overrides.ports.push_back(static_cast<std::uint16_t>(p));
    for (const auto& k : flags.host_keys) overrides.host_keys.push_back(absolute(k));
    // -t names the file as it was given; a running daemon needs the absolute path.
    const bool testing = flags.test || flags.extended_test;
    const std::string config_path = testing ? flags.config_path : absolute(flags.config_path);

    const bool foreground = flags.no_detach || flags.debug > 0;
    const bool to_stderr = foreground || flags.log_stderr || testing;
    log_open(to_stderr ? LogSink::stderr_sink : LogSink::syslog_sink,
             flags.debug > 0 ? debug_level(flags.debug) : LogLevel::info);
    log_tee_errors(!to_stderr);

    auto loaded = load_settings(config_path, overrides, !testing);
    if (testing) {
        // Every problem, each with its file (and line), on stderr; the exit status says good or bad.
        for (const auto& p : loaded.problems) std::fprintf(stderr, "%s\n", p.c_str());
        for (const auto& w : loaded.warnings) std::fprintf(stderr, "%s\n", w.c_str());
        for (const auto& n : loaded.notes) std::fprintf(stderr, "%s\n", n.c_str());
        if (flags.extended_test && loaded.settings && !flags.connection_spec.empty()) {
            if (print_connection_config(*loaded.settings, flags.connection_spec) != 0) return 1;
        } else if (flags.extended_test && loaded.settings) {
            const std::string text = twowayd::format_daemon_config(loaded.settings->config);
            std::fwrite(text.data(), 1, text.size(), stdout);
        }
        return loaded.settings && loaded.warnings.empty() ? 0 : 1;
    }
    if (!loaded.settings) {
        for (const auto& p : loaded.problems) log_error(p);
        log_fatal(config_path, ": terminating, ", loaded.problems.size(), " configuration problem(s)");
        return 1;
    }
    if (flags.debug == 0) log_set_level(loaded.settings->config.log_level);
    log_set_facility(loaded.settings->config.syslog_facility);
    log_debug("twowayd version ", TWOWAYD_VERSION, ", config ", config_path);
    // Every connection, session and pipe draws on one descriptor limit: take all the hard limit allows.
    const DescriptorLimit fds = raise_descriptor_limit();
    if (fds.now != fds.before) {
        log_debug("RLIMIT_NOFILE: soft limit raised from ", fds.before, " to ", fds.now, " (sessions get ",
                  fds.before, ")");
    } else {
        log_debug("RLIMIT_NOFILE: soft limit ", fds.now, " (the hard limit is ", fds.hard, ")");
    }
    for (const auto& w : loaded.warnings) log_error(w);
    for (const auto& n : loaded.notes) log_info(n);

    // $NOTIFY_SOCKET is taken (and removed from the environment) before anything is started.
    notify_init();
    asio::io_context io(1);
    ServerOptions options{config_path, overrides, flags.debug > 0};
    Server server(io, std::move(options), loaded.settings);
    if (!server.listen()) return 1;
    if (!foreground) {
        if (!detach(io)) {
            log_fatal("cannot detach: ", errno_text(errno));
            return 1;
        }
        log_tee_errors(false);
    }
    // PidFile: written once detached (in the foreground, -D or -d, none: a supervisor knows the PID, and
    // foreground runs side by side must not overwrite each other's). Removed on a clean exit.
    const std::string& pid_file = loaded.settings->config.pid_file;
    const bool write_pid = !foreground && pid_file != "none";
    if (write_pid && !write_pid_file(pid_file)) log_error("cannot write PID file ", pid_file, ": ", errno_text(errno));
    server.start();
    // Listening (and detached, so this is the PID to watch): systemd's Type=notify start is complete.
    (void)notify_service_manager("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\nSTATUS=Listening");
    io.run();
    if (write_pid) (void)::unlink(pid_file.c_str());
    log_info("twowayd exiting.");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    sanitise_stdfd();
    // Host and session keys live in this process: no core dumps, no ptrace by the same user (sshd does
    // the same). Sessions' children are ordinary again after their execve.
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // Writes to a child's closed pipe must fail with EPIPE, not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    // The hidden modes (pam.hpp, docs/ARCHITECTURE.md): twowayd executed again by itself, so that PAM
    // runs in a single-threaded process of its own. Not options for users.
    if (argc >= 2 && argv[1] == pam_account_mode) return pam_account_main(argc, argv);
    if (argc >= 2 && argv[1] == pam_session_mode) return pam_session_main(argc, argv);
    if (argc >= 2 && argv[1] == passwd_serve_mode) return passwd_serve_main(argc, argv);

    Flags flags;
    CLI::App app{"twowayd: the twoway daemon (SSH-style mutual authentication)", "twowayd"};
    app.set_help_flag("--help", "Print this help message and exit");  // -h is the host key, as in sshd
    app.set_version_flag("-V,--version", std::string("twowayd ") + TWOWAYD_VERSION);
    app.add_option("-f", flags.config_path, "Configuration file (default /etc/twoway/twowayd.conf)")
        ->type_name("FILE");
    app.add_option("-p", flags.ports, "Listen on this port instead of the configured Port (repeatable; 0: any free "
                                      "port, logged)")
        ->type_name("PORT")
        ->check(CLI::Range(0, 65535))
        ->allow_extra_args(false);
    app.add_option("-h", flags.host_keys, "Host key file, instead of the configured HostKey (repeatable)")
        ->type_name("FILE")
        ->allow_extra_args(false);
    app.add_flag("-D", flags.no_detach, "Do not detach; log to stderr");
    app.add_flag("-d", flags.debug, "Debug: do not detach, log at DEBUG level to stderr (repeat for more)");
    app.add_flag("-e", flags.log_stderr, "Log to stderr instead of syslog");
    app.add_flag("-t", flags.test, "Test the configuration, the host keys and the RevokedKeys files, print every problem and exit");
    app.add_flag("-T", flags.extended_test,
                 "Extended test: as -t, then print the effective configuration (one lower-case keyword per line) and exit");
    app.add_option("-C", flags.connection_spec,
                   "With -T: print the configuration for this connection, as sshd -T -C "
                   "(user=U,host=H,addr=A,laddr=L,lport=P), and the access verdict on stderr")
        ->type_name("SPEC");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "twowayd: %s\n", e.what());
        std::fprintf(stderr, "usage: twowayd [-DdeTtV] [-C connection_spec] [-f config_file] [-h host_key_file] [-p port]\n");
        return 1;
    }
    if (!flags.connection_spec.empty() && !flags.extended_test) {
        std::fprintf(stderr, "twowayd: -C is only for the extended test mode (-T)\n");
        return 1;
    }
    return run(flags);
}
