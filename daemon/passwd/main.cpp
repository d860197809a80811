// twoway-passwd: password records for twoway's password mode (OPAQUE, issue 17). docs/twoway-passwd.md.
//   twoway-passwd [-S PROGRAM] [-p PORT] [-F FILE] [-i FILE] [-o OPTION] [--remove] [user@]host
//                                                                  register, change or remove, remotely
//   twoway-passwd --local USER [-f twowayd.conf] [--ksf-ops N --ksf-mem KIB]   register or change, as root
//   twoway-passwd --delete USER [-f twowayd.conf]                              remove, as root
// --local and --delete run on the server: the person types the new password on the console (/dev/tty),
// both halves of OPAQUE's registration run here, and only the record (never the password, nor a fast
// hash of it) is written, to twowayd's OpaqueRecords directory, under twowayd's OpaqueKey (created on
// first use). The remote form runs the client's half only: it starts twoway (as sftp starts ssh) with
// the subsystem twoway-passwd, which twowayd serves itself for the account the session authenticated
// (PROTOCOL.md 16), and speaks the exchange on twoway's standard input and output.
//
// It lives beside twowayd because --local is the server's side: it reads twowayd.conf (the daemon's
// config parser) and writes the daemon's files.
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

#include <CLI/CLI.hpp>

#include <twoway/password.hpp>
#include <twoway/random.hpp>
#include <twoway/text.hpp>

#include "daemon_config.hpp"
#include "fd_io.hpp"
#include "tty.hpp"

namespace {

using twoway::errc;

int fail_msg(const std::string& msg) {
    std::fprintf(stderr, "twoway-passwd: %s\n", msg.c_str());
    return 1;
}

std::string why(const std::error_code& ec) {
    if (ec == errc::insecure_permissions) {
        return "permissions or owner are unsafe (a file must be the owner's only, mode 0600, a directory 0700, "
               "both owned by root)";
    }
    if (ec == errc::length_too_large) return "file too large";
    if (ec == errc::invalid_argument) return "not a regular file";
    if (ec == errc::bad_key_format) return "not a file of this kind (or a version this program does not know)";
    if (ec == errc::corrupt_key_file) return "damaged (checksum mismatch)";
    return ec.message();
}

int fail_path(const std::string& path, const std::error_code& ec) { return fail_msg(path + ": " + why(ec)); }

std::string record_path(const std::string& dir, const std::string& user) {
    return dir + (dir.ends_with('/') ? "" : "/") + user;
}

struct Files {
    std::string opaque_key;
    std::string opaque_records;
};

// OpaqueKey and OpaqueRecords from twowayd.conf: the file -f names (which must be readable), or the
// default one if it exists, or the defaults.
std::optional<Files> config_files(const std::optional<std::string>& config_path) {
    std::string path = config_path.value_or(std::string(twowayd::default_daemon_config_path));
    if (!config_path && ::access(path.c_str(), F_OK) != 0) {
        return Files{std::string(twoway::default_opaque_key_path), std::string(twoway::default_opaque_records_dir)};
    }
    auto r = twowayd::load_daemon_config(path);
    if (!r.ok()) {
        for (const auto& e : r.errors) std::fprintf(stderr, "twoway-passwd: %s\n", twoway::log_text(e.text()).c_str());
        return std::nullopt;
    }
    return Files{r.config.opaque_key, r.config.opaque_records};
}

// The new password, typed twice on the terminal; nothing (the error printed) when it cannot be had.
std::optional<twoway::SecretBuffer> new_password(const std::string& prompt, const std::string& again) {
    twoway_passwd::Tty tty;
    if (!tty.ok()) {
        fail_msg("a terminal is needed to type the password (/dev/tty: " + tty.error().message() + ")");
        return std::nullopt;
    }
    auto first = tty.read_secret(prompt);
    if (!first) {
        fail_msg(first.error() == errc::length_too_large
                     ? "password too long (at most " + std::to_string(twoway_passwd::max_password) + " bytes)"
                     : std::string("no password read"));
        return std::nullopt;
    }
    if (first->empty()) {
        fail_msg("empty password refused; nothing changed");
        return std::nullopt;
    }
    auto second = tty.read_secret(again);
    if (!second || !(*second == *first)) {
        fail_msg("passwords do not match; nothing changed");
        return std::nullopt;
    }
    return std::move(*first);
}

int set_password(const Files& files, const std::string& user, const twoway::PasswordKsf& ksf) {
    if (::getpwnam(user.c_str()) == nullptr) return fail_msg("no such account: " + twoway::quoted(user));
    auto first = new_password("New password for " + twoway::terminal_text(user, twoway::Charset::ascii) + ": ",
                              "Retype new password: ");
    if (!first) return 1;

    bool created = false;
    auto key = twoway::load_or_create_opaque_key(files.opaque_key, twoway::system_rng(), &created);
    if (!key) return fail_path(files.opaque_key, key.error());
    if (created) std::fprintf(stderr, "Created the OPAQUE key %s\n", files.opaque_key.c_str());

    // Argon2id runs here, at the client's cost (the server never runs it): seconds at the defaults.
    auto record = twoway::register_password(*key, user, first->span(), ksf, twoway::system_rng());
    if (!record) return fail_msg("registration failed: " + record.error().message());
    const std::string path = record_path(files.opaque_records, user);
    const bool existed = ::access(path.c_str(), F_OK) == 0;
    if (auto s = twoway::save_password_record(files.opaque_records, user, *record); !s) {
        return fail_path(s.error() == errc::insecure_permissions ? files.opaque_records : path, s.error());
    }
    std::printf("%s %s (%s)\n", existed ? "Changed the password of" : "Registered a password for", user.c_str(),
                path.c_str());
    return 0;
}

int delete_password(const Files& files, const std::string& user) {
    const std::string path = record_path(files.opaque_records, user);
    auto s = twoway::delete_password_record(files.opaque_records, user);
    if (!s && s.error() == std::errc::no_such_file_or_directory && ::access(files.opaque_records.c_str(), F_OK) == 0) {
        return fail_msg("no password record for " + user + " (" + path + ")");
    }
    if (!s) return fail_path(s.error() == errc::insecure_permissions ? files.opaque_records : path, s.error());
    std::printf("Removed the password of %s (%s)\n", user.c_str(), path.c_str());
    return 0;
}

// ---- the remote form ------------------------------------------------------------------------------------

struct Remote {
    std::string destination;  // [user@]host, as twoway takes it
    std::string program = "twoway";
    std::vector<std::string> twoway_options;  // -p, -F, -i, -o, passed on in order
    bool remove = false;
};

// twoway with its standard input and output on pipes (standard error stays ours: its one-line errors
// and prompts reach the person as they would from twoway itself).
class Transport {
public:
    Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;
    ~Transport() {
        close_input();
        if (out_ >= 0) ::close(out_);
        (void)wait();
    }

