// Password mode (PROTOCOL.md 4.8): the three messages' parsers, and whole handshakes in memory with an
// OPAQUE record registered here (identities: client = the account, server = empty; credential
// identifier = the account).
#include <cstring>

#include "handshake/messages.hpp"
#include "opaque/opaque.hpp"
#include "support.hpp"

using namespace twoway;
using namespace twoway::handshake_test;

namespace {

constexpr PasswordKsf test_ksf{1, 8};  // libsodium's minimums: the tests are about the protocol

wire::Bytes text(std::string_view s) { return wire::as_bytes(s); }

struct PasswordSetup {
    PasswordServerKeys keys;
    ByteVec record;
};

PasswordSetup register_password(std::string_view account, std::string_view password, std::uint64_t seed) {
    DeterministicRng rng(seed);
    opaque::ServerKeys sk = opaque::generate_server_keys(rng);
    PasswordSetup out{{sk.oprf_seed.clone(), sk.private_key.clone()}, {}};
    auto start = opaque::create_registration_request(text(password), opaque::random_scalar(rng));
    REQUIRE(start);
    auto resp = opaque::create_registration_response(start->request, sk, text(account));
    REQUIRE(resp);
    opaque::Nonce n{};
    rng.fill(n);
    auto fin = opaque::finalize_registration_request(start->state, *resp, opaque::Identities{text(account), {}},
                                                     opaque::argon2id_ksf({test_ksf.opslimit, test_ksf.memlimit_kib * 1024ULL}), n);
    REQUIRE(fin);
    const auto rec = opaque::encode(fin->record);
    out.record.assign(rec.begin(), rec.end());
    return out;
}

struct PasswordPeers {
    Endpoints e = make_endpoints(7);
    PasswordSetup setup = register_password("alice", "correct horse", 99);
    DeterministicRng crng{1};
    DeterministicRng srng{2};
    ServerConfig server_config() const {
        ServerConfig sc{.host_key = e.server_key};
        sc.password_keys = &setup.keys;
        sc.password_default_ksf = test_ksf;
        return sc;
    }
    static ClientConfig client_config(std::string account = "alice") {
        ClientConfig cc{.account = std::move(account)};
        cc.password = true;
        return cc;
    }
};

// Client and server up to the client's verdict on server_auth.
void to_server_verdict(ClientHandshake& c, ServerHandshake& s) {
    REQUIRE(s.feed(c.take_output()));
    REQUIRE(c.feed(s.take_output()));
    const ClientEvent ev = c.event();
    const auto* v = std::get_if<NeedServerVerdict>(&ev);
    REQUIRE(v != nullptr);
    REQUIRE(v->password_mode);
}

}  // namespace

TEST_CASE("password messages parse exactly their layout", "[handshake]") {
    using namespace twoway::handshake;
    const ByteVec ke1(ke1_wire_size, std::byte{0x11});
    const ByteVec cp = write_client_password("alice", ke1);
    REQUIRE(cp.size() == 4 + 5 + 96);
    auto p = parse_client_password(cp);
    REQUIRE(p);
    CHECK(p->account == "alice");
    CHECK(p->account_end == 9);
    CHECK(ByteVec(p->ke1.begin(), p->ke1.end()) == ke1);
    ByteVec longer = cp;
    longer.push_back(std::byte{0});
    CHECK(parse_client_password(longer).error() == errc::malformed);
    CHECK(parse_client_password(wire::Bytes(cp).first(cp.size() - 1)).error() == errc::malformed);
    CHECK(parse_client_password(write_client_password("", ke1)).error() == errc::malformed);
    CHECK(parse_client_password(write_client_password("a\nb", ke1)).error() == errc::malformed);

    const ByteVec ke2(ke2_wire_size, std::byte{0x22});
    const ByteVec sp = write_server_password(3, 65536, ke2);
    REQUIRE(sp.size() == 9 + 320);
    CHECK(sp[0] == std::byte{0x01});
    auto q = parse_server_password(sp);
    REQUIRE(q);
    CHECK(q->ops == 3);
    CHECK(q->mem_kib == 65536);
    CHECK(parse_server_password(wire::Bytes(sp).first(sp.size() - 1)).error() == errc::malformed);
    ByteVec other_ksf = sp;
    other_ksf[0] = std::byte{0x02};
    CHECK(parse_server_password(other_ksf).error() == errc::malformed);

    ByteVec f(128, std::byte{0x33});
    CHECK(parse_client_password_finish(f));
    f.pop_back();
    CHECK(parse_client_password_finish(f).error() == errc::malformed);
}

