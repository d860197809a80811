#include "keys/signature_blob.hpp"

#include <algorithm>

#include <twoway/key.hpp>

#include "wire/writer.hpp"

namespace twoway::keys {

std::vector<std::byte> ed25519_signature_blob(std::span<const std::byte, 64> sig) {
    wire::Writer w(4 + ssh_ed25519_name.size() + 4 + sig.size());
    w.string(ssh_ed25519_name).string(sig);
    return w.take();
}

Result<std::array<std::byte, 64>> parse_ed25519_signature_blob(wire::Bytes blob) {
    wire::Reader r(blob);
    const std::string_view type = wire::as_text(r.string(64));
    const wire::Bytes sig = r.string(64);
    if (!r.expect_end() || type != ssh_ed25519_name || sig.size() != 64) return fail(errc::malformed);
    std::array<std::byte, 64> out{};
    std::copy(sig.begin(), sig.end(), out.begin());
    return out;
}

}  // namespace twoway::keys
