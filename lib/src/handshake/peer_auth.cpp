#include "handshake/peer_auth.hpp"

namespace twoway::handshake {

namespace {
CertificateType role_type(Role r) { return r == Role::server ? CertificateType::host : CertificateType::user; }

wire::Bytes as_bytes(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
}  // namespace

Result<Identity> read_identity(wire::Bytes blob, Role sender) {
    wire::Reader r(blob);
    const std::string_view type = wire::as_text(r.string(blob.size()));
    if (!r.ok()) return fail(errc::malformed);
    if (type != ssh_ed25519_cert_name) {
        Result<PublicKey> key = PublicKey::from_blob(blob);
        if (!key) return fail(key.error() == errc::unsupported_key_type ? errc::unsupported_key_type : errc::malformed);
        return Identity{*key, std::nullopt};
    }
    Result<Certificate> cert = parse_certificate(blob);
    if (!cert) {
        const std::error_code e = cert.error();
        if (e == errc::unsupported_key_type || e == errc::bad_signature) return fail(e);
        return fail(errc::malformed);  // the reader's short_input / trailing_data, and any field fault
    }
    // Refused here, where the role is known, so that no verdict can forget it: a user certificate is never
    // a server's identity, nor a host certificate a client's (OpenSSH's sshkey_cert_check_authority).
    if (cert->type != role_type(sender)) return fail(errc::wrong_certificate_type);
    PublicKey key = cert->key;
    return Identity{key, std::move(*cert)};
}

Result<std::vector<std::byte>> own_identity_blob(const PublicKey& key, const std::optional<Certificate>& certificate,
                                                 Role self) {
    if (!certificate) return key.blob();
    // The blob is what is sent, so the blob is what is judged (not the struct's fields, which a caller
    // may have changed after signing).
    Result<Certificate> again = parse_certificate(certificate->blob);
    if (!again || again->key != key || again->type != role_type(self)) return fail(errc::invalid_argument);
    return std::move(again->blob);
}

Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                 const AuthMessage& m) {
    Result<Identity> identity = read_identity(m.identity, sender);
    if (!identity) return fail(identity.error());
    Result<std::array<std::byte, 64>> sig = parse_ed25519_signature_blob(m.signature);
    if (!sig) return fail(sig.error());

    t.absorb(plaintext.first(m.signed_end));
    if (!identity->key.verify(signature_payload(sender, t.digest()), *sig)) return fail(errc::bad_signature);

    t.absorb(plaintext.subspan(m.signed_end, m.signature_end - m.signed_end));
    const std::array<std::byte, 64> expected = finished_mac(s, sender, t.digest());
    if (!crypto::ct_equal(expected, m.finished)) return fail(errc::bad_finished);

    t.absorb(plaintext.subspan(m.signature_end));
    std::string banner(reinterpret_cast<const char*>(m.banner.data()), m.banner.size());
    return VerifiedPeer(std::move(*identity), std::move(banner));
}

PendingAuth begin_auth(Transcript& t, Role self, std::string_view account, wire::Bytes identity,
                       std::string_view banner) {
    PendingAuth p{AuthWriter(self, account, identity, as_bytes(banner)), 0};
    p.absorbed = p.w.view().size();
    t.absorb(p.w.view());
    return p;
}

std::vector<std::byte> finish_auth(Secrets& s, Transcript& t, Role self, PendingAuth p,
                                   std::span<const std::byte, 64> signature) {
    p.w.signature(ed25519_signature_blob(signature));
    t.absorb(p.w.view().subspan(p.absorbed));
    p.absorbed = p.w.view().size();
    p.w.finished(finished_mac(s, self, t.digest()));
    t.absorb(p.w.view().subspan(p.absorbed));
    return p.w.take();
}

std::vector<std::byte> build_auth(Secrets& s, Transcript& t, Role self, std::string_view account,
                                  wire::Bytes identity, std::string_view banner, const PrivateKey& key) {
    PendingAuth p = begin_auth(t, self, account, identity, banner);
    const std::array<std::byte, 64> sig = key.sign(signature_payload(self, t.digest()));
    return finish_auth(s, t, self, std::move(p), sig);
}

}  // namespace twoway::handshake
