// The server role (PROTOCOL.md 7.2). One type per state; each state accepts exactly one message, parsed
// and verified into locals before anything is committed. Once server_auth is out, every failure answers
// with the one generic encrypted denial, and the detail stays in the log.
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
struct ExpectClientHello {};
struct ExpectClientAuth {};
struct AwaitClientVerdict {  // the caller's verdict on (account, verified client key or password)
    std::optional<VerifiedPeer> client;  // empty in password mode
    HandshakeResult pending;
};
struct AwaitPasswordRecord {  // password mode: client_password read; the caller looks the account up
    std::string account;
    opaque::KE1 ke1;
    std::array<std::byte, hash_size> pw_context;  // H_pw_context
};
struct ExpectPasswordFinish {  // server_password sent
    std::string account;
    opaque::ServerLoginState login;
};
struct Complete {
    std::optional<HandshakeResult> result;  // empty once taken
};
struct Failed {
    std::error_code error;
};
using ServerState = std::variant<ExpectClientHello, ExpectClientAuth, AwaitPasswordRecord, ExpectPasswordFinish,
                                 AwaitClientVerdict, Complete, Failed>;

// The key exchange group a suite uses.
std::uint16_t group_of(Suite s) {
    return s == Suite::xwing_ed25519_chacha20poly1305 ? group_xwing : group_x25519;
}
}  // namespace

struct ServerHandshake::Impl {
    using State = ServerState;
    static constexpr Role role = Role::server;

    const PrivateKey& host_key;
    std::vector<std::byte> identity_blob;  // the host key's blob, or the host certificate's
    std::string banner;
    std::vector<Suite> suites;
    Rng& rng;
    bool stealth = false;
    ServerState state;
    Deframer in;
    std::vector<std::byte> out;
    Transcript transcript;
    SecretBlock block;
    bool auth_sent = false;
    bool denial_sent = false;
    bool client_host_keys = false;  // the client_hello carried host_keys (4.1.2)
    bool client_password = false;   // the client_hello carried password (4.8)
    bool client_auth_retry = false;  // the client_hello carried auth_retry (4.1.3)
    std::uint32_t max_auth_tries = 1;
    std::uint32_t attempts = 0;      // client_auth messages read
    std::string first_account;       // the account the first client_auth named (a retry must name it too)
    const PasswordServerKeys* password_keys = nullptr;
    PasswordKsf password_default_ksf{};
    std::uint64_t verdict_seq = 1;  // server_verdict's sequence number (2 after server_password)
    std::string denial_reason;

    Impl(const ServerConfig& c, Rng& r) : host_key(c.host_key), banner(c.banner), suites(c.suites), rng(r) {
        stealth = c.stealth;
        password_keys = c.password_keys;
        password_default_ksf = c.password_default_ksf;
        max_auth_tries = c.max_auth_tries;
        Result<std::vector<std::byte>> blob = own_identity_blob(host_key.public_key(), c.host_certificate, Role::server);
        const bool ok = !suites.empty() && std::all_of(suites.begin(), suites.end(), suite_supported) && blob &&
                        banner.size() <= max_banner_size;
        if (!ok) {
            state = Failed{make_error_code(errc::invalid_argument)};
            return;
        }
        identity_blob = std::move(*blob);
    }

    Status status() const {
        if (const auto* f = std::get_if<Failed>(&state)) return Failure{f->error};
        return {};
    }

    Status fail(std::error_code ec, std::string reason = {}) {
        if (std::holds_alternative<Failed>(state)) return status();
        state = Failed{ec};
        if (auth_sent && !denial_sent) {
            // The one generic answer, whatever went wrong: a client learns nothing from it.
            const std::byte denied{static_cast<std::uint8_t>(Verdict::denied)};
            const std::vector<std::byte> msg =
                seal_message(MsgType::server_verdict, block.get().server_key, verdict_seq, std::span(&denied, 1));
            out.insert(out.end(), msg.begin(), msg.end());
            denial_sent = true;
            denial_reason = reason.empty() ? ec.message() : std::move(reason);
        }
        return status();
    }
    Status fail(errc e) { return fail(make_error_code(e)); }

