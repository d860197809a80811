// Secret memory: key material lives in sodium_malloc'd pages (guard pages, mlock'd, excluded from
// core dumps where the OS allows) and is wiped when freed. Move-only; copying a secret is explicit
// (clone()). No libsodium type appears here; the allocation functions live in the crypto TU.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <utility>

#include <twoway/export.hpp>

namespace twoway {

namespace detail {
TWOWAY_API void* secure_alloc(std::size_t n);  // aborts on allocation failure, like operator new
TWOWAY_API void secure_free(void* p) noexcept;  // wipes, then frees; null is fine
TWOWAY_API void secure_wipe(void* p, std::size_t n) noexcept;
TWOWAY_API bool secure_equal(const void* a, const void* b, std::size_t n) noexcept;  // constant time
}  // namespace detail

// A fixed-size secret.
template <std::size_t N>
class SecretBytes {
public:
    static constexpr std::size_t size_bytes = N;

    SecretBytes() : p_(static_cast<std::byte*>(detail::secure_alloc(N))) { detail::secure_wipe(p_, N); }
    explicit SecretBytes(std::span<const std::byte, N> from) : SecretBytes() {
        for (std::size_t i = 0; i < N; ++i) p_[i] = from[i];
    }
    ~SecretBytes() { detail::secure_free(p_); }
    SecretBytes(SecretBytes&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    SecretBytes& operator=(SecretBytes&& o) noexcept {
        if (this != &o) {
            detail::secure_free(p_);
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    [[nodiscard]] SecretBytes clone() const { return SecretBytes(span()); }

    [[nodiscard]] std::byte* data() noexcept { return p_; }
    [[nodiscard]] const std::byte* data() const noexcept { return p_; }
    static constexpr std::size_t size() noexcept { return N; }
    [[nodiscard]] std::span<std::byte, N> span() noexcept { return std::span<std::byte, N>(p_, N); }
    [[nodiscard]] std::span<const std::byte, N> span() const noexcept {
        return std::span<const std::byte, N>(p_, N);
    }
    [[nodiscard]] bool valid() const noexcept { return p_ != nullptr; }

    // Constant-time comparison.
    friend bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept {
        return detail::secure_equal(a.p_, b.p_, N);
    }

private:
    std::byte* p_;
};

// A secret of run-time size (decrypted key files, passphrases).
class TWOWAY_API SecretBuffer {
public:
    SecretBuffer() noexcept = default;
    explicit SecretBuffer(std::size_t n);
    explicit SecretBuffer(std::span<const std::byte> from);
    ~SecretBuffer();
    SecretBuffer(SecretBuffer&& o) noexcept;
    SecretBuffer& operator=(SecretBuffer&& o) noexcept;
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;

    [[nodiscard]] std::byte* data() noexcept { return p_; }
    [[nodiscard]] const std::byte* data() const noexcept { return p_; }
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
    [[nodiscard]] std::span<std::byte> span() noexcept { return {p_, n_}; }
    [[nodiscard]] std::span<const std::byte> span() const noexcept { return {p_, n_}; }

    // Constant time for equal sizes; different sizes compare unequal at once (a size is not secret: a
    // passphrase's length shows in its typing anyway). Two empty buffers are equal.
    friend bool operator==(const SecretBuffer& a, const SecretBuffer& b) noexcept {
        if (a.n_ != b.n_) return false;
        return a.n_ == 0 || detail::secure_equal(a.p_, b.p_, a.n_);
    }

private:
    std::byte* p_ = nullptr;
    std::size_t n_ = 0;
};

// Overwrites memory that held a secret but is not one of the types above (a passphrase read into a
// std::string, a key file's text) with zeros, as a store the compiler cannot drop for being dead
// (sodium_memzero). SecretBytes and SecretBuffer wipe themselves. An empty span is fine.
inline void wipe(std::span<std::byte> data) noexcept { detail::secure_wipe(data.data(), data.size()); }

}  // namespace twoway
