// A throwaway directory for one test, removed with everything in it when the object goes. Shared by the
// unit tests that read and write real files (io, keys, capi); the daemon's and client's test supports
// keep their own, whose write() also sets the modes those programs check.
#pragma once

#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace twoway_test {

class TempDir {
public:
    // A new directory named <system temp dir>/<prefix>-XXXXXX (mkdtemp: mode 0700).
    explicit TempDir(std::string_view prefix = "twoway-test") {
        std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] std::string path() const { return path_.string(); }
    [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }
    // Writes name (replacing it; mode from the umask) and returns its path.
    std::string write(std::string_view name, std::string_view text) const {
        const std::string p = file(name);
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
        return p;
    }
    // How many entries the directory holds (to see that no temporary file was left behind).
    [[nodiscard]] std::size_t entries() const {
        return static_cast<std::size_t>(
            std::distance(std::filesystem::directory_iterator(path_), std::filesystem::directory_iterator()));
    }

private:
    std::filesystem::path path_;
};

}  // namespace twoway_test
