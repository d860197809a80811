// Test-side peers built from the protocol's pieces (messages, key schedule, AEAD) rather than from the
// state machines: they follow PROTOCOL.md step by step and let a test replace any field of the
// authentication messages, to play a malicious or broken peer that holds the session keys.
#pragma once

#include <functional>
#include <optional>

#include "support.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

struct AuthOverrides {
    std::optional<ByteVec> account_field = std::nullopt;   // client only: the raw string(account) bytes
    std::optional<ByteVec> identity = std::nullopt;        // identity blob
    std::optional<ByteVec> banner_field = std::nullopt;    // server only: the raw string(banner) bytes (default: empty banner)
    std::optional<ByteVec> signature_blob = std::nullopt;  // SSH signature blob
    std::optional<std::array<std::byte, 64>> finished = std::nullopt;
    const PrivateKey* signer = nullptr;     // sign with this key instead of the identity's own
    // Makes the signature blob from the exact payload to be signed (for forgeries that depend on it).
    std::function<ByteVec(wire::Bytes payload)> forge = nullptr;
};

struct AuthParts {
    ByteVec signature_blob;
    std::array<std::byte, 64> finished{};
};

// Appends an auth plaintext to w following PROTOCOL.md 4.3/4.4, with overrides; t absorbs it.
inline AuthParts write_reference_auth(handshake::Secrets& s, handshake::Transcript& t, handshake::Role self,
                                      std::string_view account, const PrivateKey& key, const AuthOverrides& o,
                                      wire::Writer& w) {
    using namespace handshake;
    if (self == Role::client) {
        if (o.account_field) {
            w.bytes(*o.account_field);
        } else {
            w.string(account);
        }
    }
    const ByteVec identity = o.identity ? *o.identity : key.public_key().blob();
    w.string(identity);
    if (self == Role::server) {
        if (o.banner_field) {
            w.bytes(*o.banner_field);
        } else {
            w.string(ByteVec{});
        }
    }
    t.absorb(w.view());
    std::size_t absorbed = w.size();
    const PrivateKey& signer = o.signer != nullptr ? *o.signer : key;
    AuthParts parts;
    const auto payload = signature_payload(self, t.digest());
    parts.signature_blob = o.signature_blob ? *o.signature_blob
                           : o.forge        ? o.forge(payload)
                                            : ed25519_signature_blob(signer.sign(payload));
    w.string(parts.signature_blob);
    t.absorb(w.view().subspan(absorbed));
    absorbed = w.size();
    parts.finished = o.finished ? *o.finished : finished_mac(s, self, t.digest());
    w.bytes(parts.finished);
    t.absorb(w.view().subspan(absorbed));
    return parts;
}

// A server written from the spec. build() answers a client_hello with server_hello | server_auth.
class ReferenceServer {
public:
    ReferenceServer(const PrivateKey& key, std::uint64_t seed) : key_(key) {
        DeterministicRng rng(seed);
        rng.fill(random_);
        rng.fill(block_.get().ephemeral);
    }

    ByteVec build(wire::Bytes m1, const AuthOverrides& o = {}) {
        using namespace handshake;
        Secrets& s = block_.get();
        auto ch = parse_client_hello(m1.subspan(header_size));
        REQUIRE(ch);
        REQUIRE(crypto::x25519(s.shared, s.ephemeral, ch->shares.at(0).data.first<32>()));
        const auto share = crypto::x25519_public(s.ephemeral);
        ServerHello sh{protocol_version_1, 0x0001, random_, share};
        ByteVec out = write_server_hello(sh);
        transcript_.absorb(m1);
        transcript_.absorb(out);
        derive_handshake_secrets(s, transcript_.digest());
        wire::Writer w;
        parts_ = write_reference_auth(s, transcript_, Role::server, {}, key_, o, w);
        ByteVec auth = seal_message(MsgType::server_auth, s.server_key, 0, w.view());
        out.insert(out.end(), auth.begin(), auth.end());
        return out;
    }

    // server_verdict with any plaintext.
    ByteVec verdict(wire::Bytes plaintext) {
        return handshake::seal_message(handshake::MsgType::server_verdict, block_.get().server_key, 1, plaintext);
    }

    const AuthParts& parts() const { return parts_; }
    handshake::Secrets& secrets() { return block_.get(); }

private:
    const PrivateKey& key_;
    handshake::Random random_{};
    handshake::SecretBlock block_;
    handshake::Transcript transcript_;
    AuthParts parts_;
};

// A client written from the spec: hello() is client_hello, auth() answers the server flight with
// client_auth (without judging the server: the tests that use it are about the server's checks).
class ReferenceClient {
public:
    ReferenceClient(const PrivateKey& key, std::uint64_t seed) : key_(key) {
        DeterministicRng rng(seed);
        rng.fill(random_);
        rng.fill(block_.get().ephemeral);
    }

    ByteVec hello() {
        using namespace handshake;
        share_ = crypto::x25519_public(block_.get().ephemeral);
        ClientHello ch;
        ch.versions = {protocol_version_1};
        ch.suites = {0x0001};
        ch.random = random_;
        ch.shares = {KeyShare{group_x25519, share_}};
        m1_ = write_client_hello(ch);
        return m1_;
    }

    ByteVec auth(wire::Bytes m2, std::string_view account, const AuthOverrides& o = {}) {
        using namespace handshake;
        Secrets& s = block_.get();
        const auto msgs = split_messages(m2);
        REQUIRE(msgs.size() == 2);
        auto sh = parse_server_hello(wire::Bytes(msgs[0]).subspan(header_size));
        REQUIRE(sh);
        REQUIRE(crypto::x25519(s.shared, s.ephemeral, sh->share.first<32>()));
        transcript_.absorb(m1_);
        transcript_.absorb(msgs[0]);
        derive_handshake_secrets(s, transcript_.digest());
        auto plain = open(msgs[1], s.server_key, 0);
        REQUIRE(plain);
        transcript_.absorb(*plain);
        wire::Writer w;
        parts_ = write_reference_auth(s, transcript_, Role::client, account, key_, o, w);
        return seal_message(MsgType::client_auth, s.client_key, 0, w.view());
    }

    // Opens a server_verdict with this session's keys.
    std::optional<ByteVec> open_verdict(wire::Bytes m4) { return open(m4, block_.get().server_key, 1); }
    const AuthParts& parts() const { return parts_; }

private:
    const PrivateKey& key_;
    handshake::Random random_{};
    crypto::X25519Public share_{};
    handshake::SecretBlock block_;
    handshake::Transcript transcript_;
    ByteVec m1_;
    AuthParts parts_;
};

}  // namespace twoway::handshake_test
