// Shared by the handshake fuzz targets and their seed generator: deterministic simulated peers built
// from the protocol's pieces, so a fuzz input can supply the *plaintext* of an encrypted handshake
// message (sealed here under the session's real keys) and reach the parsers and checks behind the AEAD.
//
// Input format of both targets: byte 0 = mode (mod 3), byte 1 = flags, then chunks, each a u16
// big-endian length and that many bytes (a short last chunk takes what is left).
//   mode 0  raw: every chunk is fed as received bytes, as they come
//   mode 1  the first chunk is the peer's encrypted message plaintext (sealed here), more chunks follow
//   mode 2  the first chunk is a list of (u16 offset, u8 xor) edits to the genuine plaintext
// With flag_certificate, both sides present certificates (the server also a banner): the target's own
// handshake is configured with one, and the genuine plaintext of the simulated peer carries its
// certificate, so mode 2's edits reach the certificate parser, its CA signature and role checks.
// With flag_password (mode 0 only), the target runs password mode (PROTOCOL.md 4.8): the client with
// password_text, the server with password_keys() and password_record() for `account`, so that raw input
// replayed from a real password handshake reaches client_password, server_password and
// client_password_finish.
// With flag_auth_retry (mode 0 only), several identities (PROTOCOL.md 4.1.3): the client sends
// auth_retry and offers second_client_key() after a retry verdict (and gives up after three refusals);
// the server allows three client_auth messages and denies the first one, then follows flag_refuse.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/handshake.hpp>

#include "handshake/framing.hpp"
#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"
#include "handshake/peer_auth.hpp"
#include "opaque/opaque.hpp"
#include "wire/reader.hpp"
#include "../../tests/support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::fuzz {

using ByteVec = std::vector<std::byte>;

enum Flag : std::uint8_t {
    flag_refuse = 1,      // the verdict is no (reject_server / deny)
    flag_trickle = 2,     // feed byte by byte
    flag_end_input = 4,   // declare end of input at the end
    flag_certificate = 8, // certificates as identities on both sides, and the server's banner
    flag_password = 16,   // mode 0: password mode on both sides (flag_refuse: the server has no record)
    flag_auth_retry = 32, // mode 0: several identities (auth_retry), see above
};
inline constexpr std::uint32_t fuzz_max_auth_tries = 3;

class Chunks {
public:
    explicit Chunks(wire::Bytes in) : r_(in) {}
    [[nodiscard]] bool empty() const { return r_.empty(); }
    wire::Bytes next() {
        if (r_.remaining() < 2) return r_.rest();
        const std::size_t n = r_.u16();
        return r_.bytes(std::min(n, r_.remaining()));
    }

private:
    wire::Reader r_;
};

inline const PrivateKey& client_key() {
    static const PrivateKey k = [] {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{0xc1});
        return PrivateKey::from_seed(seed);
    }();
    return k;
}
inline const PrivateKey& second_client_key() {
    static const PrivateKey k = [] {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{0xc2});
        return PrivateKey::from_seed(seed);
    }();
    return k;
}
inline const PrivateKey& server_key() {
    static const PrivateKey k = [] {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{0x5e});
        return PrivateKey::from_seed(seed);
    }();
    return k;
}
// The CA of both certificates, and the certificates themselves: fixed (the nonce is given, so signing
// draws nothing), so that every run and every seed sees the same bytes.
inline const PrivateKey& ca_key() {
    static const PrivateKey k = [] {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{0xca});
        return PrivateKey::from_seed(seed);
    }();
    return k;
}
inline Certificate make_certificate(const PublicKey& key, CertificateType type, std::string_view principal) {
    CertificateFields f;
    f.nonce.assign(32, std::byte{0x11});
    f.key = key;
    f.type = type;
    f.serial = 42;
    f.key_id = "fuzz";
    f.principals = {std::string(principal)};
    f.extensions = {CertificateOption::flag("permit-pty")};
    DeterministicRng unused(0);
    Result<Certificate> c = sign_certificate(std::move(f), ca_key(), unused);
    if (!c) std::abort();
    return std::move(*c);
}
inline const Certificate& host_certificate() {
    static const Certificate c = make_certificate(server_key().public_key(), CertificateType::host, "fuzz.example");
    return c;
}
inline const Certificate& user_certificate() {
    static const Certificate c = make_certificate(client_key().public_key(), CertificateType::user, "fuzz");
    return c;
}
inline constexpr std::string_view banner = "fuzz banner\r\n\x1b[0m\n";