TEST_CASE("password mode: the client refuses KSF parameters beyond its limits", "[handshake]") {
    using namespace twoway::handshake;
    const ByteVec ke2(ke2_wire_size, std::byte{0});
    CHECK(parse_server_password(write_server_password(16, 1U << 20, ke2)));  // the limits themselves
    CHECK(parse_server_password(write_server_password(1, 8, ke2)));          // libsodium's minimums
    CHECK(parse_server_password(write_server_password(17, 8, ke2)).error() == errc::malformed);
    CHECK(parse_server_password(write_server_password(1, (1U << 20) + 1, ke2)).error() == errc::malformed);
    CHECK(parse_server_password(write_server_password(0, 8, ke2)).error() == errc::malformed);
    CHECK(parse_server_password(write_server_password(1, 7, ke2)).error() == errc::malformed);
    CHECK(parse_server_password(write_server_password(0xffffffff, 0xffffffff, ke2)).error() == errc::malformed);
}

TEST_CASE("password mode: a whole handshake", "[handshake]") {
    PasswordPeers p;
    const bool deferred = GENERATE(false, true);
    ClientHandshake c(PasswordPeers::client_config(), p.crng);
    ServerHandshake s(p.server_config(), p.srng);
    to_server_verdict(c, s);
    // Key mode's answer is not password mode's.
    CHECK(c.accept_server().error() == errc::bad_state);
    const auto pw = text("correct horse");
    REQUIRE((deferred ? c.defer_server_to_password(pw) : c.accept_server_with_password(pw)));
    const ByteVec m3 = c.take_output();
    REQUIRE(m3.size() == 4 + 4 + 5 + 96 + 16);
    CHECK(m3[0] == std::byte{6});
    REQUIRE(s.feed(m3));
    const ServerEvent ev4 = s.event();
    const auto* rec = std::get_if<NeedPasswordRecord>(&ev4);
    REQUIRE(rec != nullptr);
    CHECK(rec->account == "alice");
    REQUIRE(s.provide_password_record(p.setup.record, test_ksf));
    const ByteVec m4 = s.take_output();
    REQUIRE(m4.size() == 4 + 9 + 320 + 16);
    CHECK(m4[0] == std::byte{7});
    REQUIRE(c.feed(m4));
    const ByteVec m5 = c.take_output();
    REQUIRE(m5.size() == 4 + 128 + 16);
    CHECK(m5[0] == std::byte{8});
    REQUIRE(c.early_data_ready());
    REQUIRE(s.feed(m5));
    const ServerEvent ev5 = s.event();
    const auto* v = std::get_if<NeedClientVerdict>(&ev5);
    REQUIRE(v != nullptr);
    CHECK(v->password);
    CHECK(v->account == "alice");
    CHECK(v->client_key == PublicKey{});
    REQUIRE(s.authorize());
    REQUIRE(c.feed(s.take_output()));
    REQUIRE(c.complete());
    auto cr = c.take_result();
    auto sr = s.take_result();
    REQUIRE(cr);
    REQUIRE(sr);
    CHECK(cr->password);
    CHECK(sr->password);
    CHECK(cr->host_proven_by_password == deferred);
    CHECK_FALSE(sr->host_proven_by_password);
    CHECK(cr->peer == p.e.server_key.public_key());
    CHECK(sr->account == "alice");
    CHECK(cr->session_id == sr->session_id);
    CHECK(std::memcmp(cr->send_secret.data(), sr->recv_secret.data(), 64) == 0);
    CHECK(std::memcmp(cr->recv_secret.data(), sr->send_secret.data(), 64) == 0);
    auto xc = cr->exporter("test", {}, 32);
    auto xs = sr->exporter("test", {}, 32);
    REQUIRE(xc);
    REQUIRE(xs);
    CHECK(std::memcmp(xc->data(), xs->data(), 32) == 0);
}