    // Processes buffered messages until one is incomplete or the state waits for the caller.
    Status pump();

    Status on_client_hello(const Frame& frame) {
        // The structure first (the proof is found through it), then, in stealth mode, the proof of the
        // host key before anything else is judged. A stealth server answers no failure here, so the
        // order tells a client that cannot prove the key nothing (PROTOCOL.md 7.2 step 1).
        Result<ClientHello> ch = parse_client_hello(frame.body);
        if (!ch) return Failure{ch.error()};
        if (stealth && !check_host_key_mac(frame.whole, *ch, host_key, block.get())) {
            return errc::host_key_mac_invalid;
        }
        if (std::find(ch->versions.begin(), ch->versions.end(), protocol_version_1) == ch->versions.end()) {
            return errc::unsupported_version;
        }
        // host_keys (4.1.2): its presence is the statement; its data (a client sends none) is ignored,
        // as every extension's content the server has no use for.
        client_host_keys = std::any_of(ch->extensions.begin(), ch->extensions.end(),
                                       [](const Extension& e) { return e.type == ext_host_keys; });
        client_password = std::any_of(ch->extensions.begin(), ch->extensions.end(),
                                      [](const Extension& e) { return e.type == ext_password; });
        client_auth_retry = std::any_of(ch->extensions.begin(), ch->extensions.end(),
                                        [](const Extension& e) { return e.type == ext_auth_retry; });
        // The client's preference order decides among the suites both sides accept and the client sent a
        // key share for.
        std::optional<Suite> chosen;
        const KeyShare* share = nullptr;
        for (std::uint16_t id : ch->suites) {
            const auto s = static_cast<Suite>(id);
            if (!suite_supported(s) || std::find(suites.begin(), suites.end(), s) == suites.end()) continue;
            auto it = std::find_if(ch->shares.begin(), ch->shares.end(),
                                   [&](const KeyShare& k) { return k.group == group_of(s); });
            if (it == ch->shares.end()) continue;
            chosen = s;
            share = &*it;
            break;
        }
        if (!chosen) return errc::unsupported_suite;

        // Draw order (fixed, test vectors depend on it): server_random, then the X25519 secret.
        Secrets& s = block.get();
        Random server_random{};
        rng.fill(server_random);
        rng.fill(s.ephemeral);
        const crypto::X25519Public server_share = crypto::x25519_public(s.ephemeral);
        Status dh = crypto::x25519(s.shared, s.ephemeral, share->data.first<x25519_share_size>());
        crypto::wipe(s.ephemeral);
        if (!dh) return dh;

        transcript.absorb(frame.whole);
        in.consume(frame);  // frame views stay valid: consume only moves the read position
        ServerHello sh;
        sh.version = protocol_version_1;
        sh.suite = static_cast<std::uint16_t>(*chosen);
        sh.random = server_random;
        sh.share = server_share;
        out = write_server_hello(sh);
        transcript.absorb(out);
        derive_handshake_secrets(s, transcript.digest());

        const std::vector<std::byte> plain =
            build_auth(s, transcript, Role::server, {}, identity_blob, banner, host_key);
        const std::vector<std::byte> auth = seal_message(MsgType::server_auth, s.server_key, 0, plain);
        out.insert(out.end(), auth.begin(), auth.end());
        auth_sent = true;
        suite_ = *chosen;
        state = ExpectClientAuth{};
        return {};
    }

