/// @file
/// Reading and replacing small files the way the library does for trust and key files, for programs that
/// keep files of their own or rewrite the library's (a known_hosts editor, a key store): a bounded read
/// that refuses anything but a regular file, an atomic replacement with the mode set before any byte is
/// written, and the directory lock append_known_host takes, so that a rewrite and an append never lose
/// each other's lines. POSIX only.
///
/// Errors: what the operating system reports comes back as a std::generic_category() errno code (compare
/// with std::errc::no_such_file_or_directory and friends; message() is strerror's text), as from
/// load_known_hosts; what the library refuses comes back as a twoway::errc (length_too_large,
/// invalid_argument).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <twoway/export.hpp>
#include <twoway/result.hpp>

#include <unistd.h>

namespace twoway {

/// What read_file() read: the contents and the facts about the file it was read from.
struct FileText {
    std::string text;    ///< the contents, byte for byte
    unsigned mode = 0;   ///< permission bits (st_mode & 07777)
    unsigned owner = 0;  ///< st_uid, from the same fstat as the text (no race with a replaced file)
};

/// A regular file's contents, at most max_size bytes. A larger file is refused with length_too_large,
/// judged by its size before reading and again if it grows meanwhile (at most max_size + 1 bytes are
/// ever held, and a small file's buffer is sized from fstat, not from max_size). Anything but a regular
/// file (a directory, a device, a FIFO, which is opened without blocking) is refused with
/// invalid_argument. A symbolic link is followed.
[[nodiscard]] TWOWAY_API Result<FileText> read_file(const std::string& path, std::size_t max_size);

/// Replaces path atomically: writes a temporary file "path.tmp-XXXXXX" in the same directory with the
/// given permission bits (set before the first byte is written, so a 0600 file is never readable by
/// others, not even while it is being written), fsyncs it, renames it over path and fsyncs the
/// directory, so a crash leaves the old file or the new one, never a torn one. The temporary file is
/// removed on any failure. mode beyond 07777 (file type bits, say): invalid_argument, nothing written.
/// A symbolic link at path is replaced, not followed (link_target first to keep the link).
[[nodiscard]] TWOWAY_API Status write_file_atomic(const std::string& path, std::string_view text, unsigned mode);

/// An exclusive flock(2) on a directory, held until destruction, for read-modify-replace cycles on a
/// file in it (write_file_atomic replaces the file's inode, so the file itself cannot carry the lock).
/// append_known_host takes this lock on the known_hosts file's directory. Best effort: where the
/// directory cannot be opened or locked (some network file systems), the caller goes on unlocked, as
/// the library does. Locks of one process's threads exclude each other too (each DirLock opens its own
/// descriptor). An empty dir means the current directory.
class TWOWAY_API DirLock {
public:
    /// Opens dir and waits for the exclusive lock (blocking); see locked() for whether it was taken.
    explicit DirLock(const std::string& dir);
    /// Releases the lock (closes the descriptor).
    ~DirLock();
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

    /// Whether the lock is held (false in the best-effort case above).
    [[nodiscard]] bool locked() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

/// The file path names with symbolic links followed (path itself when it cannot be resolved), for
/// replacing a file's contents so that a linked file (dotfile managers make them) stays a link.
[[nodiscard]] TWOWAY_API std::string link_target(const std::string& path);

// ---- descriptors the caller opened ---------------------------------------------------------------

/// Owns a file descriptor: closes it on destruction unless released. Move-only; header-only (no ABI).
/// For programs that open files themselves, to check more than read_file does before reading them
/// with read_fd (twowayd does, for authorized_keys).
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    /// Takes ownership of fd; a negative fd holds nothing (so the result of a failed open(2) may be
    /// stored as is and tested with operator bool).
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    /// Takes other's descriptor; other is left empty.
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    /// Closes the descriptor held, then takes other's; other is left empty.
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    /// The descriptor, still owned (-1 when empty).
    [[nodiscard]] int get() const noexcept { return fd_; }
    /// Whether a descriptor is held.
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Gives the descriptor up without closing it; the object is empty afterwards.
    [[nodiscard]] int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    /// Closes the descriptor held (close(2)'s errors ignored), then owns fd.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) (void)::close(fd_);
        fd_ = fd;
    }
    /// Closes now and returns close(2)'s result (0, or -1 with errno set), for callers that must know
    /// whether a delayed write failed. Empty afterwards; 0 when already empty.
    [[nodiscard]] int close() noexcept {
        const int fd = release();
        return fd >= 0 ? ::close(fd) : 0;
    }

private:
    int fd_ = -1;
};

/// read_file's reading, on a descriptor the caller opened and owns (it stays open): the same rules
/// and errors. Anything but a regular file is refused with invalid_argument; a file larger than
/// max_size with length_too_large, judged by fstat before reading and again while reading (at most
/// max_size + 1 bytes are held); a failed fstat or read comes back as its errno code. O_NONBLOCK is
/// cleared on the descriptor for the read. Reads from the descriptor's current offset to its end;
/// mode and owner come from the same fstat as the text.
[[nodiscard]] TWOWAY_API Result<FileText> read_fd(int fd, std::size_t max_size);

}  // namespace twoway
