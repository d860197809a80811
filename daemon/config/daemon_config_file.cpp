// The edge of the daemon config: reading twowayd.conf and the files its Include lines name. The
// parsing is pure (daemon_config.cpp).
#include "daemon_config.hpp"

#include <glob.h>

#include <twoway/file.hpp>

namespace twowayd {

namespace {

constexpr std::size_t max_config_size = 1u << 20;  // a config file is a few KiB; refuse absurd ones
constexpr std::size_t max_included_files = 256;

std::string read_problem(const std::error_code& ec) {
    return ec == twoway::errc::length_too_large   ? "larger than 1 MiB"
           : ec == twoway::errc::invalid_argument ? "not a regular file"
                                                  : ec.message();
}

// glob(3), sorted as sshd's; every file read whole (at most 1 MiB).
class GlobReader final : public IncludeReader {
public:
    std::vector<IncludedFile> expand(const std::string& pattern, std::string& error) const override {
        std::vector<IncludedFile> out;
        glob_t g{};
        const int r = ::glob(pattern.c_str(), 0, nullptr, &g);
        if (r != 0 && r != GLOB_NOMATCH) {
            error = r == GLOB_NOSPACE ? "out of memory" : "read error";
            ::globfree(&g);
            return out;
        }
        for (std::size_t i = 0; r == 0 && i < g.gl_pathc && i < max_included_files; ++i) {
            IncludedFile f;
            f.path = g.gl_pathv[i];
            auto file = twoway::read_file(f.path, max_config_size);
            if (file) {
                f.text = std::move(file->text);
            } else {
                f.error = read_problem(file.error());
            }
            out.push_back(std::move(f));
        }
        ::globfree(&g);
        return out;
    }
};

}  // namespace

DaemonConfigResult load_daemon_config(const std::string& path) {
    auto file = twoway::read_file(path, max_config_size);
    if (!file) {
        DaemonConfigResult out;
        out.errors.push_back(twoway::Diagnostic{twoway::Location{path, 0}, "cannot read: " + read_problem(file.error())});
        return out;
    }
    const GlobReader reader;
    return parse_daemon_config(path, file->text, &reader);
}

}  // namespace twowayd
