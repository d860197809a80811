// Secure memory for every secret (declared in twoway/secret.hpp): locked, excluded from core dumps,
// wiped on free, all of it from sodium_malloc.
//
// sodium_malloc gives each block its own pages (at least one locked page plus two guard pages) and
// costs a handful of system calls to get and to give back. Per connection that was a few pages of
// locked memory (28 KiB of an idle connection's 66 KiB) and a third of a handshake's cost. So:
//  * Small blocks (the 32- and 64-byte keys and secrets that make up nearly every allocation) are
//    carved from 16 KiB arenas, each one sodium_malloc block: still locked, still excluded from dumps,
//    still guarded at the arena's ends, but no longer each between guard pages of its own. An overrun
//    of a small secret is not caught by a guard page any more; every writer of secrets writes fixed
//    sizes through spans, which is what we rely on instead.
//  * Larger blocks get their own sodium_malloc block (an overrun hits the guard page). Freed ones of
//    the sizes used most are wiped and kept for the next allocation of exactly that size.
// Every block carries a 16-byte header in front of the caller's bytes (secure_free has no size
// argument): the size and where the block came from. Freed memory is wiped at once; arenas and cached
// blocks are kept for reuse, never returned, so the locked memory is bounded by the peak in use.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <sodium.h>

#include "crypto/crypto.hpp"

namespace twoway::detail {

namespace {

constexpr std::size_t header_size = 16;
struct Header {
    std::size_t size;     // the caller's size
    std::uint32_t origin; // small_origin + class index, or own_origin
};
static_assert(sizeof(Header) <= header_size);
constexpr std::uint32_t own_origin = 1;
constexpr std::uint32_t small_origin = 0x100;

// Small classes: header plus up to 48, 112, 240 caller bytes.
constexpr std::array<std::size_t, 3> class_sizes = {64, 128, 256};
constexpr std::size_t arena_size = 16 * 1024;

constexpr std::size_t max_cached_size = 4096;  // larger own blocks go straight back to libsodium
constexpr std::size_t size_slots = 16;         // distinct sizes of own blocks cached
constexpr std::size_t blocks_per_size = 32;    // own blocks kept per size

struct SmallClass {
    std::byte* free = nullptr;     // wiped slots, each holding the next one's address in its first bytes
    std::byte* bump = nullptr;     // the unused rest of the newest arena
    std::byte* bump_end = nullptr;
};

struct SizeSlot {
    std::size_t size = 0;  // 0: unused slot
    std::size_t count = 0;
    std::array<std::byte*, blocks_per_size> blocks{};
};

struct Pool {
    std::mutex mutex;
    std::array<SmallClass, class_sizes.size()> small;
    std::array<SizeSlot, size_slots> cached;

    SizeSlot* find(std::size_t n, bool claim) {
        for (auto& s : cached)
            if (s.size == n) return &s;
        if (!claim) return nullptr;
        for (auto& s : cached)
            if (s.size == 0) {
                s.size = n;
                return &s;
            }
        return nullptr;
    }
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: frees may come from static destructors
    return *p;
}

std::byte* raw_alloc(std::size_t n) {
    auto* p = static_cast<std::byte*>(sodium_malloc(n));
    if (p == nullptr) std::abort();
    return p;
}

std::byte* stamp(std::byte* base, std::size_t n, std::uint32_t origin) {
    const Header h{n, origin};
    std::memcpy(base, &h, sizeof h);
    return base + header_size;
}

std::byte* small_alloc(std::size_t c, std::size_t n) {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    SmallClass& k = p.small[c];
    std::byte* base = nullptr;
    if (k.free != nullptr) {
        base = k.free;
        std::memcpy(&k.free, base, sizeof k.free);
    } else {
        if (k.bump == k.bump_end) {
            k.bump = raw_alloc(arena_size);
            k.bump_end = k.bump + arena_size;
        }
        base = k.bump;
        k.bump += class_sizes[c];
    }
    return stamp(base, n, small_origin + static_cast<std::uint32_t>(c));
}

}  // namespace

void* secure_alloc(std::size_t n) {
    crypto::init();
    if (n == 0) n = 1;
    for (std::size_t c = 0; c < class_sizes.size(); ++c) {
        if (header_size + n <= class_sizes[c]) return small_alloc(c, n);
    }
    if (n <= max_cached_size) {
        Pool& p = pool();
        std::lock_guard lock(p.mutex);
        if (SizeSlot* s = p.find(n, false); s != nullptr && s->count > 0) return s->blocks[--s->count];
    }
    return stamp(raw_alloc(header_size + n), n, own_origin);
}

void secure_free(void* ptr) noexcept {
    if (ptr == nullptr) return;
    auto* user = static_cast<std::byte*>(ptr);
    std::byte* base = user - header_size;
    Header h{};
    std::memcpy(&h, base, sizeof h);
    sodium_memzero(user, h.size);
    Pool& p = pool();
    if (h.origin >= small_origin) {
        sodium_memzero(base, header_size);
        std::lock_guard lock(p.mutex);
        SmallClass& k = p.small[h.origin - small_origin];
        std::memcpy(base, &k.free, sizeof k.free);
        k.free = base;
        return;
    }
    if (h.size <= max_cached_size) {
        std::lock_guard lock(p.mutex);
        if (SizeSlot* s = p.find(h.size, true); s != nullptr && s->count < blocks_per_size) {
            s->blocks[s->count++] = user;
            return;
        }
    }
    sodium_free(base);  // wipes again and unmaps
}

}  // namespace twoway::detail
