// The file edge declared in <twoway/file.hpp>; the library's own file I/O (trust files, key files) goes
// through it too.
#include <twoway/file.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <utility>
#include <sys/stat.h>
#include <unistd.h>

namespace twoway {

namespace {
Failure os_error(int e) { return fail(std::error_code(e, std::generic_category())); }

std::string parent_dir(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}
}  // namespace

Result<FileText> read_file(const std::string& path, std::size_t max_size) {
    // O_NONBLOCK so that opening a FIFO put where a file is expected cannot block; read_fd refuses it,
    // and makes a regular file's reads blocking again.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return os_error(errno);
    return read_fd(fd.get(), max_size);
}

Result<FileText> read_fd(int fd, std::size_t max_size) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return os_error(errno);
    if (!S_ISREG(st.st_mode)) return fail(errc::invalid_argument);
    if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (static_cast<std::uint64_t>(st.st_size) > max_size) return fail(errc::length_too_large);

    FileText out;
    out.mode = static_cast<unsigned>(st.st_mode) & 07777U;
    out.owner = static_cast<unsigned>(st.st_uid);
    // Size the buffer from fstat (plus a little, to notice growth cheaply) and grow it only if the file
    // grew after fstat, never past one byte over the cap. Sizing it to the cap up front zero-filled
    // megabytes for every small known_hosts read.
    const std::size_t cap = max_size + 1;
    out.text.resize(std::min(cap, static_cast<std::size_t>(st.st_size) + 1024));
    std::size_t got = 0;
    for (;;) {
        if (got == out.text.size()) {
            if (out.text.size() == cap) break;
            out.text.resize(std::min(cap, out.text.size() * 2));
        }
        const ssize_t n = ::read(fd, out.text.data() + got, out.text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return os_error(errno);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > max_size) return fail(errc::length_too_large);
    out.text.resize(got);
    return out;
}

Status write_file_atomic(const std::string& path, std::string_view text, unsigned mode) {
    if ((mode & ~07777U) != 0) return fail(errc::invalid_argument);  // fchmod would drop them silently
    std::string tmp = path + ".tmp-XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0) return os_error(errno);
    auto abandon = [&](int e) {
        ::unlink(tmp.c_str());
        return os_error(e);
    };
    // mkstemp made it 0600; set the final mode before any byte is written.
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return abandon(errno);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return abandon(errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return abandon(errno);
    if (fd.close() != 0) return abandon(errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return abandon(errno);
    // Make the rename itself durable. A directory that cannot be opened or synced (some file systems
    // refuse) does not undo a write that has already happened, so errors here are ignored.
    UniqueFd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) (void)::fsync(dir.get());
    return {};
}

DirLock::DirLock(const std::string& dir) {
    fd_ = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) return;
    int r = 0;
    while ((r = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (r != 0) ::close(std::exchange(fd_, -1));
}

DirLock::~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the lock
}

std::string link_target(const std::string& path) {
    std::error_code ec;
    auto resolved = std::filesystem::weakly_canonical(std::filesystem::path(path), ec);
    return ec ? path : resolved.string();
}

}  // namespace twoway
