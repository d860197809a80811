/// @file
/// The twoway handshake (docs/PROTOCOL.md), sans-I/O: the caller moves bytes, the handshake only parses,
/// verifies and produces. Feed received bytes with feed(), send what take_output() returns (one buffer per
/// flight), and look at event() after every call:
/// - WantInput:          send any output, then read more bytes and feed() them
/// - NeedServerVerdict:  (client) is this server key the one we expect? answer accept_server()/reject_server()
/// - NeedSignature:      (client) sign this payload with this identity (an agent's key, IdentityRef::external):
///                       answer provide_signature(), or offer_identity()/give_up()
/// - NeedAnotherIdentity: (client, auth_retry) the server refused the identity and takes another: answer
///                       offer_identity() or give_up()
/// - NeedClientVerdict:  (server) may this key log in to this account? answer authorize()/deny(reason)
/// - NeedPasswordRecord: (server, password mode) the account's OPAQUE record: answer
///                       provide_password_record()/no_password_record()/deny(reason)
/// - HandshakeComplete:  send any output, then take_result() and hand it to the channel
/// - HandshakeFailed:    send any output (the server's generic denial), then close; error() says why
///
/// Failure is sticky. The client reveals nothing about itself (account, key) before accept_server().
/// Neither role reads a clock; randomness comes only from the Rng it is handed. A handshake object is used
/// from one thread at a time (distinct objects are independent).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/channel.hpp>
#include <twoway/export.hpp>
#include <twoway/key.hpp>
#include <twoway/password.hpp>
#include <twoway/random.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway {

// Cipher suites: twoway::Suite is defined with the record layer in <twoway/channel.hpp> (0x0001
// X25519+Ed25519+ChaCha20-Poly1305, the only one implemented; 0x0002 AES-256-GCM and 0x0101 X-Wing are
// reserved numbers this library never offers nor selects).

/// The protocol version this library speaks (u16 on the wire).
inline constexpr std::uint16_t protocol_version_1 = 0x0001;

/// True for suites this library can run.
[[nodiscard]] TWOWAY_API bool suite_supported(Suite s) noexcept;

/// The session id: unique per session, equal on both sides, not secret.
using SessionId = std::array<std::byte, 32>;

// ---- events ----------------------------------------------------------------------------------------
/// Event: the handshake needs more bytes from the peer (send any output first).
struct WantInput {};
/// The most bytes a server's banner may have (PROTOCOL.md 4.3).
inline constexpr std::size_t max_banner_size = 8192;

/// Event (client): the server proved it holds server_key; answer accept_server() or reject_server().
struct NeedServerVerdict {
    PublicKey server_key;  ///< signature and Finished already verified: the server holds this key
    /// The server's identity when it is a host certificate (PROTOCOL.md 4.7): its CA signature is
    /// checked (parse_certificate), its type is host and its key is server_key. Whether its CA is
    /// trusted and whether it fits this host and now (principals, validity) is the verdict's to judge
    /// (check_certificate_use); a caller that trusts plain keys only may judge server_key alone.
    std::optional<Certificate> server_certificate = std::nullopt;
    /// The server's banner (sshd's Banner): 0..max_banner_size bytes, covered by the server's
    /// signature; empty when it sent none. Any bytes: escape it before it reaches a terminal.
    std::string banner{};
    /// Password mode (ClientConfig::password): answer accept_server_with_password() (the host key is
    /// trusted) or defer_server_to_password() (unknown: the password's proof decides), not accept_server().
    bool password_mode = false;
};
/// Event (server, password mode, PROTOCOL.md 4.8): the client asks to log in to account with a
/// password; answer provide_password_record(), no_password_record() or deny().
struct NeedPasswordRecord {
    std::string account;  ///< printable, 1..256 bytes; not verified yet (nothing is, before the record)
};
/// Event (server): the client proved it holds client_key and asks for account; answer authorize() or
/// deny().
struct NeedClientVerdict {
    std::string account;   ///< the account the client asks for (printable, 1..256 bytes)
    PublicKey client_key;  ///< signature and Finished already verified: the client holds this key
    /// The client's identity when it is a user certificate (PROTOCOL.md 4.7): its CA signature is
    /// checked, its type is user and its key is client_key. Whether its CA is trusted and whether it
    /// fits (principals, validity, critical options) is the verdict's to judge (check_certificate_use).
    std::optional<Certificate> client_certificate = std::nullopt;
    /// Password mode: the client proved it knows the account's password (OPAQUE); client_key is then
    /// empty and client_certificate nullopt. The caller applies its account policy.
    bool password = false;
    /// Which client_auth of this connection this is: 1 for the first, more after retries
    /// (ServerConfig::max_auth_tries). Always 1 in password mode.
    std::uint32_t attempt = 1;
    /// A deny() now answers "retry" (the client sent auth_retry and may send another client_auth):
    /// the denial is not the connection's last word.
    bool retry_allowed = false;
};
/// Event (client): the identity being offered is external (IdentityRef::external): sign payload with key's
/// private key (pure Ed25519, as an ssh-agent does) and answer provide_signature(); or offer_identity()
/// another one, or give_up(). The payload is labelled (PROTOCOL.md 6.5) and cannot pass for an SSH
/// signature (PROTOCOL.md 11).
struct NeedSignature {
    PublicKey key;                    ///< the identity's key
    std::vector<std::byte> payload;   ///< what to sign (85 bytes)
};
/// Event (client, ClientConfig::auth_retry): the server refused the identity just offered and takes
/// another (PROTOCOL.md 4.5); answer offer_identity() or give_up().
struct NeedAnotherIdentity {
    std::uint32_t refused = 0;  ///< how many identities this server has refused so far
};
/// Event: the handshake is complete; send any output, then take_result().
struct HandshakeComplete {};
/// Event: the handshake failed (sticky); send any output, then close.
struct HandshakeFailed {
    std::error_code error;  ///< why: a twoway::errc, see error()
};

