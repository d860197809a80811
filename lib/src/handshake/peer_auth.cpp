#include "handshake/peer_auth.hpp"

namespace twoway::handshake {

Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                 const AuthMessage& m) {
    Result<PublicKey> identity = PublicKey::from_blob(m.identity);
    if (!identity) {
        return fail(identity.error() == errc::unsupported_key_type ? errc::unsupported_key_type : errc::malformed);
    }
    Result<std::array<std::byte, 64>> sig = parse_ed25519_signature_blob(m.signature);
    if (!sig) return fail(sig.error());

    t.absorb(plaintext.first(m.identity_end));
    if (!identity->verify(signature_payload(sender, t.digest()), *sig)) return fail(errc::bad_signature);

    t.absorb(plaintext.subspan(m.identity_end, m.signature_end - m.identity_end));
    const std::array<std::byte, 64> expected = finished_mac(s, sender, t.digest());
    if (!crypto::ct_equal(expected, m.finished)) return fail(errc::bad_finished);

    t.absorb(plaintext.subspan(m.signature_end));
    return VerifiedPeer(*identity);
}

std::vector<std::byte> build_auth(Secrets& s, Transcript& t, Role self, std::string_view account,
                                  const PrivateKey& key) {
    const std::vector<std::byte> identity = key.public_key().blob();
    AuthWriter w(self, account, identity);
    std::size_t absorbed = w.view().size();
    t.absorb(w.view());
    const std::array<std::byte, 64> sig = key.sign(signature_payload(self, t.digest()));
    w.signature(ed25519_signature_blob(sig));
    t.absorb(w.view().subspan(absorbed));
    absorbed = w.view().size();
    w.finished(finished_mac(s, self, t.digest()));
    t.absorb(w.view().subspan(absorbed));
    return w.take();
}

}  // namespace twoway::handshake