    bool start(const Remote& r) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0) return false;
        if (::pipe2(out, O_CLOEXEC) != 0) {
            ::close(in[0]);
            ::close(in[1]);
            return false;
        }
        // As scp and sftp start ssh: no terminal, no forwarding, the subsystem by name.
        std::vector<std::string> args{r.program, "-oRequestTTY=no", "-oClearAllForwardings=yes"};
        args.insert(args.end(), r.twoway_options.begin(), r.twoway_options.end());
        args.insert(args.end(), {"-s", "--", r.destination, std::string(twoway::password_subsystem)});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        const int rc = ::posix_spawnp(&pid_, r.program.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        in_ = in[1];
        out_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            errno = rc;
            return false;
        }
        return true;
    }

    bool send(std::span<const std::byte> bytes) { return twoway_common::write_all(in_, bytes); }

    // Exactly n bytes (false at end of file first: twoway ended, or the server ended the exchange).
    bool receive(std::byte* to, std::size_t n) { return twoway_common::read_exact(out_, std::span(to, n)); }

    void close_input() {
        if (in_ >= 0) ::close(in_);
        in_ = -1;
    }

    // twoway's exit status (255 for its own failures, as ssh's); -1 if it did not run or was killed.
    int wait() {
        if (pid_ < 0) return status_;
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return status_;
    }

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    int status_ = -1;
};

// The server's answer ended early or made no sense. twoway has said why when it failed itself (status
// 255: the connection, the host key, authentication, a refused request): then only its status is ours.
int no_answer(Transport& t, const std::string& host, const std::string& what) {
    t.close_input();
    const int status = t.wait();
    if (status == 255) return 255;
    return fail_msg(what + " from " + host + " (does its twowayd serve twoway-passwd?)");
}

