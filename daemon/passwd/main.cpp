// twoway-passwd: password records for twoway's password mode (OPAQUE, issue 17). docs/twoway-passwd.md.
//   twoway-passwd --local USER [-f twowayd.conf] [--ksf-ops N --ksf-mem KIB]   register or change
//   twoway-passwd --delete USER [-f twowayd.conf]                              remove
// Run by root on the server: the person types the new password on the console (/dev/tty), both halves of
// OPAQUE's registration run here, and only the record (never the password, nor a fast hash of it) is
// written, to twowayd's OpaqueRecords directory, under twowayd's OpaqueKey (created on first use).
//
// It lives beside twowayd, not with the client's tools, because --local is the server's side: it reads
// twowayd.conf (the daemon's config parser) and writes the daemon's files. The remote form
// (`twoway-passwd user@host` over a key session) will be a client of the same program.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <twoway/password.hpp>
#include <twoway/random.hpp>
#include <twoway/text.hpp>

#include "daemon_config.hpp"
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

int set_password(const Files& files, const std::string& user, const twoway::PasswordKsf& ksf) {
    if (::getpwnam(user.c_str()) == nullptr) return fail_msg("no such account: " + twoway::quoted(user));

    twoway_passwd::Tty tty;
    if (!tty.ok()) return fail_msg("a terminal is needed to type the password (/dev/tty: " + tty.error().message() + ")");
    auto first = tty.read_secret("New password for " + twoway::terminal_text(user, twoway::Charset::ascii) + ": ");
    if (!first) {
        return fail_msg(first.error() == errc::length_too_large
                            ? "password too long (at most " + std::to_string(twoway_passwd::max_password) + " bytes)"
                            : std::string("no password read"));
    }
    if (first->empty()) return fail_msg("empty password refused; nothing changed");
    auto second = tty.read_secret("Retype new password: ");
    if (!second || !(*second == *first)) return fail_msg("passwords do not match; nothing changed");

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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"twoway-passwd: password records for twoway's password mode (OPAQUE)", "twoway-passwd"};
    app.footer("Run as root on the server. The password is read twice from the terminal (/dev/tty).\n"
               "Details: docs/twoway-passwd.md");
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
    l->excludes(d);
    d->excludes(o)->excludes(m);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& err) {
        return app.exit(err);
    }
    if (l->count() == 0 && d->count() == 0) return fail_msg("give --local USER or --delete USER (see --help)");
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
