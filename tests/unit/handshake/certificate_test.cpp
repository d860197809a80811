// Certificates as identities (PROTOCOL.md 4.7) and the server's banner (4.3): both roles presenting
// OpenSSH certificates, the checks the handshake makes on a peer's certificate (its CA signature, its
// type for the role, the signature by the certified key), the configurations it refuses, and the banner
// carried to the client's verdict, bounded on both sides.
#include <catch2/catch.hpp>

#include <twoway/certificate.hpp>
#include <twoway/handshake.hpp>
#include <twoway/trust.hpp>

#include "reference.hpp"
#include "support.hpp"

namespace twoway::handshake_test {

namespace {

struct Pki {
    DeterministicRng rng{314};
    PrivateKey ca = PrivateKey::generate(rng);
    PrivateKey other_ca = PrivateKey::generate(rng);

    Certificate certify(const PublicKey& key, CertificateType type, const PrivateKey& by) {
        CertificateFields f;
        f.key = key;
        f.type = type;
        f.key_id = type == CertificateType::host ? "host key" : "alice's key";
        f.principals = {type == CertificateType::host ? "server.example" : "alice"};
        f.serial = 7;
        auto c = sign_certificate(std::move(f), by, rng);
        REQUIRE(c);
        return *c;
    }
    Certificate certify(const PublicKey& key, CertificateType type) { return certify(key, type, ca); }
};

// The blob with one byte of the CA's signature (its last byte) flipped.
ByteVec flip_ca_signature(ByteVec blob) {
    blob.back() ^= std::byte{0x01};
    return blob;
}

// Drives a client against a server until the client asks its verdict (or fails).
void to_client_verdict(ClientHandshake& c, ServerHandshake& s) {
    REQUIRE(s.feed(c.take_output()));
    static_cast<void>(c.feed(s.take_output()));
}

}  // namespace

TEST_CASE("both roles present certificates: the verdicts see them, the certified keys are the peers",
          "[handshake][certificate]") {
    const Endpoints e = make_endpoints(41);
    Pki pki;
    ClientConfig cc{.identity = e.client_key, .account = e.account};
    cc.certificate = pki.certify(e.client_key.public_key(), CertificateType::user);
    ServerConfig sc{.host_key = e.server_key};
    sc.host_certificate = pki.certify(e.server_key.public_key(), CertificateType::host);
    DeterministicRng rc(1), rs(2);
    ClientHandshake client(cc, rc);
    ServerHandshake server(sc, rs);

    to_client_verdict(client, server);
    const ClientEvent ce = client.event();
    const auto* sv = std::get_if<NeedServerVerdict>(&ce);
    REQUIRE(sv != nullptr);
    REQUIRE(sv->server_key == e.server_key.public_key());
    REQUIRE(sv->server_certificate);
    CHECK(sv->server_certificate->blob == sc.host_certificate->blob);
    CHECK(sv->server_certificate->type == CertificateType::host);
    CHECK(sv->server_certificate->signature_key == pki.ca.public_key());
    CHECK(sv->banner.empty());
    // The trust decision is the caller's: the certificate fits its use by the library's own check.
    CertificateUse use;
    use.role = CertificateType::host;
    use.principals = {"server.example"};
    use.now = 1'700'000'000;
    CHECK(check_certificate_use(*sv->server_certificate, use).allowed);

    REQUIRE(client.accept_server());
    REQUIRE(server.feed(client.take_output()));
    const ServerEvent se = server.event();
    const auto* cv = std::get_if<NeedClientVerdict>(&se);
    REQUIRE(cv != nullptr);
    REQUIRE(cv->client_key == e.client_key.public_key());
    REQUIRE(cv->client_certificate);
    CHECK(cv->client_certificate->blob == cc.certificate->blob);
    CHECK(cv->client_certificate->key_id == "alice's key");
    REQUIRE(server.authorize());
    REQUIRE(client.feed(server.take_output()));
    REQUIRE(client.complete());
    auto cr = client.take_result();
    auto sr = server.take_result();
    REQUIRE(cr);
    REQUIRE(sr);
    CHECK(cr->peer == e.server_key.public_key());
    CHECK(sr->peer == e.client_key.public_key());
    CHECK(cr->session_id == sr->session_id);
}

TEST_CASE("plain identities still give no certificate to the verdicts", "[handshake][certificate]") {
    const Endpoints e = make_endpoints(42);
    DeterministicRng rc(3), rs(4);
    ClientHandshake client({.identity = e.client_key, .account = e.account}, rc);
    ServerHandshake server({.host_key = e.server_key}, rs);
    to_client_verdict(client, server);
    const ClientEvent ce = client.event();
    REQUIRE(std::holds_alternative<NeedServerVerdict>(ce));
    CHECK_FALSE(std::get<NeedServerVerdict>(ce).server_certificate);
    REQUIRE(client.accept_server());
    REQUIRE(server.feed(client.take_output()));
    const ServerEvent se = server.event();
    REQUIRE(std::holds_alternative<NeedClientVerdict>(se));
    CHECK_FALSE(std::get<NeedClientVerdict>(se).client_certificate);
}

TEST_CASE("a handshake configured with a certificate it cannot present starts failed", "[handshake][certificate]") {
    const Endpoints e = make_endpoints(43);
    Pki pki;
    DeterministicRng rng(5);
    auto client_with = [&](const Certificate& cert) {
        ClientConfig cc{.identity = e.client_key, .account = e.account};
        cc.certificate = cert;
        ClientHandshake c(cc, rng);
        if (c.error()) CHECK(c.take_output().empty());  // refused: no client_hello
        return c.error();
    };
    auto server_with = [&](const Certificate& cert) {
        ServerConfig sc{.host_key = e.server_key};
        sc.host_certificate = cert;
        ServerHandshake s(sc, rng);
        return s.error();
    };
    SECTION("a certificate for another key") {
        CHECK(client_with(pki.certify(e.server_key.public_key(), CertificateType::user)) == errc::invalid_argument);
        CHECK(server_with(pki.certify(e.client_key.public_key(), CertificateType::host)) == errc::invalid_argument);
    }
    SECTION("a certificate of the other role's type") {
        CHECK(client_with(pki.certify(e.client_key.public_key(), CertificateType::host)) == errc::invalid_argument);
        CHECK(server_with(pki.certify(e.server_key.public_key(), CertificateType::user)) == errc::invalid_argument);
    }
    SECTION("a blob whose CA signature no longer verifies (one byte flipped)") {
        Certificate user = pki.certify(e.client_key.public_key(), CertificateType::user);
        user.blob = flip_ca_signature(user.blob);
        CHECK(client_with(user) == errc::invalid_argument);
        Certificate host = pki.certify(e.server_key.public_key(), CertificateType::host);
        host.blob = flip_ca_signature(host.blob);
        CHECK(server_with(host) == errc::invalid_argument);
    }
    SECTION("fields changed after signing do not count: the blob is what is judged and sent") {
        Certificate user = pki.certify(e.client_key.public_key(), CertificateType::user);
        user.key = e.server_key.public_key();  // the struct lies; the blob still certifies the client key
        CHECK_FALSE(client_with(user));
    }
}

TEST_CASE("the client refuses a server certificate that is bad, of the wrong type or not the signer's",
          "[handshake][certificate]") {
    const Endpoints e = make_endpoints(44);
    Pki pki;
    auto client_outcome = [&](const AuthOverrides& o) {
        DeterministicRng rc(6);
        ClientHandshake client({.identity = e.client_key, .account = e.account}, rc);
        ReferenceServer ref(e.server_key, 77);
        static_cast<void>(client.feed(ref.build(client.take_output(), o)));
        CHECK(client.take_output().empty());  // nothing about the client leaves
        return client.error();
    };
    SECTION("the reference server's certificate is accepted") {
        AuthOverrides o;
        o.identity = pki.certify(e.server_key.public_key(), CertificateType::host).blob;
        CHECK_FALSE(client_outcome(o));
    }
    SECTION("one flipped byte of the CA's signature: bad_signature") {
        AuthOverrides o;
        o.identity = flip_ca_signature(pki.certify(e.server_key.public_key(), CertificateType::host).blob);
        CHECK(client_outcome(o) == errc::bad_signature);
    }
    SECTION("a user certificate as a server's identity: wrong_certificate_type") {
        AuthOverrides o;
        o.identity = pki.certify(e.server_key.public_key(), CertificateType::user).blob;
        CHECK(client_outcome(o) == errc::wrong_certificate_type);
    }
    SECTION("a valid host certificate for another key than the one that signs: bad_signature") {
        AuthOverrides o;
        o.identity = pki.certify(e.client_key.public_key(), CertificateType::host).blob;
        CHECK(client_outcome(o) == errc::bad_signature);
    }
    SECTION("a certificate cut short: malformed") {
        ByteVec blob = pki.certify(e.server_key.public_key(), CertificateType::host).blob;
        blob.resize(blob.size() - 10);
        AuthOverrides o;
        o.identity = blob;
        CHECK(client_outcome(o) == errc::malformed);
    }
    SECTION("a certificate whose CA key is itself a certificate: unsupported_key_type") {
        // The CA key field is the only thing rewritten; the signature check is never reached.
        const Certificate host = pki.certify(e.server_key.public_key(), CertificateType::host);
        const Certificate chained = pki.certify(pki.ca.public_key(), CertificateType::host, pki.other_ca);
        wire::Reader r(host.blob);
        wire::Writer w;
        w.string(r.string(64)).string(r.string(64)).string(r.string(64));
        w.u64(r.u64()).u32(r.u32()).string(r.string(1024)).string(r.string(1024)).u64(r.u64()).u64(r.u64());
        w.string(r.string(1024)).string(r.string(1024)).string(r.string(1024));
        static_cast<void>(r.string(1024));
        w.string(chained.blob).string(r.string(1024));
        REQUIRE(r.expect_end());
        AuthOverrides o;
        o.identity = w.take();
        CHECK(client_outcome(o) == errc::unsupported_key_type);
    }
}

TEST_CASE("the server refuses a client certificate that is bad or of the wrong type, with the generic denial",
          "[handshake][certificate]") {
    const Endpoints e = make_endpoints(45);
    Pki pki;
    auto server_outcome = [&](const AuthOverrides& o) {
        DeterministicRng rs(8);
        ServerHandshake server({.host_key = e.server_key}, rs);
        ReferenceClient ref(e.client_key, 88);
        REQUIRE(server.feed(ref.hello()));
        const ByteVec m3 = ref.auth(server.take_output(), e.account, o);
        static_cast<void>(server.feed(m3));
        if (server.error()) {
            const ByteVec denial = server.take_output();
            const auto plain = ref.open_verdict(denial);
            REQUIRE(plain);
            CHECK(*plain == ByteVec{std::byte{1}});  // the one generic denial
        }
        return server.error();
    };
    SECTION("a user certificate is accepted and reaches the verdict") {
        AuthOverrides o;
        o.identity = pki.certify(e.client_key.public_key(), CertificateType::user).blob;
        CHECK_FALSE(server_outcome(o));
    }
    SECTION("one flipped byte of the CA's signature: bad_signature") {
        AuthOverrides o;
        o.identity = flip_ca_signature(pki.certify(e.client_key.public_key(), CertificateType::user).blob);
        CHECK(server_outcome(o) == errc::bad_signature);
    }
    SECTION("a host certificate as a client's identity: wrong_certificate_type") {
        AuthOverrides o;
        o.identity = pki.certify(e.client_key.public_key(), CertificateType::host).blob;
        CHECK(server_outcome(o) == errc::wrong_certificate_type);
    }
    SECTION("a user certificate for a key the client cannot sign with: bad_signature") {
        AuthOverrides o;
        o.identity = pki.certify(e.server_key.public_key(), CertificateType::user).blob;
        CHECK(server_outcome(o) == errc::bad_signature);
    }
}

TEST_CASE("the banner travels to the client's verdict, signed, and is bounded on both sides", "[handshake][banner]") {
    const Endpoints e = make_endpoints(46);
    auto banner_seen = [&](const std::string& banner) -> std::optional<std::string> {
        ServerConfig sc{.host_key = e.server_key};
        sc.banner = banner;
        DeterministicRng rc(9), rs(10);
        ClientHandshake client({.identity = e.client_key, .account = e.account}, rc);
        ServerHandshake server(sc, rs);
        if (server.error()) return std::nullopt;
        to_client_verdict(client, server);
        const ClientEvent ce = client.event();
        REQUIRE(std::holds_alternative<NeedServerVerdict>(ce));
        return std::get<NeedServerVerdict>(ce).banner;
    };
    SECTION("any bytes, exactly as sent (escaping is the printer's job)") {
        const std::string hostile = std::string("Authorized use only.\r\n\x1b]0;owned\x07\x1b[2J\0end\n", 41);
        CHECK(banner_seen(hostile) == hostile);
        CHECK(banner_seen("") == std::string());
    }
    SECTION("max_banner_size bytes pass; one more starts the server failed") {
        CHECK(banner_seen(std::string(max_banner_size, 'x')) == std::string(max_banner_size, 'x'));
        ServerConfig sc{.host_key = e.server_key};
        sc.banner = std::string(max_banner_size + 1, 'x');
        DeterministicRng rs(11);
        ServerHandshake server(sc, rs);
        CHECK(server.error() == errc::invalid_argument);
    }
    SECTION("a peer's over-long banner is malformed") {
        DeterministicRng rc(12);
        ClientHandshake client({.identity = e.client_key, .account = e.account}, rc);
        ReferenceServer ref(e.server_key, 79);
        wire::Writer field;
        field.string(ByteVec(max_banner_size + 1, std::byte{'x'}));
        AuthOverrides o;
        o.banner_field = field.take();
        static_cast<void>(client.feed(ref.build(client.take_output(), o)));
        CHECK(client.error() == errc::malformed);
    }
    SECTION("the banner is covered by the server's signature") {
        // A reference server that signs a transcript without the banner, then sends one: the client's
        // transcript through the banner differs from what was signed.
        DeterministicRng rc(13);
        ClientHandshake client({.identity = e.client_key, .account = e.account}, rc);
        ReferenceServer honest(e.server_key, 80);
        const ByteVec m1 = client.take_output();
        static_cast<void>(honest.build(m1));  // signs over an empty banner
        ReferenceServer swapped(e.server_key, 80);
        AuthOverrides o;
        wire::Writer field;
        field.string(std::string_view("injected"));
        o.banner_field = field.take();
        o.signature_blob = honest.parts().signature_blob;  // the signature over the empty banner
        static_cast<void>(client.feed(swapped.build(m1, o)));
        CHECK(client.error() == errc::bad_signature);
    }
}

TEST_CASE("a stealth server with a host certificate answers a client that proves its plain key",
          "[handshake][certificate]") {
    const Endpoints e = make_endpoints(47);
    Pki pki;
    ServerConfig sc{.host_key = e.server_key};
    sc.stealth = true;
    sc.host_certificate = pki.certify(e.server_key.public_key(), CertificateType::host);
    DeterministicRng rs(14), rc(15), rc2(16), rs2(17);
    ClientConfig cc{.identity = e.client_key, .account = e.account};
    cc.known_server_key = e.server_key.public_key();
    ClientHandshake knows(cc, rc);
    ServerHandshake server(sc, rs);
    REQUIRE(server.feed(knows.take_output()));
    REQUIRE(knows.feed(server.take_output()));
    const ClientEvent ce = knows.event();
    REQUIRE(std::holds_alternative<NeedServerVerdict>(ce));
    CHECK(std::get<NeedServerVerdict>(ce).server_certificate);
    // A client that knows only the CA has no key to prove: the stealth server stays silent.
    ClientHandshake ca_only({.identity = e.client_key, .account = e.account}, rc2);
    ServerHandshake silent(sc, rs2);
    static_cast<void>(silent.feed(ca_only.take_output()));
    CHECK(silent.error() == errc::host_key_mac_invalid);
    CHECK(silent.take_output().empty());
}

}  // namespace twoway::handshake_test
