// The file edge of <twoway/password.hpp>: the OPAQUE key file and the records directory, with the rules
// of private key files (read_file's bounds, 0600, atomic writes) plus an owner check, since both are
// only ever the daemon's (root's) and a file someone else owns may have been put there by them.
#include <twoway/file.hpp>
#include <twoway/password.hpp>

#include <cerrno>
#include <fcntl.h>
#include <array>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.hpp"

namespace twoway {

namespace {
constexpr std::size_t max_opaque_key_file = 4096;

Failure os_error(int e) { return fail(std::error_code(e, std::generic_category())); }

std::string parent_dir(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void wipe_text(std::string& s) { crypto::wipe(std::as_writable_bytes(std::span(s))); }

bool secure_owner_mode(unsigned owner, unsigned mode) {
    return owner == static_cast<unsigned>(::geteuid()) && (mode & 077U) == 0;
}

// The records directory: a directory (a symbolic link to one is followed, as for HostKey's directory),
// owned by us, granting group and others nothing, since whoever may write in it may plant a record
// and log in with its password.
Status check_records_dir(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return os_error(errno);
    if (!S_ISDIR(st.st_mode)) return os_error(ENOTDIR);
    if (!secure_owner_mode(static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_mode))) {
        return fail(errc::insecure_permissions);
    }
    return {};
}

std::string record_path(const std::string& dir, std::string_view account) {
    std::string path = dir;
    if (path.empty() || path.back() != '/') path += '/';
    return path.append(account);
}

Status sync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return os_error(errno);
    if (::fsync(fd.get()) != 0) return os_error(errno);
    return {};
}
}  // namespace

Result<OpaqueKey> load_opaque_key(const std::string& path) {
    auto file = read_file(path, max_opaque_key_file);
    if (!file) return fail(file.error());
    if (!secure_owner_mode(file->owner, file->mode)) {
        wipe_text(file->text);
        return fail(errc::insecure_permissions);
    }
    auto key = decode_opaque_key(file->text);
    wipe_text(file->text);
    return key;
}

Result<OpaqueKey> load_or_create_opaque_key(const std::string& path, Rng& rng, bool* created) {
    if (created != nullptr) *created = false;
    auto existing = load_opaque_key(path);
    if (existing || existing.error() != std::errc::no_such_file_or_directory) return existing;

    // A temporary name of our own, written in full (0600 from the first byte, fsynced), then linked to
    // path: link(2) fails with EEXIST instead of replacing, so a key another process created meanwhile
    // wins and every record made with it stays valid. rename(2) would silently replace it.
    std::array<std::byte, 8> tag{};
    rng.fill(tag);
    const std::string temp = path + ".new-" + crypto::hex_encode(tag);
    std::string text = encode_opaque_key(generate_opaque_key(rng));
    auto written = write_file_atomic(temp, text, 0600);
    wipe_text(text);
    if (!written) return fail(written.error());
    const int linked = ::link(temp.c_str(), path.c_str());
    const int link_errno = errno;
    (void)::unlink(temp.c_str());
    if (linked != 0 && link_errno != EEXIST) return os_error(link_errno);
    if (auto s = sync_dir(parent_dir(path)); !s) return fail(s.error());
    if (linked == 0 && created != nullptr) *created = true;
    return load_opaque_key(path);  // ours, or the one that won: the same checks either way
}

Result<PasswordRecord> load_password_record(const std::string& dir, std::string_view account) {
    if (!valid_password_account(account)) return fail(errc::invalid_argument);
    if (auto s = check_records_dir(dir); !s) return fail(s.error());
    auto file = read_file(record_path(dir, account), max_password_record_file);
    if (!file) return fail(file.error());
    if (!secure_owner_mode(file->owner, file->mode)) {
        wipe_text(file->text);
        return fail(errc::insecure_permissions);
    }
    auto record = parse_password_record(file->text);
    wipe_text(file->text);
    return record;
}

Status save_password_record(const std::string& dir, std::string_view account, const PasswordRecord& record) {
    if (!valid_password_account(account)) return fail(errc::invalid_argument);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return os_error(errno);
    if (auto s = check_records_dir(dir); !s) return fail(s.error());
    auto text = format_password_record(record);
    if (!text) return fail(text.error());
    auto written = write_file_atomic(record_path(dir, account), *text, 0600);
    wipe_text(*text);
    return written;
}

Status delete_password_record(const std::string& dir, std::string_view account) {
    if (!valid_password_account(account)) return fail(errc::invalid_argument);
    if (auto s = check_records_dir(dir); !s) return fail(s.error());
    if (::unlink(record_path(dir, account).c_str()) != 0) return os_error(errno);
    return sync_dir(dir);
}

}  // namespace twoway
