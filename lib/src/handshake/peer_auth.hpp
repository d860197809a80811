// The authentication step both roles share (PROTOCOL.md 4.3/4.4, 4.7 and 7): building our own
// server_auth / client_auth plaintext and verifying the peer's. Verification leaves proof: a
// VerifiedPeer can only be made by verify_auth, after the identity (a certificate's CA signature
// included), the signature and the Finished MAC all held, so a state that holds one cannot have
// skipped a check.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/result.hpp>

#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"

namespace twoway::handshake {

// An identity blob read (4.7): the key that signs, and the certificate when the blob is one.
struct Identity {
    PublicKey key;
    std::optional<Certificate> certificate;
};

// Reads an identity blob sent by `sender`: `ssh-ed25519` (a plain key) or
// `ssh-ed25519-cert-v01@openssh.com` (parse_certificate: its CA signature checked), in which case the
// certificate's type must be the sender's role (host for the server, user for the client). Errors:
// unsupported_key_type (another key type, or a certificate whose CA key or CA signature is of another
// type or whose CA key is a certificate), malformed (any structural fault), bad_signature (the CA's
// signature does not verify), wrong_certificate_type.
[[nodiscard]] Result<Identity> read_identity(wire::Bytes blob, Role sender);

// Our own identity, checked once when a handshake is configured: `certificate`, when given, must read
// back (parse_certificate) as a certificate of `self`'s type for `key`; invalid_argument otherwise.
// Returns the blob to send.
[[nodiscard]] Result<std::vector<std::byte>> own_identity_blob(const PublicKey& key,
                                                               const std::optional<Certificate>& certificate,
                                                               Role self);

class VerifiedPeer {
public:
    [[nodiscard]] const PublicKey& key() const noexcept { return identity_.key; }
    [[nodiscard]] const std::optional<Certificate>& certificate() const noexcept { return identity_.certificate; }
    [[nodiscard]] const std::string& banner() const noexcept { return banner_; }

private:
    friend Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                            const AuthMessage& m);
    VerifiedPeer(Identity id, std::string banner) : identity_(std::move(id)), banner_(std::move(banner)) {}
    Identity identity_;
    std::string banner_;  // the server's (server_auth)
};

// Checks, in this order: the identity blob (read_identity's errors), the signature blob (malformed),
// the signature over the transcript through the identity (server: through the banner) with the
// identity's key, the certified key for a certificate (bad_signature), the Finished MAC over the
// transcript through the signature (bad_finished). On success t has absorbed the whole plaintext; on
// failure t is unspecified (callers pass a copy and commit it only on success).
[[nodiscard]] Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                               const AuthMessage& m);

// Our own plaintext in two steps, for a signature made elsewhere (an agent's): begin_auth writes the
// identity and the banner (server) or account (client) and t absorbs them; the payload to sign is then
// signature_payload(self, t.digest()); finish_auth appends the signature and the Finished over the
// transcript through it, and t absorbs them too.
struct PendingAuth {
    AuthWriter w;
    std::size_t absorbed = 0;  // bytes of w that t has absorbed
};
[[nodiscard]] PendingAuth begin_auth(Transcript& t, Role self, std::string_view account, wire::Bytes identity,
                                     std::string_view banner);
[[nodiscard]] std::vector<std::byte> finish_auth(Secrets& s, Transcript& t, Role self, PendingAuth p,
                                                 std::span<const std::byte, 64> signature);

// Our own plaintext: identity (the blob own_identity_blob returned), the banner (server) or account
// (client), signature over the transcript through them, Finished over the transcript through the
// signature. t absorbs the whole plaintext.
[[nodiscard]] std::vector<std::byte> build_auth(Secrets& s, Transcript& t, Role self, std::string_view account,
                                                wire::Bytes identity, std::string_view banner, const PrivateKey& key);

}  // namespace twoway::handshake
