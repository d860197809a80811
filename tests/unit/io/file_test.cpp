// <twoway/file.hpp>: the bounded read, the atomic replacement and the directory lock that the library's
// trust and key files go through, and that programs use for files of their own. Each test works in a
// fresh directory under the system's temporary directory.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <twoway/file.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using twoway::errc;

namespace {
using twoway_test::TempDir;

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}
}  // namespace

TEST_CASE("read_file returns a regular file's text, mode and owner, up to its bound", "[io]") {
    TempDir dir("twoway-file");
    const std::string path = dir.write("f", "line one\nline two\n");
    REQUIRE(::chmod(path.c_str(), 0640) == 0);
    auto f = twoway::read_file(path, 18);  // exactly the bound
    REQUIRE(f);
    CHECK(f->text == "line one\nline two\n");
    CHECK(f->mode == 0640);
    CHECK(f->owner == static_cast<unsigned>(::geteuid()));

    CHECK(twoway::read_file(path, 17).error() == errc::length_too_large);  // one byte over
    CHECK(twoway::read_file(path, 0).error() == errc::length_too_large);

    const std::string empty = dir.write("empty", "");
    auto e = twoway::read_file(empty, 0);
    REQUIRE(e);
    CHECK(e->text.empty());

    // A large bound does not mean a large read: the text is what the file holds.
    auto big_bound = twoway::read_file(path, std::size_t{1} << 40);
    REQUIRE(big_bound);
    CHECK(big_bound->text.size() == 18);

    // A symbolic link is followed.
    const std::string link = dir.file("link");
    REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
    auto via_link = twoway::read_file(link, 100);
    REQUIRE(via_link);
    CHECK(via_link->text == f->text);
}

TEST_CASE("read_file refuses what is not a regular file and reports the OS's errors as errno codes", "[io]") {
    TempDir dir("twoway-file");
    CHECK(twoway::read_file(dir.file("missing"), 100).error() == std::errc::no_such_file_or_directory);
    CHECK(twoway::read_file(dir.path(), 100).error() == errc::invalid_argument);  // a directory
    CHECK(twoway::read_file("/dev/null", 100).error() == errc::invalid_argument);  // a device
    // A FIFO with no writer: refused at once, never a read that waits for a writer forever.
    const std::string fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(twoway::read_file(fifo, 100).error() == errc::invalid_argument);
    // A dangling link is a missing file.
    const std::string dangling = dir.file("dangling");
    REQUIRE(::symlink(dir.file("nowhere").c_str(), dangling.c_str()) == 0);
    CHECK(twoway::read_file(dangling, 100).error() == std::errc::no_such_file_or_directory);
    if (::geteuid() != 0) {  // root reads whatever the mode says
        const std::string secret = dir.write("unreadable", "x");
        REQUIRE(::chmod(secret.c_str(), 0) == 0);
        CHECK(twoway::read_file(secret, 100).error() == std::errc::permission_denied);
    }
}

TEST_CASE("write_file_atomic creates and replaces files with the given mode and leaves no temporary file", "[io]") {
    TempDir dir("twoway-file");
    const std::string path = dir.file("known_hosts");
    REQUIRE(twoway::write_file_atomic(path, "first\n", 0600));
    CHECK(mode_of(path) == 0600);
    REQUIRE(twoway::write_file_atomic(path, "second\n", 0644));  // the new mode, not the old file's
    CHECK(mode_of(path) == 0644);
    auto f = twoway::read_file(path, 100);
    REQUIRE(f);
    CHECK(f->text == "second\n");
    REQUIRE(twoway::write_file_atomic(path, "", 0600));  // an empty file is a file
    CHECK(twoway::read_file(path, 100)->text.empty());
    CHECK(dir.entries() == 1);
}

TEST_CASE("write_file_atomic fails cleanly: bad modes, missing directories, links replaced not followed", "[io]") {
    TempDir dir("twoway-file");
    const std::string path = dir.write("f", "old");
    // File type bits are not permission bits: refused before anything is created.
    CHECK(twoway::write_file_atomic(path, "new", 0100600).error() == errc::invalid_argument);
    CHECK(twoway::write_file_atomic(path, "new", 010000).error() == errc::invalid_argument);
    CHECK(twoway::read_file(path, 100)->text == "old");
    CHECK(dir.entries() == 1);

    CHECK(twoway::write_file_atomic(dir.file("no/such/dir/f"), "x", 0600).error() ==
          std::errc::no_such_file_or_directory);
    CHECK(dir.entries() == 1);

    // A link at path is replaced by the new file; the file it pointed at is left alone. (link_target
    // first keeps the link, which is what append_known_host and twoway-keygen -R do.)
    const std::string link = dir.file("link");
    REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
    REQUIRE(twoway::write_file_atomic(link, "through", 0600));
    CHECK_FALSE(fs::is_symlink(link));
    CHECK(twoway::read_file(path, 100)->text == "old");
    CHECK(twoway::read_file(link, 100)->text == "through");
}

