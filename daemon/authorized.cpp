#include "authorized.hpp"

#include "decision_pool.hpp"
#include "keys_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>

#include <twoway/file.hpp>

#include "holding_lines.hpp"
#include "log.hpp"

namespace twowayd {

namespace {

// realpath(3) into a std::string; nothing on failure (errno set).
std::optional<std::string> real_path(const std::string& path) {
    char* r = ::realpath(path.c_str(), nullptr);
    if (r == nullptr) return std::nullopt;
    std::string out(r);
    std::free(r);
    return out;
}

bool bad_owner_or_mode(const struct stat& st, uid_t uid) {
    return (st.st_uid != 0 && st.st_uid != uid) || (st.st_mode & 022) != 0;
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// What identifies one version of a file: replaced (inode), rewritten in place (size, times) or not.
struct FileVersion {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

std::optional<FileVersion> version_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    const auto ns = [](const struct timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
    return FileVersion{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

// The lists as last parsed, read again only when the file changed, so that a client that gets as far
// as authentication (any key will do) cannot make the daemon parse a large list on every attempt. A
// list is kept only when the file was the same before and after the reading, and its times are more
// than two seconds old: file times move in coarse steps, so two writes close together could otherwise
// leave the same times and size behind (git's "racily clean" problem). An unusable list is never kept.
std::shared_ptr<const twoway::RevocationFile> revocation_file(const std::string& path) {
    struct Cached {
        FileVersion version;
        std::shared_ptr<const twoway::RevocationFile> list;
    };
    static std::mutex mutex;
    static std::map<std::string, Cached> cache;
    const auto before = version_of(path);
    {
        std::lock_guard lock(mutex);
        auto it = cache.find(path);
        if (it != cache.end() && before && it->second.version == *before) return it->second.list;
    }
    auto list = std::make_shared<const twoway::RevocationFile>(twoway::load_revocation_file(path));
    const auto after = version_of(path);
    std::lock_guard lock(mutex);
    struct timespec now {};
    (void)::clock_gettime(CLOCK_REALTIME, &now);
    const std::int64_t settled = std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec - 2'000'000'000;
    if (list->usable() && before && after && *before == *after && after->mtime_ns < settled &&
        after->ctime_ns < settled) {
        cache[path] = Cached{*after, list};
    } else {
        cache.erase(path);
    }
    return list;
}

}  // namespace

bool resource_shortage(int err) noexcept {
    return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

RevocationDecision check_revoked_key(const twowayd::DaemonConfig& config, const twoway::PublicKey& key,
                                     const twoway::Certificate* certificate) {
    RevocationDecision out;
    for (const auto& path : config.revoked_keys_files) {
        const auto shared = revocation_file(path);
        auto v = twoway::check_revoked(*shared, key, certificate);
        if (v.status == twoway::RevocationStatus::unusable) {
            out.refused = true;
            if (v.read_error.category() == std::generic_category() && resource_shortage(v.read_error.value())) {
                out.server_fault = true;
            }
            for (auto& p : v.problems) out.problems.push_back(std::move(p));
            continue;
        }
        if (v.status == twoway::RevocationStatus::revoked) {
            out.refused = true;
            if (!out.revoked_by) {
                out.revoked_by = std::move(v.where);
                out.revoked_detail = std::move(v.detail);
            }
        }
    }
    return out;
}

std::optional<std::string> secure_path_problem(const std::string& path, const struct stat& st,
                                                const std::string& home, uid_t uid) {
    auto real = real_path(path);
    if (!real) return "realpath " + path + " failed: " + errno_text(errno);
    if (!S_ISREG(st.st_mode)) return *real + " is not a regular file";
    if (bad_owner_or_mode(st, uid)) return "bad ownership or modes for file " + *real;
    const auto real_home = home.empty() ? std::nullopt : real_path(home);
    std::string dir = *real;
    for (;;) {
        dir = parent_dir(dir);
        struct stat ds {};
        if (::stat(dir.c_str(), &ds) != 0 || bad_owner_or_mode(ds, uid)) {
            return "bad ownership or modes for directory " + dir;
        }
        if (real_home && dir == *real_home) break;  // past the home directory: the rest is the admin's
        if (dir == "/" || dir == ".") break;
    }
    return std::nullopt;
}

OpenedKeyFiles open_authorized_keys(const twowayd::DaemonConfig& config, const Account& account) {
    auto paths = twowayd::authorized_keys_paths(config, twowayd::AccountInfo{account.name, account.home, account.uid});
    if (!paths) {
        OpenedKeyFiles out;
        out.refused_files.push_back("cannot expand AuthorizedKeysFile for " + account.name);
        return out;
    }
    return open_account_files(config, account, *paths, "authorized keys");
}

OpenedKeyFiles open_authorized_principals(const twowayd::DaemonConfig& config, const twowayd::ConnectionConfig& policy,
                                          const Account& account) {
    if (policy.authorized_principals_file == "none") return {};
    auto path = twowayd::expand_authorized_keys_path(policy.authorized_principals_file,
                                                     twowayd::AccountInfo{account.name, account.home, account.uid});
    if (!path) {
        OpenedKeyFiles out;
        out.refused_files.push_back("cannot expand AuthorizedPrincipalsFile for " + account.name);
        return out;
    }
    return open_account_files(config, account, {*path}, "authorized principals");
}

OpenedKeyFiles open_account_files(const twowayd::DaemonConfig& config, const Account& account,
                                  const std::vector<std::string>& paths, const std::string& what) {
    OpenedKeyFiles out;
    // As the account: root must not read, on a user's behalf, a file the user could not read.
    TemporaryIdentity as_user(account);
    if (!as_user.ok()) {
        out.refused_files.push_back("cannot switch to " + account.name + " to read " + what);
        out.server_fault = true;
        return out;
    }
    for (const auto& path : paths) {
        twoway::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
        if (!fd) {
            const int err = errno;
            if (err != ENOENT) {
                out.refused_files.push_back("Could not open " + what + " '" + path + "': " + errno_text(err));
                out.server_fault = out.server_fault || resource_shortage(err);
            }
            continue;
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            out.refused_files.push_back("Could not stat " + what + " '" + path + "': " + errno_text(errno));
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            out.refused_files.push_back("User " + account.name + " " + what + " " + path + " is not a regular file");
            continue;
        }
        if (config.strict_modes) {
            if (auto problem = secure_path_problem(path, st, account.home, account.uid)) {
                out.refused_files.push_back("Authentication refused: " + *problem);
                continue;
            }
        }
        out.bytes += static_cast<std::size_t>(st.st_size);
        out.files.push_back(OpenedKeyFile{path, std::move(fd)});
    }
    return out;
}

namespace {

// A file larger than this is parsed only where a line holds the offered key's text (below): a line whose
// key is the offered one must contain its base64 exactly (the blob's 51 bytes have one base64 form, and
// the parser accepts no blanks inside it), so the verdict is the same; what is lost is the diagnosis of
// the lines that were not parsed, which for files this size is noise. It keeps a refusal against a
// planted 16 MiB file from costing the daemon a full parse each time, and, the file being read in chunks
// (read_lines_holding), from holding it in memory.
// The decision pool moves work over more than the same size to its low-priority lane.
constexpr std::size_t full_parse_limit = bulk_bytes;

std::string key_base64(const twoway::PublicKey& key) {
    const std::string line = twoway::format_public_key_line(key);  // "ssh-ed25519 <base64>"
    return line.substr(line.find(' ') + 1);
}

void note_skipped(const std::vector<twoway::AuthorizedKeysFile>& files, KeyDecision& out) {
    for (const auto& f : files) {
        for (const auto& d : f.diagnostics) out.skipped_lines.push_back(d.text());
        if (f.skipped > f.diagnostics.size()) {
            out.skipped_lines.push_back(f.path + ": " + std::to_string(f.skipped - f.diagnostics.size()) +
                                        " more lines skipped");
        }
    }
}

KeyDecision decide_on(const std::vector<twoway::AuthorizedKeysFile>& files, KeyDecision out, const twoway::PublicKey& key,
                      const std::optional<twoway::ConnectionFacts>& facts) {
    note_skipped(files, out);
    auto verdict = facts ? twoway::check_authorized(files, key, *facts) : twoway::check_authorized(files, key);
    out.authorized = verdict.authorized;
    out.matched = verdict.matched;
    out.options = std::move(verdict.options);
    out.option_refusals = std::move(verdict.refusals);
    return out;
}

}  // namespace

namespace {

// Reads and parses the opened files; `key` is what a line must hold to matter (the offered key, or a
// certificate's CA), for the large-file prefilter.
std::vector<twoway::AuthorizedKeysFile> read_opened(OpenedKeyFiles& opened, KeyDecision& out, const twoway::PublicKey& key) {
    out.refused_files = std::move(opened.refused_files);
    out.server_fault = opened.server_fault;
    std::vector<twoway::AuthorizedKeysFile> files;
    for (auto& f : opened.files) {
        // The file checked when it was opened, through that descriptor: read_fd reads it blocking (a FIFO
        // was refused, so none can stall). Up to full_parse_limit it is read and parsed whole; a larger
        // one read_fd refuses by its size before reading (or, had it grown since, after at most that many
        // bytes), and it is read again from its start through the filter, under the library's cap for
        // trust files, never held whole.
        auto file = twoway::read_fd(f.fd.get(), full_parse_limit);
        if (file) {
            f.fd.reset();
            files.push_back(twoway::parse_authorized_keys(f.path, file->text));
            continue;
        }
        std::error_code error = file.error();
        if (error == twoway::errc::length_too_large) {
            auto holding = ::lseek(f.fd.get(), 0, SEEK_SET) == 0
                               ? read_lines_holding(f.fd.get(), key_base64(key), twoway::max_trust_file_size)
                               : twoway::Result<HoldingLines>(twoway::fail(std::error_code(errno, std::generic_category())));
            if (holding) {
                f.fd.reset();
                files.push_back(twoway::parse_authorized_keys(f.path, holding->text));
                out.skipped_lines.push_back(f.path + ": larger than 1 MiB: only the " + std::to_string(holding->kept) +
                                            " line(s) holding the offered key were parsed");
                continue;
            }
            error = holding.error();
        }
        f.fd.reset();
        const std::string problem = error == twoway::errc::length_too_large ? "file is larger than 16 MiB"
                                    : error == twoway::errc::invalid_argument ? "not a regular file"
                                                                              : error.message();
        out.refused_files.push_back("Could not read authorized keys '" + f.path + "': " + problem);
    }
    return files;
}

KeyDecision decide_on_certificate(const std::vector<twoway::AuthorizedKeysFile>& files, KeyDecision out,
                                  const twoway::Certificate& certificate, const std::string& account,
                                  const twoway::ConnectionFacts& facts) {
    note_skipped(files, out);
    auto verdict = twoway::check_authorized_certificate(files, certificate, account, facts);
    out.authorized = verdict.authorized;
    out.matched = verdict.matched;
    out.options = std::move(verdict.options);
    out.option_refusals = std::move(verdict.refusals);
    return out;
}

}  // namespace

void then_decide(KeyDecision& decision, KeyDecision next) {
    const auto prepend = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
        to.insert(to.begin(), from.begin(), from.end());
    };
    prepend(next.refused_files, decision.refused_files);
    prepend(next.skipped_lines, decision.skipped_lines);
    prepend(next.option_refusals, decision.option_refusals);
    next.server_fault = next.server_fault || decision.server_fault;
    decision = std::move(next);
}

KeyDecision decide_authorized_key(OpenedKeyFiles opened, const twoway::PublicKey& key,
                                  const std::optional<twoway::ConnectionFacts>& facts) {
    KeyDecision out;
    auto files = read_opened(opened, out, key);
    return decide_on(files, std::move(out), key, facts);
}

KeyDecision decide_authorized_certificate(OpenedKeyFiles opened, const twoway::Certificate& certificate,
                                          const std::string& account, const twoway::ConnectionFacts& facts) {
    KeyDecision out;
    auto files = read_opened(opened, out, certificate.signature_key);
    return decide_on_certificate(files, std::move(out), certificate, account, facts);
}

KeyDecision decide_command_certificate(std::string_view label, std::string_view text, const twoway::Certificate& certificate,
                                       const std::string& account, const twoway::ConnectionFacts& facts) {
    std::vector<twoway::AuthorizedKeysFile> files;
    files.push_back(twoway::parse_authorized_keys(label, text));
    return decide_on_certificate(files, KeyDecision{}, certificate, account, facts);
}

TrustedCa find_trusted_user_ca(const std::string& path, const twoway::PublicKey& ca) {
    TrustedCa out;
    // The daemon's own file, read as root at each certificate login as sshd reads it (an edit takes
    // effect at once). A line with options is not a CA line here (sshd's sshkey_in_file reads bare keys).
    auto parsed = twoway::load_authorized_keys(path);
    if (!parsed) {
        out.problems.push_back("TrustedUserCAKeys " + path + ": " + parsed.error().message());
        out.server_fault = parsed.error().category() == std::generic_category() && resource_shortage(parsed.error().value());
        return out;
    }
    for (const auto& e : parsed->entries) {
        if (e.key == ca && e.options.text.empty()) {
            out.where = e.where;
            return out;
        }
    }
    return out;
}

KeyDecision decide_trusted_certificate(std::optional<OpenedKeyFiles> principals, std::optional<std::string> principals_output,
                                       const twoway::Certificate& certificate, const std::string& account,
                                       const twoway::Location& ca_where, const twoway::ConnectionFacts& facts) {
    KeyDecision out;
    std::vector<twoway::AuthorizedPrincipalsFile> files;
    if (principals) {
        out.refused_files = std::move(principals->refused_files);
        out.server_fault = principals->server_fault;
        for (auto& f : principals->files) {
            auto file = twoway::read_fd(f.fd.get(), twoway::max_trust_file_size);
            f.fd.reset();
            if (!file) {
                out.refused_files.push_back("Could not read authorized principals '" + f.path + "': " + file.error().message());
                continue;
            }
            files.push_back(twoway::parse_authorized_principals(f.path, file->text));
            for (const auto& d : files.back().diagnostics) out.skipped_lines.push_back(d.text());
        }
    }
    if (principals_output) {
        files.push_back(twoway::parse_authorized_principals(principals_command_label, *principals_output));
        for (const auto& d : files.back().diagnostics) out.skipped_lines.push_back(d.text());
    }
    const bool use_principals = principals.has_value() || principals_output.has_value();
    auto verdict = twoway::check_trusted_certificate(certificate, account, use_principals ? &files : nullptr, ca_where, facts);
    out.authorized = verdict.authorized;
    out.matched = verdict.matched;
    out.options = std::move(verdict.options);
    out.option_refusals = std::move(verdict.refusals);
    return out;
}

KeyDecision decide_command_keys(std::string_view label, std::string_view text, const twoway::PublicKey& key,
                                const std::optional<twoway::ConnectionFacts>& facts) {
    std::vector<twoway::AuthorizedKeysFile> files;
    files.push_back(twoway::parse_authorized_keys(label, text));
    return decide_on(files, KeyDecision{}, key, facts);
}

KeyDecision check_authorized_key(const twowayd::DaemonConfig& config, const Account& account,
                                 const twoway::PublicKey& key, const std::optional<twoway::ConnectionFacts>& facts) {
    return decide_authorized_key(open_authorized_keys(config, account), key, facts);
}

}  // namespace twowayd