inline constexpr std::uint64_t client_rng_seed = 0xc11e47;
inline constexpr std::uint64_t server_rng_seed = 0x5e47e4;
inline constexpr std::string_view account = "fuzz";

// Password mode: the server's OPAQUE keys and the account's record (password_text, Argon2id at
// libsodium's minimum cost), made once from fixed randomness.
inline constexpr std::string_view password_text = "fuzz password";
inline constexpr PasswordKsf password_ksf{1, 8};
struct PasswordFixture {
    PasswordServerKeys keys;
    ByteVec record;
};
inline const PasswordFixture& password_fixture() {
    static const PasswordFixture f = [] {
        DeterministicRng rng(0x9a55);
        opaque::ServerKeys sk = opaque::generate_server_keys(rng);
        const wire::Bytes pw = wire::as_bytes(password_text), id = wire::as_bytes(account);
        auto start = opaque::create_registration_request(pw, opaque::random_scalar(rng));
        if (!start) std::abort();
        auto resp = opaque::create_registration_response(start->request, sk, id);
        if (!resp) std::abort();
        opaque::Nonce n{};
        rng.fill(n);
        auto fin = opaque::finalize_registration_request(
            start->state, *resp, opaque::Identities{id, {}},
            opaque::argon2id_ksf({password_ksf.opslimit, password_ksf.memlimit_kib * 1024}), n);
        if (!fin) std::abort();
        const auto rec = opaque::encode(fin->record);
        return PasswordFixture{{sk.oprf_seed.clone(), sk.private_key.clone()}, ByteVec(rec.begin(), rec.end())};
    }();
    return f;
}

// Applies (u16 offset, u8 xor) edits; offsets wrap around the plaintext.
inline void apply_edits(ByteVec& plain, wire::Bytes edits) {
    wire::Reader r(edits);
    while (r.remaining() >= 3 && !plain.empty()) {
        const std::size_t at = r.u16() % plain.size();
        plain[at] ^= std::byte{r.u8()};
    }
}

// A plaintext cut or padded to the length bounds of its message type, so that sealing it is valid.
inline ByteVec clamp(handshake::MsgType type, wire::Bytes plaintext) {
    const std::size_t max = handshake::body_bounds(type).max - handshake::aead_tag_size;
    const std::size_t min = handshake::body_bounds(type).min - handshake::aead_tag_size;
    ByteVec p(plaintext.begin(), plaintext.begin() + static_cast<std::ptrdiff_t>(std::min(plaintext.size(), max)));
    if (p.size() < min) p.resize(min);
    return p;
}

// The client side, from the pieces (PROTOCOL.md 7.1), with fixed randomness.
class SimClient {
public:
    SimClient() {
        DeterministicRng rng(client_rng_seed);
        rng.fill(random_);
        rng.fill(block_.get().ephemeral);
        handshake::ClientHello ch;
        ch.versions = {protocol_version_1};
        ch.suites = {0x0001};
        ch.random = random_;
        share_ = crypto::x25519_public(block_.get().ephemeral);
        ch.shares = {handshake::KeyShare{handshake::group_x25519, share_}};
        hello_ = handshake::write_client_hello(ch);
        transcript_.absorb(hello_);
    }
    [[nodiscard]] const ByteVec& hello() const { return hello_; }