/// What ClientHandshake::event() reports.
using ClientEvent = std::variant<WantInput, NeedServerVerdict, NeedSignature, NeedAnotherIdentity, HandshakeComplete,
                                 HandshakeFailed>;
/// What ServerHandshake::event() reports.
using ServerEvent = std::variant<WantInput, NeedClientVerdict, NeedPasswordRecord, HandshakeComplete, HandshakeFailed>;

// ---- result ----------------------------------------------------------------------------------------
namespace detail {
struct HandshakeResultAccess;
}

/// What a completed handshake hands on. Move the traffic secrets and the leftover bytes into the channel
/// (Channel::create does). Move-only, since it holds secrets.
class TWOWAY_API HandshakeResult {
public:
    Suite suite = Suite::x25519_ed25519_chacha20poly1305;  ///< the suite both sides agreed on
    PublicKey peer;           ///< the peer's verified identity key (the certified key when its identity is a certificate)
    std::string account;      ///< the account the client was granted (both sides)
    SessionId session_id{};   ///< unique per session, equal on both sides; not secret
    SecretBytes<64> send_secret;  ///< application traffic secret for what this side sends
    SecretBytes<64> recv_secret;  ///< application traffic secret for what this side receives
    std::vector<std::byte> leftover;  ///< bytes received after the last handshake message: records for the channel
    /// Server side: the client's client_hello carried host_keys (PROTOCOL.md 4.1.2), so it accepts the
    /// session's HOSTKEYS (session::SessionServer::accept_with_host_keys); never send it otherwise.
    bool client_accepts_host_keys = false;
    /// Both sides: the client authenticated with a password (OPAQUE, PROTOCOL.md 4.8); peer is then the
    /// server's host key on the client and empty on the server.
    bool password = false;
    /// Client side, password mode: the caller deferred the host key to the password
    /// (defer_server_to_password) and the server proved the account's OPAQUE record, which only the
    /// server the password was registered with holds. False otherwise.
    bool host_proven_by_password = false;

    /// Keying material exporter (channel binding), equal on both sides for equal arguments.
    /// label: 1..245 bytes; context: any size (hashed); length: 1..16320 bytes. errc::invalid_argument
    /// otherwise, and for a result without an exporter (an early result, ClientHandshake::take_early_result).
    [[nodiscard]] Result<SecretBuffer> exporter(std::string_view label, std::span<const std::byte> context,
                                                std::size_t length) const;

private:
    friend struct detail::HandshakeResultAccess;
    // The handshake's secure block, of which only the first 64 bytes (the exporter secret) are still
    // set: reusing it saves a secure allocation (several system calls) per handshake.
    SecretBuffer exporter_secret_;
};

