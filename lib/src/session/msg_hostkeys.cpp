// HOSTKEYS (server -> client, right after ACCEPT): every host key the server holds, each with an Ed25519
// signature by that key over the host key proof of this session (docs/PROTOCOL.md 6.5 and 15, "Host key
// rotation"), so that a client can learn a new key before the old one is retired (ssh's UpdateHostKeys).
#include <algorithm>

#include "crypto/crypto.hpp"
#include "crypto/labels.hpp"
#include "keys/signature_blob.hpp"
#include "session/messages.hpp"

namespace twoway::session {

namespace {
std::vector<std::byte> to_vector(wire::Bytes b) { return {b.begin(), b.end()}; }
}  // namespace

// HOSTKEYS: u8 count | count x (string[255] key | string[255] signature)
Result<HostKeysAnnounced> parse_hostkeys(wire::Bytes body) {
    wire::Reader r(body);
    const std::uint8_t count = r.u8();
    if (r.ok() && (count == 0 || count > max_host_keys)) return fail(errc::malformed);
    HostKeysAnnounced m;
    std::vector<PublicKey> seen;
    for (std::uint8_t i = 0; i < count && r.ok(); ++i) {
        const wire::Bytes key = r.string(max_host_key_field);
        const wire::Bytes sig = r.string(max_host_key_field);
        if (!r.ok()) break;
        // Shapes only: a plain Ed25519 key (a certificate is not announced), said once, and an
        // Ed25519 signature blob. Whether the signature verifies is verify_host_keys's question.
        auto pk = PublicKey::from_blob(key);
        if (!pk || !keys::parse_ed25519_signature_blob(sig)) return fail(errc::malformed);
        if (std::find(seen.begin(), seen.end(), *pk) != seen.end()) return fail(errc::malformed);
        seen.push_back(*pk);
        m.keys.push_back(HostKeyProof{to_vector(key), to_vector(sig)});
    }
    if (!r.expect_end()) return fail_from(r);
    return m;
}

void write_hostkeys(wire::Writer& out, const HostKeysAnnounced& m) {
    wire::Writer b;
    b.u8(static_cast<std::uint8_t>(m.keys.size()));
    for (const HostKeyProof& k : m.keys) b.string(k.key).string(k.signature);
    write_frame(out, MsgType::hostkeys, b.view());
}

std::vector<std::byte> host_key_proof_payload(std::span<const std::byte, 32> session_id, const PublicKey& key) {
    wire::Writer bound;
    bound.bytes(session_id).string(key.blob());
    const crypto::Sha512Digest h = crypto::sha512(bound.view());
    wire::Writer payload(crypto::host_key_proof_context.size() + 1 + h.size());
    payload.bytes(crypto::host_key_proof_context).u8(0).bytes(h);
    const wire::Bytes v = payload.view();
    return {v.begin(), v.end()};
}

HostKeyProof prove_host_key(const PrivateKey& key, std::span<const std::byte, 32> session_id) {
    const PublicKey pub = key.public_key();
    const std::array<std::byte, 64> sig = key.sign(host_key_proof_payload(session_id, pub));
    return HostKeyProof{pub.blob(), keys::ed25519_signature_blob(sig)};
}

Result<std::vector<PublicKey>> verify_host_keys(const HostKeysAnnounced& announced,
                                                std::span<const std::byte, 32> session_id) {
    if (announced.keys.empty() || announced.keys.size() > max_host_keys) return fail(errc::malformed);
    std::vector<PublicKey> keys;
    for (const HostKeyProof& k : announced.keys) {
        auto pk = PublicKey::from_blob(k.key);
        if (!pk) return fail(errc::malformed);
        auto sig = keys::parse_ed25519_signature_blob(k.signature);
        if (!sig) return fail(errc::malformed);
        // One failed proof voids the message: the keys come as one statement of the server's.
        if (!pk->verify(host_key_proof_payload(session_id, *pk), *sig)) return fail(errc::bad_signature);
        if (std::find(keys.begin(), keys.end(), *pk) != keys.end()) return fail(errc::malformed);
        keys.push_back(*pk);
    }
    return keys;
}

}  // namespace twoway::session
