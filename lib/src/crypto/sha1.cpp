// SHA-1 from Nettle (Debian's nettle-dev): libsodium has no SHA-1, and twoway writes no hash function
// itself. Used only where a file format names keys by SHA-1 (OpenSSH KRLs), never for integrity.
#include <nettle/sha1.h>

#include "crypto/crypto.hpp"

namespace twoway::crypto {

static_assert(SHA1_DIGEST_SIZE == std::tuple_size_v<Sha1Digest>);

Sha1Digest sha1(Bytes message) {
    sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, message.size(), reinterpret_cast<const std::uint8_t*>(message.data()));
    Sha1Digest out{};
    sha1_digest(&ctx, out.size(), reinterpret_cast<std::uint8_t*>(out.data()));
    return out;
}

}  // namespace twoway::crypto
