// SHA-1 and HMAC-SHA1 from Nettle (Debian's nettle-dev): libsodium has neither, and twoway writes no hash
// function itself. Used only where a file format needs them (OpenSSH KRLs name keys by SHA-1; hashed
// known_hosts names are HMAC-SHA1), never for integrity.
#include <nettle/hmac.h>
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

Sha1Digest hmac_sha1(Bytes key, Bytes message) {
    hmac_sha1_ctx ctx;
    hmac_sha1_set_key(&ctx, key.size(), reinterpret_cast<const std::uint8_t*>(key.data()));
    hmac_sha1_update(&ctx, message.size(), reinterpret_cast<const std::uint8_t*>(message.data()));
    Sha1Digest out{};
    hmac_sha1_digest(&ctx, out.size(), reinterpret_cast<std::uint8_t*>(out.data()));
    return out;
}

}  // namespace twoway::crypto
