// Helpers for the [client] tests: a scratch directory that cleans up after itself, test keys from fixed
// seeds, and a predictable Rng.
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/stat.h>

#include <twoway/key.hpp>
#include <twoway/random.hpp>

namespace twoway_client::test {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "twoway-client-unit-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

    // Writes name (mode 0600, as twoway writes known_hosts) and returns its path.
    std::string write(std::string_view name, std::string_view text) const {
        const std::string p = file(name);
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out << text;
        }
        ::chmod(p.c_str(), 0600);
        return p;
    }

private:
    std::string path_;
};

// The whole file; "" when it does not exist.
inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline twoway::PublicKey test_key(int n) {
    std::array<std::byte, 32> seed{};
    seed.fill(static_cast<std::byte>(n));
    return twoway::PrivateKey::from_seed(seed).public_key();
}

// "ssh-ed25519 AAAA..." for test key n.
inline std::string key_text(int n) { return twoway::format_public_key_line(test_key(n), {}); }

// Hands out the bytes it was given, over and over: draws that tests can predict.
class ScriptedRng final : public twoway::Rng {
public:
    explicit ScriptedRng(std::string bytes) : bytes_(std::move(bytes)) {}
    void fill(std::span<std::byte> out) override {
        for (auto& b : out) b = static_cast<std::byte>(bytes_[next_++ % bytes_.size()]);
    }

private:
    std::string bytes_;
    std::size_t next_ = 0;
};

}  // namespace twoway_client::test
