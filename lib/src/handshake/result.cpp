// HandshakeResult::exporter and the suite table (PROTOCOL.md 6.4 and 2).
#include <twoway/handshake.hpp>

#include "crypto/crypto.hpp"
#include "handshake/result_access.hpp"
#include "crypto/labels.hpp"

namespace twoway {

bool suite_supported(Suite s) noexcept { return s == Suite::x25519_ed25519_chacha20poly1305; }

Result<SecretBuffer> HandshakeResult::exporter(std::string_view label, std::span<const std::byte> context,
                                               std::size_t length) const {
    if (label.empty() || label.size() > 255 - crypto::label_prefix.size() || length == 0 || length > 255 * 64 ||
        exporter_secret_.size() < 64) {
        return fail(errc::invalid_argument);
    }
    // exporter = expand_label(expand_label(exporter_secret, label, "", 64), "exporter", SHA-512(context), L)
    const std::span<const std::byte, 64> secret(exporter_secret_.data(), 64);
    SecretBytes<64> per_label;
    crypto::expand_label(secret, label, {}, per_label.span());
    const crypto::Sha512Digest ctx = crypto::sha512(context);
    SecretBuffer out(length);
    crypto::expand_label(per_label.span(), "exporter", ctx, out.span());
    return out;
}

}  // namespace twoway
