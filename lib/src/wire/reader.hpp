// Reader: the one bounded parser for untrusted bytes. Every read is checked against the remaining
// input; the first failure is remembered and every later read fails too, returning zero or empty, so a
// parser may read a whole structure and check ok() once. Lengths read from the input are capped by the
// caller before anything is allocated or sliced.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <twoway/error.hpp>

namespace twoway::wire {

using Bytes = std::span<const std::byte>;

class Reader {
public:
    explicit Reader(Bytes input) noexcept : in_(input) {}

    [[nodiscard]] bool ok() const noexcept { return err_ == errc{}; }
    [[nodiscard]] std::error_code error() const noexcept {
        return ok() ? std::error_code{} : make_error_code(err_);
    }
    [[nodiscard]] std::size_t remaining() const noexcept { return ok() ? in_.size() - pos_ : 0; }
    [[nodiscard]] std::size_t consumed() const noexcept { return pos_; }
    [[nodiscard]] bool empty() const noexcept { return remaining() == 0; }

    // Mark the reader failed (first error wins). Parsers call this for semantic errors too, so that
    // one error path serves both.
    void fail(errc e) noexcept {
        if (ok()) err_ = e;
    }

    std::uint8_t u8() noexcept;
    std::uint16_t u16() noexcept;  // big-endian
    std::uint32_t u32() noexcept;  // big-endian
    std::uint64_t u64() noexcept;  // big-endian

    // Exactly n bytes; an empty span (and failure) if fewer remain.
    Bytes bytes(std::size_t n) noexcept;

    // Exactly N bytes into an array (zeros on failure).
    template <std::size_t N>
    std::array<std::byte, N> array() noexcept {
        std::array<std::byte, N> out{};
        Bytes b = bytes(N);
        if (b.size() == N) {
            for (std::size_t i = 0; i < N; ++i) out[i] = b[i];
        }
        return out;
    }

    // SSH-style string: u32 length then that many bytes. A length above max_len fails with
    // length_too_large before anything else is looked at.
    Bytes string(std::size_t max_len) noexcept;

    // A string that must hold printable text (no control bytes); returned as a view into the input.
    std::string_view text(std::size_t max_len) noexcept;

    // A string read as a nested Reader over its contents.
    Reader sub(std::size_t max_len) noexcept;

    // The rest of the input.
    Bytes rest() noexcept;

    // Succeeds only if the reader is ok and nothing is left; otherwise fails with trailing_data.
    [[nodiscard]] bool expect_end() noexcept;

private:
    Bytes in_;
    std::size_t pos_ = 0;
    errc err_{};
};

// Views between text and bytes, for parsers of text formats.
inline Bytes as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_text(Bytes b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace twoway::wire