    // client_password (PROTOCOL.md 4.8): the account, then KE1 (its elements checked) before the caller
    // is asked for the record. The transcript's checkpoint H_pw_context is taken after the account.
    Status on_client_password(const Frame& frame) {
        Secrets& s = block.get();
        Result<std::vector<std::byte>> plain = open_message(frame, s.client_key, 0);
        if (!plain) return Failure{plain.error()};
        Result<ClientPassword> msg = parse_client_password(*plain);
        if (!msg) return Failure{msg.error()};
        Result<opaque::KE1> ke1 = opaque::parse_ke1(msg->ke1);
        if (!ke1) return ke1.error() == errc::weak_public_key ? Status(Failure{ke1.error()}) : Status(errc::malformed);
        transcript.absorb(wire::Bytes(*plain).first(msg->account_end));
        AwaitPasswordRecord next{std::string(msg->account), *ke1, transcript.digest()};
        transcript.absorb(msg->ke1);
        in.consume(frame);
        state = std::move(next);
        // Password mode off: the generic denial, without server_password (10.10).
        if (password_keys == nullptr) return fail(make_error_code(errc::auth_denied), "password authentication is off");
        return {};
    }

    // server_password for a record (real or fake): KE2 with the same code either way.
    Status answer_password(const opaque::RegistrationRecord& record, PasswordKsf ksf) {
        auto& await = std::get<AwaitPasswordRecord>(state);
        Result<opaque::ServerKeys> keys =
            opaque::server_keys(password_keys->oprf_seed.span(), password_keys->private_key.span());
        if (!keys) return fail(make_error_code(errc::invalid_argument), "bad OPAQUE server keys");
        wire::Writer ctx(opaque_context_label.size() + 1 + hash_size);
        ctx.bytes(opaque_context_label).u8(0).bytes(await.pw_context);
        const opaque::Identities ids{wire::as_bytes(await.account), {}};
        const opaque::ServerLoginRandom random = opaque::server_login_random(rng);
        Result<opaque::ServerInitResult> init =
            opaque::server_init(*keys, record, wire::as_bytes(await.account), await.ke1, ids, ctx.view(), random);
        if (!init) return fail(init.error());
        const std::array<std::byte, opaque::ke2_size> ke2 = opaque::encode(init->ke2);
        const std::vector<std::byte> plain = write_server_password(static_cast<std::uint32_t>(ksf.opslimit), static_cast<std::uint32_t>(ksf.memlimit_kib), ke2);
        transcript.absorb(plain);
        const std::vector<std::byte> msg = seal_message(MsgType::server_password, block.get().server_key, 1, plain);
        out.insert(out.end(), msg.begin(), msg.end());
        verdict_seq = 2;
        state = ExpectPasswordFinish{std::move(await.account), std::move(init->state)};
        return pump();
    }

    Status provide_password_record(std::span<const std::byte> record, PasswordKsf ksf) {
        if (!std::holds_alternative<AwaitPasswordRecord>(state)) return errc::bad_state;
        Result<opaque::RegistrationRecord> rec = opaque::parse_registration_record(record);
        if (!rec || !valid_password_ksf(ksf) ||
            !password_ksf_acceptable(static_cast<std::uint32_t>(ksf.opslimit), static_cast<std::uint32_t>(ksf.memlimit_kib))) {
            return fail(make_error_code(errc::invalid_argument), "unusable password record");
        }
        return answer_password(*rec, ksf);
    }

    Status no_password_record() {
        if (!std::holds_alternative<AwaitPasswordRecord>(state)) return errc::bad_state;
        // RFC 9807 6.3.2.2's fake record. It is drawn here, per attempt; see PROTOCOL.md 10.x on what
        // that leaves distinguishable.
        const opaque::RegistrationRecord fake = opaque::fake_record(rng);
        return answer_password(fake, password_default_ksf);
    }

