#include <twoway/key.hpp>

#include <cstring>

#include "crypto/crypto.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway {

std::vector<std::byte> PublicKey::blob() const {
    wire::Writer w(4 + ssh_ed25519_name.size() + 4 + raw_.size());
    w.string(ssh_ed25519_name).string(raw_);
    return w.take();
}

Result<PublicKey> PublicKey::from_blob(std::span<const std::byte> blob) {
    wire::Reader r(blob);
    std::string_view type = wire::as_text(r.string(64));
    if (!r.ok()) return fail(r.error());
    if (type != ssh_ed25519_name) return fail(errc::unsupported_key_type);
    wire::Bytes pk = r.string(32);
    if (!r.ok()) return fail(r.error());
    if (pk.size() != 32) return fail(errc::malformed);
    if (!r.expect_end()) return fail(r.error());
    Raw raw{};
    std::memcpy(raw.data(), pk.data(), raw.size());
    return PublicKey(raw);
}

bool PublicKey::verify(std::span<const std::byte> message, std::span<const std::byte, 64> sig) const {
    return crypto::ed25519_verify(raw_, message, sig);
}

PrivateKey PrivateKey::generate(Rng& rng) {
    SecretBytes<32> seed;
    rng.fill(seed.span());
    return from_seed(seed.span());
}

PrivateKey PrivateKey::from_seed(std::span<const std::byte, 32> seed) {
    auto kp = crypto::ed25519_from_seed(seed);
    return PrivateKey(PublicKey(kp.public_key), std::move(kp.secret_key));
}

std::array<std::byte, 64> PrivateKey::sign(std::span<const std::byte> message) const {
    return crypto::ed25519_sign(secret_, message);
}

Status PrivateKey::agree(std::span<std::byte, 32> shared, std::span<const std::byte, 32> peer) const {
    return crypto::ed25519_x25519(shared, secret_, peer);
}

SecretBytes<32> PrivateKey::seed() const {
    return SecretBytes<32>(std::span<const std::byte, 32>(secret_.data(), 32));
}

PrivateKey PrivateKey::clone() const { return PrivateKey(public_, secret_.clone()); }

}  // namespace twoway
