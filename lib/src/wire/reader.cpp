#include "wire/reader.hpp"

namespace twoway::wire {

namespace {
template <class T>
T read_be(Reader& r) noexcept {
    Bytes b = r.bytes(sizeof(T));
    T v = 0;
    for (std::byte x : b) v = static_cast<T>((v << 8) | static_cast<T>(x));
    return v;
}
}  // namespace

std::uint8_t Reader::u8() noexcept { return read_be<std::uint8_t>(*this); }
std::uint16_t Reader::u16() noexcept { return read_be<std::uint16_t>(*this); }
std::uint32_t Reader::u32() noexcept { return read_be<std::uint32_t>(*this); }
std::uint64_t Reader::u64() noexcept { return read_be<std::uint64_t>(*this); }

Bytes Reader::bytes(std::size_t n) noexcept {
    if (!ok()) return {};
    if (n > in_.size() - pos_) {
        fail(errc::short_input);
        return {};
    }
    Bytes out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
}

Bytes Reader::string(std::size_t max_len) noexcept {
    std::uint32_t len = u32();
    if (!ok()) return {};
    if (len > max_len) {
        fail(errc::length_too_large);
        return {};
    }
    return bytes(len);
}

std::string_view Reader::text(std::size_t max_len) noexcept {
    Bytes b = string(max_len);
    for (std::byte c : b) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            fail(errc::malformed);
            return {};
        }
    }
    return as_text(b);
}

Reader Reader::sub(std::size_t max_len) noexcept {
    Bytes b = string(max_len);
    Reader r(b);
    if (!ok()) r.fail(err_);
    return r;
}

Bytes Reader::rest() noexcept { return bytes(remaining()); }

bool Reader::expect_end() noexcept {
    if (ok() && pos_ != in_.size()) fail(errc::trailing_data);
    return ok();
}

}  // namespace twoway::wire
