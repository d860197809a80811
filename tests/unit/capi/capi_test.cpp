// The C API (<twoway/twoway.h>): both handshake roles against each other through it, with no sockets;
// the channel, exporter and session on top; verdicts, denials and misuse; key files; the trust
// decisions, failing closed; status codes and their texts.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <optional>
#include <fstream>
#include <string>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/key_file.hpp>
#include <twoway/session.hpp>
#include <twoway/twoway.h>

#include "support/temp_dir.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

using twoway_test::TempDir;

twoway_key* key_from(uint8_t fill) {
    uint8_t seed[TWOWAY_SEED_SIZE];
    std::memset(seed, fill, sizeof seed);
    twoway_key* k = nullptr;
    REQUIRE(twoway_key_from_seed(seed, &k) == TWOWAY_OK);
    return k;
}

Bytes public_of(const twoway_key* k) {
    Bytes pub(TWOWAY_KEY_SIZE);
    REQUIRE(twoway_key_public(k, pub.data()) == TWOWAY_OK);
    return pub;
}

Bytes take(twoway_handshake* hs) {
    Bytes out(twoway_handshake_output_size(hs));
    if (!out.empty()) REQUIRE(twoway_handshake_output(hs, out.data(), out.size()) == out.size());
    REQUIRE(twoway_handshake_output_size(hs) == 0);
    return out;
}

Bytes take(twoway_channel* ch) {
    Bytes out(twoway_channel_output_size(ch));
    if (!out.empty()) REQUIRE(twoway_channel_output(ch, out.data(), out.size()) == out.size());
    return out;
}

// Feeds a channel everything and reads all the plaintext out; *closed when the peer's close came.
Bytes receive(twoway_channel* ch, const Bytes& wire, bool* closed = nullptr) {
    Bytes plain;
    std::size_t off = 0;
    uint8_t buf[1000];
    for (;;) {
        size_t n = 0;
        twoway_read_kind kind{};
        REQUIRE(twoway_channel_read(ch, buf, sizeof buf, &n, &kind) == TWOWAY_OK);
        if (kind == TWOWAY_READ_DATA) {
            plain.insert(plain.end(), buf, buf + n);
            continue;
        }
        if (kind == TWOWAY_READ_CLOSED) {
            if (closed != nullptr) *closed = true;
            return plain;
        }
        if (off == wire.size()) return plain;
        size_t used = 0;
        REQUIRE(twoway_channel_feed(ch, wire.data() + off, wire.size() - off, &used) == TWOWAY_OK);
        REQUIRE(used > 0);
        off += used;
    }
}

// A client and a server handshake moving bytes between them until neither has anything to say or one
// needs a verdict.
struct Pair {
    twoway_key* client_key = key_from(1);
    twoway_key* host_key = key_from(2);
    twoway_handshake* client = nullptr;
    twoway_handshake* server = nullptr;

    explicit Pair(const char* account = "alice") {
        REQUIRE(twoway_handshake_client_new(client_key, account, nullptr, &client) == TWOWAY_OK);
        REQUIRE(twoway_handshake_server_new(host_key, 0, &server) == TWOWAY_OK);
    }
    ~Pair() {
        twoway_handshake_free(client);
        twoway_handshake_free(server);
        twoway_key_free(client_key);
        twoway_key_free(host_key);
    }
    void pump() {
        for (bool moved = true; moved;) {
            moved = false;
            if (auto b = take(client); !b.empty()) {
                twoway_handshake_feed(server, b.data(), b.size());
                moved = true;
            }
            if (auto b = take(server); !b.empty()) {
                twoway_handshake_feed(client, b.data(), b.size());
                moved = true;
            }
        }
    }
};

}  // namespace