// ---- configuration ---------------------------------------------------------------------------------
/// The client's identity key, by reference; or an external one, whose private key is elsewhere (an
/// ssh-agent's) and which the caller signs with on NeedSignature; or none (password mode). Converts from
/// a PrivateKey, so that `{.identity = key, ...}` reads as before.
class IdentityRef {
public:
    /// Refers to key, which must outlive the handshake.
    IdentityRef(const PrivateKey& key) noexcept : key_(&key) {}  // NOLINT(google-explicit-constructor)
    /// No identity key (password mode only).
    IdentityRef(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
    /// An external identity: key (copied) is offered, and the handshake asks the caller for the signature
    /// (NeedSignature) instead of signing itself.
    [[nodiscard]] static IdentityRef external(const PublicKey& key) noexcept {
        IdentityRef r(nullptr);
        r.external_ = key;
        r.is_external_ = true;
        return r;
    }
    /// The key, or nullptr for none (and for an external identity).
    [[nodiscard]] const PrivateKey* get() const noexcept { return key_; }
    /// The external identity's key, or nullptr when this is not one.
    [[nodiscard]] const PublicKey* external_key() const noexcept { return is_external_ ? &external_ : nullptr; }
    /// True for a private key or an external identity.
    [[nodiscard]] bool present() const noexcept { return key_ != nullptr || is_external_; }

private:
    const PrivateKey* key_ = nullptr;
    PublicKey external_{};
    bool is_external_ = false;
};

/// The server's OPAQUE key material (PROTOCOL.md 4.8): the OPRF seed (one for all accounts) and the
/// AKE private key (a ristretto255 scalar, RFC 9807's serialization).
struct PasswordServerKeys {
    SecretBytes<64> oprf_seed;    ///< the OPRF seed, from which each account's OPRF key is derived
    SecretBytes<32> private_key;  ///< the AKE private key (its public key is derived)
};

/// The client's configuration.
struct ClientConfig {
    IdentityRef identity = nullptr;  ///< must outlive the handshake; may be nullptr in password mode only
    std::string account;         ///< printable, 1..256 bytes
    std::vector<Suite> suites = {Suite::x25519_ed25519_chacha20poly1305};  ///< in preference order; distinct, implemented
    /// The server key the caller already trusts for this host (from known_hosts), if any. client_hello's
    /// host_key_mac (PROTOCOL.md 4.1.1) then proves knowledge of it, which a server in stealth mode
    /// requires before it answers at all; without it host_key_mac is random bytes, so the two cases look
    /// alike on the wire. The proof changes nothing else: the verdict is still asked for.
    std::optional<PublicKey> known_server_key = std::nullopt;
    /// A user certificate to present as the identity instead of the plain key (PROTOCOL.md 4.7). It
    /// must certify identity's key and be of type user; otherwise the handshake starts failed with
    /// invalid_argument. Its blob is re-read with parse_certificate at construction, so only a blob
    /// whose CA signature verifies is ever sent.
    std::optional<Certificate> certificate = std::nullopt;
    /// Send the host_keys extension (PROTOCOL.md 4.1.2): this client accepts the session's HOSTKEYS
    /// message (session::SessionClient::allow_host_keys) and learns the server's other host keys. Off
    /// by default, so that a library client's client_hello stays the 101 bytes of 4.1.
    bool host_keys = false;
    /// Password mode (PROTOCOL.md 4.8): send the password extension and log in with the account's
    /// password (OPAQUE) instead of identity, which is not used (certificate must then be absent).
    /// Costs a round trip more than key mode. The password is asked for at the server verdict.
    bool password = false;
    /// Send the auth_retry extension (PROTOCOL.md 4.1.3): after refusing an identity, the server may
    /// take another (NeedAnotherIdentity), up to its own limit. A client that may offer another
    /// identity must not take the early result before the verdict: a retry after take_early_result()
    /// fails the handshake with auth_denied (the server refuses records in place of client_auth).
    bool auth_retry = false;
};

/// The server's configuration.
struct ServerConfig {
    const PrivateKey& host_key;  ///< must outlive the handshake
    std::vector<Suite> suites = {Suite::x25519_ed25519_chacha20poly1305};  ///< acceptable suites (the client's order decides)
    /// Stealth mode (PROTOCOL.md 4.1.1): a client_hello without a valid host_key_mac for host_key fails
    /// with host_key_mac_invalid and nothing is sent, so that a client that does not know the host key
    /// cannot tell a twoway server from a silent port.
    bool stealth = false;
    /// A host certificate to present as the identity instead of the plain key (PROTOCOL.md 4.7): it
    /// must certify host_key and be of type host, or the handshake starts failed with invalid_argument.
    /// Stealth mode still proves the plain host_key (4.1.1): a client that trusts only the CA cannot
    /// prove it, so a stealth server is reachable only by clients that know its plain key.
    std::optional<Certificate> host_certificate = std::nullopt;
    /// The banner sent in server_auth (sshd's Banner; PROTOCOL.md 4.3) before the client has said who it
    /// is: at most max_banner_size bytes (more: the handshake starts failed with invalid_argument); empty
    /// sends none.
    std::string banner{};
    /// Password mode (PROTOCOL.md 4.8): the OPAQUE keys; must outlive the handshake. nullptr: password
    /// mode is off, and a client_password gets the generic denial.
    const PasswordServerKeys* password_keys = nullptr;
    /// The KSF parameters of the fake response for an account without a record (no_password_record).
    /// Records registered with other parameters are thereby distinguishable from unknown accounts.
    PasswordKsf password_default_ksf = default_password_ksf();
    /// How many client_auth messages one connection may make (sshd's MaxAuthTries), if the client sent
    /// auth_retry (PROTOCOL.md 4.1.3): deny() before the last one answers "retry" and waits for another
    /// client_auth. 1 (and 0): every denial is final. Key mode only.
    std::uint32_t max_auth_tries = 1;
};

// ---- the two roles -----------------------------------------------------------------------------
/// The client. Its first flight (client_hello) is in take_output() right after construction. A config
/// the library cannot honour (bad account, no implemented suite, a certificate that is not a user
/// certificate of the identity's key) starts the handshake failed with invalid_argument.
class TWOWAY_API ClientHandshake {
public:
    /// Starts the handshake and writes client_hello. config is copied, except config.identity, which is
    /// referenced and must outlive the handshake (as must an identity given to offer_identity); rng is
    /// used here only.
    ClientHandshake(const ClientConfig& config, Rng& rng);
    ~ClientHandshake();
    /// Moves the handshake; the moved-from object may only be assigned to or destroyed.
    ClientHandshake(ClientHandshake&&) noexcept;
    /// @copydoc ClientHandshake(ClientHandshake&&)
    ClientHandshake& operator=(ClientHandshake&&) noexcept;

