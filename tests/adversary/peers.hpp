// Scripted peers built from the protocol's pieces (messages, key schedule, AEAD), not from the state
// machines: they follow docs/PROTOCOL.md step by step but hold the session keys themselves, so a case
// can put anything into an encrypted message (a spliced signature, trailing plaintext, another
// account) and still have it authenticate at the AEAD layer, which is what reaches the deeper checks.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>

#include "handshake/framing.hpp"
#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"
#include "net.hpp"
#include "opaque/opaque.hpp"

namespace adversary {

namespace hs = twoway::handshake;

// What an authentication message may carry instead of the honest value.
struct AuthEdits {
    std::optional<ByteVec> account_field = std::nullopt;   // client only: raw bytes in place of string(account)
    std::optional<ByteVec> identity = std::nullopt;        // identity blob
    std::optional<ByteVec> signature_blob = std::nullopt;  // SSH signature blob
    std::optional<std::array<std::byte, 64>> finished = std::nullopt;
    const twoway::PrivateKey* signer = nullptr;  // sign with this key instead of the identity's own
    ByteVec trailing = {};                        // plaintext bytes after the last field
};

// The honest values an authentication message carried (for splicing into another session).
struct AuthParts {
    ByteVec signature_blob;
    std::array<std::byte, 64> finished{};
};

// Splits a flight into its framed messages (stops at a header that runs past the end).
[[nodiscard]] std::vector<ByteVec> split_messages(const ByteVec& flight);
// Opens an encrypted handshake message (header included) under k at seq.
[[nodiscard]] std::optional<ByteVec> open_message(const ByteVec& msg, const hs::TrafficKey& k, std::uint64_t seq);
// A framed message with any type and body (lengths unchecked: the header says body.size()).
[[nodiscard]] ByteVec frame(std::uint8_t type, const ByteVec& body);
// A header whose length field says `length`, with no body.
[[nodiscard]] ByteVec header(std::uint8_t type, std::uint32_t length);

class RefClient {
public:
    RefClient(const twoway::PrivateKey& key, twoway::Rng& rng);

    // client_hello, after `edit` changed the honest fields.
    ByteVec hello(const std::function<void(hs::ClientHello&)>& edit = {});
    // The server's flight (server_hello | server_auth): derives the handshake keys and opens server_auth.
    // errc::decrypt_failed / malformed / weak_public_key on failure.
    twoway::Status take_flight(const ByteVec& flight);
    [[nodiscard]] const twoway::PublicKey& server_key() const noexcept { return server_key_; }
    // client_auth for `account` with the edits, sealed with sequence number seq (a retry's: 4.6).
    ByteVec auth(std::string_view account, const AuthEdits& e = {}, std::uint64_t seq = 0);
    // The sequence number open_verdict() expects (1; one more after each retry verdict).
    void set_verdict_seq(std::uint64_t seq) noexcept { verdict_seq_ = seq; }
    // The verdict's plaintext, if it opens under this session's keys.
    [[nodiscard]] std::optional<ByteVec> open_verdict(const ByteVec& msg) const;
    // After auth(): the application keys this client holds (whatever the server will decide), as a
    // channel, to send records right behind client_auth. open_verdict() still works afterwards.
    [[nodiscard]] std::optional<twoway::Channel> app_channel();
    [[nodiscard]] const AuthParts& parts() const noexcept { return parts_; }

    // ---- password mode (PROTOCOL.md 4.8), after take_flight() of a hello with the password extension
    // client_password for `account` with KE1 from `password`, or `ke1` (raw bytes) in its place.
    ByteVec password(std::string_view account, std::string_view password, const std::optional<ByteVec>& ke1 = std::nullopt);
    // Any message sealed under the client's handshake key at seq (e.g. client_auth or client_password
    // with any plaintext, where the state machine would not write it).
    [[nodiscard]] ByteVec seal(hs::MsgType t, std::uint64_t seq, const ByteVec& plaintext) const;
    // server_password (whole message): opens it, runs OPAQUE's ClientFinish (its Argon2id costs, as
    // sent), keys the session as the real client does. errc of the first step that failed.
    twoway::Status take_server_password(const ByteVec& msg);
    // The plaintext of server_password, once opened.
    [[nodiscard]] const ByteVec& server_password_plain() const noexcept { return sp_plain_; }
    // client_password_finish (KE3 | finished, the honest values), after `edit` changed the plaintext.
    ByteVec password_finish(const std::function<void(ByteVec&)>& edit = {});

private:
    const twoway::PrivateKey& key_;
    hs::Random random_{};
    hs::SecretBlock block_;
    hs::Transcript transcript_;
    ByteVec m1_;
    std::string pw_account_;
    std::optional<twoway::opaque::ClientLoginState> login_;
    std::array<std::byte, hs::hash_size> pw_context_{};
    ByteVec sp_plain_;
    ByteVec finish_plain_;
    std::uint64_t verdict_seq_ = 1;
    twoway::PublicKey server_key_;
    AuthParts parts_;
};

class RefServer {
public:
    RefServer(const twoway::PrivateKey& host_key, twoway::Rng& rng);

    struct Flight {
        ByteVec hello;
        ByteVec auth;
    };
    // Answers client_hello (whole message) with server_hello and server_auth carrying the edits.
    twoway::Result<Flight> answer(const ByteVec& m1, const AuthEdits& e = {});
    // server_verdict with any plaintext.
    [[nodiscard]] ByteVec verdict(const ByteVec& plaintext) const;
    [[nodiscard]] const AuthParts& parts() const noexcept { return parts_; }
    // Any message sealed under the server's handshake key at seq (server_password at 1, say).
    [[nodiscard]] ByteVec seal(hs::MsgType t, std::uint64_t seq, const ByteVec& plaintext) const;
    // A client message opened under the client's handshake key at seq.
    [[nodiscard]] std::optional<ByteVec> open_client(const ByteVec& msg, std::uint64_t seq) const;

private:
    const twoway::PrivateKey& key_;
    hs::Random random_{};
    hs::SecretBlock block_;
    hs::Transcript transcript_;
    AuthParts parts_;
};

}  // namespace adversary