// DONE or REFUSED, said in one line.
int report(std::byte type_byte, std::byte code_byte, const std::string& host, const std::string& account) {
    const auto type = static_cast<twoway::PasswordMessage>(type_byte);
    const auto code = static_cast<std::uint8_t>(code_byte);
    const std::string who = account.empty() ? std::string("the account") : account;
    if (type == twoway::PasswordMessage::done) {
        switch (static_cast<twoway::PasswordDone>(code)) {
            case twoway::PasswordDone::registered:
                std::printf("Registered a password for %s on %s\n", who.c_str(), host.c_str());
                return 0;
            case twoway::PasswordDone::changed:
                std::printf("Changed the password of %s on %s\n", who.c_str(), host.c_str());
                return 0;
            case twoway::PasswordDone::removed:
                std::printf("Removed the password of %s on %s\n", who.c_str(), host.c_str());
                return 0;
        }
    } else if (type == twoway::PasswordMessage::refused) {
        switch (static_cast<twoway::PasswordRefusal>(code)) {
            case twoway::PasswordRefusal::mode_off:
                return fail_msg(host + " refused: password login is off for this account (PasswordAuthentication)");
            case twoway::PasswordRefusal::not_permitted:
                return fail_msg(host + " refused: root may not log in by password there (PermitRootLogin)");
            case twoway::PasswordRefusal::no_record:
                return fail_msg("no password to remove for this account on " + host);
            case twoway::PasswordRefusal::server_failure:
                return fail_msg(host + " could not read or store the password record (its log says why)");
        }
    }
    return fail_msg("unexpected answer from " + host);
}

int outcome(Transport& t, const std::string& host, const std::string& account) {
    std::array<std::byte, twoway::password_outcome_message_size> m{};
    if (!t.receive(m.data(), m.size())) return no_answer(t, host, "no answer");
    t.close_input();
    (void)t.wait();
    return report(m[0], m[1], host, account);
}

