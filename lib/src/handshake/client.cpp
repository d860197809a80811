// The client role (PROTOCOL.md 7.1). One type per state; each state accepts exactly one message, parsed
// and verified into locals before anything is committed.
#include <algorithm>
#include <array>
#include <optional>
#include <variant>

#include <twoway/handshake.hpp>

#include "handshake/framing.hpp"
#include "handshake/host_key_mac.hpp"
#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"
#include "handshake/peer_auth.hpp"
#include "handshake/receive.hpp"
#include "handshake/result_access.hpp"
#include "opaque/opaque.hpp"

namespace twoway {

using namespace handshake;

namespace {
struct ExpectServerHello {};
struct ExpectServerAuth {};
struct AwaitServerVerdict {  // the caller's verdict on the (verified) server key
    VerifiedPeer server;
};
struct ExpectServerPassword {  // password mode: client_password sent
    PublicKey server_key;
    bool deferred = false;  // the host key waits for the password's proof
    opaque::ClientLoginState login;  // the password and the blind, in secure memory until ClientFinish
};
struct AwaitSignature {  // an external identity's signature, for the client_auth begun in `auth`
    PublicKey server_key;
    PublicKey key;
    std::array<std::byte, sig_payload_size> payload;
    PendingAuth auth;
    Transcript transcript;  // through the account and identity of this client_auth
};
struct ExpectServerVerdict {  // client_auth sent; the application secrets are ready
    HandshakeResult pending;
    bool early_taken = false;  // take_early_result() has moved the traffic secrets out
};
struct AwaitNextIdentity {  // auth_retry: the server refused the last identity and takes another
    PublicKey server_key;
};
struct Complete {
    std::optional<HandshakeResult> result;  // empty once taken
};
struct Failed {
    std::error_code error;
};
using ClientState = std::variant<ExpectServerHello, ExpectServerAuth, AwaitServerVerdict, ExpectServerPassword,
                                 AwaitSignature, ExpectServerVerdict, AwaitNextIdentity, Complete, Failed>;

// The Ed25519 base point's encoding (RFC 8032 5.1): a public, valid key.
constexpr PublicKey::Raw ed25519_base_point = [] {
    PublicKey::Raw r{};
    r[0] = std::byte{0x58};
    for (std::size_t i = 1; i < r.size(); ++i) r[i] = std::byte{0x66};
    return r;
}();

bool valid_account(std::string_view a) {
    if (a.empty() || a.size() > max_account_size) return false;
    return std::none_of(a.begin(), a.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

bool valid_suites(const std::vector<Suite>& suites) {
    if (suites.empty() || suites.size() > max_suites) return false;
    for (std::size_t i = 0; i < suites.size(); ++i) {
        if (!suite_supported(suites[i])) return false;
        if (std::find(suites.begin() + static_cast<std::ptrdiff_t>(i) + 1, suites.end(), suites[i]) != suites.end()) {
            return false;
        }
    }
    return true;
}
}  // namespace

struct ClientHandshake::Impl {
    using State = ClientState;
    static constexpr Role role = Role::client;

    const PrivateKey* identity;  // null in password mode and for an external identity
    std::optional<PublicKey> external;  // the external identity's key (IdentityRef::external)
    bool password_mode = false;
    bool auth_retry = false;       // we sent auth_retry (4.1.3)
    std::uint32_t attempt = 0;     // client_auth messages sent before the one being built (its seq)
    std::optional<opaque::ClientLoginRandom> login_random;  // password mode: drawn at construction
    std::array<std::byte, hash_size> pw_context{};  // password mode: H_pw_context
    std::uint64_t verdict_seq = 1;  // server_verdict's sequence number (2 after server_password)
    std::vector<std::byte> identity_blob;  // our plain key's blob, or our certificate's
    std::string account;
    std::vector<Suite> suites;
    ClientState state;
    Deframer in;
    std::vector<std::byte> out;
    Transcript transcript;
    SecretBlock block;
    Random client_random{};
    crypto::X25519Public client_share{};
    Suite suite = Suite::x25519_ed25519_chacha20poly1305;

    Impl(const ClientConfig& c, Rng& rng)
        : identity(c.identity.get()), password_mode(c.password), auth_retry(c.auth_retry && !c.password),
          account(c.account), suites(c.suites) {
        if (const PublicKey* k = c.identity.external_key()) external = *k;
        // Key mode needs the identity; password mode uses none (a certificate would be a caller's mistake).
        const bool identity_ok = password_mode ? !c.certificate : c.identity.present();
        if (!valid_account(account) || !valid_suites(suites) || !identity_ok) {
            state = Failed{make_error_code(errc::invalid_argument)};
            return;
        }
        if (!password_mode) {
            Result<std::vector<std::byte>> blob = own_identity_blob(own_key(), c.certificate, Role::client);
            if (!blob) {
                state = Failed{make_error_code(errc::invalid_argument)};
                return;
            }
            identity_blob = std::move(*blob);
        }
        // Draw order (fixed, test vectors depend on it): client_random, the X25519 secret, then (only
        // without a proof of the server's key) the 16 bytes standing in for host_key_mac.
        rng.fill(client_random);
        rng.fill(block.get().ephemeral);
        client_share = crypto::x25519_public(block.get().ephemeral);

        ClientHello hello;
        hello.versions = {protocol_version_1};
        for (Suite s : suites) hello.suites.push_back(static_cast<std::uint16_t>(s));
        hello.random = client_random;
        hello.shares = {KeyShare{group_x25519, client_share}};
        // host_key_mac is always there (PROTOCOL.md 4.1.1): the proof when we know the server's key,
        // random bytes otherwise, so that nobody on the path can tell first contact from a known host.
        if (c.host_keys) hello.extensions.push_back(Extension{ext_host_keys, {}});
        if (password_mode) hello.extensions.push_back(Extension{ext_password, {}});
        if (auth_retry) hello.extensions.push_back(Extension{ext_auth_retry, {}});
        const std::array<std::byte, host_key_mac_size> placeholder{};
        hello.extensions.push_back(Extension{ext_host_key_mac, placeholder});
        out = write_client_hello(hello);
        // Without a known key the same computation runs against our own identity key and is then
        // overwritten, so that the time from connect to client_hello does not tell either.
        // Password mode has no identity key: the Ed25519 base point stands in (a valid point, so the
        // work done is the same as with a real key; the result is overwritten all the same).
        const PublicKey self_target = password_mode ? PublicKey(ed25519_base_point) : own_key();
        const PublicKey& target = c.known_server_key ? *c.known_server_key : self_target;
        const bool sealed = static_cast<bool>(seal_host_key_mac(out, target, block.get()));
        if (!sealed || !c.known_server_key) rng.fill(std::span<std::byte>(out).last(host_key_mac_size));
        transcript.absorb(out);
        // Draw order, continued: password mode's OPAQUE randomness (blind, client nonce, keyshare seed),
        // here, since the rng is used at construction only.
        if (password_mode) login_random.emplace(opaque::client_login_random(rng));
    }

    // The public key of the identity being offered (key mode).
    PublicKey own_key() const { return identity != nullptr ? identity->public_key() : external.value_or(PublicKey{}); }

    Status fail(std::error_code ec) {
        if (!std::holds_alternative<Failed>(state)) state = Failed{ec};
        return status();
    }
    Status fail(errc e) { return fail(make_error_code(e)); }

    // Processes buffered messages until one is incomplete or the state waits for the caller.
    Status pump();

    Status status() const {
        if (const auto* f = std::get_if<Failed>(&state)) return fail_status(f->error);
        return {};
    }
    static Status fail_status(std::error_code ec) { return Failure{ec}; }

    Status on_server_hello(const Frame& frame) {
        Result<ServerHello> sh = parse_server_hello(frame.body);
        if (!sh) return fail_status(sh.error());
        if (sh->version != protocol_version_1) return errc::unsupported_version;
        const auto chosen = static_cast<Suite>(sh->suite);
        if (std::find(suites.begin(), suites.end(), chosen) == suites.end()) return errc::unsupported_suite;
        if (sh->share.size() != x25519_share_size) return errc::malformed;
        // A server never echoes the client's own random or share: seeing them means reflection.
        if (crypto::ct_equal(sh->random, client_random) || crypto::ct_equal(sh->share, client_share)) {
            return errc::reflected_message;
        }
        Secrets& s = block.get();
        Status dh = crypto::x25519(s.shared, s.ephemeral, sh->share.first<x25519_share_size>());
        if (!dh) return dh;
        crypto::wipe(s.ephemeral);

        suite = chosen;
        transcript.absorb(frame.whole);
        derive_handshake_secrets(s, transcript.digest());
        in.consume(frame);
        state = ExpectServerAuth{};
        return {};
    }

    Status on_server_auth(const Frame& frame) {
        Secrets& s = block.get();
        Result<std::vector<std::byte>> plain = open_message(frame, s.server_key, 0);
        if (!plain) return fail_status(plain.error());
        Result<AuthMessage> msg = parse_auth(*plain, Role::server);
        if (!msg) return fail_status(msg.error());
        Transcript t = transcript;
        Result<VerifiedPeer> server = verify_auth(s, t, Role::server, *plain, *msg);
        if (!server) return fail_status(server.error());

        transcript = t;
        in.consume(frame);
        state = AwaitServerVerdict{*server};
        return {};
    }

    Status on_server_verdict(const Frame& frame) {
        Result<std::vector<std::byte>> plain = open_message(frame, block.get().server_key, verdict_seq);
        if (!plain) return fail_status(plain.error());
        Result<Verdict> v = parse_verdict(*plain);
        if (!v) return fail_status(v.error());
        if (*v == Verdict::denied) return errc::auth_denied;
        if (*v == Verdict::retry) {
            // Only after our auth_retry, in key mode (4.5); after early records the server cannot go on.
            if (!auth_retry || password_mode) return errc::malformed;
            auto& e = std::get<ExpectServerVerdict>(state);
            if (e.early_taken) return errc::auth_denied;
            in.consume(frame);
            const PublicKey server_key = e.pending.peer;
            ++attempt;
            ++verdict_seq;
            state = AwaitNextIdentity{server_key};
            return {};
        }

        in.consume(frame);
        wipe_retry_secrets(block.get());
        HandshakeResult r = std::move(std::get<ExpectServerVerdict>(state).pending);
        detail::HandshakeResultAccess::set_exporter(r, std::move(block).release_exporter());
        r.leftover = in.take_rest();
        state = Complete{std::move(r)};
        return {};
    }

    // server_password: the KSF parameters (checked against our limits before the KSF runs), then
    // OPAQUE's ClientFinish with H_pw_context as its context; a wrong password and an unknown account
    // both end here with auth_denied, and nothing more is sent.
    Status on_server_password(const Frame& frame) {
        Secrets& s = block.get();
        Result<std::vector<std::byte>> plain = open_message(frame, s.server_key, 1);
        if (!plain) return fail_status(plain.error());
        Result<ServerPassword> sp = parse_server_password(*plain);
        if (!sp) return fail_status(sp.error());
        Result<opaque::KE2> ke2 = opaque::parse_ke2(sp->ke2);
        if (!ke2) return fail_status(ke2.error() == errc::weak_public_key ? ke2.error() : make_error_code(errc::malformed));
        auto& st = std::get<ExpectServerPassword>(state);
        const opaque::Identities ids{wire::as_bytes(account), {}};
        const opaque::KsfParams ksf =
            opaque::argon2id_ksf({sp->ops, static_cast<std::uint64_t>(sp->mem_kib) * 1024});
        Result<opaque::ClientFinishResult> fin = opaque::client_finish(st.login, *ke2, ids, password_context(), ksf);
        // (The login state, with the password and the blind, goes with this state: wiped on success by
        // the move to ExpectServerVerdict, on failure by the move to Failed.)
        if (!fin) return fail_status(fin.error());

        transcript.absorb(*plain);
        in.consume(frame);
        set_password_master(s, fin->session_key.span());
        const std::array<std::byte, opaque::ke3_size> ke3 = opaque::encode(fin->ke3);
        wire::Writer w(ke3.size() + finished_size);
        w.bytes(ke3);
        transcript.absorb(ke3);
        w.bytes(finished_mac(s, Role::client, transcript.digest()));
        transcript.absorb(w.view().subspan(ke3.size()));
        std::vector<std::byte> msg = seal_message(MsgType::client_password_finish, s.client_key, 1, w.view());
        out.insert(out.end(), msg.begin(), msg.end());

        HandshakeResult r;
        r.suite = suite;
        r.peer = st.server_key;
        r.account = account;
        r.password = true;
        r.host_proven_by_password = st.deferred;
        derive_application_secrets(s, transcript.digest(), r.send_secret.span(), r.recv_secret.span(), r.session_id);
        verdict_seq = 2;
        state = ExpectServerVerdict{std::move(r)};
        return {};
    }

    // A server with password mode off answers client_password with its generic denial (server_verdict,
    // seq 1) instead of server_password. An acceptance there is a protocol violation: nothing was proven.
    Status on_password_refused(const Frame& frame) {
        Result<std::vector<std::byte>> plain = open_message(frame, block.get().server_key, 1);
        if (!plain) return fail_status(plain.error());
        Result<Verdict> v = parse_verdict(*plain);
        if (!v) return fail_status(v.error());
        return *v == Verdict::denied ? errc::auth_denied : errc::unexpected_message;
    }

    // OPAQUE's context (PROTOCOL.md 4.8): "twoway v1 opaque" | 0x00 | H_pw_context.
    std::vector<std::byte> password_context() const {
        wire::Writer w(opaque_context_label.size() + 1 + hash_size);
        w.bytes(opaque_context_label).u8(0).bytes(pw_context);
        return w.take();
    }

    Status accept_with_password(std::span<const std::byte> password, bool deferred) {
        auto* await = std::get_if<AwaitServerVerdict>(&state);
        if (await == nullptr || !password_mode || !login_random) return errc::bad_state;
        const PublicKey server_key = await->server.key();
        Result<opaque::LoginStart> start = opaque::client_init(password, std::move(*login_random));
        login_random.reset();
        if (!start) return fail(start.error());
        Secrets& s = block.get();
        const std::array<std::byte, opaque::ke1_size> ke1 = opaque::encode(start->ke1);
        std::vector<std::byte> plain = write_client_password(account, ke1);
        transcript.absorb(wire::Bytes(plain).first(plain.size() - ke1.size()));
        pw_context = transcript.digest();
        transcript.absorb(ke1);
        std::vector<std::byte> msg = seal_message(MsgType::client_password, s.client_key, 0, plain);
        out.insert(out.end(), msg.begin(), msg.end());
        state = ExpectServerPassword{server_key, deferred, std::move(start->state)};
        return pump();
    }

    Status accept_server() {
        auto* await = std::get_if<AwaitServerVerdict>(&state);
        if (await == nullptr || password_mode) return errc::bad_state;
        const PublicKey server_key = await->server.key();
        return begin_attempt(server_key);
    }

    // client_auth for the identity set (identity or external, identity_blob): signed here for a private
    // key, by the caller (NeedSignature) for an external one.
    Status begin_attempt(const PublicKey& server_key) {
        Transcript t = transcript;
        PendingAuth auth = begin_auth(t, Role::client, account, identity_blob, {});
        const auto payload = signature_payload(Role::client, t.digest());
        if (identity != nullptr) {
            const std::array<std::byte, 64> sig = identity->sign(payload);
            return finish_attempt(server_key, std::move(auth), std::move(t), sig);
        }
        state = AwaitSignature{server_key, *external, payload, std::move(auth), std::move(t)};
        return {};
    }

    Status finish_attempt(const PublicKey& server_key, PendingAuth auth, Transcript t,
                          std::span<const std::byte, 64> sig) {
        Secrets& s = block.get();
        const std::vector<std::byte> plain = finish_auth(s, t, Role::client, std::move(auth), sig);
        transcript = t;
        std::vector<std::byte> msg = seal_message(MsgType::client_auth, s.client_key, attempt, plain);
        out.insert(out.end(), msg.begin(), msg.end());

        HandshakeResult r;
        r.suite = suite;
        r.peer = server_key;
        r.account = account;
        // With auth_retry the server may ask for another client_auth: keep what that needs until the verdict.
        derive_application_secrets(s, transcript.digest(), r.send_secret.span(), r.recv_secret.span(), r.session_id,
                                   auth_retry);
        state = ExpectServerVerdict{std::move(r)};
        // Bytes that arrived while the caller deliberated are processed now.
        return pump();
    }

    Status provide_signature(std::span<const std::byte> signature) {
        auto* await = std::get_if<AwaitSignature>(&state);
        if (await == nullptr) return errc::bad_state;
        if (signature.size() != 64) return fail(errc::invalid_argument);
        const auto sig = signature.first<64>();
        // Strict verification (7.3) before it leaves: a broken signer is caught here, not by the server.
        if (!await->key.verify(await->payload, sig)) return fail(errc::bad_signature);
        AwaitSignature a = std::move(*await);
        return finish_attempt(a.server_key, std::move(a.auth), std::move(a.transcript), sig);
    }

    Status offer_identity(IdentityRef id, const std::optional<Certificate>& certificate) {
        PublicKey server_key;
        if (const auto* n = std::get_if<AwaitNextIdentity>(&state)) {
            server_key = n->server_key;
        } else if (const auto* a = std::get_if<AwaitSignature>(&state)) {
            server_key = a->server_key;
        } else {
            return errc::bad_state;
        }
        if (!id.present()) return errc::invalid_argument;
        const PublicKey key = id.get() != nullptr ? id.get()->public_key() : *id.external_key();
        Result<std::vector<std::byte>> blob = own_identity_blob(key, certificate, Role::client);
        if (!blob) return errc::invalid_argument;
        identity = id.get();
        external.reset();
        if (const PublicKey* k = id.external_key()) external = *k;
        identity_blob = std::move(*blob);
        return begin_attempt(server_key);
    }

    Status give_up() {
        if (!std::holds_alternative<AwaitNextIdentity>(state) && !std::holds_alternative<AwaitSignature>(state)) {
            return errc::bad_state;
        }
        static_cast<void>(fail(errc::auth_denied));  // the handshake fails; the call itself worked
        return {};
    }
};

// Which message each state expects, and the handler that takes it; the other states expect none. Out of
// line, so that libtwoway's exported symbols stay as they are: Impl takes the class's visibility, and an
// inline member's function-local table would be exported too.
Status ClientHandshake::Impl::pump() {
    static constexpr std::array<Receive<Impl>, 4> receive{
        expect<ExpectServerHello>(MsgType::server_hello, &Impl::on_server_hello),
        expect<ExpectServerAuth>(MsgType::server_auth, &Impl::on_server_auth),
        expect<ExpectServerPassword>(MsgType::server_password, &Impl::on_server_password),
        expect<ExpectServerVerdict>(MsgType::server_verdict, &Impl::on_server_verdict),
    };
    // In ExpectServerPassword, server_verdict (a refusal) may come instead of server_password.
    static constexpr std::array<Receive<Impl>, 1> refused{
        expect<ExpectServerPassword>(MsgType::server_verdict, &Impl::on_password_refused),
    };
    if (std::holds_alternative<ExpectServerPassword>(state) &&
        in.peek_type() == static_cast<std::uint8_t>(MsgType::server_verdict)) {
        return handshake::pump(*this, refused);
    }
    return handshake::pump(*this, receive);
}

ClientHandshake::ClientHandshake(const ClientConfig& config, Rng& rng) : impl_(std::make_unique<Impl>(config, rng)) {}
ClientHandshake::~ClientHandshake() = default;
ClientHandshake::ClientHandshake(ClientHandshake&&) noexcept = default;
ClientHandshake& ClientHandshake::operator=(ClientHandshake&&) noexcept = default;

Status ClientHandshake::feed(std::span<const std::byte> bytes) {
    Impl& m = *impl_;
    if (auto* c = std::get_if<Complete>(&m.state)) {
        if (!c->result) return errc::bad_state;
        c->result->leftover.insert(c->result->leftover.end(), bytes.begin(), bytes.end());
        return {};
    }
    if (std::holds_alternative<Failed>(m.state)) return m.status();
    m.in.append(bytes);
    return m.pump();
}

Status ClientHandshake::end_of_input() {
    Impl& m = *impl_;
    if (std::holds_alternative<Complete>(m.state) || std::holds_alternative<Failed>(m.state)) return m.status();
    return m.fail(errc::truncated);
}

std::vector<std::byte> ClientHandshake::take_output() { return std::exchange(impl_->out, {}); }

ClientEvent ClientHandshake::event() const {
    const Impl& m = *impl_;
    if (const auto* f = std::get_if<Failed>(&m.state)) return HandshakeFailed{f->error};
    if (const auto* a = std::get_if<AwaitServerVerdict>(&m.state)) {
        return NeedServerVerdict{a->server.key(), a->server.certificate(), a->server.banner(), m.password_mode};
    }
    if (const auto* a = std::get_if<AwaitSignature>(&m.state)) {
        return NeedSignature{a->key, std::vector<std::byte>(a->payload.begin(), a->payload.end())};
    }
    if (std::holds_alternative<AwaitNextIdentity>(m.state)) return NeedAnotherIdentity{m.attempt};
    if (std::holds_alternative<Complete>(m.state)) return HandshakeComplete{};
    return WantInput{};
}

bool ClientHandshake::complete() const noexcept { return std::holds_alternative<Complete>(impl_->state); }

std::error_code ClientHandshake::error() const noexcept {
    const auto* f = std::get_if<Failed>(&impl_->state);
    return f != nullptr ? f->error : std::error_code{};
}

Status ClientHandshake::accept_server() { return impl_->accept_server(); }

Status ClientHandshake::accept_server_with_password(std::span<const std::byte> password) {
    return impl_->accept_with_password(password, false);
}

Status ClientHandshake::defer_server_to_password(std::span<const std::byte> password) {
    return impl_->accept_with_password(password, true);
}

Status ClientHandshake::provide_signature(std::span<const std::byte> signature) {
    return impl_->provide_signature(signature);
}

Status ClientHandshake::offer_identity(IdentityRef identity, const std::optional<Certificate>& certificate) {
    return impl_->offer_identity(identity, certificate);
}

Status ClientHandshake::give_up() { return impl_->give_up(); }

Status ClientHandshake::reject_server() {
    Impl& m = *impl_;
    if (!std::holds_alternative<AwaitServerVerdict>(m.state)) return errc::bad_state;
    static_cast<void>(m.fail(errc::host_key_rejected));  // the handshake fails; the call itself worked
    return {};
}

Result<HandshakeResult> ClientHandshake::take_early_result() {
    auto* e = std::get_if<ExpectServerVerdict>(&impl_->state);
    if (e == nullptr || e->early_taken) return errc::bad_state;
    HandshakeResult r;
    r.suite = e->pending.suite;
    r.peer = e->pending.peer;
    r.account = e->pending.account;
    r.session_id = e->pending.session_id;
    r.password = e->pending.password;
    r.host_proven_by_password = e->pending.host_proven_by_password;
    // The pending result keeps the freshly zeroed secrets r was born with.
    std::swap(r.send_secret, e->pending.send_secret);
    std::swap(r.recv_secret, e->pending.recv_secret);
    e->early_taken = true;
    return r;
}

bool ClientHandshake::early_data_ready() const noexcept {
    const auto* e = std::get_if<ExpectServerVerdict>(&impl_->state);
    return e != nullptr && !e->early_taken;
}

Result<HandshakeResult> ClientHandshake::take_result() {
    auto* c = std::get_if<Complete>(&impl_->state);
    if (c == nullptr || !c->result) return errc::bad_state;
    HandshakeResult r = std::move(*c->result);
    c->result.reset();
    return r;
}

}  // namespace twoway
