// The edge of the client config: reading ~/.twoway/config, with ssh's ownership and permission check.
// The parsing is pure (client_config.cpp).
#include "client_config.hpp"

#include <cerrno>
#include <system_error>

#include <sys/stat.h>
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
}  // namespace

ParsedClientConfig load_client_config(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return parse_client_config(path, {});
        return one_error(path, "cannot read: " + std::error_code(errno, std::generic_category()).message());
    }
    // As ssh: the file says which keys and host key files to trust, so nobody else may be able to write it.
    if ((st.st_uid != 0 && st.st_uid != ::getuid()) || (st.st_mode & 022) != 0) {
        return one_error(path, "Bad owner or permissions");
    }
    auto file = twoway::read_file(path, max_config_size);
    if (!file) {
        std::string why = file.error() == errc::length_too_large   ? "larger than 1 MiB"
                          : file.error() == errc::invalid_argument ? "not a regular file"
                                                                   : file.error().message();
        return one_error(path, "cannot read: " + why);
    }
    return parse_client_config(path, file->text);
}

}  // namespace twoway_client
