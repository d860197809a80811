#include "peers.hpp"

#include "crypto/crypto.hpp"
#include "wire/writer.hpp"

namespace adversary {

using twoway::errc;
using twoway::fail;

namespace {

// Appends an auth plaintext (PROTOCOL.md 4.3/4.4) with edits to w; t absorbs it in the spec's steps.
AuthParts write_auth(hs::Secrets& s, hs::Transcript& t, hs::Role self, std::string_view account,
                     const twoway::PrivateKey& key, const AuthEdits& e, twoway::wire::Writer& w) {
    if (self == hs::Role::client) {
        if (e.account_field) {
            w.bytes(*e.account_field);
        } else {
            w.string(account);
        }
    }
    w.string(e.identity ? *e.identity : key.public_key().blob());
    if (self == hs::Role::server) w.string(twoway::wire::Bytes{});  // no banner
    t.absorb(w.view());
    std::size_t absorbed = w.size();
    const twoway::PrivateKey& signer = e.signer != nullptr ? *e.signer : key;
    AuthParts parts;
    parts.signature_blob = e.signature_blob ? *e.signature_blob
                                            : hs::ed25519_signature_blob(signer.sign(hs::signature_payload(self, t.digest())));
    w.string(parts.signature_blob);
    t.absorb(w.view().subspan(absorbed));
    absorbed = w.size();
    parts.finished = e.finished ? *e.finished : hs::finished_mac(s, self, t.digest());
    w.bytes(parts.finished);
    t.absorb(w.view().subspan(absorbed));
    w.bytes(e.trailing);
    return parts;
}

}  // namespace

std::vector<ByteVec> split_messages(const ByteVec& flight) {
    std::vector<ByteVec> out;
    std::size_t pos = 0;
    while (pos + 4 <= flight.size()) {
        const std::size_t len = (std::to_integer<std::size_t>(flight[pos + 1]) << 16) |
                                (std::to_integer<std::size_t>(flight[pos + 2]) << 8) |
                                std::to_integer<std::size_t>(flight[pos + 3]);
        if (pos + 4 + len > flight.size()) break;
        out.emplace_back(flight.begin() + static_cast<std::ptrdiff_t>(pos),
                         flight.begin() + static_cast<std::ptrdiff_t>(pos + 4 + len));
        pos += 4 + len;
    }
    return out;
}

std::optional<ByteVec> open_message(const ByteVec& msg, const hs::TrafficKey& k, std::uint64_t seq) {
    if (msg.size() < 4 + 17) return std::nullopt;  // (hs::open_message needs a body above the tag)
    const twoway::wire::Bytes all(msg);
    hs::Frame f{all.first(4), all.subspan(4), all};
    auto r = hs::open_message(f, k, seq);
    if (!r) return std::nullopt;
    return std::move(*r);
}

ByteVec header(std::uint8_t type, std::uint32_t length) {
    return {std::byte{type}, static_cast<std::byte>(length >> 16), static_cast<std::byte>(length >> 8),
            static_cast<std::byte>(length)};
}

ByteVec frame(std::uint8_t type, const ByteVec& body) {
    ByteVec out = header(type, static_cast<std::uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// ---- client -----------------------------------------------------------------------------------------

RefClient::RefClient(const twoway::PrivateKey& key, twoway::Rng& rng) : key_(key) {
    rng.fill(random_);
    rng.fill(block_.get().ephemeral);
}

ByteVec RefClient::hello(const std::function<void(hs::ClientHello&)>& edit) {
    const auto share = twoway::crypto::x25519_public(block_.get().ephemeral);
    hs::ClientHello ch;
    ch.versions = {twoway::protocol_version_1};
    ch.suites = {0x0001};
    ch.random = random_;
    ch.shares = {hs::KeyShare{hs::group_x25519, share}};
    if (edit) edit(ch);
    m1_ = hs::write_client_hello(ch);
    return m1_;
}

twoway::Status RefClient::take_flight(const ByteVec& flight) {
    hs::Secrets& s = block_.get();
    const auto msgs = split_messages(flight);
    if (msgs.size() != 2) return fail(errc::malformed);
    auto sh = hs::parse_server_hello(twoway::wire::Bytes(msgs[0]).subspan(hs::header_size));
    if (!sh) return fail(sh.error());
    if (sh->share.size() != 32) return fail(errc::malformed);
    if (auto st = twoway::crypto::x25519(s.shared, s.ephemeral, sh->share.first<32>()); !st) return st;
    transcript_.absorb(m1_);
    transcript_.absorb(msgs[0]);
    hs::derive_handshake_secrets(s, transcript_.digest());
    auto plain = open_message(msgs[1], s.server_key, 0);
    if (!plain) return fail(errc::decrypt_failed);
    auto auth = hs::parse_auth(*plain, hs::Role::server);
    if (!auth) return fail(auth.error());
    auto pk = twoway::PublicKey::from_blob(auth->identity);
    if (!pk) return fail(pk.error());
    server_key_ = *pk;
    transcript_.absorb(*plain);
    return {};
}

ByteVec RefClient::auth(std::string_view account, const AuthEdits& e, std::uint64_t seq) {
    hs::Secrets& s = block_.get();
    twoway::wire::Writer w;
    parts_ = write_auth(s, transcript_, hs::Role::client, account, key_, e, w);
    return hs::seal_message(hs::MsgType::client_auth, s.client_key, seq, w.view());
}

std::optional<ByteVec> RefClient::open_verdict(const ByteVec& msg) const {
    return open_message(msg, block_.get().server_key, verdict_seq_);
}

ByteVec RefClient::seal(hs::MsgType t, std::uint64_t seq, const ByteVec& plaintext) const {
    return hs::seal_message(t, block_.get().client_key, seq, plaintext);
}

ByteVec RefClient::password(std::string_view account, std::string_view password, const std::optional<ByteVec>& ke1) {
    namespace op = twoway::opaque;
    pw_account_ = std::string(account);
    auto start = op::client_init(twoway::wire::as_bytes(password), op::client_login_random(twoway::system_rng()));
    if (!start) return {};
    const std::array<std::byte, op::ke1_size> honest = op::encode(start->ke1);
    login_.emplace(std::move(start->state));
    const ByteVec k = ke1 ? *ke1 : ByteVec(honest.begin(), honest.end());
    const ByteVec plain = hs::write_client_password(account, k);
    transcript_.absorb(twoway::wire::Bytes(plain).first(plain.size() - k.size()));
    pw_context_ = transcript_.digest();
    transcript_.absorb(k);
    return seal(hs::MsgType::client_password, 0, plain);
}

twoway::Status RefClient::take_server_password(const ByteVec& msg) {
    namespace op = twoway::opaque;
    hs::Secrets& s = block_.get();
    auto plain = open_message(msg, s.server_key, 1);
    if (!plain) return fail(errc::decrypt_failed);
    if (msg.empty() || msg[0] != std::byte{0x07}) return fail(errc::unexpected_message);
    sp_plain_ = *plain;
    auto sp = hs::parse_server_password(*plain);
    if (!sp) return fail(sp.error());
    auto ke2 = op::parse_ke2(sp->ke2);
    if (!ke2) return fail(ke2.error());
    if (!login_) return fail(errc::bad_state);
    twoway::wire::Writer ctx;
    ctx.bytes(hs::opaque_context_label).u8(0).bytes(pw_context_);
    const op::Identities ids{twoway::wire::as_bytes(pw_account_), {}};
    auto fin = op::client_finish(*login_, *ke2, ids, ctx.view(),
                                 op::argon2id_ksf({sp->ops, static_cast<std::uint64_t>(sp->mem_kib) * 1024}));
    if (!fin) return fail(fin.error());
    transcript_.absorb(*plain);
    hs::set_password_master(s, fin->session_key.span());
    const std::array<std::byte, op::ke3_size> ke3 = op::encode(fin->ke3);
    transcript_.absorb(ke3);
    const auto finished = hs::finished_mac(s, hs::Role::client, transcript_.digest());
    transcript_.absorb(finished);
    finish_plain_.assign(ke3.begin(), ke3.end());
    finish_plain_.insert(finish_plain_.end(), finished.begin(), finished.end());
    verdict_seq_ = 2;
    return {};
}

ByteVec RefClient::password_finish(const std::function<void(ByteVec&)>& edit) {
    ByteVec plain = finish_plain_;
    if (edit) edit(plain);
    return seal(hs::MsgType::client_password_finish, 1, plain);
}

std::optional<twoway::Channel> RefClient::app_channel() {
    std::array<std::byte, 64> client_ap{};
    std::array<std::byte, 64> server_ap{};
    twoway::SessionId id{};
    hs::derive_application_secrets(block_.get(), transcript_.digest(), client_ap, server_ap, id);
    auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, twoway::SecretBytes<64>(std::span<const std::byte, 64>(client_ap)),
                                      twoway::SecretBytes<64>(std::span<const std::byte, 64>(server_ap)));
    twoway::crypto::wipe(client_ap);
    twoway::crypto::wipe(server_ap);
    if (!ch) return std::nullopt;
    return std::move(*ch);
}

// ---- server -----------------------------------------------------------------------------------------

RefServer::RefServer(const twoway::PrivateKey& host_key, twoway::Rng& rng) : key_(host_key) {
    rng.fill(random_);
    rng.fill(block_.get().ephemeral);
}

twoway::Result<RefServer::Flight> RefServer::answer(const ByteVec& m1, const AuthEdits& e) {
    hs::Secrets& s = block_.get();
    if (m1.size() < hs::header_size) return fail(errc::malformed);
    auto ch = hs::parse_client_hello(twoway::wire::Bytes(m1).subspan(hs::header_size));
    if (!ch) return fail(ch.error());
    if (ch->shares.empty() || ch->shares[0].data.size() != 32) return fail(errc::malformed);
    if (auto st = twoway::crypto::x25519(s.shared, s.ephemeral, ch->shares[0].data.first<32>()); !st) {
        return fail(st.error());
    }
    const auto share = twoway::crypto::x25519_public(s.ephemeral);
    Flight f;
    f.hello = hs::write_server_hello(hs::ServerHello{twoway::protocol_version_1, 0x0001, random_, share});
    transcript_.absorb(m1);
    transcript_.absorb(f.hello);
    hs::derive_handshake_secrets(s, transcript_.digest());
    twoway::wire::Writer w;
    parts_ = write_auth(s, transcript_, hs::Role::server, {}, key_, e, w);
    f.auth = hs::seal_message(hs::MsgType::server_auth, s.server_key, 0, w.view());
    return f;
}

ByteVec RefServer::seal(hs::MsgType t, std::uint64_t seq, const ByteVec& plaintext) const {
    return hs::seal_message(t, block_.get().server_key, seq, plaintext);
}

std::optional<ByteVec> RefServer::open_client(const ByteVec& msg, std::uint64_t seq) const {
    return open_message(msg, block_.get().client_key, seq);
}

ByteVec RefServer::verdict(const ByteVec& plaintext) const {
    return hs::seal_message(hs::MsgType::server_verdict, block_.get().server_key, 1, plaintext);
}

}  // namespace adversary
