// server_auth and client_auth plaintexts (PROTOCOL.md 4.3, 4.4), the SSH signature blob inside them,
// and the server_verdict plaintext (4.5).
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>

#include "handshake/messages.hpp"

namespace twoway::handshake {

Result<AuthMessage> parse_auth(wire::Bytes plaintext, Role sender) {
    wire::Reader r(plaintext);
    AuthMessage m;
    if (sender == Role::client) {
        m.account = r.text(max_account_size);
        if (r.ok() && m.account.empty()) r.fail(errc::malformed);
    }
    m.identity = r.string(max_identity_size);
    if (sender == Role::server) m.banner = r.string(twoway::max_banner_size);
    m.signed_end = r.consumed();
    m.signature = r.string(max_signature_size);
    m.signature_end = r.consumed();
    m.finished = r.bytes(finished_size);
    if (!r.expect_end()) return fail(errc::malformed);
    return m;
}

AuthWriter::AuthWriter(Role sender, std::string_view account, wire::Bytes identity, wire::Bytes banner)
    : w_((sender == Role::client ? 4 + account.size() : 4 + banner.size()) + 4 + identity.size() + 4 + 83 +
         finished_size) {
    if (sender == Role::client) w_.string(account);
    w_.string(identity);
    if (sender == Role::server) w_.string(banner);
}

void AuthWriter::signature(wire::Bytes blob) { w_.string(blob); }

void AuthWriter::finished(std::span<const std::byte, finished_size> mac) { w_.bytes(mac); }

Result<Verdict> parse_verdict(wire::Bytes plaintext) {
    if (plaintext.size() != 1) return fail(errc::malformed);
    switch (static_cast<std::uint8_t>(plaintext[0])) {
        case 0: return Verdict::accepted;
        case 1: return Verdict::denied;
        case 2: return Verdict::retry;
        default: return fail(errc::malformed);
    }
}

}  // namespace twoway::handshake
