// The edge of the client config: reading ~/.twoway/config, with ssh's ownership and permission check.
// The parsing is pure (client_config.cpp).
#include "client_config.hpp"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <glob.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <twoway/file.hpp>

namespace twoway_client {

using twoway::Diagnostic;
using twoway::errc;
using twoway::Location;

namespace {
constexpr std::size_t max_config_size = 1u << 20;

ParsedClientConfig one_error(const std::string& path, std::string message) {
    ParsedClientConfig out;
    out.path = path;
    out.errors.push_back(Diagnostic{Location{path, 0}, std::move(message)});
    return out;
}

// Reads one config file, the main one or an included one: nothing for a missing file, else its text
// or (in error) what is wrong with it.
struct Read {
    bool missing = false;
    std::string text;
    std::string error;
};
Read read_config_text(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return Read{.missing = true, .text = {}, .error = {}};
        return Read{.missing = false, .text = {}, .error = "cannot read: " + std::error_code(errno, std::generic_category()).message()};
    }
    // As ssh: the file says which keys and host key files to trust, so nobody else may be able to write it.
    if ((st.st_uid != 0 && st.st_uid != ::getuid()) || (st.st_mode & 022) != 0) {
        return Read{.missing = false, .text = {}, .error = "Bad owner or permissions"};
    }
    auto file = twoway::read_file(path, max_config_size);
    if (!file) {
        std::string why = file.error() == errc::length_too_large   ? "larger than 1 MiB"
                          : file.error() == errc::invalid_argument ? "not a regular file"
                                                                   : file.error().message();
        return Read{.missing = false, .text = {}, .error = "cannot read: " + why};
    }
    return Read{.missing = false, .text = std::move(file->text), .error = {}};
}
}  // namespace

IncludeResult read_include_files(const std::string& pattern) {
    IncludeResult out;
    glob_t g{};
    // glob(3) sorts its matches; no GLOB_TILDE: the parser has expanded ~ already.
    const int r = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (r == GLOB_NOMATCH) return out;  // as ssh: an Include that matches no file is fine
    if (r != 0) {
        out.error = "glob failed";
        return out;
    }
    for (std::size_t i = 0; i < g.gl_pathc && out.files.size() <= max_included_files; ++i) {
        const std::string path = g.gl_pathv[i];
        Read got = read_config_text(path);
        if (got.missing) continue;  // gone since glob() saw it
        if (!got.error.empty()) {
            out.error = path + ": " + got.error;
            break;
        }
        out.files.push_back(IncludedFile{.path = path, .text = std::move(got.text)});
    }
    ::globfree(&g);
    return out;
}

std::optional<int> run_match_exec(const std::string& command) {
    // /bin/sh -c command with stdin and stdout on /dev/null (stderr stays the user's), no other fds.
    posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0) return std::nullopt;
    ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    std::string sh = "/bin/sh";
    std::string dash_c = "-c";
    std::string cmd = command;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
    pid_t pid = -1;
    const int r = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (r != 0) return std::nullopt;
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) return std::nullopt;
    }
    if (!WIFEXITED(status)) return std::nullopt;
    return WEXITSTATUS(status);
}

ParsedClientConfig load_client_config(const std::string& path, const std::string& home,
                                      const std::vector<std::string>& ignore_unknown) {
    Read got = read_config_text(path);
    if (got.missing) return parse_client_config(path, {});
    if (!got.error.empty()) return one_error(path, got.error);
    const ParseOptions options{
        .user_dir = home + "/.twoway",
        .home = home,
        .read_include = read_include_files,
        .ignore_unknown = ignore_unknown,
    };
    return parse_client_config(path, got.text, options);
}

}  // namespace twoway_client