int remote(const Remote& r) {
    // The host as the person named it (the account comes from the server's answer).
    const std::string host =
        twoway::terminal_text(r.destination.substr(r.destination.rfind('@') + 1), twoway::Charset::ascii);
    std::optional<twoway::PasswordRegistrationClient> client;
    if (!r.remove) {
        auto first = new_password("New twoway password for " + host + ": ", "Retype new twoway password: ");
        if (!first) return 1;
        auto started = twoway::PasswordRegistrationClient::start(first->span(), twoway::system_rng());
        if (!started) return fail_msg("cannot start the registration: " + started.error().message());
        client.emplace(std::move(*started));
    }

    Transport t;
    if (!t.start(r)) return fail_msg("cannot run " + r.program + ": " + std::strerror(errno));
    if (r.remove) {
        const std::array<std::byte, 1> m{std::byte{static_cast<std::uint8_t>(twoway::PasswordMessage::remove)}};
        if (!t.send(m)) return no_answer(t, host, "no answer");
        return outcome(t, host, std::string());
    }
    if (!t.send(client->register_message())) return no_answer(t, host, "no answer");

    // RESPONSE (its size is in its second byte), or REFUSED.
    std::array<std::byte, twoway::password_response_max_size> buf{};
    if (!t.receive(buf.data(), 2)) return no_answer(t, host, "no answer");
    if (static_cast<twoway::PasswordMessage>(buf[0]) != twoway::PasswordMessage::response) {
        // REFUSED (or garbage): those are two bytes, already read.
        t.close_input();
        (void)t.wait();
        return report(buf[0], buf[1], host, std::string());
    }
    const std::size_t size = twoway::password_response_fixed_size + static_cast<std::uint8_t>(buf[1]);
    if (!t.receive(buf.data() + 2, size - 2)) return no_answer(t, host, "a short answer");
    auto response = twoway::parse_password_response(std::span<const std::byte>(buf.data(), size));
    if (!response) return no_answer(t, host, "a malformed answer (" + response.error().message() + ")");
    const std::string account = twoway::terminal_text(response->account, twoway::Charset::ascii);
    // Argon2id at the server's cost for the record (the login will run the same): seconds by default.
    auto record = client->finish(*response, twoway::system_rng());
    if (!record) {
        t.close_input();
        (void)t.wait();
        return fail_msg("cannot seal the record: " + record.error().message() + "; nothing changed");
    }
    if (!t.send(record->span())) return no_answer(t, host, "no answer");
    return outcome(t, host, account);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"twoway-passwd: password records for twoway's password mode (OPAQUE)", "twoway-passwd"};
    app.footer("With [user@]host: over twoway, for the account you log in as. --local and --delete: as root on\n"
               "the server. The password is read twice from the terminal (/dev/tty). Details: docs/twoway-passwd.md");
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("twoway-passwd: ") + e.what() + " (see --help)\n";
    });
    std::string local, del, config;
    const auto defaults = twoway::default_password_ksf();
    std::uint64_t ops = defaults.opslimit, mem = defaults.memlimit_kib;
    auto* l = app.add_option("--local", local, "Register (or change) the password of the account USER")->option_text("USER");
    auto* d = app.add_option("--delete", del, "Remove the password of the account USER")->option_text("USER");
    auto* f = app.add_option("-f", config, "twowayd's configuration, for OpaqueKey and OpaqueRecords "
                                           "(default /etc/twoway/twowayd.conf if it exists)")->option_text("FILE");
    auto* o = app.add_option("--ksf-ops", ops, "Argon2id passes for the new record (default 3; for tests and "
                                               "low-memory machines)")->option_text("N");
    auto* m = app.add_option("--ksf-mem", mem, "Argon2id memory in KiB for the new record (default 262144, "
                                               "256 MiB; for tests and low-memory machines)")->option_text("KIB");
    Remote remote_args;
    std::string port, ssh_config;
    std::vector<std::string> identities, options;
    auto* dest = app.add_option("destination", remote_args.destination,
                                "[user@]host: register or change your password there, over twoway")->option_text("[user@]host");
    auto* rm = app.add_flag("--remove", remote_args.remove, "With [user@]host: remove your password there");
    auto* S = app.add_option("-S", remote_args.program, "The program for the connection (default twoway)")->option_text("PROGRAM");
    auto* P = app.add_option("-p", port, "Passed to twoway: the port")->option_text("PORT");
    auto* F = app.add_option("-F", ssh_config, "Passed to twoway: its configuration file")->option_text("FILE");
    // One value per occurrence (a vector option would swallow the destination after it).
    auto* I = app.add_option("-i", identities, "Passed to twoway: an identity file (repeatable)")
                  ->option_text("FILE")->allow_extra_args(false);
    auto* O = app.add_option("-o", options, "Passed to twoway: an option (repeatable)")
                  ->option_text("OPTION")->allow_extra_args(false);
    l->excludes(d)->excludes(dest);
    d->excludes(o)->excludes(m)->excludes(dest);
    dest->excludes(o)->excludes(m)->excludes(f);
    for (auto* opt : {rm, S, P, F, I, O}) opt->needs(dest);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& err) {
        return app.exit(err);
    }
    if (dest->count() != 0) {
        // twoway's own options, in the order ssh's documentation gives them.
        if (P->count() != 0) remote_args.twoway_options.insert(remote_args.twoway_options.end(), {"-p", port});
        if (F->count() != 0) remote_args.twoway_options.insert(remote_args.twoway_options.end(), {"-F", ssh_config});
        for (const auto& i : identities) remote_args.twoway_options.insert(remote_args.twoway_options.end(), {"-i", i});
        for (const auto& opt : options) remote_args.twoway_options.insert(remote_args.twoway_options.end(), {"-o", opt});
        if (remote_args.destination.empty() || remote_args.destination.front() == '-') {
            return fail_msg("invalid destination " + twoway::quoted(remote_args.destination));
        }
        // A server's answer must not end us while we write (twoway gone): EPIPE is an error like any other.
        std::signal(SIGPIPE, SIG_IGN);
        return remote(remote_args);
    }
    if (l->count() == 0 && d->count() == 0) {
        return fail_msg("give [user@]host, --local USER or --delete USER (see --help)");
    }
    const std::string& user = l->count() != 0 ? local : del;
    if (!twoway::valid_password_account(user)) {
        return fail_msg("invalid account name " + twoway::quoted(user) +
                        " (no '/', no control characters, not starting with '.' or '-')");
    }
    if (::geteuid() != 0) return fail_msg("must be run as root (the records and the key are root's)");
    const twoway::PasswordKsf ksf{ops, mem};
    if (!twoway::valid_password_ksf(ksf)) {
        return fail_msg("--ksf-ops must be 1..16 and --ksf-mem 8..1048576 (KiB)");
    }
    auto files = config_files(f->count() != 0 ? std::optional<std::string>(config) : std::nullopt);
    if (!files) return 1;
    return l->count() != 0 ? set_password(*files, user, ksf) : delete_password(*files, user);
}