    // Takes the server's flight; false if it is not server_hello | server_auth that opens.
    bool server_flight(wire::Bytes m2) {
        using namespace handshake;
        handshake::Secrets& s = block_.get();
        if (m2.size() < 4 + 70) return false;
        auto sh = parse_server_hello(m2.subspan(4, 70));
        if (!sh || sh->share.size() != 32 || !crypto::x25519(s.shared, s.ephemeral, sh->share.first<32>())) return false;
        transcript_.absorb(m2.first(74));
        derive_handshake_secrets(s, transcript_.digest());
        wire::Bytes rest = m2.subspan(74);
        Frame f{rest.first(std::min<std::size_t>(4, rest.size())), rest.size() > 4 ? rest.subspan(4) : wire::Bytes{}, rest};
        if (rest.size() < 4 + 17) return false;
        auto plain = open_message(f, s.server_key, 0);
        if (!plain) return false;
        transcript_.absorb(*plain);
        return true;
    }
    // The genuine client_auth plaintext for this session (the identity a user certificate or the key).
    [[nodiscard]] ByteVec genuine_auth(bool certificate = false) {
        handshake::Transcript t = transcript_;
        const ByteVec identity = certificate ? user_certificate().blob : client_key().public_key().blob();
        return handshake::build_auth(block_.get(), t, handshake::Role::client, account, identity, {}, client_key());
    }
    [[nodiscard]] ByteVec seal_auth(wire::Bytes plaintext) {
        return handshake::seal_message(handshake::MsgType::client_auth, block_.get().client_key, 0,
                                       clamp(handshake::MsgType::client_auth, plaintext));
    }

private:
    handshake::Random random_{};
    crypto::X25519Public share_{};
    handshake::SecretBlock block_;
    handshake::Transcript transcript_;
    ByteVec hello_;
};

// The server side, from the pieces (PROTOCOL.md 7.2), with fixed randomness.
class SimServer {
public:
    // Answers client_hello with server_hello; false if the hello is unusable.
    bool hello(wire::Bytes m1) {
        using namespace handshake;
        if (m1.size() < 4) return false;
        auto ch = parse_client_hello(m1.subspan(4));
        if (!ch || ch->shares.empty() || ch->shares[0].group != group_x25519) return false;
        Secrets& s = block_.get();
        DeterministicRng rng(server_rng_seed);
        Random random{};
        rng.fill(random);
        rng.fill(s.ephemeral);
        const auto share = crypto::x25519_public(s.ephemeral);
        if (!crypto::x25519(s.shared, s.ephemeral, ch->shares[0].data.first<32>())) return false;
        server_hello_ = write_server_hello(ServerHello{protocol_version_1, 0x0001, random, share});
        transcript_.absorb(m1);
        transcript_.absorb(server_hello_);
        derive_handshake_secrets(s, transcript_.digest());
        return true;
    }
    [[nodiscard]] const ByteVec& server_hello() const { return server_hello_; }
    // The genuine server_auth plaintext (with a host certificate and the banner, or the plain key).
    [[nodiscard]] ByteVec genuine_auth(bool certificate = false) {
        handshake::Transcript t = transcript_;
        const ByteVec identity = certificate ? host_certificate().blob : server_key().public_key().blob();
        return handshake::build_auth(block_.get(), t, handshake::Role::server, {}, identity,
                                     certificate ? banner : std::string_view{}, server_key());
    }
    [[nodiscard]] ByteVec seal(handshake::MsgType type, std::uint64_t seq, wire::Bytes plaintext) const {
        return handshake::seal_message(type, block_.get().server_key, seq, clamp(type, plaintext));
    }

private:
    handshake::SecretBlock block_;
    handshake::Transcript transcript_;
    ByteVec server_hello_;
};

template <class Handshake>
void feed(Handshake& hs, wire::Bytes bytes, bool trickle) {
    if (!trickle) {
        static_cast<void>(hs.feed(bytes));
        return;
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) static_cast<void>(hs.feed(bytes.subspan(i, 1)));
}

inline ByteVec chunk(wire::Bytes b) {
    ByteVec out{static_cast<std::byte>(b.size() >> 8), static_cast<std::byte>(b.size() & 0xff)};
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

}  // namespace twoway::fuzz
