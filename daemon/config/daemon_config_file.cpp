// The edge of the daemon config: reading twowayd.conf. The parsing is pure (daemon_config.cpp).
#include "daemon_config.hpp"

#include <twoway/file.hpp>

namespace twowayd {

namespace {
constexpr std::size_t max_config_size = 1u << 20;  // a config file is a few KiB; refuse absurd ones
}  // namespace

DaemonConfigResult load_daemon_config(const std::string& path) {
    auto file = twoway::read_file(path, max_config_size);
    if (!file) {
        DaemonConfigResult out;
        std::string why = file.error() == twoway::errc::length_too_large   ? "larger than 1 MiB"
                          : file.error() == twoway::errc::invalid_argument ? "not a regular file"
                                                                           : file.error().message();
        out.errors.push_back(twoway::Diagnostic{twoway::Location{path, 0}, "cannot read: " + why});
        return out;
    }
    return parse_daemon_config(path, file->text);
}

}  // namespace twowayd
