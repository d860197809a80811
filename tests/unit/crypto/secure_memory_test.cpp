// The secure allocator behind SecretBytes/SecretBuffer (lib/src/crypto/secure_memory.cpp): blocks of
// every size class are usable, distinct and aligned, memory is wiped when freed (small blocks and
// cached blocks stay mapped, so the test can look), and reuse hands back zeroed memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <twoway/secret.hpp>

namespace {

bool all_equal(const void* p, std::size_t n, unsigned char v) {
    const auto* b = static_cast<const unsigned char*>(p);
    return std::all_of(b, b + n, [v](unsigned char x) { return x == v; });
}

}  // namespace

TEST_CASE("secure blocks of every size class are distinct, writable and wiped on free", "[crypto]") {
    using twoway::detail::secure_alloc;
    using twoway::detail::secure_free;
    // Around every class boundary (48, 112, 240 caller bytes), a cached size and an uncached one.
    const std::vector<std::size_t> sizes = {0, 1, 32, 47, 48, 49, 64, 111, 112, 113, 239, 240, 241, 1000, 4096, 4097, 70000};
    std::vector<std::pair<unsigned char*, std::size_t>> live;
    for (int round = 0; round < 3; ++round) {
        for (std::size_t n : sizes) {
            auto* p = static_cast<unsigned char*>(secure_alloc(n));
            REQUIRE(p != nullptr);
            const std::size_t usable = std::max<std::size_t>(n, 1);
            std::memset(p, 0xA5 ^ static_cast<int>(usable & 0xff), usable);
            live.emplace_back(p, usable);
        }
    }
    // No two live blocks overlap, and no write above spilled into another block.
    auto sorted = live;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
        REQUIRE(sorted[i].first + sorted[i].second <= sorted[i + 1].first);
    }
    for (auto [p, n] : live) REQUIRE(all_equal(p, n, static_cast<unsigned char>(0xA5 ^ (n & 0xff))));
    // Small classes are 16-byte aligned (SecretBytes of 32 and 64 bytes are the common case).
    for (auto [p, n] : live) {
        if (n <= 240) REQUIRE(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
    }

    // Freed small and cached blocks stay mapped for reuse: their bytes must already be zero.
    for (auto [p, n] : live) {
        secure_free(p);
        if (n <= 4096) REQUIRE(all_equal(p, n, 0));
    }
    // Reuse: blocks come back (the same addresses are reused) and read as zero through the public types.
    for (int i = 0; i < 100; ++i) {
        twoway::SecretBytes<64> a;
        twoway::SecretBytes<32> b;
        twoway::SecretBuffer c(1000);
        REQUIRE(all_equal(a.data(), 64, 0));
        REQUIRE(all_equal(b.data(), 32, 0));
        REQUIRE(all_equal(c.data(), 1000, 0));
        std::memset(a.data(), 0xff, 64);
        std::memset(b.data(), 0xff, 32);
        std::memset(c.data(), 0xff, 1000);
    }
    secure_free(nullptr);  // allowed, like free(nullptr)
}

TEST_CASE("wipe zeroes memory the secret types do not own; an empty span is fine", "[crypto]") {
    std::string passphrase = "correct horse battery staple";
    twoway::wipe(std::as_writable_bytes(std::span(passphrase)));
    REQUIRE(passphrase.size() == 28);  // wiped in place, not shortened
    CHECK(all_equal(passphrase.data(), passphrase.size(), 0));

    twoway::wipe({});                                    // nothing, no pointer
    std::string empty;
    twoway::wipe(std::as_writable_bytes(std::span(empty)));
    CHECK(empty.empty());
}

TEST_CASE("SecretBuffer compares by content, unequal sizes never equal", "[crypto]") {
    const auto buffer = [](std::string_view s) { return twoway::SecretBuffer(std::as_bytes(std::span(s))); };
    CHECK(buffer("passphrase") == buffer("passphrase"));
    CHECK_FALSE(buffer("passphrase") == buffer("passphrasf"));  // last byte differs
    CHECK_FALSE(buffer("Passphrase") == buffer("passphrase"));  // first byte differs
    CHECK_FALSE(buffer("passphrase") == buffer("passphrase "));  // a prefix is not equal
    CHECK_FALSE(buffer("") == buffer("x"));
    // Empty ones are equal however they were made (a default buffer holds no memory at all).
    CHECK(twoway::SecretBuffer() == twoway::SecretBuffer(0));
    CHECK(twoway::SecretBuffer() == buffer(""));
    twoway::SecretBuffer moved_from = buffer("x");
    twoway::SecretBuffer taker = std::move(moved_from);
    CHECK(taker == buffer("x"));
}
