// Computes the handshake test vectors. The "spec" side below derives every value from PROTOCOL.md with
// the crypto primitives only (HMAC-SHA-512, SHA-512, X25519, Ed25519, ChaCha20-Poly1305); the
// implementation side runs the real ClientHandshake / ServerHandshake with the same fixed inputs. Every
// value the two can both produce must agree byte for byte.
#include <cstring>
#include <deque>

#include <twoway/certificate.hpp>
#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/session.hpp>

#include "crypto/crypto.hpp"
#include "opaque/opaque.hpp"
#include "support/ed25519_edge.hpp"
#include "vectors/vectors.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway::vectors {

namespace {

using Bytes = std::vector<std::byte>;
using View = std::span<const std::byte>;

Bytes seq(unsigned first, std::size_t n = 32) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(first + i);
    return b;
}
Bytes text(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data()) + s.size()}; }
Bytes cat(std::initializer_list<View> parts) {
    Bytes out;
    for (View p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
std::string hex(View b) { return crypto::hex_encode(b); }
void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("handshake vectors: implementation and specification disagree on " + what);
}
template <std::size_t N>
std::span<const std::byte, N> fixed(const Bytes& b) {
    if (b.size() != N) throw std::runtime_error("handshake vectors: size");
    return std::span<const std::byte, N>(b.data(), N);
}

// ---- the specification, from primitives ---------------------------------------------------------
Bytes hmac(View key, View msg) {
    std::array<std::byte, 64> out{};
    crypto::hmac_sha512(out, key, msg);
    return {out.begin(), out.end()};
}
Bytes sha512(View m) {
    auto d = crypto::sha512(m);
    return {d.begin(), d.end()};
}
// HKDF-Expand-Label: info = u16 L | u8 n | "twoway v1 " label | u8 m | context; T(i) = HMAC(secret, T(i-1) | info | i).
Bytes expand_label(View secret, std::string_view label, View context, std::size_t len) {
    const std::string full = "twoway v1 " + std::string(label);
    Bytes info{static_cast<std::byte>(len >> 8), static_cast<std::byte>(len & 0xff), static_cast<std::byte>(full.size())};
    info.insert(info.end(), reinterpret_cast<const std::byte*>(full.data()), reinterpret_cast<const std::byte*>(full.data()) + full.size());
    info.push_back(static_cast<std::byte>(context.size()));
    info.insert(info.end(), context.begin(), context.end());
    Bytes out, t;
    for (unsigned i = 1; out.size() < len; ++i) {
        t = hmac(secret, cat({t, info, Bytes{static_cast<std::byte>(i)}}));
        out.insert(out.end(), t.begin(), t.end());
    }
    out.resize(len);
    return out;
}
Bytes nonce(const Bytes& iv, std::uint64_t n) {
    Bytes out = iv;
    for (int i = 0; i < 8; ++i) out[11 - static_cast<std::size_t>(i)] ^= static_cast<std::byte>(n >> (8 * i));
    return out;
}
Bytes seal(const Bytes& key, const Bytes& iv, std::uint64_t n, View ad, View plain) {
    Bytes out(plain.size() + 16);
    crypto::chacha20poly1305_seal(out, plain, ad, fixed<12>(nonce(iv, n)), fixed<32>(key));
    return out;
}
Bytes header(std::uint8_t type, std::size_t len) {
    return {std::byte{type}, static_cast<std::byte>(len >> 16), static_cast<std::byte>(len >> 8), static_cast<std::byte>(len)};
}
// An encrypted handshake message: header | AEAD(key, iv XOR seq, ad = header, plaintext).
Bytes encrypted_message(std::uint8_t type, const Bytes& key, const Bytes& iv, std::uint64_t n, View plain) {
    const Bytes h = header(type, plain.size() + 16);
    return cat({h, seal(key, iv, n, h, plain)});
}
Bytes ssh_string(View b) {
    wire::Writer w;
    w.string(b);
    return w.take();
}
Bytes sig_payload(std::string_view context, const Bytes& h) { return cat({text(context), Bytes{std::byte{0}}, h}); }

// ---- the implementation, with fixed randomness --------------------------------------------------
class QueueRng final : public Rng {
public:
    explicit QueueRng(std::initializer_list<Bytes> q) : q_(q) {}
    void fill(std::span<std::byte> out) override {
        if (q_.empty() || q_.front().size() != out.size()) throw std::runtime_error("handshake vectors: rng draw");
        std::memcpy(out.data(), q_.front().data(), out.size());
        q_.pop_front();
    }

private:
    std::deque<Bytes> q_;
};

std::vector<Bytes> split(const Bytes& flight) {
    std::vector<Bytes> out;
    wire::Reader r(flight);
    while (!r.empty()) {
        const auto type = r.u8();
        const std::uint32_t len = (static_cast<std::uint32_t>(r.u8()) << 16) | r.u16();
        out.push_back(cat({header(type, len), r.bytes(len)}));
    }
    check(r.ok(), "flight framing");
    return out;
}

struct Inputs {
    Bytes client_seed = seq(0x00), server_seed = seq(0x20), client_random = seq(0x40), client_x25519 = seq(0x60),
          server_random = seq(0x80), server_x25519 = seq(0xa0), wrong_signer_seed = seq(0xc0),
          client_decoy_mac = seq(0xe0, 16);
    // The certificate vectors (PROTOCOL.md 4.7): a user CA and a host CA, and each certificate's nonce.
    Bytes user_ca_seed = seq(0x30), host_ca_seed = seq(0x70), client_cert_nonce = seq(0x90), server_cert_nonce = seq(0xb0);
    // The HOSTKEYS vector (PROTOCOL.md 15): the server's second host key, and the window of its ACCEPT.
    Bytes second_host_seed = seq(0x50);
    // The auth_retry vector (PROTOCOL.md 4.1.3): the client's second identity, which the server accepts.
    Bytes second_client_seed = seq(0x10);
    std::uint32_t accept_window = 2u << 20;
    std::uint64_t client_cert_serial = 1, server_cert_serial = 2;
    std::string client_cert_key_id = "alice@laptop", server_cert_key_id = "server.example host key";
    std::string client_cert_principal = "alice", server_cert_principal = "server.example";
    std::uint64_t valid_after = 0, valid_before = 0xffffffffffffffffULL;
    std::string server_banner = "Authorized users only. Activity is logged.\n";
    std::string account = "alice";
    std::string exporter_label = "EXPORTER-twoway-test";
    std::string exporter_context = "channel binding";
    std::string client_data = "hello from the client";
    std::string server_data = "hello from the server";
};

Bytes u32_be(std::size_t n) {
    return {static_cast<std::byte>(n >> 24), static_cast<std::byte>(n >> 16), static_cast<std::byte>(n >> 8),
            static_cast<std::byte>(n)};
}
Bytes u64_be(std::uint64_t n) {
    Bytes b(8);
    for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<std::byte>(n >> (56 - 8 * i));
    return b;
}

// A certificate as PROTOCOL.md 4.7 (OpenSSH's PROTOCOL.certkeys) lays it out, signed by `ca`: no critical
// options; the extensions field's contents as given; empty reserved. Returns the blob and its signature
// blob.
struct SpecCertificate {
    Bytes blob, signature_blob;
};
SpecCertificate spec_certificate(const Bytes& nonce, const PublicKey& key, std::uint64_t serial, std::uint32_t type,
                                 std::string_view key_id, std::string_view principal, std::uint64_t after,
                                 std::uint64_t before, const Bytes& extensions, const PrivateKey& ca) {
    wire::Writer principals;
    principals.string(principal);
    wire::Writer w;
    w.string("ssh-ed25519-cert-v01@openssh.com").string(nonce).string(key.raw()).u64(serial).u32(type).string(key_id);
    w.string(principals.view()).u64(after).u64(before).string(Bytes{}).string(extensions).string(Bytes{});
    w.string(ca.public_key().blob());
    wire::Writer sig;
    sig.string("ssh-ed25519").string(ca.sign(w.view()));
    SpecCertificate c;
    c.signature_blob = sig.take();
    w.string(c.signature_blob);
    c.blob = w.take();
    return c;
}

// The extensions field of the user certificate: permit-pty, a flag (empty data).
Bytes permit_pty_extension() {
    wire::Writer w;
    w.string("permit-pty").string(Bytes{});
    return w.take();
}

void add(Vector& v, std::string key, View b) { v.fields.emplace_back(std::move(key), hex(b)); }
void add_text(Vector& v, std::string key, std::string s) { v.fields.emplace_back(std::move(key), std::move(s)); }

}  // namespace

