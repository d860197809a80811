// File I/O at the edge of the library (the core never touches files). POSIX only. OS failures come
// back as std::generic_category() errno codes, so callers can print strerror-style messages and
// compare with std::errc::no_such_file_or_directory and friends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <twoway/result.hpp>

namespace twoway::io {

struct FileText {
    std::string text;
    unsigned mode = 0;   // permission bits (st_mode & 07777)
    unsigned owner = 0;  // st_uid, from the same fstat as the text (no race with a replaced file)
};

// A regular file's contents, refusing (length_too_large) a file larger than max_size before reading
// it. Not a regular file: invalid_argument.
[[nodiscard]] Result<FileText> read_file(const std::string& path, std::size_t max_size);

// Replaces path atomically: writes a temporary file in the same directory with the given mode, fsyncs
// it, renames it over path and fsyncs the directory, so a crash leaves the old file or the new one,
// never a torn one. The temporary file is removed on any failure.
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view text, unsigned mode);

// An exclusive flock(2) on a directory, held until destruction, for read-modify-replace cycles on a
// file in it (write_file_atomic replaces the file's inode, so the file itself cannot carry the lock).
// Best effort: where the directory cannot be opened or locked (some network file systems), the caller
// goes on unlocked, as before. Locks of one process's threads exclude each other too (each DirLock
// opens its own descriptor).
class DirLock {
public:
    explicit DirLock(const std::string& dir);
    ~DirLock();
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_ = -1;
};

// The file path names with symbolic links followed (path itself when it cannot be resolved), for
// replacing a file's contents so that a linked file (dotfile managers make them) stays a link.
[[nodiscard]] std::string link_target(const std::string& path);

// True when something (file, directory, link) exists at path.
[[nodiscard]] bool exists(const std::string& path);

}  // namespace twoway::io