    // client_password_finish: KE3 (the password's proof), then the client's Finished.
    Status on_client_password_finish(const Frame& frame) {
        Secrets& s = block.get();
        Result<std::vector<std::byte>> plain = open_message(frame, s.client_key, 1);
        if (!plain) return Failure{plain.error()};
        Result<ClientPasswordFinish> msg = parse_client_password_finish(*plain);
        if (!msg) return Failure{msg.error()};
        Result<opaque::KE3> ke3 = opaque::parse_ke3(msg->ke3);
        if (!ke3) return errc::malformed;
        auto& st = std::get<ExpectPasswordFinish>(state);
        Result<SecretBytes<opaque::Nx>> session_key = opaque::server_finish(st.login, *ke3);
        if (!session_key) return Failure{session_key.error()};
        Transcript t = transcript;
        t.absorb(msg->ke3);
        const std::array<std::byte, 64> expected = finished_mac(s, Role::client, t.digest());
        if (!crypto::ct_equal(expected, msg->finished)) return errc::bad_finished;
        t.absorb(msg->finished);

        transcript = t;
        in.consume(frame);
        set_password_master(s, session_key->span());
        HandshakeResult r;
        r.suite = suite_;
        r.account = std::move(st.account);
        r.client_accepts_host_keys = client_host_keys;
        r.password = true;
        derive_application_secrets(s, transcript.digest(), r.recv_secret.span(), r.send_secret.span(), r.session_id);
        state = AwaitClientVerdict{std::nullopt, std::move(r)};
        return {};
    }

    Status on_client_auth(const Frame& frame) {
        Secrets& s = block.get();
        Result<std::vector<std::byte>> plain = open_message(frame, s.client_key, attempts);
        if (!plain) return Failure{plain.error()};
        Result<AuthMessage> msg = parse_auth(*plain, Role::client);
        if (!msg) return Failure{msg.error()};
        Transcript t = transcript;
        Result<VerifiedPeer> client = verify_auth(s, t, Role::client, *plain, *msg);
        if (!client) return Failure{client.error()};
        // A retry is for another identity, not another account (sshd refuses a change of user too).
        if (attempts > 0 && msg->account != first_account) {
            return fail(make_error_code(errc::unexpected_message), "a retried client_auth named another account");
        }
        if (attempts == 0) first_account = std::string(msg->account);
        ++attempts;

        transcript = t;
        in.consume(frame);
        HandshakeResult r;
        r.suite = suite_;
        r.peer = client->key();
        r.account = std::string(msg->account);
        r.client_accepts_host_keys = client_host_keys;
        // Another client_auth may follow a denial (4.1.3): keep what opening and checking it needs.
        derive_application_secrets(s, transcript.digest(), r.recv_secret.span(), r.send_secret.span(), r.session_id,
                                   retry_allowed());
        state = AwaitClientVerdict{*client, std::move(r)};
        return {};
    }

    // Whether a deny() now answers "retry" (4.1.3, 7.2 step 3r).
    bool retry_allowed() const { return client_auth_retry && !client_password && attempts < max_auth_tries; }

    Status authorize() {
        auto* await = std::get_if<AwaitClientVerdict>(&state);
        if (await == nullptr) return errc::bad_state;
        wipe_retry_secrets(block.get());
        const std::byte accepted{static_cast<std::uint8_t>(Verdict::accepted)};
        const std::vector<std::byte> msg =
            seal_message(MsgType::server_verdict, block.get().server_key, verdict_seq, std::span(&accepted, 1));
        out.insert(out.end(), msg.begin(), msg.end());

        HandshakeResult r = std::move(await->pending);
        detail::HandshakeResultAccess::set_exporter(r, std::move(block).release_exporter());
        r.leftover = in.take_rest();
        state = Complete{std::move(r)};
        return {};
    }

    Suite suite_ = Suite::x25519_ed25519_chacha20poly1305;
};

// Which message each state expects, and the handler that takes it; the other states expect none. Out of
// line, so that libtwoway's exported symbols stay as they are: Impl takes the class's visibility, and an
// inline member's function-local table would be exported too.
Status ServerHandshake::Impl::pump() {
    static constexpr std::array<Receive<Impl>, 2> key_mode{
        expect<ExpectClientHello>(MsgType::client_hello, &Impl::on_client_hello),
        expect<ExpectClientAuth>(MsgType::client_auth, &Impl::on_client_auth),
    };
    // A client that sent the password extension answers server_auth with client_password instead.
    static constexpr std::array<Receive<Impl>, 3> password_mode{
        expect<ExpectClientHello>(MsgType::client_hello, &Impl::on_client_hello),
        expect<ExpectClientAuth>(MsgType::client_password, &Impl::on_client_password),
        expect<ExpectPasswordFinish>(MsgType::client_password_finish, &Impl::on_client_password_finish),
    };
    return client_password ? handshake::pump(*this, password_mode) : handshake::pump(*this, key_mode);
}