TEST_CASE("C API: a handshake, a channel both ways, the exporter and the close", "[capi]") {
    Pair p;
    p.pump();
    // The server proved its key first: the client is asked, and has revealed nothing yet.
    REQUIRE(twoway_handshake_next(p.client) == TWOWAY_HS_NEED_VERDICT);
    Bytes peer(TWOWAY_KEY_SIZE);
    REQUIRE(twoway_handshake_peer_key(p.client, peer.data()) == TWOWAY_OK);
    CHECK(peer == public_of(p.host_key));
    // Plain keys and no Banner: no certificate, no banner (a length is always written).
    size_t len = 99;
    CHECK(twoway_handshake_peer_certificate(p.client, &len) == nullptr);
    CHECK(len == 0);
    len = 99;
    CHECK(twoway_handshake_banner(p.client, &len) == nullptr);
    CHECK(len == 0);
    CHECK(twoway_handshake_banner(nullptr, &len) == nullptr);
    CHECK(twoway_handshake_peer_certificate(p.client, nullptr) == nullptr);
    CHECK(twoway_handshake_peer_key(p.server, peer.data()) == TWOWAY_E_BAD_STATE);
    CHECK(twoway_handshake_account(p.server) == nullptr);
    REQUIRE(twoway_handshake_accept(p.client) == TWOWAY_OK);
    p.pump();

    REQUIRE(twoway_handshake_next(p.server) == TWOWAY_HS_NEED_VERDICT);
    REQUIRE(twoway_handshake_peer_key(p.server, peer.data()) == TWOWAY_OK);
    CHECK(peer == public_of(p.client_key));
    CHECK(std::string(twoway_handshake_account(p.server)) == "alice");
    REQUIRE(twoway_handshake_accept(p.server) == TWOWAY_OK);
    p.pump();
    REQUIRE(twoway_handshake_next(p.client) == TWOWAY_HS_COMPLETE);
    REQUIRE(twoway_handshake_next(p.server) == TWOWAY_HS_COMPLETE);
    CHECK(twoway_handshake_error(p.client) == TWOWAY_OK);

    twoway_channel* c = nullptr;
    twoway_channel* s = nullptr;
    REQUIRE(twoway_handshake_finish(p.client, &c) == TWOWAY_OK);
    REQUIRE(twoway_handshake_finish(p.server, &s) == TWOWAY_OK);
    twoway_channel* again = nullptr;
    CHECK(twoway_handshake_finish(p.client, &again) == TWOWAY_E_BAD_STATE);
    CHECK(again == nullptr);

    // What the handshake established, the same on both sides.
    CHECK(std::string(twoway_channel_account(c)) == "alice");
    CHECK(std::string(twoway_channel_account(s)) == "alice");
    REQUIRE(twoway_channel_peer_key(s, peer.data()) == TWOWAY_OK);
    CHECK(peer == public_of(p.client_key));
    Bytes id_c(TWOWAY_SESSION_ID_SIZE), id_s(TWOWAY_SESSION_ID_SIZE);
    REQUIRE(twoway_channel_session_id(c, id_c.data()) == TWOWAY_OK);
    REQUIRE(twoway_channel_session_id(s, id_s.data()) == TWOWAY_OK);
    CHECK(id_c == id_s);
    Bytes ex_c(48), ex_s(48), ex_other(48);
    const uint8_t ctx[] = {1, 2, 3};
    REQUIRE(twoway_channel_export(c, "test label", ctx, sizeof ctx, ex_c.data(), ex_c.size()) == TWOWAY_OK);
    REQUIRE(twoway_channel_export(s, "test label", ctx, sizeof ctx, ex_s.data(), ex_s.size()) == TWOWAY_OK);
    REQUIRE(twoway_channel_export(s, "other label", ctx, sizeof ctx, ex_other.data(), ex_other.size()) == TWOWAY_OK);
    CHECK(ex_c == ex_s);
    CHECK(ex_c != ex_other);
    CHECK(twoway_channel_export(s, "", nullptr, 0, ex_s.data(), ex_s.size()) == TWOWAY_E_INVALID_ARGUMENT);

    // More than one record's worth each way, then the close.
    Bytes big(200000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
    REQUIRE(twoway_channel_send(c, big.data(), big.size()) == TWOWAY_OK);
    const Bytes wire = take(c);
    CHECK(wire.size() > big.size());
    CHECK(receive(s, wire) == big);
    const uint8_t hello[] = {'h', 'i'};
    REQUIRE(twoway_channel_send(s, hello, sizeof hello) == TWOWAY_OK);
    REQUIRE(twoway_channel_close(s) == TWOWAY_OK);
    CHECK(twoway_channel_send(s, hello, sizeof hello) == TWOWAY_E_BAD_STATE);
    bool closed = false;
    CHECK(receive(c, take(s), &closed) == Bytes{'h', 'i'});
    CHECK(closed);
    CHECK(twoway_channel_end_of_input(c) == TWOWAY_OK);

    // A record changed in transit is refused, and the failure sticks.
    REQUIRE(twoway_channel_send(c, hello, sizeof hello) == TWOWAY_OK);
    Bytes bad = take(c);
    bad.back() ^= 1;
    size_t used = 0, n = 0;
    uint8_t buf[16];
    twoway_read_kind kind{};
    REQUIRE(twoway_channel_feed(s, bad.data(), bad.size(), &used) == TWOWAY_OK);
    CHECK(twoway_channel_read(s, buf, sizeof buf, &n, &kind) == TWOWAY_E_DECRYPT_FAILED);
    CHECK(twoway_channel_read(s, buf, sizeof buf, &n, &kind) == TWOWAY_E_DECRYPT_FAILED);
    twoway_channel_free(c);
    twoway_channel_free(s);
}

TEST_CASE("C API: verdicts that refuse", "[capi]") {
    SECTION("the client refuses the server's key and reveals nothing") {
        Pair p;
        p.pump();
        REQUIRE(twoway_handshake_next(p.client) == TWOWAY_HS_NEED_VERDICT);
        REQUIRE(twoway_handshake_reject(p.client, nullptr) == TWOWAY_OK);
        CHECK(twoway_handshake_output_size(p.client) == 0);
        CHECK(twoway_handshake_next(p.client) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_error(p.client) == TWOWAY_E_HOST_KEY_REJECTED);
        CHECK(twoway_handshake_accept(p.client) == TWOWAY_E_BAD_STATE);
        twoway_channel* ch = nullptr;
        CHECK(twoway_handshake_finish(p.client, &ch) == TWOWAY_E_BAD_STATE);
    }
    SECTION("the server denies: the client sees the generic denial, the reason stays in the server") {
        Pair p;
        p.pump();
        REQUIRE(twoway_handshake_accept(p.client) == TWOWAY_OK);
        p.pump();
        REQUIRE(twoway_handshake_next(p.server) == TWOWAY_HS_NEED_VERDICT);
        CHECK(std::string(twoway_handshake_denial_reason(p.server)).empty());
        REQUIRE(twoway_handshake_reject(p.server, "key not in authorized_keys") == TWOWAY_OK);
        p.pump();
        CHECK(twoway_handshake_next(p.server) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_error(p.server) == TWOWAY_E_AUTH_DENIED);
        CHECK(std::string(twoway_handshake_denial_reason(p.server)) == "key not in authorized_keys");
        CHECK(twoway_handshake_next(p.client) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_error(p.client) == TWOWAY_E_AUTH_DENIED);
    }
    SECTION("a server in stealth mode answers only a client that knows its key") {
        twoway_key* host = key_from(2);
        twoway_key* user = key_from(1);
        const Bytes host_pub = public_of(host);
        for (const bool knows : {false, true}) {
            twoway_handshake* c = nullptr;
            twoway_handshake* s = nullptr;
            REQUIRE(twoway_handshake_client_new(user, "alice", knows ? host_pub.data() : nullptr, &c) == TWOWAY_OK);
            REQUIRE(twoway_handshake_server_new(host, 1, &s) == TWOWAY_OK);
            const Bytes hello = take(c);
            const int rc = twoway_handshake_feed(s, hello.data(), hello.size());
            CHECK(rc == (knows ? TWOWAY_OK : TWOWAY_E_HOST_KEY_MAC_INVALID));
            CHECK((twoway_handshake_output_size(s) > 0) == knows);
            twoway_handshake_free(c);
            twoway_handshake_free(s);
        }
        twoway_key_free(host);
        twoway_key_free(user);
    }
}

namespace {

void pump(twoway_handshake* a, twoway_handshake* b) {
    for (bool moved = true; moved;) {
        moved = false;
        if (auto x = take(a); !x.empty()) {
            twoway_handshake_feed(b, x.data(), x.size());
            moved = true;
        }
        if (auto x = take(b); !x.empty()) {
            twoway_handshake_feed(a, x.data(), x.size());
            moved = true;
        }
    }
}

const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

// A password client and a password server up to the server's question for the record.
struct PasswordPair {
    twoway_key* host_key = key_from(2);
    twoway_opaque_key* opaque = nullptr;
    twoway_handshake* client = nullptr;
    twoway_handshake* server = nullptr;

    PasswordPair(const char* account, const char* password, int host_trusted) {
        REQUIRE(twoway_opaque_key_generate(&opaque) == TWOWAY_OK);
        REQUIRE(twoway_handshake_client_new_password(account, nullptr, &client) == TWOWAY_OK);
        REQUIRE(twoway_handshake_server_new_password(host_key, 0, opaque, &server) == TWOWAY_OK);
        CHECK(twoway_handshake_password(client) == 1);
        CHECK(twoway_handshake_password(server) == 0);
        pump(client, server);
        REQUIRE(twoway_handshake_next(client) == TWOWAY_HS_NEED_VERDICT);
        Bytes peer(TWOWAY_KEY_SIZE);
        REQUIRE(twoway_handshake_peer_key(client, peer.data()) == TWOWAY_OK);
        CHECK(peer == public_of(host_key));
        // A password client answers with its password, not with accept.
        CHECK(twoway_handshake_accept(client) == TWOWAY_E_BAD_STATE);
        CHECK(twoway_handshake_password_record(client, nullptr) == TWOWAY_E_BAD_STATE);
        REQUIRE(twoway_handshake_accept_password(client, bytes(password), std::strlen(password), host_trusted) ==
                TWOWAY_OK);
        pump(client, server);
        REQUIRE(twoway_handshake_next(server) == TWOWAY_HS_NEED_PASSWORD_RECORD);
        CHECK(std::string(twoway_handshake_account(server)) == account);
    }
    ~PasswordPair() {
        twoway_handshake_free(client);
        twoway_handshake_free(server);
        twoway_opaque_key_free(opaque);
        twoway_key_free(host_key);
    }
    std::string record(const char* account, const char* password) const {
        char* text = nullptr;
        REQUIRE(twoway_password_register(opaque, account, bytes(password), std::strlen(password), 1, 8, &text) ==
                TWOWAY_OK);
        std::string r(text);
        std::memset(text, 0, r.size());
        twoway_free(text);
        return r;
    }
};

}  // namespace

TEST_CASE("C API: password mode (OPAQUE)", "[capi]") {
    SECTION("registration: a record line that holds no form of the password") {
        twoway_opaque_key* k = nullptr;
        REQUIRE(twoway_opaque_key_generate(&k) == TWOWAY_OK);
        char* text = nullptr;
        REQUIRE(twoway_password_register(k, "alice", bytes("hunter2 hunter2"), 15, 1, 8, &text) == TWOWAY_OK);
        const std::string r(text);
        twoway_free(text);
        CHECK(r.rfind("twoway-opaque-v1 argon2id13 ops=1 mem=8 ", 0) == 0);
        CHECK(r.find("hunter2") == std::string::npos);
        CHECK(twoway_password_register(k, "alice", bytes("x"), 0, 1, 8, &text) == TWOWAY_E_INVALID_ARGUMENT);
        CHECK(twoway_password_register(k, "alice", bytes("x"), 1, 1, 0, &text) == TWOWAY_E_INVALID_ARGUMENT);
        CHECK(twoway_password_register(k, "alice", bytes("x"), 1, 99, 8, &text) == TWOWAY_E_INVALID_ARGUMENT);
        CHECK(twoway_password_register(nullptr, "alice", bytes("x"), 1, 1, 8, &text) == TWOWAY_E_INVALID_ARGUMENT);
        twoway_opaque_key_free(k);
        CHECK(twoway_opaque_key_load("/nonexistent/opaque_key", &k) == -ENOENT);
    }
    SECTION("the right password logs in, and the server's proof vouches for its key") {
        for (const int trusted : {1, 0}) {
            PasswordPair p("alice", "correct horse", trusted);
            REQUIRE(twoway_handshake_password_record(p.server, p.record("alice", "correct horse").c_str()) == TWOWAY_OK);
            pump(p.client, p.server);
            REQUIRE(twoway_handshake_next(p.server) == TWOWAY_HS_NEED_VERDICT);
            CHECK(twoway_handshake_password(p.server) == 1);
            Bytes peer(TWOWAY_KEY_SIZE);
            CHECK(twoway_handshake_peer_key(p.server, peer.data()) == TWOWAY_E_BAD_STATE);  // no key
            CHECK(std::string(twoway_handshake_account(p.server)) == "alice");
            REQUIRE(twoway_handshake_accept(p.server) == TWOWAY_OK);
            pump(p.client, p.server);
            REQUIRE(twoway_handshake_next(p.client) == TWOWAY_HS_COMPLETE);
            REQUIRE(twoway_handshake_next(p.server) == TWOWAY_HS_COMPLETE);
            twoway_channel* c = nullptr;
            twoway_channel* s = nullptr;
            REQUIRE(twoway_handshake_finish(p.client, &c) == TWOWAY_OK);
            REQUIRE(twoway_handshake_finish(p.server, &s) == TWOWAY_OK);
            CHECK(twoway_channel_password(c) == 1);
            CHECK(twoway_channel_password(s) == 1);
            CHECK(twoway_channel_host_proven_by_password(c) == (trusted ? 0 : 1));
            CHECK(twoway_channel_host_proven_by_password(s) == 0);
            Bytes id_c(TWOWAY_SESSION_ID_SIZE), id_s(TWOWAY_SESSION_ID_SIZE);
            REQUIRE(twoway_channel_session_id(c, id_c.data()) == TWOWAY_OK);
            REQUIRE(twoway_channel_session_id(s, id_s.data()) == TWOWAY_OK);
            CHECK(id_c == id_s);
            twoway_channel_free(c);
            twoway_channel_free(s);
        }
    }
    SECTION("a wrong password and an account without a record fail alike, in the client") {
        for (const bool has_record : {true, false}) {
            PasswordPair p("alice", "wrong horse", 0);
            const int rc = has_record ? twoway_handshake_password_record(p.server, p.record("alice", "correct horse").c_str())
                                      : twoway_handshake_password_record(p.server, nullptr);
            REQUIRE(rc == TWOWAY_OK);
            pump(p.client, p.server);
            CHECK(twoway_handshake_next(p.client) == TWOWAY_HS_FAILED);
            CHECK(twoway_handshake_error(p.client) == TWOWAY_E_AUTH_DENIED);
            CHECK(twoway_handshake_output_size(p.client) == 0);  // the client sends nothing more
            CHECK(twoway_handshake_next(p.server) == TWOWAY_HS_WANT_INPUT);
            CHECK(twoway_handshake_end_of_input(p.server) != TWOWAY_OK);
            CHECK(twoway_handshake_next(p.server) == TWOWAY_HS_FAILED);
        }
    }
    SECTION("a record that does not parse fails closed, with the generic denial") {
        PasswordPair p("alice", "correct horse", 1);
        CHECK(twoway_handshake_password_record(p.server, "twoway-opaque-v1 argon2id13 ops=1 mem=8 AAAA\n") ==
              TWOWAY_E_MALFORMED);
        CHECK(twoway_handshake_next(p.server) == TWOWAY_HS_FAILED);
        pump(p.client, p.server);
        CHECK(twoway_handshake_next(p.client) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_error(p.client) == TWOWAY_E_AUTH_DENIED);
    }
    SECTION("a server without password mode refuses a password client") {
        twoway_key* host = key_from(2);
        twoway_handshake* c = nullptr;
        twoway_handshake* s = nullptr;
        REQUIRE(twoway_handshake_client_new_password("alice", nullptr, &c) == TWOWAY_OK);
        REQUIRE(twoway_handshake_server_new(host, 0, &s) == TWOWAY_OK);
        pump(c, s);
        REQUIRE(twoway_handshake_accept_password(c, bytes("pw"), 2, 1) == TWOWAY_OK);
        pump(c, s);
        CHECK(twoway_handshake_next(s) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_next(c) == TWOWAY_HS_FAILED);
        CHECK(twoway_handshake_error(c) == TWOWAY_E_AUTH_DENIED);
        twoway_handshake_free(c);
        twoway_handshake_free(s);
        twoway_key_free(host);
    }
}

TEST_CASE("C API: misuse and hostile input are status codes, never crashes", "[capi]") {
    twoway_key* k = key_from(3);
    twoway_handshake* hs = nullptr;
    uint8_t key[TWOWAY_KEY_SIZE] = {};
    CHECK(twoway_handshake_client_new(nullptr, "alice", nullptr, &hs) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_handshake_client_new(k, nullptr, nullptr, &hs) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_handshake_client_new(k, "", nullptr, &hs) == TWOWAY_E_INVALID_ARGUMENT);  // empty account
    CHECK(twoway_handshake_client_new(k, "bad\naccount", nullptr, &hs) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(hs == nullptr);
    CHECK(twoway_handshake_server_new(k, 0, nullptr) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_handshake_next(nullptr) == TWOWAY_HS_FAILED);
    CHECK(twoway_handshake_feed(nullptr, key, 1) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_handshake_output(nullptr, key, sizeof key) == 0);
    CHECK(twoway_key_public(nullptr, key) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_channel_send(nullptr, key, 1) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_session_feed(nullptr, key, 1) == TWOWAY_E_INVALID_ARGUMENT);
    twoway_key_free(nullptr);
    twoway_handshake_free(nullptr);
    twoway_channel_free(nullptr);
    twoway_session_free(nullptr);
    twoway_free(nullptr);

    // A server fed junk fails (sticky) and answers nothing; a verdict then is bad_state.
    REQUIRE(twoway_handshake_server_new(k, 0, &hs) == TWOWAY_OK);
    CHECK(twoway_handshake_accept(hs) == TWOWAY_E_BAD_STATE);
    const std::string junk(300, 'Z');
    const int rc = twoway_handshake_feed(hs, reinterpret_cast<const uint8_t*>(junk.data()), junk.size());
    CHECK(rc > 0);
    CHECK(twoway_handshake_next(hs) == TWOWAY_HS_FAILED);
    CHECK(twoway_handshake_error(hs) == rc);
    CHECK(twoway_handshake_feed(hs, key, 1) == rc);
    CHECK(twoway_handshake_output_size(hs) == 0);
    twoway_handshake_free(hs);

    // The transport ending early is truncated.
    REQUIRE(twoway_handshake_client_new(k, "alice", nullptr, &hs) == TWOWAY_OK);
    CHECK(twoway_handshake_end_of_input(hs) == TWOWAY_E_TRUNCATED);
    CHECK(twoway_handshake_next(hs) == TWOWAY_HS_FAILED);
    twoway_handshake_free(hs);
    twoway_key_free(k);
}

TEST_CASE("C API: key files, key lines, fingerprints", "[capi]") {
    TempDir dir("twoway-capi");
    twoway::PrivateKey key = twoway::PrivateKey::from_seed(std::span<const std::byte, 32>(
        std::vector<std::byte>(32, std::byte{9}).data(), 32));
    auto text = twoway::encode_private_key(key, "capi", "", twoway::default_kdf_params(), twoway::system_rng());
    REQUIRE(text);
    auto locked = twoway::encode_private_key(key, "capi", "secret words", twoway::default_kdf_params(),
                                             twoway::system_rng());
    REQUIRE(locked);
    REQUIRE(twoway::write_key_file(dir.file("id"), *text, 0600));
    REQUIRE(twoway::write_key_file(dir.file("id_locked"), *locked, 0600));
    REQUIRE(twoway::write_key_file(dir.file("id_open"), *text, 0644));

    twoway_key* k = nullptr;
    REQUIRE(twoway_key_load(dir.file("id").c_str(), nullptr, &k) == TWOWAY_OK);
    Bytes pub = public_of(k);
    CHECK(std::memcmp(pub.data(), key.public_key().raw().data(), 32) == 0);
    twoway_key_free(k);
    k = nullptr;
    CHECK(twoway_key_load(dir.file("id_open").c_str(), nullptr, &k) == TWOWAY_E_INSECURE_PERMISSIONS);
    CHECK(twoway_key_load(dir.file("id_locked").c_str(), nullptr, &k) == TWOWAY_E_PASSPHRASE_REQUIRED);
    CHECK(twoway_key_load(dir.file("id_locked").c_str(), "wrong", &k) == TWOWAY_E_WRONG_PASSPHRASE);
    const int missing = twoway_key_load(dir.file("nothing").c_str(), nullptr, &k);
    CHECK((missing == TWOWAY_E_NOT_FOUND || missing == -ENOENT));
    CHECK(k == nullptr);
    REQUIRE(twoway_key_load(dir.file("id_locked").c_str(), "secret words", &k) == TWOWAY_OK);
    CHECK(public_of(k) == pub);
    twoway_key_free(k);

    char* line = nullptr;
    REQUIRE(twoway_public_key_line(pub.data(), "me@host", &line) == TWOWAY_OK);
    CHECK(std::string(line) == twoway::format_public_key_line(key.public_key(), "me@host"));
    Bytes parsed(TWOWAY_KEY_SIZE);
    REQUIRE(twoway_public_key_parse(line, parsed.data()) == TWOWAY_OK);
    CHECK(parsed == pub);
    twoway_free(line);
    CHECK(twoway_public_key_line(pub.data(), "bad\x1b[2Jcomment", &line) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_public_key_parse("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x", parsed.data()) > 0);
    CHECK(twoway_public_key_parse("nonsense", parsed.data()) == TWOWAY_E_BAD_KEY_FORMAT);

    char* fp = nullptr;
    REQUIRE(twoway_fingerprint(pub.data(), &fp) == TWOWAY_OK);
    CHECK(std::string(fp) == twoway::fingerprint_sha256(key.public_key()));
    CHECK(std::string(fp).rfind("SHA256:", 0) == 0);
    twoway_free(fp);
}

TEST_CASE("C API: trust decisions fail closed", "[capi]") {
    TempDir dir("twoway-capi");
    twoway_key* a = key_from(4);
    twoway_key* b = key_from(5);
    const Bytes ka = public_of(a), kb = public_of(b);
    const std::string kh = dir.file("known_hosts");
    const char* files[] = {kh.c_str()};
    twoway_host_status st{};

    // Missing file: first contact. Then known, changed for another key, and another port is unknown.
    REQUIRE(twoway_known_hosts_check(files, 1, "server.example", 4422, ka.data(), &st) == TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_UNKNOWN);
    REQUIRE(twoway_known_hosts_add(kh.c_str(), "server.example", 4422, ka.data()) == TWOWAY_OK);
    REQUIRE(twoway_known_hosts_check(files, 1, "Server.Example", 4422, ka.data(), &st) == TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_KNOWN);
    REQUIRE(twoway_known_hosts_check(files, 1, "server.example", 4422, kb.data(), &st) == TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_CHANGED);
    REQUIRE(twoway_known_hosts_check(files, 1, "server.example", 2222, kb.data(), &st) == TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_UNKNOWN);
    // Adding another key for a host the file names is refused.
    CHECK(twoway_known_hosts_add(kh.c_str(), "server.example", 4422, kb.data()) == TWOWAY_E_HOST_KEY_REJECTED);
    // An @revoked line wins.
    char* line = nullptr;
    REQUIRE(twoway_public_key_line(ka.data(), nullptr, &line) == TWOWAY_OK);
    std::ofstream(kh, std::ios::app) << "@revoked * " << line << "\n";
    REQUIRE(twoway_known_hosts_check(files, 1, "server.example", 4422, ka.data(), &st) == TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_REVOKED);
    // A trust file that exists but cannot be read (a directory here) never makes a host look new.
    const std::string unreadable = dir.file("kh_dir");
    REQUIRE(::mkdir(unreadable.c_str(), 0700) == 0);
    const char* both[] = {unreadable.c_str(), kh.c_str()};
    st = TWOWAY_HOST_UNKNOWN;
    CHECK(twoway_known_hosts_check(both, 2, "fresh.example", 4422, kb.data(), &st) != TWOWAY_OK);
    CHECK(st == TWOWAY_HOST_UNCERTAIN);
    CHECK(twoway_known_hosts_check(files, 1, "server.example", 0, ka.data(), &st) == TWOWAY_E_INVALID_ARGUMENT);

    // authorized_keys: the key listed, another not, an unreadable file authorizes nothing.
    const std::string ak = dir.file("authorized_keys");
    dir.write("authorized_keys", "# mine\n" + std::string(line) + "\n");
    int ok = -1;
    REQUIRE(twoway_authorized_keys_check(ak.c_str(), ka.data(), &ok) == TWOWAY_OK);
    CHECK(ok == 1);
    REQUIRE(twoway_authorized_keys_check(ak.c_str(), kb.data(), &ok) == TWOWAY_OK);
    CHECK(ok == 0);
    REQUIRE(twoway_authorized_keys_check(dir.file("none").c_str(), ka.data(), &ok) == TWOWAY_OK);
    CHECK(ok == 0);
    ok = 1;
    CHECK(twoway_authorized_keys_check(unreadable.c_str(), ka.data(), &ok) != TWOWAY_OK);
    CHECK(ok == 0);

    // Revoked key lists: listed, not listed, and every failure revokes everything.
    const std::string rl = dir.file("revoked");
    dir.write("revoked", std::string(line) + "\n");
    int revoked = -1;
    REQUIRE(twoway_revoked_check(rl.c_str(), ka.data(), &revoked) == TWOWAY_OK);
    CHECK(revoked == 1);
    REQUIRE(twoway_revoked_check(rl.c_str(), kb.data(), &revoked) == TWOWAY_OK);
    CHECK(revoked == 0);
    dir.write("revoked", std::string(line) + "\nthis is not a key\n");
    CHECK(twoway_revoked_check(rl.c_str(), kb.data(), &revoked) == TWOWAY_E_MALFORMED);
    CHECK(revoked == 1);
    revoked = 0;
    CHECK(twoway_revoked_check(dir.file("no-list").c_str(), kb.data(), &revoked) == -ENOENT);
    CHECK(revoked == 1);
    twoway_free(line);
    twoway_key_free(a);
    twoway_key_free(b);
}

TEST_CASE("C API: the session client against the C++ session server", "[capi]") {
    namespace ts = twoway::session;
    const char* bad_env[] = {"NOVALUE", nullptr};
    twoway_session* s = nullptr;
    CHECK(twoway_session_start(TWOWAY_REQUEST_EXEC, "true", bad_env, &s) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_session_start(TWOWAY_REQUEST_EXEC, "", nullptr, &s) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_session_start(static_cast<twoway_request_kind>(0), "x", nullptr, &s) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_session_start(static_cast<twoway_request_kind>(5), "x", nullptr, &s) == TWOWAY_E_INVALID_ARGUMENT);
    CHECK(twoway_session_start(TWOWAY_REQUEST_SUBSYSTEM, "sf tp", nullptr, &s) == TWOWAY_E_INVALID_ARGUMENT);
    REQUIRE(twoway_session_start(TWOWAY_REQUEST_SUBSYSTEM, "sftp", nullptr, &s) == TWOWAY_OK);  // ssh -s's request
    twoway_session_free(s);
    s = nullptr;
    const char* env[] = {"LANG=C.UTF-8", nullptr};
    REQUIRE(twoway_session_start(TWOWAY_REQUEST_EXEC, "echo hi", env, &s) == TWOWAY_OK);
    CHECK(twoway_session_send_capacity(s) == 0);  // nothing before the server accepts

    auto server = ts::SessionServer::create();
    REQUIRE(server);
    auto to_server = [&] {
        Bytes out(twoway_session_output_size(s));
        if (!out.empty()) REQUIRE(twoway_session_output(s, out.data(), out.size()) == out.size());
        auto evs = server->feed(std::as_bytes(std::span(out)));
        REQUIRE(evs);
        return std::move(*evs);
    };
    auto to_client = [&] {
        const auto out = server->take_output();
        REQUIRE(twoway_session_feed(s, reinterpret_cast<const uint8_t*>(out.data()), out.size()) == TWOWAY_OK);
    };
    auto events = to_server();
    REQUIRE(events.size() == 1);
    const auto& req = std::get<ts::RequestReceived>(events[0]).request;
    CHECK(req.kind == ts::RequestKind::exec);
    CHECK(req.command == "echo hi");
    REQUIRE(req.env.size() == 1);
    CHECK((req.env[0].name == "LANG" && req.env[0].value == "C.UTF-8"));

    std::string got_out, got_err;
    std::vector<int> types;
    std::optional<uint32_t> status;
    auto handle_events = [&] {
        twoway_session_event ev;
        while (twoway_session_next_event(s, &ev)) {
            types.push_back(ev.type);
            if (ev.type == TWOWAY_EV_ACCEPTED) {
                CHECK(twoway_session_send_capacity(s) > 0);
                const uint8_t in[] = {'x'};
                size_t taken = 0;
                REQUIRE(twoway_session_send(s, in, 1, &taken) == TWOWAY_OK);
                CHECK(taken == 1);
                REQUIRE(twoway_session_send_eof(s) == TWOWAY_OK);
                CHECK(twoway_session_send_eof(s) == TWOWAY_E_BAD_STATE);
            } else if (ev.type == TWOWAY_EV_DATA) {
                (ev.stream == TWOWAY_STREAM_OUT ? got_out : got_err)
                    .append(reinterpret_cast<const char*>(ev.data), ev.len);
                REQUIRE(twoway_session_consumed(s, ev.stream, ev.len) == TWOWAY_OK);
            } else if (ev.type == TWOWAY_EV_EXIT_STATUS) {
                status = ev.code;
            }
        }
    };
    REQUIRE(server->accept());
    to_client();
    handle_events();
    // Our input and EOF reach the server.
    events = to_server();
    REQUIRE(events.size() == 2);
    CHECK(std::get<ts::Data>(events[0]).bytes == std::vector<std::byte>{std::byte{'x'}});
    CHECK(std::get<ts::Eof>(events[1]).stream == ts::Stream::in);

    const std::string out_text = "hi\n", err_text = "warning\n";
    REQUIRE(server->send_data(ts::Stream::out, std::as_bytes(std::span(out_text))));
    REQUIRE(server->send_data(ts::Stream::err, std::as_bytes(std::span(err_text))));
    REQUIRE(server->send_eof(ts::Stream::out));
    REQUIRE(server->send_eof(ts::Stream::err));
    REQUIRE(server->send_exit_status(3));
    REQUIRE(server->close());
    to_client();
    handle_events();
    CHECK(types == std::vector<int>{TWOWAY_EV_ACCEPTED, TWOWAY_EV_DATA, TWOWAY_EV_DATA, TWOWAY_EV_EOF, TWOWAY_EV_EOF,
                                    TWOWAY_EV_EXIT_STATUS, TWOWAY_EV_CLOSED});
    CHECK(got_out == out_text);
    CHECK(got_err == err_text);
    CHECK(status == 3u);
    CHECK(twoway_session_consumed(s, TWOWAY_STREAM_IN, 1) == TWOWAY_E_INVALID_ARGUMENT);
    // The CLOSE in reply reaches the server; both sides are finished.
    (void)to_server();
    CHECK(twoway_session_finished(s) == 1);
    CHECK(server->finished());
    twoway_session_free(s);
}

TEST_CASE("C API: the session answers the server's PINGs by itself, one PONG for a flood", "[capi]") {
    namespace ts = twoway::session;
    twoway_session* s = nullptr;
    REQUIRE(twoway_session_start(TWOWAY_REQUEST_EXEC, "sleep 60", nullptr, &s) == TWOWAY_OK);
    auto server = ts::SessionServer::create();
    REQUIRE(server);
    Bytes request(twoway_session_output_size(s));
    REQUIRE(twoway_session_output(s, request.data(), request.size()) == request.size());
    REQUIRE(server->feed(std::as_bytes(std::span(request))));
    REQUIRE(server->accept());
    // 1000 PINGs fed one by one while the C program sends nothing: one 9-byte PONG waits, not 1000.
    for (int i = 0; i < 1000; ++i) REQUIRE(server->send_ping());
    const auto flood = server->take_output();
    for (std::size_t off = 0; off < flood.size();) {
        const std::size_t n = off == 0 ? 9 + 5 + 4 : 9;  // ACCEPT with the first PING, then one PING each
        REQUIRE(twoway_session_feed(s, reinterpret_cast<const uint8_t*>(flood.data()) + off, n) == TWOWAY_OK);
        off += n;
    }
    CHECK(twoway_session_output_size(s) == 9);
    Bytes pong(twoway_session_output_size(s));
    REQUIRE(twoway_session_output(s, pong.data(), pong.size()) == 9);
    CHECK(server->unanswered_pings() == 1000);
    auto events = server->feed(std::as_bytes(std::span(pong)));
    REQUIRE(events);
    CHECK(events->empty());  // a PONG is no event
    CHECK(server->unanswered_pings() == 0);
    twoway_session_event ev;
    REQUIRE(twoway_session_next_event(s, &ev) == 1);
    CHECK(ev.type == TWOWAY_EV_ACCEPTED);
    CHECK(twoway_session_next_event(s, &ev) == 0);
    twoway_session_free(s);
}

TEST_CASE("C API: status texts and the version", "[capi]") {
    const int codes[] = {TWOWAY_E_SHORT_INPUT,    TWOWAY_E_KDF_PARAMS_REJECTED, TWOWAY_E_UNEXPECTED_MESSAGE,
                         TWOWAY_E_PREAUTH_LIMIT,  TWOWAY_E_INVALID_ARGUMENT,    TWOWAY_E_INTERNAL,
                         TWOWAY_E_AUTH_DENIED,    TWOWAY_E_HOST_KEY_REJECTED};
    for (const int c : codes) {
        const std::string text = twoway_strerror(c);
        CHECK(!text.empty());
        CHECK(text != "unknown error");
    }
    // Every twoway::errc value has its TWOWAY_E_ constant: an errc added without one fails here.
    const std::vector<int> all = {TWOWAY_E_SHORT_INPUT, TWOWAY_E_TRAILING_DATA, TWOWAY_E_LENGTH_TOO_LARGE, TWOWAY_E_MALFORMED, TWOWAY_E_BAD_KEY_FORMAT, TWOWAY_E_UNSUPPORTED_KEY_TYPE, TWOWAY_E_ENCRYPTED_OPENSSH_KEY, TWOWAY_E_KEY_MISMATCH, TWOWAY_E_CORRUPT_KEY_FILE, TWOWAY_E_KDF_PARAMS_REJECTED, TWOWAY_E_UNEXPECTED_MESSAGE, TWOWAY_E_UNSUPPORTED_VERSION, TWOWAY_E_UNSUPPORTED_SUITE, TWOWAY_E_WEAK_PUBLIC_KEY, TWOWAY_E_REFLECTED_MESSAGE, TWOWAY_E_BAD_SIGNATURE, TWOWAY_E_BAD_FINISHED, TWOWAY_E_DECRYPT_FAILED, TWOWAY_E_RECORD_TOO_LARGE, TWOWAY_E_TRUNCATED, TWOWAY_E_HOST_KEY_REJECTED, TWOWAY_E_AUTH_DENIED, TWOWAY_E_PEER_CLOSED, TWOWAY_E_COUNTER_EXHAUSTED, TWOWAY_E_WINDOW_EXCEEDED, TWOWAY_E_HOST_KEY_MAC_INVALID, TWOWAY_E_PREAUTH_LIMIT, TWOWAY_E_WRONG_CERTIFICATE_TYPE, TWOWAY_E_INVALID_ARGUMENT, TWOWAY_E_WRONG_PASSPHRASE, TWOWAY_E_PASSPHRASE_REQUIRED, TWOWAY_E_INSECURE_PERMISSIONS, TWOWAY_E_IO_ERROR, TWOWAY_E_NOT_FOUND, TWOWAY_E_BAD_STATE, TWOWAY_E_INTERNAL};
    for (int v = 1; v < 300; ++v) {
        const bool has_text = std::string(twoway_strerror(v)) != "unknown error";
        CHECK(has_text == (std::find(all.begin(), all.end(), v) != all.end()));
    }
    CHECK(std::string(twoway_strerror(TWOWAY_OK)) == "success");
    CHECK(std::string(twoway_strerror(99)) == "unknown error");
    CHECK(std::string(twoway_strerror(-ENOENT)) == "No such file or directory");
    CHECK(std::string(twoway_strerror(TWOWAY_E_AUTH_DENIED)) == twoway::make_error_code(twoway::errc::auth_denied).message());
    const std::string v = twoway_version();
    CHECK(std::count(v.begin(), v.end(), '.') == 2);
}