TEST_CASE("password mode: a wrong password or an unknown account fails alike at the client", "[handshake]") {
    PasswordPeers p;
    const bool unknown = GENERATE(false, true);
    const bool deferred = GENERATE(false, true);
    ClientHandshake c(PasswordPeers::client_config(unknown ? "bob" : "alice"), p.crng);
    ServerHandshake s(p.server_config(), p.srng);
    to_server_verdict(c, s);
    const auto pw = text(unknown ? "correct horse" : "wrong horse");
    REQUIRE((deferred ? c.defer_server_to_password(pw) : c.accept_server_with_password(pw)));
    REQUIRE(s.feed(c.take_output()));
    REQUIRE(std::holds_alternative<NeedPasswordRecord>(s.event()));
    REQUIRE((unknown ? s.no_password_record() : s.provide_password_record(p.setup.record, test_ksf)));
    const ByteVec m4 = s.take_output();
    REQUIRE(m4.size() == 4 + 9 + 320 + 16);  // a fake response is as long as a real one
    CHECK(c.feed(m4).error() == errc::auth_denied);
    CHECK(c.error() == errc::auth_denied);
    CHECK(c.take_output().empty());  // nothing more goes out
    CHECK_FALSE(c.early_data_ready());
    CHECK(c.take_result().error() == errc::bad_state);
    // The server sees the connection end after server_password, and answers with its generic denial.
    CHECK(s.end_of_input().error() == errc::truncated);
    CHECK(split_messages(s.take_output()).size() == 1);
}

TEST_CASE("password mode: the server without password mode refuses, and the client says auth_denied",
          "[handshake]") {
    PasswordPeers p;
    const bool by_caller = GENERATE(false, true);
    ClientHandshake c(PasswordPeers::client_config(), p.crng);
    ServerConfig sc = p.server_config();
    if (!by_caller) sc.password_keys = nullptr;
    ServerHandshake s(sc, p.srng);
    to_server_verdict(c, s);
    REQUIRE(c.accept_server_with_password(text("correct horse")));
    const Status fed = s.feed(c.take_output());
    if (by_caller) {
        REQUIRE(std::holds_alternative<NeedPasswordRecord>(s.event()));
        REQUIRE(s.deny("no passwords here"));
    } else {
        CHECK(fed.error() == errc::auth_denied);
    }
    CHECK(s.error() == errc::auth_denied);
    const ByteVec denial = s.take_output();
    CHECK(denial.size() == 4 + 1 + 16);
    CHECK(c.feed(denial).error() == errc::auth_denied);
}

TEST_CASE("password mode: tampered messages are refused", "[handshake]") {
    PasswordPeers p;
    const int which = GENERATE(3, 4, 5);
    ClientHandshake c(PasswordPeers::client_config(), p.crng);
    ServerHandshake s(p.server_config(), p.srng);
    to_server_verdict(c, s);
    REQUIRE(c.accept_server_with_password(text("correct horse")));
    ByteVec m3 = c.take_output();
    if (which == 3) {
        m3[20] ^= std::byte{1};
        CHECK(s.feed(m3).error() == errc::decrypt_failed);
        CHECK(split_messages(s.take_output()).size() == 1);  // the generic denial
        return;
    }
    REQUIRE(s.feed(m3));
    REQUIRE(s.provide_password_record(p.setup.record, test_ksf));
    ByteVec m4 = s.take_output();
    if (which == 4) {
        m4[100] ^= std::byte{1};
        CHECK(c.feed(m4).error() == errc::decrypt_failed);
        CHECK(c.take_output().empty());
        return;
    }
    REQUIRE(c.feed(m4));
    ByteVec m5 = c.take_output();
    m5[50] ^= std::byte{1};
    CHECK(s.feed(m5).error() == errc::decrypt_failed);
    CHECK_FALSE(std::holds_alternative<NeedClientVerdict>(s.event()));
}

TEST_CASE("password mode: the server refuses a record with parameters beyond the limits", "[handshake]") {
    PasswordPeers p;
    ClientHandshake c(PasswordPeers::client_config(), p.crng);
    ServerHandshake s(p.server_config(), p.srng);
    to_server_verdict(c, s);
    REQUIRE(c.accept_server_with_password(text("correct horse")));
    REQUIRE(s.feed(c.take_output()));
    CHECK(s.provide_password_record(p.setup.record, PasswordKsf{17, 8}).error() == errc::invalid_argument);
    CHECK(s.error() == errc::invalid_argument);
}

TEST_CASE("password mode: the configuration", "[handshake]") {
    DeterministicRng rng(5);
    // Key mode needs an identity.
    ClientHandshake no_identity(ClientConfig{.account = "alice"}, rng);
    CHECK(no_identity.error() == errc::invalid_argument);
    // Password mode sends the extension, and its verdict is not key mode's.
    ClientHandshake c(PasswordPeers::client_config(), rng);
    const ByteVec hello = c.take_output();
    auto parsed = handshake::parse_client_hello(wire::Bytes(hello).subspan(4));
    REQUIRE(parsed);
    CHECK(std::any_of(parsed->extensions.begin(), parsed->extensions.end(),
                      [](const handshake::Extension& e) { return e.type == 0x0004 && e.data.empty(); }));
    CHECK(c.accept_server_with_password(text("x")).error() == errc::bad_state);
}