std::vector<Vector> compute() {
    const Inputs in;
    const PrivateKey client_key = PrivateKey::from_seed(fixed<32>(in.client_seed));
    const PrivateKey server_key = PrivateKey::from_seed(fixed<32>(in.server_seed));
    const PrivateKey wrong_signer = PrivateKey::from_seed(fixed<32>(in.wrong_signer_seed));
    const Bytes client_pub = client_key.public_key().blob();
    const Bytes server_pub = server_key.public_key().blob();

    // Implementation run.
    QueueRng crng{in.client_random, in.client_x25519, in.client_decoy_mac}, srng{in.server_random, in.server_x25519};
    ClientHandshake client({.identity = client_key, .account = in.account}, crng);
    ServerHandshake server({.host_key = server_key}, srng);
    const Bytes m1 = client.take_output();
    check(bool(server.feed(m1)), "server accepts client_hello");
    const std::vector<Bytes> m2 = split(server.take_output());
    check(m2.size() == 2, "server flight");
    check(bool(client.feed(cat({m2[0], m2[1]}))), "client accepts the server flight");
    check(std::holds_alternative<NeedServerVerdict>(client.event()), "client asks for a verdict");
    check(bool(client.accept_server()), "accept_server");
    const Bytes m3 = client.take_output();
    check(bool(server.feed(m3)), "server accepts client_auth");
    check(bool(server.authorize()), "authorize");
    const Bytes m4 = server.take_output();
    check(bool(client.feed(m4)) && client.complete(), "client completes");
    auto cres = client.take_result();
    auto sres = server.take_result();
    check(cres.has_value() && sres.has_value(), "results");
    check(!sres->client_accepts_host_keys, "a client_hello without host_keys gets no HOSTKEYS");

    // Specification run.
    const Bytes zeros(64, std::byte{0});
    const auto client_share = crypto::x25519_public(fixed<32>(in.client_x25519));
    const auto server_share = crypto::x25519_public(fixed<32>(in.server_x25519));
    std::array<std::byte, 32> shared{};
    check(bool(crypto::x25519(shared, fixed<32>(in.client_x25519), server_share)), "x25519");
    // client_hello (4.1) ends with host_key_mac (4.1.1); the client knows no key for the server here, so
    // the extension carries the 16 random bytes of its third draw.
    // With host_keys (4.1.2), its empty extension 0x0003 comes before host_key_mac: 4 bytes more.
    auto hello_before_mac = [&](bool host_keys) {
        const Bytes host_keys_ext = host_keys ? Bytes{std::byte{0}, std::byte{3}, std::byte{0}, std::byte{0}} : Bytes{};
        const auto ext_len = static_cast<std::uint8_t>(20 + host_keys_ext.size());
        return cat({header(1, 97 + host_keys_ext.size()), Bytes{std::byte{1}, std::byte{0}, std::byte{1}},
                    Bytes{std::byte{1}, std::byte{0}, std::byte{1}}, in.client_random,
                    Bytes{std::byte{1}, std::byte{0}, std::byte{1}, std::byte{0}, std::byte{32}}, client_share,
                    Bytes{std::byte{0}, std::byte{ext_len}}, host_keys_ext,
                    Bytes{std::byte{0}, std::byte{2}, std::byte{0}, std::byte{16}}});
    };
    const Bytes expected_m1 = cat({hello_before_mac(false), in.client_decoy_mac});
    check(m1 == expected_m1, "client_hello");
    const Bytes server_hello = cat({header(2, 70), Bytes{std::byte{0}, std::byte{1}, std::byte{0}, std::byte{1}},
                                    in.server_random, Bytes{std::byte{0}, std::byte{32}}, server_share});
    check(m2[0] == server_hello, "server_hello");

    const Bytes early_secret = hmac(zeros, zeros);
    const Bytes hs_salt = expand_label(early_secret, "derived", {}, 64);
    const Bytes handshake_secret = hmac(hs_salt, shared);
    const Bytes h_hello = sha512(cat({m1, server_hello}));
    const Bytes c_hs = expand_label(handshake_secret, "c hs traffic", h_hello, 64);
    const Bytes s_hs = expand_label(handshake_secret, "s hs traffic", h_hello, 64);
    const Bytes ms_salt = expand_label(handshake_secret, "derived", {}, 64);
    const Bytes master = hmac(ms_salt, zeros);
    const Bytes c_hs_key = expand_label(c_hs, "key", {}, 32), c_hs_iv = expand_label(c_hs, "iv", {}, 12);
    const Bytes s_hs_key = expand_label(s_hs, "key", {}, 32), s_hs_iv = expand_label(s_hs, "iv", {}, 12);

    // server_auth plaintext: string identity | string banner | string signature | finished; no banner here.
    const Bytes sa_signed = cat({ssh_string(server_pub), ssh_string(Bytes{})});
    const Bytes h_server_sig = sha512(cat({m1, server_hello, sa_signed}));
    const Bytes server_sig_payload = sig_payload("twoway v1 server sig", h_server_sig);
    const auto server_sig = server_key.sign(server_sig_payload);
    wire::Writer sb;
    sb.string("ssh-ed25519").string(server_sig);
    const Bytes sa_signature = ssh_string(sb.view());
    const Bytes h_server_fin = sha512(cat({m1, server_hello, sa_signed, sa_signature}));
    const Bytes server_finished_key = expand_label(s_hs, "finished", {}, 64);
    const Bytes server_finished = hmac(server_finished_key, h_server_fin);
    const Bytes sa_plain = cat({sa_signed, sa_signature, server_finished});
    const Bytes server_auth = encrypted_message(3, s_hs_key, s_hs_iv, 0, sa_plain);
    check(m2[1] == server_auth, "server_auth");

    // client_auth plaintext: string account | string identity | string signature | finished.
    const Bytes ca_identity = cat({ssh_string(text(in.account)), ssh_string(client_pub)});
    const Bytes h_client_sig = sha512(cat({m1, server_hello, sa_plain, ca_identity}));
    const Bytes client_sig_payload = sig_payload("twoway v1 client sig", h_client_sig);
    const auto client_sig = client_key.sign(client_sig_payload);
    wire::Writer cb;
    cb.string("ssh-ed25519").string(client_sig);
    const Bytes ca_signature = ssh_string(cb.view());
    const Bytes h_client_fin = sha512(cat({m1, server_hello, sa_plain, ca_identity, ca_signature}));
    const Bytes client_finished_key = expand_label(c_hs, "finished", {}, 64);
    const Bytes client_finished = hmac(client_finished_key, h_client_fin);
    const Bytes ca_plain = cat({ca_identity, ca_signature, client_finished});
    const Bytes client_auth = encrypted_message(4, c_hs_key, c_hs_iv, 0, ca_plain);
    check(m3 == client_auth, "client_auth");

    const Bytes h_app = sha512(cat({m1, server_hello, sa_plain, ca_plain}));
    const Bytes c_ap = expand_label(master, "c ap traffic", h_app, 64);
    const Bytes s_ap = expand_label(master, "s ap traffic", h_app, 64);
    const Bytes exp_master = expand_label(master, "exp master", h_app, 64);
    const Bytes session_id = expand_label(master, "session id", h_app, 32);
    const Bytes verdict_accept = encrypted_message(5, s_hs_key, s_hs_iv, 1, Bytes{std::byte{0}});
    const Bytes verdict_deny = encrypted_message(5, s_hs_key, s_hs_iv, 1, Bytes{std::byte{1}});
    check(m4 == verdict_accept, "server_verdict");

    check(crypto::ct_equal(cres->send_secret.span(), c_ap) && crypto::ct_equal(cres->recv_secret.span(), s_ap),
          "client traffic secrets");
    check(crypto::ct_equal(sres->send_secret.span(), s_ap) && crypto::ct_equal(sres->recv_secret.span(), c_ap),
          "server traffic secrets");
    check(crypto::ct_equal(cres->session_id, session_id) && cres->session_id == sres->session_id, "session id");
    const Bytes exporter = expand_label(expand_label(exp_master, in.exporter_label, {}, 64), "exporter",
                                        sha512(text(in.exporter_context)), 32);
    for (const HandshakeResult* r : {&*cres, &*sres}) {
        auto x = r->exporter(in.exporter_label, text(in.exporter_context), 32);
        check(x.has_value() && crypto::ct_equal(x->span(), exporter), "exporter");
    }

    // The first application record each way: u32 L | AEAD(key, iv XOR 0, ad = u32 L, 0x01 | data).
    const Bytes c_ap_key = expand_label(c_ap, "key", {}, 32), c_ap_iv = expand_label(c_ap, "iv", {}, 12);
    const Bytes s_ap_key = expand_label(s_ap, "key", {}, 32), s_ap_iv = expand_label(s_ap, "iv", {}, 12);
    auto record = [](const Bytes& key, const Bytes& iv, const std::string& data) {
        const Bytes plain = cat({Bytes{std::byte{1}}, text(data)});
        const std::size_t len = plain.size() + 16;
        const Bytes l{std::byte{0}, static_cast<std::byte>(len >> 16), static_cast<std::byte>(len >> 8), static_cast<std::byte>(len)};
        return cat({l, seal(key, iv, 0, l, plain)});
    };
    const Bytes client_record = record(c_ap_key, c_ap_iv, in.client_data);
    const Bytes server_record = record(s_ap_key, s_ap_iv, in.server_data);
    // The record layer in lib/src/channel must produce the same bytes from the handshake's secrets.
    auto channel_record = [](HandshakeResult& r, const std::string& data) {
        auto ch = Channel::create(r);
        check(ch.has_value(), "Channel::create");
        Bytes out;
        check(bool(ch->seal(text(data), out)), "Channel::seal");
        return out;
    };
    check(channel_record(*cres, in.client_data) == client_record, "the client's first record (Channel)");
    check(channel_record(*sres, in.server_data) == server_record, "the server's first record (Channel)");

    std::vector<Vector> out;
    Vector v{"success", {}};
    add(v, "client_ed25519_seed", in.client_seed);
    add(v, "client_identity_blob", client_pub);
    add(v, "server_ed25519_seed", in.server_seed);
    add(v, "server_identity_blob", server_pub);
    add_text(v, "account_text", in.account);
    add(v, "client_random", in.client_random);
    add(v, "client_x25519_secret", in.client_x25519);
    add(v, "client_x25519_share", client_share);
    add(v, "server_random", in.server_random);
    add(v, "server_x25519_secret", in.server_x25519);
    add(v, "server_x25519_share", server_share);
    add(v, "client_decoy_mac", in.client_decoy_mac);
    add(v, "client_hello", m1);
    add(v, "server_hello", server_hello);
    add(v, "x25519_shared_secret", shared);
    add(v, "early_secret", early_secret);
    add(v, "handshake_salt", hs_salt);
    add(v, "handshake_secret", handshake_secret);
    add(v, "transcript_hash_hello", h_hello);
    add(v, "client_handshake_traffic_secret", c_hs);
    add(v, "server_handshake_traffic_secret", s_hs);
    add(v, "client_handshake_key", c_hs_key);
    add(v, "client_handshake_iv", c_hs_iv);
    add(v, "server_handshake_key", s_hs_key);
    add(v, "server_handshake_iv", s_hs_iv);
    add(v, "master_salt", ms_salt);
    add(v, "master_secret", master);
    add(v, "transcript_hash_server_signature", h_server_sig);
    add(v, "server_signature_payload", server_sig_payload);
    add(v, "transcript_hash_server_finished", h_server_fin);
    add(v, "server_finished_key", server_finished_key);
    add(v, "server_finished", server_finished);
    add(v, "server_auth_plaintext", sa_plain);
    add(v, "server_auth", server_auth);
    add(v, "transcript_hash_client_signature", h_client_sig);
    add(v, "client_signature_payload", client_sig_payload);
    add(v, "transcript_hash_client_finished", h_client_fin);
    add(v, "client_finished_key", client_finished_key);
    add(v, "client_finished", client_finished);
    add(v, "client_auth_plaintext", ca_plain);
    add(v, "client_auth", client_auth);
    add(v, "transcript_hash_application", h_app);
    add(v, "client_application_traffic_secret", c_ap);
    add(v, "server_application_traffic_secret", s_ap);
    add(v, "exporter_secret", exp_master);
    add(v, "session_id", session_id);
    add(v, "server_verdict", verdict_accept);
    add_text(v, "exporter_label_text", in.exporter_label);
    add_text(v, "exporter_context_text", in.exporter_context);
    add(v, "exporter_output_32", exporter);
    add(v, "client_application_key", c_ap_key);
    add(v, "client_application_iv", c_ap_iv);
    add(v, "server_application_key", s_ap_key);
    add(v, "server_application_iv", s_ap_iv);
    add_text(v, "client_first_record_data_text", in.client_data);
    add(v, "client_first_record", client_record);
    add_text(v, "server_first_record_data_text", in.server_data);
    add(v, "server_first_record", server_record);
    out.push_back(std::move(v));

    // Failure 1: the server presents its identity but signs with another key. Same inputs as above.
    {
        const auto bad_sig = wrong_signer.sign(server_sig_payload);
        wire::Writer w;
        w.string("ssh-ed25519").string(bad_sig);
        const Bytes sig_field = ssh_string(w.view());
        const Bytes fin = hmac(server_finished_key, sha512(cat({m1, server_hello, sa_signed, sig_field})));
        const Bytes bad_auth = encrypted_message(3, s_hs_key, s_hs_iv, 0, cat({sa_signed, sig_field, fin}));
        QueueRng r{in.client_random, in.client_x25519, in.client_decoy_mac};
        ClientHandshake c({.identity = client_key, .account = in.account}, r);
        check(c.take_output() == m1, "client_hello (failure vector)");
        static_cast<void>(c.feed(cat({server_hello, bad_auth})));
        check(c.error() == errc::bad_signature && c.take_output().empty(), "wrong-key signature is bad_signature");
        Vector f{"server_signature_by_wrong_key", {}};
        add_text(f, "inputs_text",
                 "as in success up to server_hello; server_auth carries the real server_identity_blob, a signature "
                 "made over the real server_signature_payload with wrong_signer_ed25519_seed's key, and a Finished "
                 "computed correctly over that plaintext (server_finished_key over H through the wrong signature)");
        add(f, "wrong_signer_ed25519_seed", in.wrong_signer_seed);
        add(f, "client_hello", m1);
        add(f, "server_hello", server_hello);
        add(f, "server_signature_blob", w.view());
        add(f, "transcript_hash_server_finished", sha512(cat({m1, server_hello, sa_signed, sig_field})));
        add(f, "server_finished", fin);
        add(f, "server_auth_plaintext", cat({sa_signed, sig_field, fin}));
        add(f, "server_auth", bad_auth);
        add_text(f, "expected_error", "bad_signature");
        out.push_back(std::move(f));
    }
    // Failure 2: the server refuses the client: the generic denial.
    {
        QueueRng rc{in.client_random, in.client_x25519, in.client_decoy_mac}, rs{in.server_random, in.server_x25519};
        ClientHandshake c({.identity = client_key, .account = in.account}, rc);
        ServerHandshake s({.host_key = server_key}, rs);
        static_cast<void>(s.feed(c.take_output()));
        static_cast<void>(c.feed(s.take_output()));
        static_cast<void>(c.accept_server());
        static_cast<void>(s.feed(c.take_output()));
        check(bool(s.deny("not in authorized_keys")), "deny");
        const Bytes denial = s.take_output();
        check(denial == verdict_deny, "server_verdict (denied)");
        static_cast<void>(c.feed(denial));
        check(c.error() == errc::auth_denied, "denial is auth_denied");
        Vector f{"client_denied", {}};
        add_text(f, "inputs_text", "as in success, up to and including client_auth; the server denies");
        add(f, "server_verdict", denial);
        add(f, "server_verdict_plaintext", Bytes{std::byte{1}});
        add_text(f, "expected_error", "auth_denied");
        out.push_back(std::move(f));
    }
    // Stealth mode (4.1.1): the client knows the server key and proves it with host_key_mac, keyed by
    // X25519(client X25519 secret, the X25519 form of the server's Ed25519 key). A server in stealth mode
    // answers (its server_hello is the one of success: same randoms), and refuses the hello of success,
    // whose host_key_mac is the random stand-in, with host_key_mac_invalid, sending nothing.
    {
        const auto server_x = crypto::ed25519_public_to_x25519(server_key.public_key().raw());
        check(server_x.has_value(), "the server key's X25519 form");
        std::array<std::byte, 32> stealth_shared{};
        check(bool(crypto::x25519(stealth_shared, fixed<32>(in.client_x25519), *server_x)), "stealth x25519");
        const Bytes stealth_secret = hmac(zeros, stealth_shared);
        const Bytes mac_key = expand_label(stealth_secret, "host key mac", sha512(server_pub), 32);
        const Bytes covered = hello_before_mac(false);
        Bytes mac = hmac(mac_key, covered);
        mac.resize(16);
        const Bytes stealth_m1 = cat({covered, mac});

        QueueRng rc{in.client_random, in.client_x25519}, rs{in.server_random, in.server_x25519}, rs2{};
        ClientConfig cc{.identity = client_key, .account = in.account};
        cc.known_server_key = server_key.public_key();
        ClientHandshake c(cc, rc);
        check(c.take_output() == stealth_m1, "client_hello with host_key_mac");
        ServerConfig sc{.host_key = server_key};
        sc.stealth = true;
        ServerHandshake s(sc, rs);
        check(bool(s.feed(stealth_m1)), "a stealth server accepts host_key_mac");
        const Bytes flight = s.take_output();
        check(flight.size() > server_hello.size() &&
                  Bytes(flight.begin(), flight.begin() + static_cast<std::ptrdiff_t>(server_hello.size())) == server_hello,
              "the stealth server's server_hello");
        ServerHandshake refusing(sc, rs2);
        static_cast<void>(refusing.feed(m1));
        check(refusing.error() == errc::host_key_mac_invalid && refusing.take_output().empty(),
              "a stealth server refuses client_hello without host_key_mac, silently");

        Vector f{"stealth_host_key_mac", {}};
        add_text(f, "inputs_text",
                 "as in success, but the client knows server_identity_blob (no third random draw) and the server is "
                 "in stealth mode");
        add(f, "server_x25519_form", *server_x);
        add(f, "stealth_shared_secret", stealth_shared);
        add(f, "stealth_secret", stealth_secret);
        add(f, "host_key_mac_key", mac_key);
        add(f, "host_key_mac", mac);
        add(f, "client_hello", stealth_m1);
        add(f, "server_hello", server_hello);
        add_text(f, "expected_error", "none");
        add_text(f, "success_client_hello_expected_error", "host_key_mac_invalid");
        out.push_back(std::move(f));
    }

    // Certificates as identities (4.7): the session of success, but one side presents a certificate. The
    // randoms are success's, so client_hello, server_hello and the handshake secrets are too.
    // `run` drives the implementation; the straight-line side below recomputes every message.
    struct Run {
        Bytes server_auth, client_auth;
        SessionId session_id{};
        std::optional<Certificate> server_cert_seen, client_cert_seen;
        std::string banner_seen;
    };
    auto run = [&](const ClientConfig& cc, const ServerConfig& sc) {
        QueueRng rc{in.client_random, in.client_x25519, in.client_decoy_mac}, rs{in.server_random, in.server_x25519};
        ClientHandshake c(cc, rc);
        ServerHandshake s(sc, rs);
        check(bool(s.feed(c.take_output())), "certificate vectors: server accepts client_hello");
        const std::vector<Bytes> flight = split(s.take_output());
        check(flight.size() == 2 && flight[0] == server_hello, "certificate vectors: server flight");
        check(bool(c.feed(cat({flight[0], flight[1]}))), "certificate vectors: client accepts the server flight");
        const ClientEvent cev = c.event();
        const auto* sv = std::get_if<NeedServerVerdict>(&cev);
        check(sv != nullptr, "certificate vectors: client verdict");
        Run r;
        r.server_auth = flight[1];
        r.server_cert_seen = sv->server_certificate;
        r.banner_seen = sv->banner;
        check(bool(c.accept_server()), "certificate vectors: accept_server");
        r.client_auth = c.take_output();
        check(bool(s.feed(r.client_auth)), "certificate vectors: server accepts client_auth");
        const ServerEvent sev = s.event();
        const auto* cv = std::get_if<NeedClientVerdict>(&sev);
        check(cv != nullptr, "certificate vectors: server verdict");
        r.client_cert_seen = cv->client_certificate;
        check(bool(s.authorize()), "certificate vectors: authorize");
        check(bool(c.feed(s.take_output())) && c.complete(), "certificate vectors: client completes");
        auto cr = c.take_result();
        auto sr = s.take_result();
        check(cr && sr && cr->session_id == sr->session_id, "certificate vectors: results");
        r.session_id = cr->session_id;
        return r;
    };
    // The rest of a session from server_auth's plaintext on: client_auth and the session id.
    struct Tail {
        Bytes h_client_sig, client_sig_payload, h_client_fin, client_finished, ca_plain, client_auth, h_app, session_id;
    };
    auto tail = [&](const Bytes& sa_plain_x, const Bytes& client_identity) {
        Tail t;
        const Bytes ca_id = cat({ssh_string(text(in.account)), ssh_string(client_identity)});
        t.h_client_sig = sha512(cat({m1, server_hello, sa_plain_x, ca_id}));
        t.client_sig_payload = sig_payload("twoway v1 client sig", t.h_client_sig);
        wire::Writer sb;
        sb.string("ssh-ed25519").string(client_key.sign(t.client_sig_payload));
        const Bytes ca_sig = ssh_string(sb.view());
        t.h_client_fin = sha512(cat({m1, server_hello, sa_plain_x, ca_id, ca_sig}));
        t.client_finished = hmac(client_finished_key, t.h_client_fin);
        t.ca_plain = cat({ca_id, ca_sig, t.client_finished});
        t.client_auth = encrypted_message(4, c_hs_key, c_hs_iv, 0, t.ca_plain);
        t.h_app = sha512(cat({m1, server_hello, sa_plain_x, t.ca_plain}));
        t.session_id = expand_label(master, "session id", t.h_app, 32);
        return t;
    };
    // The client's identity is a user certificate.
    {
        const PrivateKey ca = PrivateKey::from_seed(fixed<32>(in.user_ca_seed));
        const SpecCertificate cert =
            spec_certificate(in.client_cert_nonce, client_key.public_key(), in.client_cert_serial, 1, in.client_cert_key_id,
                             in.client_cert_principal, in.valid_after, in.valid_before, permit_pty_extension(), ca);
        CertificateFields fields;
        fields.nonce = in.client_cert_nonce;
        fields.key = client_key.public_key();
        fields.serial = in.client_cert_serial;
        fields.type = CertificateType::user;
        fields.key_id = in.client_cert_key_id;
        fields.principals = {in.client_cert_principal};
        fields.valid_after = in.valid_after;
        fields.valid_before = in.valid_before;
        fields.extensions = {CertificateOption::flag("permit-pty")};
        QueueRng none{};
        Result<Certificate> signed_cert = sign_certificate(fields, ca, none);
        check(signed_cert.has_value() && signed_cert->blob == cert.blob, "the user certificate (sign_certificate)");
        ClientConfig cc{.identity = client_key, .account = in.account};
        cc.certificate = *signed_cert;
        const Run r = run(cc, ServerConfig{.host_key = server_key});
        const Tail t = tail(sa_plain, cert.blob);
        check(r.server_auth == server_auth, "server_auth (client certificate vector)");
        check(r.client_auth == t.client_auth, "client_auth with a user certificate");
        check(crypto::ct_equal(r.session_id, t.session_id), "session id (client certificate vector)");
        check(r.client_cert_seen && r.client_cert_seen->blob == cert.blob && !r.server_cert_seen,
              "the server's verdict sees the user certificate");

        Vector f{"client_certificate", {}};
        add_text(f, "inputs_text",
                 "as in success, but the client's identity is a user certificate for its key: certificate type 1 "
                 "(user), one principal, no critical options, the extension permit-pty (a flag), empty reserved, "
                 "signed by user_ca_ed25519_seed's key");
        add(f, "user_ca_ed25519_seed", in.user_ca_seed);
        add(f, "user_ca_identity_blob", ca.public_key().blob());
        add(f, "client_certificate_nonce", in.client_cert_nonce);
        add(f, "client_certificate_serial", u64_be(in.client_cert_serial));
        add_text(f, "client_certificate_key_id_text", in.client_cert_key_id);
        add_text(f, "client_certificate_principal_text", in.client_cert_principal);
        add(f, "client_certificate_valid_after", u64_be(in.valid_after));
        add(f, "client_certificate_valid_before", u64_be(in.valid_before));
        add(f, "client_certificate_extensions", permit_pty_extension());
        add(f, "client_certificate_signature_blob", cert.signature_blob);
        add(f, "client_identity_blob", cert.blob);
        add(f, "transcript_hash_client_signature", t.h_client_sig);
        add(f, "client_signature_payload", t.client_sig_payload);
        add(f, "transcript_hash_client_finished", t.h_client_fin);
        add(f, "client_finished", t.client_finished);
        add(f, "client_auth_plaintext", t.ca_plain);
        add(f, "client_auth", t.client_auth);
        add(f, "transcript_hash_application", t.h_app);
        add(f, "session_id", t.session_id);
        add_text(f, "expected_error", "none");
        out.push_back(std::move(f));
    }
    // The server's identity is a host certificate, and it sends a banner.
    {
        const PrivateKey ca = PrivateKey::from_seed(fixed<32>(in.host_ca_seed));
        const SpecCertificate cert =
            spec_certificate(in.server_cert_nonce, server_key.public_key(), in.server_cert_serial, 2, in.server_cert_key_id,
                             in.server_cert_principal, in.valid_after, in.valid_before, Bytes{}, ca);
        CertificateFields fields;
        fields.nonce = in.server_cert_nonce;
        fields.key = server_key.public_key();
        fields.serial = in.server_cert_serial;
        fields.type = CertificateType::host;
        fields.key_id = in.server_cert_key_id;
        fields.principals = {in.server_cert_principal};
        fields.valid_after = in.valid_after;
        fields.valid_before = in.valid_before;
        QueueRng none{};
        Result<Certificate> signed_cert = sign_certificate(fields, ca, none);
        check(signed_cert.has_value() && signed_cert->blob == cert.blob, "the host certificate (sign_certificate)");
        ServerConfig sc{.host_key = server_key};
        sc.host_certificate = *signed_cert;
        sc.banner = in.server_banner;
        const Run r = run(ClientConfig{.identity = client_key, .account = in.account}, sc);

        const Bytes signed_part = cat({ssh_string(cert.blob), ssh_string(text(in.server_banner))});
        const Bytes h_sig = sha512(cat({m1, server_hello, signed_part}));
        const Bytes payload = sig_payload("twoway v1 server sig", h_sig);
        wire::Writer sb;
        sb.string("ssh-ed25519").string(server_key.sign(payload));
        const Bytes sig_field = ssh_string(sb.view());
        const Bytes h_fin = sha512(cat({m1, server_hello, signed_part, sig_field}));
        const Bytes fin = hmac(server_finished_key, h_fin);
        const Bytes plain = cat({signed_part, sig_field, fin});
        const Bytes auth = encrypted_message(3, s_hs_key, s_hs_iv, 0, plain);
        const Tail t = tail(plain, client_pub);
        check(r.server_auth == auth, "server_auth with a host certificate and a banner");
        check(r.client_auth == t.client_auth, "client_auth (server certificate vector)");
        check(crypto::ct_equal(r.session_id, t.session_id), "session id (server certificate vector)");
        check(r.server_cert_seen && r.server_cert_seen->blob == cert.blob && !r.client_cert_seen &&
                  r.banner_seen == in.server_banner,
              "the client's verdict sees the host certificate and the banner");

        Vector f{"server_certificate", {}};
        add_text(f, "inputs_text",
                 "as in success, but the server's identity is a host certificate for its key (certificate type 2, "
                 "one principal, no critical options, no extensions, empty reserved, signed by host_ca_ed25519_seed's "
                 "key) and server_auth carries the banner server_banner (ASCII text ending in a line feed); host_key_mac, had the client sent a proof, would "
                 "still be keyed by the plain server key (4.1.1)");
        add(f, "host_ca_ed25519_seed", in.host_ca_seed);
        add(f, "host_ca_identity_blob", ca.public_key().blob());
        add(f, "server_certificate_nonce", in.server_cert_nonce);
        add(f, "server_certificate_serial", u64_be(in.server_cert_serial));
        add_text(f, "server_certificate_key_id_text", in.server_cert_key_id);
        add_text(f, "server_certificate_principal_text", in.server_cert_principal);
        add(f, "server_certificate_valid_after", u64_be(in.valid_after));
        add(f, "server_certificate_valid_before", u64_be(in.valid_before));
        add(f, "server_certificate_signature_blob", cert.signature_blob);
        add(f, "server_identity_blob", cert.blob);
        add(f, "server_banner", text(in.server_banner));  // hex: it ends with a line feed
        add(f, "transcript_hash_server_signature", h_sig);
        add(f, "server_signature_payload", payload);
        add(f, "transcript_hash_server_finished", h_fin);
        add(f, "server_finished", fin);
        add(f, "server_auth_plaintext", plain);
        add(f, "server_auth", auth);
        add(f, "transcript_hash_client_signature", t.h_client_sig);
        add(f, "client_signature_payload", t.client_sig_payload);
        add(f, "transcript_hash_client_finished", t.h_client_fin);
        add(f, "client_finished", t.client_finished);
        add(f, "client_auth_plaintext", t.ca_plain);
        add(f, "client_auth", t.client_auth);
        add(f, "transcript_hash_application", t.h_app);
        add(f, "session_id", t.session_id);
        add_text(f, "expected_error", "none");
        out.push_back(std::move(f));
    }

    // Host key rotation (4.1.2, 6.5 and 15, HOSTKEYS): a client that knows the server's key (so it proves
    // it with host_key_mac) sends host_keys; the server holds two host keys, the handshake's and a
    // second one, and after ACCEPT announces both with their proofs for this session, in one record.
    // The client_hello differs from success's, so every transcript hash and secret after it does too.
    {
        const PrivateKey second_key = PrivateKey::from_seed(fixed<32>(in.second_host_seed));
        const Bytes second_pub = second_key.public_key().blob();

        // Specification run: client_hello with host_keys and the host_key_mac proof (4.1, 4.1.1, 4.1.2).
        const auto server_x = crypto::ed25519_public_to_x25519(server_key.public_key().raw());
        check(server_x.has_value(), "hostkeys vector: the server key's X25519 form");
        std::array<std::byte, 32> stealth_shared{};
        check(bool(crypto::x25519(stealth_shared, fixed<32>(in.client_x25519), *server_x)), "hostkeys vector: x25519");
        const Bytes mac_key = expand_label(hmac(zeros, stealth_shared), "host key mac", sha512(server_pub), 32);
        const Bytes covered = hello_before_mac(true);
        Bytes mac = hmac(mac_key, covered);
        mac.resize(16);
        const Bytes hello = cat({covered, mac});
        // The handshake of success (5, 6) over this client_hello: no banner, plain identities.
        const Bytes h_hello_k = sha512(cat({hello, server_hello}));
        const Bytes c_hs_k = expand_label(handshake_secret, "c hs traffic", h_hello_k, 64);
        const Bytes s_hs_k = expand_label(handshake_secret, "s hs traffic", h_hello_k, 64);
        auto auth_plaintext = [&](const Bytes& before, const Bytes& identity_part, const PrivateKey& signer,
                                  std::string_view context, const Bytes& traffic_secret) {
            wire::Writer sig;
            sig.string("ssh-ed25519").string(signer.sign(sig_payload(context, sha512(cat({before, identity_part})))));
            const Bytes signature = ssh_string(sig.view());
            const Bytes fin = hmac(expand_label(traffic_secret, "finished", {}, 64),
                                   sha512(cat({before, identity_part, signature})));
            return cat({identity_part, signature, fin});
        };
        const Bytes sa_plain_k = auth_plaintext(cat({hello, server_hello}), sa_signed, server_key,
                                                "twoway v1 server sig", s_hs_k);
        const Bytes ca_plain_k = auth_plaintext(cat({hello, server_hello, sa_plain_k}), ca_identity, client_key,
                                                "twoway v1 client sig", c_hs_k);
        const Bytes s_hs_key_k = expand_label(s_hs_k, "key", {}, 32), s_hs_iv_k = expand_label(s_hs_k, "iv", {}, 12);
        const Bytes c_hs_key_k = expand_label(c_hs_k, "key", {}, 32), c_hs_iv_k = expand_label(c_hs_k, "iv", {}, 12);
        const Bytes server_auth_k = encrypted_message(3, s_hs_key_k, s_hs_iv_k, 0, sa_plain_k);
        const Bytes client_auth_k = encrypted_message(4, c_hs_key_k, c_hs_iv_k, 0, ca_plain_k);
        const Bytes verdict_k = encrypted_message(5, s_hs_key_k, s_hs_iv_k, 1, Bytes{std::byte{0}});
        const Bytes h_app_k = sha512(cat({hello, server_hello, sa_plain_k, ca_plain_k}));
        const Bytes s_ap_k = expand_label(master, "s ap traffic", h_app_k, 64);
        const Bytes session_id_k = expand_label(master, "session id", h_app_k, 32);
        // The session (15): ACCEPT, then HOSTKEYS with each key's proof (6.5), in one data record (9.2).
        auto frame = [](std::uint8_t type, const Bytes& body) {
            wire::Writer w;
            w.u8(type).u32(static_cast<std::uint32_t>(body.size())).bytes(body);
            return w.take();
        };
        auto proof_payload = [&](const Bytes& key_blob) {
            return sig_payload("twoway v1 host key proof", sha512(cat({session_id_k, ssh_string(key_blob)})));
        };
        auto proof_blob = [&](const PrivateKey& key, const Bytes& payload) {
            wire::Writer w;
            w.string("ssh-ed25519").string(key.sign(payload));
            return w.take();
        };
        const Bytes payload_1 = proof_payload(server_pub), payload_2 = proof_payload(second_pub);
        const Bytes proof_1 = proof_blob(server_key, payload_1), proof_2 = proof_blob(second_key, payload_2);
        const Bytes accept_frame = frame(0x03, u32_be(in.accept_window));
        const Bytes hostkeys_frame = frame(0x1a, cat({Bytes{std::byte{2}}, ssh_string(server_pub), ssh_string(proof_1),
                                                      ssh_string(second_pub), ssh_string(proof_2)}));
        const Bytes s_ap_key_k = expand_label(s_ap_k, "key", {}, 32), s_ap_iv_k = expand_label(s_ap_k, "iv", {}, 12);
        const Bytes record_plain = cat({Bytes{std::byte{1}}, accept_frame, hostkeys_frame});
        const Bytes record_len = u32_be(record_plain.size() + 16);
        const Bytes record = cat({record_len, seal(s_ap_key_k, s_ap_iv_k, 0, record_len, record_plain)});

        // Implementation run: the handshake, then SessionClient / SessionServer over Channel.
        QueueRng rc{in.client_random, in.client_x25519}, rs{in.server_random, in.server_x25519};
        ClientConfig cc{.identity = client_key, .account = in.account};
        cc.known_server_key = server_key.public_key();
        cc.host_keys = true;
        ClientHandshake c(cc, rc);
        ServerHandshake s(ServerConfig{.host_key = server_key}, rs);
        check(c.take_output() == hello, "client_hello with host_keys and host_key_mac");
        check(bool(s.feed(hello)), "hostkeys vector: server accepts client_hello");
        check(s.take_output() == cat({server_hello, server_auth_k}), "hostkeys vector: server flight");
        check(bool(c.feed(cat({server_hello, server_auth_k}))) && bool(c.accept_server()),
              "hostkeys vector: client accepts the server");
        check(c.take_output() == client_auth_k, "hostkeys vector: client_auth");
        check(bool(s.feed(client_auth_k)) && bool(s.authorize()), "hostkeys vector: authorize");
        check(s.take_output() == verdict_k, "hostkeys vector: server_verdict");
        check(bool(c.feed(verdict_k)) && c.complete(), "hostkeys vector: client completes");
        auto cr = c.take_result();
        auto sr = s.take_result();
        check(cr && sr && crypto::ct_equal(cr->session_id, session_id_k) && cr->session_id == sr->session_id,
              "hostkeys vector: session id");
        check(sr->client_accepts_host_keys, "hostkeys vector: the server sees host_keys");

        auto sclient = session::SessionClient::start(session::Request{});
        auto sserver = session::SessionServer::create(session::Options{.window = in.accept_window});
        check(sclient && sserver && bool(sclient->allow_host_keys()), "hostkeys vector: session sides");
        auto req = sserver->feed(sclient->take_output());
        check(req && req->size() == 1 && std::holds_alternative<session::RequestReceived>(req->front()),
              "hostkeys vector: the request");
        const PrivateKey* const held[] = {&server_key, &second_key};
        check(bool(sserver->accept_with_host_keys(held, sr->session_id)), "accept_with_host_keys");
        const Bytes session_bytes = sserver->take_output();
        check(session_bytes == cat({accept_frame, hostkeys_frame}), "ACCEPT and HOSTKEYS");
        auto server_channel = Channel::create(*sr);
        auto client_channel = Channel::create(*cr);
        check(server_channel && client_channel, "hostkeys vector: channels");
        Bytes sealed;
        check(bool(server_channel->seal(session_bytes, sealed)) && sealed == record, "the record with HOSTKEYS (Channel)");
        // The client opens it and checks the proofs for its session, and they fail for success's.
        auto fed = client_channel->feed(record);
        auto opened = client_channel->read();
        check(fed && *fed == record.size() && opened && opened->kind == Channel::Received::Kind::data,
              "hostkeys vector: the client opens the record");
        auto events = sclient->feed(opened->data);
        check(events && events->size() == 2 && std::holds_alternative<session::Accepted>(events->front()),
              "hostkeys vector: Accepted");
        const auto* announced = std::get_if<session::HostKeysAnnounced>(&events->back());
        check(announced != nullptr, "hostkeys vector: HostKeysAnnounced");
        auto learned = session::verify_host_keys(*announced, cr->session_id);
        check(learned && *learned == std::vector<PublicKey>{server_key.public_key(), second_key.public_key()},
              "verify_host_keys: both keys, in order");
        check(session::verify_host_keys(*announced, cres->session_id).error() == errc::bad_signature,
              "verify_host_keys: the proofs are this session's only");
        check(session::prove_host_key(second_key, cr->session_id) ==
                  session::HostKeyProof{second_pub, proof_2},
              "prove_host_key");

        Vector f{"hostkeys", {}};
        add_text(f, "inputs_text",
                 "as in success, but the client knows server_identity_blob (so it proves it with host_key_mac and "
                 "draws no third random) and sends host_keys; the server holds two host keys, server_ed25519_seed's "
                 "(the handshake's) and second_host_ed25519_seed's, and answers the client's request with ACCEPT "
                 "(window accept_window) and HOSTKEYS listing both in that order, in its first data record");
        add(f, "second_host_ed25519_seed", in.second_host_seed);
        add(f, "accept_window", u32_be(in.accept_window));
        add(f, "second_host_identity_blob", second_pub);
        add(f, "host_key_mac", mac);
        add(f, "client_hello", hello);
        add(f, "server_hello", server_hello);
        add(f, "transcript_hash_hello", h_hello_k);
        add(f, "client_handshake_traffic_secret", c_hs_k);
        add(f, "server_handshake_traffic_secret", s_hs_k);
        add(f, "server_auth_plaintext", sa_plain_k);
        add(f, "server_auth", server_auth_k);
        add(f, "client_auth_plaintext", ca_plain_k);
        add(f, "client_auth", client_auth_k);
        add(f, "server_verdict", verdict_k);
        add(f, "transcript_hash_application", h_app_k);
        add(f, "server_application_traffic_secret", s_ap_k);
        add(f, "session_id", session_id_k);
        add(f, "server_host_key_proof_payload", payload_1);
        add(f, "server_host_key_proof_blob", proof_1);
        add(f, "second_host_key_proof_payload", payload_2);
        add(f, "second_host_key_proof_blob", proof_2);
        add(f, "accept_frame", accept_frame);
        add(f, "hostkeys_frame", hostkeys_frame);
        add(f, "server_application_key", s_ap_key_k);
        add(f, "server_application_iv", s_ap_iv_k);
        add(f, "server_first_record", record);
        add_text(f, "expected_error", "none");
        add_text(f, "success_session_id_expected_error", "bad_signature");
        out.push_back(std::move(f));
    }

    {
        // The password vector (PROTOCOL.md 4.8): registration with fixed randomness, then a login. The
        // OPAQUE values (KE1, KE2, KE3, session key) come from lib/src/opaque (checked against RFC 9807's
        // vectors in its own tests), run here on the context the specification derives; everything
        // twoway adds around them (framing, transcript, context, key schedule, AEAD) is derived from
        // primitives and compared with the handshake's bytes.
        const std::string password = "correct horse battery staple";
        const Bytes oprf_seed = seq(0x10, 64), ake_seed = seq(0x58), reg_blind_wide = seq(0x68, 64),
                    envelope_nonce = seq(0x78), login_blind_wide = seq(0x88, 64), client_nonce = seq(0x98),
                    client_keyshare_seed = seq(0xa8), masking_nonce = seq(0xb8), server_nonce = seq(0xc8),
                    server_keyshare_seed = seq(0xd8);
        const PasswordKsf ksf{1, 8};  // libsodium's minimums: cheap to reproduce
        const opaque::KsfParams ksf_params = opaque::argon2id_ksf({ksf.opslimit, ksf.memlimit_kib * 1024});
        auto ake = opaque::derive_dh_key_pair(fixed<32>(ake_seed));
        check(ake.has_value(), "password vector: AKE key pair");
        auto skeys = opaque::server_keys(fixed<64>(oprf_seed), ake->sk.span());
        check(skeys.has_value(), "password vector: server keys");
        const Bytes account_bytes = text(in.account);  // outlives ids, which only views it
        const opaque::Identities ids{account_bytes, {}};
        QueueRng reg_rng{reg_blind_wide};
        auto reg = opaque::create_registration_request(text(password), opaque::random_scalar(reg_rng));
        check(reg.has_value(), "password vector: registration request");
        auto reg_resp = opaque::create_registration_response(reg->request, *skeys, text(in.account));
        check(reg_resp.has_value(), "password vector: registration response");
        opaque::Nonce env_nonce{};
        std::memcpy(env_nonce.data(), envelope_nonce.data(), env_nonce.size());
        auto fin = opaque::finalize_registration_request(reg->state, *reg_resp, ids, ksf_params, env_nonce);
        check(fin.has_value(), "password vector: registration");
        const auto record_arr = opaque::encode(fin->record);
        const Bytes record(record_arr.begin(), record_arr.end());
        const auto reg_request = opaque::encode(reg->request);
        const auto reg_response = opaque::encode(*reg_resp);

        // Implementation run.
        PasswordServerKeys pkeys{SecretBytes<64>(fixed<64>(oprf_seed)), ake->sk.clone()};
        QueueRng rc{in.client_random, in.client_x25519, in.client_decoy_mac, login_blind_wide, client_nonce,
                    client_keyshare_seed};
        QueueRng rs{in.server_random, in.server_x25519, masking_nonce, server_nonce, server_keyshare_seed};
        ClientConfig cc{.account = in.account};
        cc.password = true;
        ClientHandshake c(cc, rc);
        ServerConfig sc{.host_key = server_key};
        sc.password_keys = &pkeys;
        ServerHandshake s(sc, rs);
        const Bytes hello = c.take_output();
        check(bool(s.feed(hello)), "password vector: server accepts client_hello");
        const std::vector<Bytes> flight = split(s.take_output());
        check(flight.size() == 2 && bool(c.feed(cat({flight[0], flight[1]}))), "password vector: server flight");
        const ClientEvent cev = c.event();
        const auto* sv = std::get_if<NeedServerVerdict>(&cev);
        check(sv != nullptr && sv->password_mode, "password vector: verdict in password mode");
        check(bool(c.defer_server_to_password(text(password))), "password vector: defer_server_to_password");
        const Bytes client_password = c.take_output();
        check(bool(s.feed(client_password)), "password vector: server accepts client_password");
        const ServerEvent sev = s.event();
        const auto* need = std::get_if<NeedPasswordRecord>(&sev);
        check(need != nullptr && need->account == in.account, "password vector: NeedPasswordRecord");
        check(bool(s.provide_password_record(record, ksf)), "password vector: provide_password_record");
        const Bytes server_password = s.take_output();
        check(bool(c.feed(server_password)), "password vector: client accepts server_password: " + c.error().message());
        const Bytes client_finish = c.take_output();
        check(bool(s.feed(client_finish)), "password vector: server accepts client_password_finish");
        const ServerEvent sev2 = s.event();
        const auto* cv = std::get_if<NeedClientVerdict>(&sev2);
        check(cv != nullptr && cv->password && cv->account == in.account, "password vector: NeedClientVerdict");
        check(bool(s.authorize()), "password vector: authorize");
        const Bytes verdict = s.take_output();
        check(bool(c.feed(verdict)) && c.complete(), "password vector: client completes");
        auto cr = c.take_result();
        auto sr = s.take_result();
        check(cr && sr && cr->password && sr->password && cr->host_proven_by_password, "password vector: results");

        // Specification run. client_hello carries password (0x0004, empty) before host_key_mac: 4 bytes more
        // than success's.
        const Bytes expected_hello =
            cat({header(1, 101), Bytes{std::byte{1}, std::byte{0}, std::byte{1}}, Bytes{std::byte{1}, std::byte{0}, std::byte{1}},
                 in.client_random, Bytes{std::byte{1}, std::byte{0}, std::byte{1}, std::byte{0}, std::byte{32}}, client_share,
                 Bytes{std::byte{0}, std::byte{24}}, Bytes{std::byte{0}, std::byte{4}, std::byte{0}, std::byte{0}},
                 Bytes{std::byte{0}, std::byte{2}, std::byte{0}, std::byte{16}}, in.client_decoy_mac});
        check(hello == expected_hello, "password vector: client_hello");
        check(flight[0] == server_hello, "password vector: server_hello");
        const Bytes h_hello_p = sha512(cat({hello, server_hello}));
        const Bytes c_hs_p = expand_label(handshake_secret, "c hs traffic", h_hello_p, 64);
        const Bytes s_hs_p = expand_label(handshake_secret, "s hs traffic", h_hello_p, 64);
        const Bytes c_key_p = expand_label(c_hs_p, "key", {}, 32), c_iv_p = expand_label(c_hs_p, "iv", {}, 12);
        const Bytes s_key_p = expand_label(s_hs_p, "key", {}, 32), s_iv_p = expand_label(s_hs_p, "iv", {}, 12);
        wire::Writer ssig;
        ssig.string("ssh-ed25519").string(server_key.sign(
            sig_payload("twoway v1 server sig", sha512(cat({hello, server_hello, sa_signed})))));
        const Bytes sa_sig_p = ssh_string(ssig.view());
        const Bytes sa_fin_p = hmac(expand_label(s_hs_p, "finished", {}, 64), sha512(cat({hello, server_hello, sa_signed, sa_sig_p})));
        const Bytes sa_plain_p = cat({sa_signed, sa_sig_p, sa_fin_p});
        check(flight[1] == encrypted_message(3, s_key_p, s_iv_p, 0, sa_plain_p), "password vector: server_auth");

        // client_password: string account | KE1; H_pw_context through the account; the OPAQUE context.
        const Bytes account_field = ssh_string(text(in.account));
        const Bytes h_pw_context = sha512(cat({hello, server_hello, sa_plain_p, account_field}));
        const Bytes context = cat({text("twoway v1 opaque"), Bytes{std::byte{0}}, h_pw_context});
        QueueRng lr{login_blind_wide};
        opaque::ClientLoginRandom login_random{opaque::random_scalar(lr), opaque::Nonce{}, SecretBytes<32>(fixed<32>(client_keyshare_seed))};
        std::memcpy(login_random.client_nonce.data(), client_nonce.data(), 32);
        auto login = opaque::client_init(text(password), std::move(login_random));
        check(login.has_value(), "password vector: KE1");
        const auto ke1 = opaque::encode(login->ke1);
        const Bytes cp_plain = cat({account_field, ke1});
        check(client_password == encrypted_message(6, c_key_p, c_iv_p, 0, cp_plain), "password vector: client_password");

        // server_password: u8 ksf | u32 ops | u32 mem_kib | KE2, KE2 from OPAQUE on this context.
        opaque::ServerLoginRandom srand{opaque::Nonce{}, opaque::Nonce{}, SecretBytes<32>(fixed<32>(server_keyshare_seed))};
        std::memcpy(srand.masking_nonce.data(), masking_nonce.data(), 32);
        std::memcpy(srand.server_nonce.data(), server_nonce.data(), 32);
        auto init = opaque::server_init(*skeys, fin->record, text(in.account), login->ke1, ids, context, srand);
        check(init.has_value(), "password vector: KE2");
        const auto ke2 = opaque::encode(init->ke2);
        const Bytes sp_plain = cat({Bytes{std::byte{1}}, u32_be(static_cast<std::uint32_t>(ksf.opslimit)), u32_be(static_cast<std::uint32_t>(ksf.memlimit_kib)), ke2});
        check(server_password == encrypted_message(7, s_key_p, s_iv_p, 1, sp_plain), "password vector: server_password");

        // client_password_finish: KE3 | finished; the master secret from OPAQUE's session key.
        auto cfin = opaque::client_finish(login->state, init->ke2, ids, context, ksf_params);
        check(cfin.has_value(), "password vector: KE3");
        auto sfin = opaque::server_finish(init->state, cfin->ke3);
        check(sfin.has_value() && crypto::ct_equal(sfin->span(), cfin->session_key.span()), "password vector: session keys");
        const auto ke3 = opaque::encode(cfin->ke3);
        const Bytes session_key(cfin->session_key.span().begin(), cfin->session_key.span().end());
        const Bytes h_client_fin_p = sha512(cat({hello, server_hello, sa_plain_p, cp_plain, sp_plain, ke3}));
        const Bytes client_fin_p = hmac(expand_label(c_hs_p, "finished", {}, 64), h_client_fin_p);
        const Bytes cf_plain = cat({ke3, client_fin_p});
        check(client_finish == encrypted_message(8, c_key_p, c_iv_p, 1, cf_plain), "password vector: client_password_finish");
        const Bytes master_p = hmac(ms_salt, session_key);
        const Bytes h_app_p = sha512(cat({hello, server_hello, sa_plain_p, cp_plain, sp_plain, cf_plain}));
        const Bytes c_ap_p = expand_label(master_p, "c ap traffic", h_app_p, 64);
        const Bytes s_ap_p = expand_label(master_p, "s ap traffic", h_app_p, 64);
        const Bytes session_id_p = expand_label(master_p, "session id", h_app_p, 32);
        const Bytes verdict_p = encrypted_message(5, s_key_p, s_iv_p, 2, Bytes{std::byte{0}});
        check(verdict == verdict_p, "password vector: server_verdict (seq 2)");
        check(crypto::ct_equal(cr->send_secret.span(), c_ap_p) && crypto::ct_equal(cr->recv_secret.span(), s_ap_p) &&
                  crypto::ct_equal(sr->send_secret.span(), s_ap_p) && crypto::ct_equal(sr->recv_secret.span(), c_ap_p),
              "password vector: traffic secrets");
        check(crypto::ct_equal(cr->session_id, session_id_p) && cr->session_id == sr->session_id, "password vector: session id");

        Vector f{"password", {}};
        add_text(f, "inputs_text",
                 "as in success for the X25519 parts, the server's host key and the account; the client has no key, "
                 "sends password (0x0004) and defers the unknown host key to the password. Registration (RFC 9807, "
                 "ristretto255-SHA512, client_identity = credential_identifier = account, server_identity empty, "
                 "KSF Argon2id ops/mem_kib as given): server OPRF seed, AKE key pair from ake_seed "
                 "(DeriveDiffieHellmanKeyPair), blind = registration_blind_wide reduced mod the group order, "
                 "envelope_nonce. Login: the client draws, after success's three values, login_blind_wide (reduced), "
                 "client_nonce, client_keyshare_seed; the server, after its two, masking_nonce, server_nonce, "
                 "server_keyshare_seed. OPAQUE's outputs (ke1, ke2, ke3, opaque_session_key) are given for "
                 "implementations without ristretto255");
        add_text(f, "password_text", password);
        add(f, "oprf_seed", oprf_seed);
        add(f, "ake_seed", ake_seed);
        add(f, "server_opaque_public_key", ake->pk);
        add(f, "registration_blind_wide", reg_blind_wide);
        add(f, "envelope_nonce", envelope_nonce);
        add(f, "ksf", Bytes{std::byte{1}});
        add(f, "ksf_ops", u32_be(static_cast<std::uint32_t>(ksf.opslimit)));
        add(f, "ksf_mem_kib", u32_be(static_cast<std::uint32_t>(ksf.memlimit_kib)));
        add(f, "registration_request", reg_request);
        add(f, "registration_response", reg_response);
        add(f, "registration_record", record);
        add(f, "login_blind_wide", login_blind_wide);
        add(f, "client_nonce", client_nonce);
        add(f, "client_keyshare_seed", client_keyshare_seed);
        add(f, "masking_nonce", masking_nonce);
        add(f, "server_nonce", server_nonce);
        add(f, "server_keyshare_seed", server_keyshare_seed);
        add(f, "client_hello", hello);
        add(f, "server_hello", server_hello);
        add(f, "server_auth_plaintext", sa_plain_p);
        add(f, "server_auth", flight[1]);
        add(f, "transcript_hash_password_context", h_pw_context);
        add(f, "opaque_context", context);
        add(f, "ke1", ke1);
        add(f, "client_password_plaintext", cp_plain);
        add(f, "client_password", client_password);
        add(f, "ke2", ke2);
        add(f, "server_password_plaintext", sp_plain);
        add(f, "server_password", server_password);
        add(f, "ke3", ke3);
        add(f, "opaque_session_key", session_key);
        add(f, "transcript_hash_client_finished", h_client_fin_p);
        add(f, "client_finished", client_fin_p);
        add(f, "client_password_finish_plaintext", cf_plain);
        add(f, "client_password_finish", client_finish);
        add(f, "master_secret", master_p);
        add(f, "transcript_hash_application", h_app_p);
        add(f, "client_application_traffic_secret", c_ap_p);
        add(f, "server_application_traffic_secret", s_ap_p);
        add(f, "session_id", session_id_p);
        add(f, "server_verdict", verdict);
        add_text(f, "expected_error", "none");
        out.push_back(std::move(f));
    }
    // Several identities (4.1.3, 4.5, 5, 7.1 6r, 7.2 3r): a client at first contact sends auth_retry; the
    // server refuses its first identity (success's client key) with "retry", and accepts the second.
    {
        const PrivateKey second_client = PrivateKey::from_seed(fixed<32>(in.second_client_seed));
        const Bytes second_pub = second_client.public_key().blob();

        // Specification run. client_hello: auth_retry (0x0005, empty) before host_key_mac, 4 bytes more
        // than success's; the decoy MAC as in success.
        const Bytes hello =
            cat({header(1, 101), Bytes{std::byte{1}, std::byte{0}, std::byte{1}}, Bytes{std::byte{1}, std::byte{0}, std::byte{1}},
                 in.client_random, Bytes{std::byte{1}, std::byte{0}, std::byte{1}, std::byte{0}, std::byte{32}}, client_share,
                 Bytes{std::byte{0}, std::byte{24}}, Bytes{std::byte{0}, std::byte{5}, std::byte{0}, std::byte{0}},
                 Bytes{std::byte{0}, std::byte{2}, std::byte{0}, std::byte{16}}, in.client_decoy_mac});
        const Bytes h_hello_r = sha512(cat({hello, server_hello}));
        const Bytes c_hs_r = expand_label(handshake_secret, "c hs traffic", h_hello_r, 64);
        const Bytes s_hs_r = expand_label(handshake_secret, "s hs traffic", h_hello_r, 64);
        const Bytes c_key_r = expand_label(c_hs_r, "key", {}, 32), c_iv_r = expand_label(c_hs_r, "iv", {}, 12);
        const Bytes s_key_r = expand_label(s_hs_r, "key", {}, 32), s_iv_r = expand_label(s_hs_r, "iv", {}, 12);
        // One auth plaintext over the transcript `before`: identity part, signature, Finished (4.3, 4.4).
        auto auth_plaintext = [&](const Bytes& before, const Bytes& identity_part, const PrivateKey& signer,
                                  std::string_view context, const Bytes& traffic_secret, Bytes* h_sig, Bytes* h_fin) {
            *h_sig = sha512(cat({before, identity_part}));
            wire::Writer sig;
            sig.string("ssh-ed25519").string(signer.sign(sig_payload(context, *h_sig)));
            const Bytes signature = ssh_string(sig.view());
            *h_fin = sha512(cat({before, identity_part, signature}));
            const Bytes fin = hmac(expand_label(traffic_secret, "finished", {}, 64), *h_fin);
            return cat({identity_part, signature, fin});
        };
        Bytes unused_1, unused_2, h_sig_1, h_fin_1, h_sig_2, h_fin_2;
        const Bytes sa_plain_r = auth_plaintext(cat({hello, server_hello}), sa_signed, server_key,
                                                "twoway v1 server sig", s_hs_r, &unused_1, &unused_2);
        const Bytes ca_plain_1 = auth_plaintext(cat({hello, server_hello, sa_plain_r}), ca_identity, client_key,
                                                "twoway v1 client sig", c_hs_r, &h_sig_1, &h_fin_1);
        const Bytes ca_identity_2 = cat({ssh_string(text(in.account)), ssh_string(second_pub)});
        const Bytes ca_plain_2 = auth_plaintext(cat({hello, server_hello, sa_plain_r, ca_plain_1}), ca_identity_2,
                                                second_client, "twoway v1 client sig", c_hs_r, &h_sig_2, &h_fin_2);
        const Bytes server_auth_r = encrypted_message(3, s_key_r, s_iv_r, 0, sa_plain_r);
        const Bytes client_auth_1 = encrypted_message(4, c_key_r, c_iv_r, 0, ca_plain_1);
        const Bytes retry_verdict = encrypted_message(5, s_key_r, s_iv_r, 1, Bytes{std::byte{2}});
        const Bytes client_auth_2 = encrypted_message(4, c_key_r, c_iv_r, 1, ca_plain_2);
        const Bytes accept_verdict = encrypted_message(5, s_key_r, s_iv_r, 2, Bytes{std::byte{0}});
        const Bytes h_app_r = sha512(cat({hello, server_hello, sa_plain_r, ca_plain_1, ca_plain_2}));
        const Bytes c_ap_r = expand_label(master, "c ap traffic", h_app_r, 64);
        const Bytes s_ap_r = expand_label(master, "s ap traffic", h_app_r, 64);
        const Bytes session_id_r = expand_label(master, "session id", h_app_r, 32);

        // Implementation run.
        QueueRng rc{in.client_random, in.client_x25519, in.client_decoy_mac}, rs{in.server_random, in.server_x25519};
        ClientConfig cc{.identity = client_key, .account = in.account};
        cc.auth_retry = true;
        ServerConfig sc{.host_key = server_key};
        sc.max_auth_tries = 2;
        ClientHandshake c(cc, rc);
        ServerHandshake s(sc, rs);
        check(c.take_output() == hello, "auth_retry vector: client_hello");
        check(bool(s.feed(hello)) && s.take_output() == cat({server_hello, server_auth_r}), "auth_retry vector: server flight");
        check(bool(c.feed(cat({server_hello, server_auth_r}))) && bool(c.accept_server()), "auth_retry vector: accept server");
        check(c.take_output() == client_auth_1, "auth_retry vector: first client_auth");
        check(bool(s.feed(client_auth_1)) && bool(s.deny("not authorized")), "auth_retry vector: deny the first");
        check(s.take_output() == retry_verdict, "auth_retry vector: the retry verdict");
        check(bool(c.feed(retry_verdict)) && std::holds_alternative<NeedAnotherIdentity>(c.event()),
              "auth_retry vector: NeedAnotherIdentity");
        check(bool(c.offer_identity(second_client)), "auth_retry vector: offer the second identity");
        const Bytes got_2 = c.take_output();
        check(got_2 == client_auth_2, "auth_retry vector: second client_auth");
        check(bool(s.feed(client_auth_2)), "auth_retry vector: server reads the second client_auth");
        const ServerEvent sev = s.event();
        const auto* cv = std::get_if<NeedClientVerdict>(&sev);
        check(cv != nullptr && cv->client_key == second_client.public_key() && cv->attempt == 2,
              "auth_retry vector: NeedClientVerdict for the second key");
        check(bool(s.authorize()) && s.take_output() == accept_verdict, "auth_retry vector: the accepting verdict");
        check(bool(c.feed(accept_verdict)) && c.complete(), "auth_retry vector: client completes");
        auto cr = c.take_result();
        auto sr = s.take_result();
        check(cr && sr && crypto::ct_equal(cr->session_id, session_id_r) && cr->session_id == sr->session_id &&
                  sr->peer == second_client.public_key(),
              "auth_retry vector: session id and peer");
        check(crypto::ct_equal(cr->send_secret.span(), c_ap_r) && crypto::ct_equal(cr->recv_secret.span(), s_ap_r),
              "auth_retry vector: application traffic secrets");

        Vector f{"auth_retry", {}};
        add_text(f, "inputs_text",
                 "as in success (first contact, so the decoy MAC), but the client sends auth_retry (0x0005, empty, "
                 "before host_key_mac) and holds a second identity, second_client_ed25519_seed's; the server "
                 "refuses the first client_auth (success's client key) with the retry verdict (02, seq 1), the "
                 "client sends a second client_auth for the second key (seq 1), and the server accepts it (00, seq 2)");
        add(f, "second_client_ed25519_seed", in.second_client_seed);
        add(f, "second_client_identity_blob", second_pub);
        add(f, "client_hello", hello);
        add(f, "server_hello", server_hello);
        add(f, "transcript_hash_hello", h_hello_r);
        add(f, "client_handshake_traffic_secret", c_hs_r);
        add(f, "server_handshake_traffic_secret", s_hs_r);
        add(f, "server_auth_plaintext", sa_plain_r);
        add(f, "server_auth", server_auth_r);
        add(f, "first_transcript_hash_client_signature", h_sig_1);
        add(f, "first_transcript_hash_client_finished", h_fin_1);
        add(f, "first_client_auth_plaintext", ca_plain_1);
        add(f, "first_client_auth", client_auth_1);
        add(f, "retry_verdict", retry_verdict);
        add(f, "second_transcript_hash_client_signature", h_sig_2);
        add(f, "second_transcript_hash_client_finished", h_fin_2);
        add(f, "second_client_auth_plaintext", ca_plain_2);
        add(f, "second_client_auth", client_auth_2);
        add(f, "server_verdict", accept_verdict);
        add(f, "transcript_hash_application", h_app_r);
        add(f, "client_application_traffic_secret", c_ap_r);
        add(f, "server_application_traffic_secret", s_ap_r);
        add(f, "session_id", session_id_r);
        add_text(f, "expected_error", "none");
        out.push_back(std::move(f));
    }
    return out;
}

std::vector<Vector> compute_ed25519() {
    const Inputs in;
    const PrivateKey server_key = PrivateKey::from_seed(fixed<32>(in.server_seed));
    const Bytes message = sig_payload("twoway v1 server sig", seq(0x00, 64));
    std::vector<Vector> out;
    for (const test::Ed25519Case& c : test::ed25519_edge_cases(fixed<32>(in.server_seed), message)) {
        const bool valid = c.name == "valid";
        check(crypto::ed25519_verify(c.public_key, message, c.signature) == valid, "Ed25519 case " + c.name);
        if (valid) check(PublicKey(c.public_key) == server_key.public_key(), "Ed25519 valid case key");
        Vector v{c.name, {}};
        add(v, "public_key", c.public_key);
        add(v, "message", message);
        add(v, "signature", c.signature);
        add_text(v, "why_text", c.why);
        add_text(v, "expected_error", valid ? "none" : "bad_signature");
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace twoway::vectors
