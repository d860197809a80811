// Test helper: hex strings to bytes and back.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twoway::test {

inline std::vector<std::byte> unhex(std::string_view s) {
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex");
    };
    if (s.size() % 2 != 0) throw std::invalid_argument("odd hex");
    std::vector<std::byte> out;
    for (std::size_t i = 0; i < s.size(); i += 2) out.push_back(static_cast<std::byte>(nib(s[i]) * 16 + nib(s[i + 1])));
    return out;
}

template <class Range>
std::string hex(const Range& r) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (std::byte b : r) {
        out.push_back(d[static_cast<unsigned>(b) >> 4]);
        out.push_back(d[static_cast<unsigned>(b) & 15]);
    }
    return out;
}

inline std::vector<std::byte> bytes(std::string_view s) {
    std::vector<std::byte> out;
    for (char c : s) out.push_back(static_cast<std::byte>(c));
    return out;
}

}  // namespace twoway::test
