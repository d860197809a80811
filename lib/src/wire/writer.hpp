// Writer: builds wire messages into a growing buffer, big-endian, SSH-style strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "wire/reader.hpp"

namespace twoway::wire {

class Writer {
public:
    Writer() = default;
    explicit Writer(std::size_t reserve) { buf_.reserve(reserve); }

    Writer& u8(std::uint8_t v) { buf_.push_back(std::byte{v}); return *this; }
    Writer& u16(std::uint16_t v) { return be(v, 2); }
    Writer& u32(std::uint32_t v) { return be(v, 4); }
    Writer& u64(std::uint64_t v) { return be(v, 8); }
    Writer& bytes(Bytes b) {
        buf_.insert(buf_.end(), b.begin(), b.end());
        return *this;
    }
    Writer& bytes(std::string_view s) { return bytes(as_bytes(s)); }
    // SSH-style string: u32 length then the bytes.
    Writer& string(Bytes b) {
        u32(static_cast<std::uint32_t>(b.size()));
        return bytes(b);
    }
    Writer& string(std::string_view s) { return string(as_bytes(s)); }

    [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }
    [[nodiscard]] Bytes view() const noexcept { return buf_; }
    [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(buf_); }
    // Hands the bytes over in `other` and continues in other's old storage (cleared, capacity kept).
    // Room for n more bytes, so that writing them later cannot fail (allocate).
    void reserve_more(std::size_t n) { buf_.reserve(buf_.size() + n); }
    void take_into(std::vector<std::byte>& other) noexcept {
        other.clear();
        buf_.swap(other);
    }

private:
    // One size check and at most one reallocation per integer, not one per byte.
    Writer& be(std::uint64_t v, int n) {
        const std::size_t at = buf_.size();
        buf_.resize(at + static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            buf_[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (8 * (n - 1 - i))) & 0xff);
        }
        return *this;
    }
    std::vector<std::byte> buf_;
};

}  // namespace twoway::wire