ServerHandshake::ServerHandshake(const ServerConfig& config, Rng& rng) : impl_(std::make_unique<Impl>(config, rng)) {}
ServerHandshake::~ServerHandshake() = default;
ServerHandshake::ServerHandshake(ServerHandshake&&) noexcept = default;
ServerHandshake& ServerHandshake::operator=(ServerHandshake&&) noexcept = default;

Status ServerHandshake::feed(std::span<const std::byte> bytes) {
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

Status ServerHandshake::end_of_input() {
    Impl& m = *impl_;
    if (std::holds_alternative<Complete>(m.state) || std::holds_alternative<Failed>(m.state)) return m.status();
    return m.fail(make_error_code(errc::truncated));
}

std::vector<std::byte> ServerHandshake::take_output() { return std::exchange(impl_->out, {}); }

ServerEvent ServerHandshake::event() const {
    const Impl& m = *impl_;
    if (const auto* f = std::get_if<Failed>(&m.state)) return HandshakeFailed{f->error};
    if (const auto* a = std::get_if<AwaitClientVerdict>(&m.state)) {
        if (!a->client) return NeedClientVerdict{a->pending.account, PublicKey{}, std::nullopt, true, 1};
        return NeedClientVerdict{a->pending.account, a->client->key(), a->client->certificate(), false, m.attempts,
                                 m.retry_allowed()};
    }
    if (const auto* p = std::get_if<AwaitPasswordRecord>(&m.state)) return NeedPasswordRecord{p->account};
    if (std::holds_alternative<Complete>(m.state)) return HandshakeComplete{};
    return WantInput{};
}

bool ServerHandshake::complete() const noexcept { return std::holds_alternative<Complete>(impl_->state); }

std::error_code ServerHandshake::error() const noexcept {
    const auto* f = std::get_if<Failed>(&impl_->state);
    return f != nullptr ? f->error : std::error_code{};
}

Status ServerHandshake::authorize() { return impl_->authorize(); }

Status ServerHandshake::deny(std::string reason) {
    Impl& m = *impl_;
    if (!std::holds_alternative<AwaitClientVerdict>(m.state) && !std::holds_alternative<AwaitPasswordRecord>(m.state)) {
        return errc::bad_state;
    }
    if (reason.empty()) reason = "denied";
    const auto* await = std::get_if<AwaitClientVerdict>(&m.state);
    if (await != nullptr && await->client && m.retry_allowed()) {
        // "retry" (4.5): the client may offer another identity; the transcript keeps this client_auth.
        const std::byte retry{static_cast<std::uint8_t>(Verdict::retry)};
        const std::vector<std::byte> msg =
            seal_message(MsgType::server_verdict, m.block.get().server_key, m.verdict_seq, std::span(&retry, 1));
        m.out.insert(m.out.end(), msg.begin(), msg.end());
        ++m.verdict_seq;
        m.denial_reason = std::move(reason);
        m.state = ExpectClientAuth{};
        static_cast<void>(m.pump());  // a client_auth already here is read now; its failure is the state's
        return {};
    }
    static_cast<void>(m.fail(make_error_code(errc::auth_denied), std::move(reason)));
    return {};
}

Status ServerHandshake::provide_password_record(std::span<const std::byte> record, PasswordKsf ksf) {
    return impl_->provide_password_record(record, ksf);
}

Status ServerHandshake::no_password_record() {
    return impl_->no_password_record();
}

const std::string& ServerHandshake::denial_reason() const noexcept { return impl_->denial_reason; }

Result<HandshakeResult> ServerHandshake::take_result() {
    auto* c = std::get_if<Complete>(&impl_->state);
    if (c == nullptr || !c->result) return errc::bad_state;
    HandshakeResult r = std::move(*c->result);
    c->result.reset();
    return r;
}

}  // namespace twoway