    /// Bytes received from the server, in any pieces. Returns the handshake's error when this (or an
    /// earlier call) made it fail. Once complete, further bytes join the result's leftover until
    /// take_result(), and are errc::bad_state after it.
    Status feed(std::span<const std::byte> bytes);
    /// The transport ended: truncated unless the handshake is already complete (or failed).
    Status end_of_input();
    /// Bytes to send now (empty when there is nothing); one flight per call.
    [[nodiscard]] std::vector<std::byte> take_output();

    /// What the caller is to do next (see the file's description).
    [[nodiscard]] ClientEvent event() const;
    /// True once the handshake is complete (event() is HandshakeComplete).
    [[nodiscard]] bool complete() const noexcept;
    /// Why the handshake failed; empty unless failed.
    [[nodiscard]] std::error_code error() const noexcept;

    /// Verdict on NeedServerVerdict: accept produces client_auth (account, identity, signature,
    /// Finished); reject makes the handshake fail with host_key_rejected and produces nothing. Both
    /// return bad_state in other states.
    Status accept_server();
    /// @copydoc accept_server()
    Status reject_server();
    /// Password mode's verdicts on NeedServerVerdict (PROTOCOL.md 4.8): both produce client_password
    /// (account, OPAQUE KE1). accept_server_with_password: the host key is trusted;
    /// defer_server_to_password: it is not known, and the handshake continues; the result's
    /// host_proven_by_password then says the server proved the account's password record. The password
    /// is copied into secure memory. bad_state outside password mode's verdict.
    Status accept_server_with_password(std::span<const std::byte> password);
    /// @copydoc accept_server_with_password()
    Status defer_server_to_password(std::span<const std::byte> password);

    /// On NeedSignature: the 64-byte Ed25519 signature of its payload by its key. It is verified (strictly,
    /// PROTOCOL.md 7.3) before client_auth is written: a wrong one fails the handshake with bad_signature,
    /// a length other than 64 is invalid_argument (and fails it too). bad_state in other states.
    Status provide_signature(std::span<const std::byte> signature);
    /// On NeedAnotherIdentity (or NeedSignature, to skip the identity that waits for its signature): offer
    /// this identity (and certificate, a user certificate of its key) instead. A private key signs at
    /// once and client_auth is written; an external one asks for its signature (NeedSignature). A
    /// certificate that does not fit is invalid_argument and changes nothing; bad_state in other states
    /// and in password mode.
    Status offer_identity(IdentityRef identity, const std::optional<Certificate>& certificate = std::nullopt);
    /// On NeedAnotherIdentity or NeedSignature: no more identities; the handshake fails with auth_denied
    /// and sends nothing more. bad_state in other states.
    Status give_up();

    /// Once complete: the result (exactly once; bad_state otherwise).
    [[nodiscard]] Result<HandshakeResult> take_result();

