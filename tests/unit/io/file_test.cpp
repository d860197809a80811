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

#include <sys/stat.h>
#include <unistd.h>

#include <twoway/file.hpp>

namespace fs = std::filesystem;
using twoway::errc;

namespace {
class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "twoway-file-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] std::string path() const { return path_.string(); }
    [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
        return file(name);
    }
    [[nodiscard]] std::size_t entries() const {
        return static_cast<std::size_t>(std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
    }

private:
    fs::path path_;
};

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}
}  // namespace

TEST_CASE("read_file returns a regular file's text, mode and owner, up to its bound", "[io]") {
    TempDir dir;
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
    TempDir dir;
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
    TempDir dir;
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
    TempDir dir;
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
    TempDir dir;
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
    TempDir dir;
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
    TempDir dir;
    const twoway::DirLock missing(dir.file("missing"));
    CHECK_FALSE(missing.locked());
    const twoway::DirLock not_a_dir(dir.write("file", "x"));
    CHECK_FALSE(not_a_dir.locked());
    const twoway::DirLock again(dir.path());  // the failed ones held nothing
    CHECK(again.locked());
}
