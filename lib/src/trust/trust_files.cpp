// The edge of the trust module: the only file I/O in lib/src/trust, and thin: reading goes through
// read_file (bounded) and the known_hosts append through write_file_atomic, under DirLock (all in
// <twoway/file.hpp>, lib/src/io/file.cpp).
// Everything else in this folder is pure and works on text.
#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <twoway/file.hpp>
#include <twoway/krl.hpp>
#include <twoway/trust.hpp>

namespace twoway {

namespace {

bool is_missing(std::error_code ec) { return ec == std::errc::no_such_file_or_directory; }

// Creates the parent directory 0700 when it is missing (only that one level, as ssh does for ~/.ssh).
Status ensure_directory(const std::filesystem::path& dir) {
    if (dir.empty()) return {};
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return {};
        return fail(std::make_error_code(std::errc::not_a_directory));
    }
    if (errno != ENOENT) return fail(std::error_code(errno, std::generic_category()));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return fail(std::error_code(errno, std::generic_category()));
    }
    return {};
}

template <class File, class Parse>
Result<File> load(const std::string& path, Parse parse) {
    auto file = read_file(path, max_trust_file_size);
    if (!file) {
        if (is_missing(file.error())) return parse(std::string_view{});
        return fail(file.error());
    }
    return parse(std::string_view(file->text));
}

// A revocation file that could not be read: unusable, with the reason. too_large: the size limit, as text.
RevocationList unreadable_list(const std::string& path, std::error_code ec, const char* too_large) {
    RevocationList out;
    out.path = path;
    const std::string why = ec == errc::invalid_argument   ? std::string("not a regular file")
                            : ec == errc::length_too_large ? std::string("larger than ") + too_large
                                                           : ec.message();
    out.problems.push_back(path + ": cannot read: " + why);
    out.problem_count = 1;
    out.read_error = ec;
    return out;
}

}  // namespace

RevocationList load_revocation_list(const std::string& path, const TrustLimits& limits) {
    auto file = read_file(path, max_trust_file_size);
    if (!file) return unreadable_list(path, file.error(), "16 MiB");
    return parse_revocation_list(path, file->text, limits);
}

RevocationFile load_revocation_file(const std::string& path, const TrustLimits& limits) {
    // Up to a KRL's bound (the larger); a text list is then held to its own.
    static_assert(max_krl_size >= max_trust_file_size);
    auto file = read_file(path, max_krl_size);
    if (!file) return RevocationFile{unreadable_list(path, file.error(), "32 MiB (the most for a KRL)"), std::nullopt};
    const auto bytes = std::as_bytes(std::span(file->text));
    if (!is_krl(bytes) && bytes.size() > max_trust_file_size) {
        return RevocationFile{unreadable_list(path, make_error_code(errc::length_too_large), "16 MiB"), std::nullopt};
    }
    return parse_revocation_file(path, bytes, limits);
}

Result<KnownHostsFile> load_known_hosts(const std::string& path, const TrustLimits& limits) {
    return load<KnownHostsFile>(path, [&](std::string_view text) { return parse_known_hosts(path, text, limits); });
}

Result<AuthorizedKeysFile> load_authorized_keys(const std::string& path, const TrustLimits& limits) {
    return load<AuthorizedKeysFile>(path,
                                    [&](std::string_view text) { return parse_authorized_keys(path, text, limits); });
}

Status append_known_host(const std::string& path, std::string_view host, std::uint16_t port, const PublicKey& key) {
    return append_known_host(path, host, port, key, KnownHostNameForm::plain, system_rng());
}

namespace {
// The file's verdict on (host, key), under the lock, decides: write (the line goes in), nothing to do
// (already known), or a failure (the caller's picture is stale).
enum class Append { write, done };
template <class Decide>
Status append_known_host_if(const std::string& path, std::string_view host, std::uint16_t port, const PublicKey& key,
                            KnownHostNameForm form, Rng& rng, Decide decide) {
    auto line = form == KnownHostNameForm::hashed ? format_hashed_known_hosts_line(host, port, key, rng)
                                                  : format_known_hosts_line(host, port, key);
    if (!line) return fail(line.error());

    // A symbolic link is followed: a linked known_hosts stays a link and its target gets the new line.
    const std::filesystem::path target = link_target(path);
    if (auto st = ensure_directory(target.parent_path()); !st) return st;

    // Two clients adding hosts at once (parallel first connections from a script) would each rewrite
    // the file from what they read and the later rename would drop the other's line: the read, check
    // and replace below happen under a lock on the directory.
    const DirLock lock(target.parent_path().string());
    std::string contents;
    unsigned mode = 0600;
    if (auto old = read_file(target.string(), max_trust_file_size); old) {
        // The rename would hand another user's file to us (root, typically): never replace it.
        if (old->owner != static_cast<unsigned>(::geteuid())) {
            return fail(std::make_error_code(std::errc::operation_not_permitted));
        }
        contents = std::move(old->text);
        mode = old->mode;
    } else if (!is_missing(old.error())) {
        return fail(old.error());  // never replace a file we could not read in full
    }
    // Another client may have added the same host and key while this one was connecting, or another
    // key for it (or a line that makes it uncertain): then the caller's "unknown" is stale.
    const std::vector<KnownHostsFile> now{parse_known_hosts(target.string(), contents)};
    const Result<Append> d = decide(now);
    if (!d) return fail(d.error());
    if (*d == Append::done) return {};
    if (!contents.empty() && contents.back() != '\n') contents += '\n';
    contents += *line;
    contents += '\n';
    return write_file_atomic(target.string(), contents, mode);
}
}  // namespace

Status append_known_host(const std::string& path, std::string_view host, std::uint16_t port, const PublicKey& key,
                         KnownHostNameForm form, Rng& rng) {
    return append_known_host_if(path, host, port, key, form, rng, [&](const std::vector<KnownHostsFile>& now) -> Result<Append> {
        const HostVerdict v = check_host(now, host, port, key);
        if (v.status == HostStatus::known) return Append::done;
        if (v.status != HostStatus::unknown) return fail(errc::host_key_rejected);
        return Append::write;
    });
}

Status add_known_host_key(const std::string& path, std::string_view host, std::uint16_t port, const PublicKey& key,
                          const PublicKey& trusted, KnownHostNameForm form, Rng& rng) {
    return append_known_host_if(path, host, port, key, form, rng, [&](const std::vector<KnownHostsFile>& now) -> Result<Append> {
        // The file must still trust the host through `trusted`; then `key` is either there already, or
        // "changed" only because of the host's other keys. Revoked or uncertain: never.
        if (check_host(now, host, port, trusted).status != HostStatus::known) return fail(errc::host_key_rejected);
        const HostVerdict v = check_host(now, host, port, key);
        if (v.status == HostStatus::known) return Append::done;
        if (v.status != HostStatus::changed && v.status != HostStatus::unknown) return fail(errc::host_key_rejected);
        return Append::write;
    });
}

}  // namespace twoway