    /// Early data (PROTOCOL.md 1.2, 7.1): once accept_server() has produced client_auth, the application
    /// traffic secrets exist, since they depend on the transcript up to client_auth only. A client that
    /// sends its first records right behind client_auth, instead of waiting for server_verdict, saves a
    /// round trip. take_early_result() hands over the suite, the server key, the account, the session id
    /// and both traffic secrets (build the Channel from them now; no exporter or leftover yet), exactly
    /// once, while the verdict is outstanding (early_data_ready()); bad_state otherwise.
    /// Keep feeding the server's bytes to the handshake until it completes or fails. Complete: the
    /// server accepted; take_result() then holds the exporter and the leftover bytes (the server's first
    /// records, for that Channel), its traffic secrets are all zero. Failed with auth_denied: the server
    /// refused the client and discarded the early records unread. The server is already authenticated
    /// when the early records leave, so they go only to the key the caller accepted.
    [[nodiscard]] Result<HandshakeResult> take_early_result();
    /// True while take_early_result() would succeed: client_auth is written, the verdict outstanding and
    /// the early result not taken yet.
    [[nodiscard]] bool early_data_ready() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The server. Feed it the client's bytes; it answers client_hello with its flight (server_hello and the
/// encrypted server_auth) and, after a valid client_auth and the caller's verdict, with server_verdict.
/// Once it has sent server_auth, any failure (bad client proof, deny(), malformed input) sends the one
/// generic, encrypted denial; the detail stays here (error(), denial_reason()).
class TWOWAY_API ServerHandshake {
public:
    /// Waits for client_hello. config is copied, except config.host_key, which is referenced and must
    /// outlive the handshake, as must rng (drawn from when client_hello arrives). A config the library
    /// cannot honour (no implemented suite, a certificate that is not a host certificate of host_key, a
    /// banner over max_banner_size) starts the handshake failed with invalid_argument.
    ServerHandshake(const ServerConfig& config, Rng& rng);
    ~ServerHandshake();
    /// Moves the handshake; the moved-from object may only be assigned to or destroyed.
    ServerHandshake(ServerHandshake&&) noexcept;
    /// @copydoc ServerHandshake(ServerHandshake&&)
    ServerHandshake& operator=(ServerHandshake&&) noexcept;

    /// Bytes received from the client, in any pieces. Returns the handshake's error when this (or an
    /// earlier call) made it fail. Once complete, further bytes join the result's leftover until
    /// take_result(), and are errc::bad_state after it.
    Status feed(std::span<const std::byte> bytes);
    /// The transport ended: truncated unless the handshake is already complete (or failed); after
    /// server_auth that failure also produces the generic denial.
    Status end_of_input();
    /// Bytes to send now (empty when there is nothing); one flight per call.
    [[nodiscard]] std::vector<std::byte> take_output();

    /// What the caller is to do next (see the file's description).
    [[nodiscard]] ServerEvent event() const;
    /// True once the handshake is complete (event() is HandshakeComplete).
    [[nodiscard]] bool complete() const noexcept;
    /// Why the handshake failed; empty unless failed.
    [[nodiscard]] std::error_code error() const noexcept;

    /// Verdict on NeedClientVerdict. authorize() sends the acceptance and completes; deny() sends the
    /// generic denial and fails with auth_denied, keeping reason for the log (an empty one becomes
    /// "denied"), except while the client may retry (ServerConfig::max_auth_tries): deny() then sends
    /// "retry" and the handshake waits for the next client_auth (event WantInput; denial_reason() holds
    /// the reason). bad_state in other states.
    Status authorize();
    /// @copydoc authorize()
    Status deny(std::string reason);
    /// Answers to NeedPasswordRecord (PROTOCOL.md 4.8). provide_password_record: the account's record
    /// (RFC 9807's 192-byte serialization; invalid_argument and the generic denial if it does not parse)
    /// and its Argon2id parameters; no_password_record: the account has none, and a fake response that
    /// costs the same is sent, so that the client cannot tell (deny() refuses at once instead). Then
    /// NeedClientVerdict follows a correct password. bad_state in other states.
    Status provide_password_record(std::span<const std::byte> record, PasswordKsf ksf);
    /// @copydoc provide_password_record()
    Status no_password_record();
    /// Why the client was refused, for the log only (never sent): the deny() reason or the error text.
    [[nodiscard]] const std::string& denial_reason() const noexcept;

    /// Once complete: the result (exactly once; bad_state otherwise).
    [[nodiscard]] Result<HandshakeResult> take_result();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace twoway
