// The authentication step both roles share (PROTOCOL.md 4.3/4.4 and 7): building our own
// server_auth / client_auth plaintext and verifying the peer's. Verification leaves proof: a
// VerifiedPeer can only be made by verify_auth, after the signature and the Finished MAC both held, so a
// state that holds one cannot have skipped a check.
#pragma once

#include <string_view>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/result.hpp>

#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"

namespace twoway::handshake {

class VerifiedPeer {
public:
    [[nodiscard]] const PublicKey& key() const noexcept { return key_; }

private:
    friend Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                            const AuthMessage& m);
    explicit VerifiedPeer(const PublicKey& k) : key_(k) {}
    PublicKey key_;
};

// Checks, in this order: the identity blob (unsupported_key_type / malformed), the signature blob
// (malformed), the signature over the transcript through the identity (bad_signature), the Finished
// MAC over the transcript through the signature (bad_finished). On success t has absorbed the whole
// plaintext; on failure t is unspecified (callers pass a copy and commit it only on success).
[[nodiscard]] Result<VerifiedPeer> verify_auth(Secrets& s, Transcript& t, Role sender, wire::Bytes plaintext,
                                               const AuthMessage& m);

// Our own plaintext: identity, signature over the transcript through it, Finished over the transcript
// through the signature. t absorbs the whole plaintext.
[[nodiscard]] std::vector<std::byte> build_auth(Secrets& s, Transcript& t, Role self, std::string_view account,
                                                const PrivateKey& key);

}  // namespace twoway::handshake
