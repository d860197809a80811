// Helpers for the [daemon] tests: a scratch directory that cleans up after itself.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/stat.h>

namespace twowayd::test {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "twowayd-unit-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
        ::chmod(path_.c_str(), 0755);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

    // Writes name with the given mode (creating parent directories 0755) and returns its path.
    std::string write(std::string_view name, std::string_view text, unsigned mode = 0644) const {
        const std::string p = file(name);
        std::filesystem::create_directories(std::filesystem::path(p).parent_path());
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out << text;
        }
        ::chmod(p.c_str(), mode);
        return p;
    }

private:
    std::string path_;
};

}  // namespace twowayd::test