TEST_CASE("link_target follows links and leaves other paths as they are", "[io]") {
    TempDir dir("twoway-file");
    const std::string real = dir.write("real", "x");
    const std::string link1 = dir.file("link1");
    const std::string link2 = dir.file("link2");
    REQUIRE(::symlink("real", link1.c_str()) == 0);  // relative, resolved against its directory
    REQUIRE(::symlink(link1.c_str(), link2.c_str()) == 0);
    const std::string canonical_real = fs::canonical(real).string();
    CHECK(twoway::link_target(link2) == canonical_real);
    CHECK(twoway::link_target(link1) == canonical_real);
    CHECK(twoway::link_target(real) == canonical_real);
    // A path that does not exist yet keeps its last part (a known_hosts file about to be created).
    CHECK(twoway::link_target(dir.file("new")) == (fs::canonical(dir.path()) / "new").string());
}

TEST_CASE("DirLock excludes a second lock on the same directory until it is released", "[io]") {
    TempDir dir("twoway-file");
    std::atomic<bool> second_held{false};
    std::thread other;
    {
        const twoway::DirLock first(dir.path());
        REQUIRE(first.locked());
        other = std::thread([&] {
            const twoway::DirLock second(dir.path());
            second_held = second.locked();
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        CHECK_FALSE(second_held);  // still waiting for the first
    }
    other.join();
    CHECK(second_held);
}

TEST_CASE("DirLock on a directory it cannot open goes on unlocked", "[io]") {
    TempDir dir("twoway-file");
    const twoway::DirLock missing(dir.file("missing"));
    CHECK_FALSE(missing.locked());
    const twoway::DirLock not_a_dir(dir.write("file", "x"));
    CHECK_FALSE(not_a_dir.locked());
    const twoway::DirLock again(dir.path());  // the failed ones held nothing
    CHECK(again.locked());
}

// ---- descriptors the caller opened ---------------------------------------------------------------

TEST_CASE("read_fd reads a descriptor the caller opened, under read_file's rules, and leaves it open", "[io]") {
    TempDir dir("twoway-file");
    const std::string path = dir.write("f", "0123456789");
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    twoway::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(fd);
    auto f = twoway::read_fd(fd.get(), 10);  // exactly the bound
    REQUIRE(f);
    CHECK(f->text == "0123456789");
    CHECK(f->mode == 0600);
    CHECK(f->owner == static_cast<unsigned>(::geteuid()));
    // Still open and ours: O_NONBLOCK was cleared for the read, and the offset is at the end.
    REQUIRE(::fcntl(fd.get(), F_GETFD) >= 0);
    CHECK((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);
    auto again = twoway::read_fd(fd.get(), 10);
    REQUIRE(again);
    CHECK(again->text.empty());

    // From the current offset; the size bound is judged on the whole file (fstat) before reading.
    REQUIRE(::lseek(fd.get(), 4, SEEK_SET) == 4);
    auto tail = twoway::read_fd(fd.get(), 10);
    REQUIRE(tail);
    CHECK(tail->text == "456789");
    REQUIRE(::lseek(fd.get(), 0, SEEK_SET) == 0);
    CHECK(twoway::read_fd(fd.get(), 9).error() == errc::length_too_large);
}

TEST_CASE("read_fd refuses what is not a regular file and a descriptor that is not open", "[io]") {
    TempDir dir("twoway-file");
    twoway::UniqueFd d(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(d);
    CHECK(twoway::read_fd(d.get(), 100).error() == errc::invalid_argument);
    const std::string fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    twoway::UniqueFd f(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(f);
    CHECK(twoway::read_fd(f.get(), 100).error() == errc::invalid_argument);
    CHECK(twoway::read_fd(-1, 100).error() == std::errc::bad_file_descriptor);
}

TEST_CASE("UniqueFd closes what it owns once: on destruction, reset, move and close, never after release", "[io]") {
    const auto is_open = [](int fd) { return ::fcntl(fd, F_GETFD) >= 0; };
    int raw = -1;
    {
        twoway::UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        REQUIRE(fd);
        raw = fd.get();
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));

    twoway::UniqueFd empty;
    CHECK_FALSE(empty);
    CHECK(empty.get() == -1);
    CHECK(empty.close() == 0);
    CHECK_FALSE(twoway::UniqueFd(-1));

    twoway::UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int a_raw = a.get();
    twoway::UniqueFd b(std::move(a));
    CHECK(b.get() == a_raw);
    CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty, by contract
    twoway::UniqueFd c(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int c_raw = c.get();
    c = std::move(b);  // c's old descriptor closed, a's taken over
    CHECK(c.get() == a_raw);
    CHECK_FALSE(is_open(c_raw));

    c.reset();
    CHECK_FALSE(c);
    CHECK_FALSE(is_open(a_raw));

    twoway::UniqueFd d(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int d_raw = d.release();
    CHECK_FALSE(d);
    CHECK(is_open(d_raw));  // released: the caller's now
    twoway::UniqueFd e(d_raw);
    CHECK(e.close() == 0);
    CHECK_FALSE(e);
    CHECK_FALSE(is_open(d_raw));
}
