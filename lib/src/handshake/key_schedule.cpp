#include "handshake/key_schedule.hpp"

#include <new>

#include "crypto/labels.hpp"

namespace twoway::handshake {

namespace {
constexpr std::array<std::byte, 64> zeros{};

// early_secret = HKDF-Extract(0^64, PSK = 0^64) and its "derived" successor do not depend on the
// session while no PSK is in use, so they are computed once. They are public constants.
const std::array<std::byte, 64>& handshake_salt() {
    static const std::array<std::byte, 64> salt = [] {
        std::array<std::byte, 64> early{};
        crypto::hkdf_sha512_extract(early, zeros, zeros);
        std::array<std::byte, 64> out{};
        crypto::expand_label(early, "derived", {}, out);
        return out;
    }();
    return salt;
}

}  // namespace

SecretBlock::SecretBlock() : buf_(sizeof(Secrets)), s_(new (buf_.data()) Secrets{}) {
    static_assert(std::is_trivially_destructible_v<Secrets> && alignof(Secrets) == 1);
}

SecretBuffer SecretBlock::release_exporter() && {
    auto rest = std::span<std::byte>(buf_.span()).subspan(sizeof(Secrets::exporter));
    crypto::wipe(rest);
    s_ = nullptr;
    return std::move(buf_);
}

void derive_traffic_key(TrafficKey& k, std::span<const std::byte, 64> secret) {
    const crypto::LabelExpander expand(secret);
    expand("key", {}, k.key);
    expand("iv", {}, k.iv);
}

void derive_handshake_secrets(Secrets& s, const Hash& h_hello) {
    auto& handshake_secret = s.scratch;
    crypto::hkdf_sha512_extract(handshake_secret, handshake_salt(), s.shared);
    crypto::wipe(s.shared);
    {
        const crypto::LabelExpander expand(handshake_secret);
        expand("c hs traffic", h_hello, s.client_hs);
        expand("s hs traffic", h_hello, s.server_hs);
        // master_secret = HKDF-Extract(ms_salt = expand_label(handshake_secret, "derived", "", 64), 0^64)
        // in key mode; the salt is kept, since password mode replaces the 0^64 once OPAQUE has run.
        expand("derived", {}, s.ms_salt);
    }
    crypto::hkdf_sha512_extract(s.master, s.ms_salt, zeros);
    crypto::wipe(handshake_secret);
    derive_traffic_key(s.client_key, s.client_hs);
    derive_traffic_key(s.server_key, s.server_hs);
}

void set_password_master(Secrets& s, std::span<const std::byte, 64> opaque_session_key) {
    crypto::hkdf_sha512_extract(s.master, s.ms_salt, opaque_session_key);
}

void derive_application_secrets(Secrets& s, const Hash& h_app, std::span<std::byte, 64> client_ap,
                                std::span<std::byte, 64> server_ap, SessionId& session_id, bool keep_for_retry) {
    {
        const crypto::LabelExpander expand(s.master);
        expand("c ap traffic", h_app, client_ap);
        expand("s ap traffic", h_app, server_ap);
        expand("exp master", h_app, s.exporter);
        expand("session id", h_app, session_id);
    }
    // Everything but the exporter secret and the server handshake key (server_verdict still needs it).
    for (std::span<std::byte> x : {std::span<std::byte>(s.ephemeral), std::span<std::byte>(s.shared),
                                   std::span<std::byte>(s.server_hs), std::span<std::byte>(s.ms_salt),
                                   std::span<std::byte>(s.scratch)}) {
        crypto::wipe(x);
    }
    if (!keep_for_retry) wipe_retry_secrets(s);
}

void wipe_retry_secrets(Secrets& s) {
    for (std::span<std::byte> x : {std::span<std::byte>(s.client_hs), std::span<std::byte>(s.master),
                                   std::span<std::byte>(s.client_key.key), std::span<std::byte>(s.client_key.iv)}) {
        crypto::wipe(x);
    }
}

std::array<std::byte, 64> finished_mac(Secrets& s, Role sender, const Hash& h) {
    const auto& hs = sender == Role::client ? s.client_hs : s.server_hs;
    crypto::expand_label(hs, "finished", {}, s.scratch);
    std::array<std::byte, 64> mac{};
    crypto::hmac_sha512(mac, s.scratch, h);
    crypto::wipe(s.scratch);
    return mac;
}

std::array<std::byte, sig_payload_size> signature_payload(Role signer, const Hash& h) {
    const std::string_view ctx = signer == Role::server ? server_sig_context : client_sig_context;
    std::array<std::byte, sig_payload_size> p{};
    std::size_t i = 0;
    for (char c : ctx) p[i++] = static_cast<std::byte>(c);
    p[i++] = std::byte{0};
    for (std::byte b : h) p[i++] = b;
    return p;
}

namespace {
std::array<std::byte, 12> nonce(const TrafficKey& k, std::uint64_t seq) {
    std::array<std::byte, 12> n = k.iv;
    for (int i = 0; i < 8; ++i) n[11 - static_cast<std::size_t>(i)] ^= static_cast<std::byte>(seq >> (8 * i));
    return n;
}
}  // namespace

std::vector<std::byte> seal_message(MsgType t, const TrafficKey& k, std::uint64_t seq, wire::Bytes plaintext) {
    const std::size_t body = plaintext.size() + aead_tag_size;
    const auto header = make_header(t, body);
    std::vector<std::byte> out(header_size + body);
    std::copy(header.begin(), header.end(), out.begin());
    crypto::chacha20poly1305_seal(std::span<std::byte>(out).subspan(header_size), plaintext, header, nonce(k, seq),
                                  k.key);
    return out;
}

Result<std::vector<std::byte>> open_message(const Frame& f, const TrafficKey& k, std::uint64_t seq) {
    std::vector<std::byte> plain(f.body.size() - aead_tag_size);  // the deframer guarantees > 16
    if (!crypto::chacha20poly1305_open(plain, f.body, f.header, nonce(k, seq), k.key)) {
        return fail(errc::decrypt_failed);
    }
    return plain;
}

}  // namespace twoway::handshake
