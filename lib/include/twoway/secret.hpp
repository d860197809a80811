/// @file
/// Secret memory: key material lives in sodium_malloc'd pages (guard pages, mlock'd, excluded from
/// core dumps where the OS allows) and is wiped when freed. Move-only; copying a secret is explicit
/// (clone()). No libsodium type appears here; the allocation functions live in the crypto TU.
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

/// A fixed-size secret of N bytes in secure memory. Not thread-safe (like a std::vector). A moved-from
/// SecretBytes holds nothing (valid() is false): assign to it or destroy it, nothing else.
template <std::size_t N>
class SecretBytes {
public:
    static constexpr std::size_t size_bytes = N;  ///< N

    /// N zero bytes. Aborts if secure memory cannot be allocated, as operator new would throw.
    SecretBytes() : p_(static_cast<std::byte*>(detail::secure_alloc(N))) { detail::secure_wipe(p_, N); }
    /// A copy of from (which stays the caller's to wipe).
    explicit SecretBytes(std::span<const std::byte, N> from) : SecretBytes() {
        for (std::size_t i = 0; i < N; ++i) p_[i] = from[i];
    }
    /// Wipes the bytes and frees them.
    ~SecretBytes() { detail::secure_free(p_); }
    /// Takes o's memory; o holds nothing afterwards.
    SecretBytes(SecretBytes&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    /// Wipes and frees this secret, then takes o's memory; o holds nothing afterwards.
    SecretBytes& operator=(SecretBytes&& o) noexcept {
        if (this != &o) {
            detail::secure_free(p_);
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    /// An independent copy in its own secure memory (the only way to copy a secret).
    [[nodiscard]] SecretBytes clone() const { return SecretBytes(span()); }

    /// The bytes; null once moved from.
    [[nodiscard]] std::byte* data() noexcept { return p_; }
    /// @copydoc data()
    [[nodiscard]] const std::byte* data() const noexcept { return p_; }
    /// N.
    static constexpr std::size_t size() noexcept { return N; }
    /// The bytes as a span; only while valid().
    [[nodiscard]] std::span<std::byte, N> span() noexcept { return std::span<std::byte, N>(p_, N); }
    /// @copydoc span()
    [[nodiscard]] std::span<const std::byte, N> span() const noexcept {
        return std::span<const std::byte, N>(p_, N);
    }
    /// False once moved from.
    [[nodiscard]] bool valid() const noexcept { return p_ != nullptr; }

    /// Constant-time comparison; both must be valid().
    friend bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept {
        return detail::secure_equal(a.p_, b.p_, N);
    }

private:
    std::byte* p_;
};

/// A secret of run-time size (decrypted key files, passphrases) in secure memory, wiped when freed.
/// Move-only, not thread-safe; a moved-from SecretBuffer is empty.
class TWOWAY_API SecretBuffer {
public:
    /// Empty; allocates nothing.
    SecretBuffer() noexcept = default;
    /// n zero bytes. Aborts if secure memory cannot be allocated.
    explicit SecretBuffer(std::size_t n);
    /// A copy of from (which stays the caller's to wipe).
    explicit SecretBuffer(std::span<const std::byte> from);
    /// Wipes the bytes and frees them.
    ~SecretBuffer();
    /// Takes o's memory; o is empty afterwards.
    SecretBuffer(SecretBuffer&& o) noexcept;
    /// Wipes and frees this buffer, then takes o's memory; o is empty afterwards.
    SecretBuffer& operator=(SecretBuffer&& o) noexcept;
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;

    /// The bytes; null when empty.
    [[nodiscard]] std::byte* data() noexcept { return p_; }
    /// @copydoc data()
    [[nodiscard]] const std::byte* data() const noexcept { return p_; }
    /// The number of bytes.
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    /// True when size() is 0.
    [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
    /// The bytes as a span.
    [[nodiscard]] std::span<std::byte> span() noexcept { return {p_, n_}; }
    /// @copydoc span()
    [[nodiscard]] std::span<const std::byte> span() const noexcept { return {p_, n_}; }

    /// Constant time for equal sizes; different sizes compare unequal at once (a size is not secret: a
    /// passphrase's length shows in its typing anyway). Two empty buffers are equal.
    friend bool operator==(const SecretBuffer& a, const SecretBuffer& b) noexcept {
        if (a.n_ != b.n_) return false;
        return a.n_ == 0 || detail::secure_equal(a.p_, b.p_, a.n_);
    }

private:
    std::byte* p_ = nullptr;
    std::size_t n_ = 0;
};

/// Overwrites memory that held a secret but is not one of the types above (a passphrase read into a
/// std::string, a key file's text) with zeros, as a store the compiler cannot drop for being dead
/// (sodium_memzero). SecretBytes and SecretBuffer wipe themselves. An empty span is fine.
inline void wipe(std::span<std::byte> data) noexcept { detail::secure_wipe(data.data(), data.size()); }

}  // namespace twoway
