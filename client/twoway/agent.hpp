// A client of OpenSSH's ssh-agent (draft-ietf-sshm-ssh-agent, OpenSSH's PROTOCOL.agent): list the
// agent's keys, have one of them sign, and add a key (AddKeysToAgent). Two layers:
//
// - Pure, bounded codecs over one complete message body (the bytes after the u32 length): the reply
//   parsers take untrusted bytes from whatever listens on SSH_AUTH_SOCK and never allocate more than
//   the input justifies; every structure must end exactly where the message does. The request encoders
//   build what AgentClient sends. Fuzzed by fuzz/agent/agent_reply.cpp.
// - AgentClient: one blocking connection to the agent's UNIX socket. Every exchange has a deadline
//   (poll), so a stuck agent cannot hang the client; after any I/O failure the connection is out of step
//   and every later call fails with the first error (failure is sticky).
//
// Bounds are OpenSSH's (authfd.c, ssh-agent.c): a message of at most 256 KiB either way, at most 2048
// identities in a list. Keys other than plain ssh-ed25519 (RSA, ECDSA, sk-, certificates) are listed as
// unusable, never an error for the whole list: OpenSSH skips types it does not know in the same way.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway_client {

// Message numbers (draft-ietf-sshm-ssh-agent section 6.1) that this client sends or accepts.
namespace agent_message {
inline constexpr std::uint8_t failure = 5;
inline constexpr std::uint8_t success = 6;
inline constexpr std::uint8_t request_identities = 11;
inline constexpr std::uint8_t identities_answer = 12;
inline constexpr std::uint8_t sign_request = 13;
inline constexpr std::uint8_t sign_response = 14;
inline constexpr std::uint8_t add_identity = 17;
inline constexpr std::uint8_t add_id_constrained = 25;
// Two more failure codes OpenSSH's client treats as SSH_AGENT_FAILURE (SSH2_AGENT_FAILURE and
// SSH_COM_AGENT2_FAILURE, from agents of old).
inline constexpr std::uint8_t ssh2_failure = 30;
inline constexpr std::uint8_t ssh_com_failure = 102;
}  // namespace agent_message

// Key constraints of SSH_AGENTC_ADD_ID_CONSTRAINED.
namespace agent_constraint {
inline constexpr std::uint8_t lifetime = 1;  // u32 seconds follow
inline constexpr std::uint8_t confirm = 2;
}  // namespace agent_constraint

inline constexpr std::size_t agent_max_message = 256 * 1024;  // OpenSSH's AGENT_MAX_LEN
inline constexpr std::size_t agent_max_identities = 2048;     // OpenSSH's MAX_AGENT_IDENTITIES
inline constexpr std::chrono::milliseconds agent_default_timeout{30'000};

// What went wrong with the agent itself. Broken message structure is reported with the library's
// errors (twoway::errc::short_input, trailing_data, length_too_large, malformed), a signature that
// does not verify with twoway::errc::bad_signature, socket errors as std::system_category() codes.
enum class AgentError {
    failure = 1,       // the agent answered SSH_AGENT_FAILURE: it refused (no such key, locked, denied)
    unexpected_reply,  // a message type that does not answer the request
    not_configured,    // no agent: SSH_AUTH_SOCK unset or empty, or "none"
    timeout,           // no complete reply before the deadline
    closed,            // the agent closed the connection before a complete reply
    message_too_large, // a length above 256 KiB (a reply announced, or a request we were asked to send)
};
}  // namespace twoway_client

template <>
struct std::is_error_code_enum<twoway_client::AgentError> : std::true_type {};

namespace twoway_client {

const std::error_category& agent_category() noexcept;
inline std::error_code make_error_code(AgentError e) noexcept { return {static_cast<int>(e), agent_category()}; }

// One key the agent holds.
struct AgentIdentity {
    std::vector<std::byte> blob;           // the key blob exactly as the agent sent it (sign() takes it back)
    std::string comment;                   // as the agent sent it (no NUL; may hold control characters:
                                           // sanitise before printing)
    std::string type;                      // the blob's key type name ("ssh-rsa", ...) when it is short
                                           // printable text, else empty; for messages only
    std::optional<twoway::PublicKey> key;  // set exactly when the blob is a plain ssh-ed25519 key

    [[nodiscard]] bool usable() const noexcept { return key.has_value(); }
};

// ---- pure codecs (one message body: type byte and payload, no length prefix) ----------------------
// SSH_AGENT_IDENTITIES_ANSWER: byte 12 | u32 count | count * (string blob | string comment).
// Errors: AgentError::failure for a failure reply, unexpected_reply for another type, length_too_large
// for a count above 2048, short_input for a count the remaining bytes cannot hold (each entry takes at
// least 8) or a cut string, malformed for a NUL in a comment, trailing_data.
[[nodiscard]] twoway::Result<std::vector<AgentIdentity>> parse_identities_answer(std::span<const std::byte> body);

// SSH_AGENT_SIGN_RESPONSE: byte 14 | string signature, the signature blob being string "ssh-ed25519" |
// string sig[64], nothing after either. Returns the 64 raw bytes (not verified here: see sign()).
// Errors: as parse_identities_answer, plus unsupported_key_type for a signature of another type,
// malformed for an Ed25519 signature that is not 64 bytes.
[[nodiscard]] twoway::Result<std::array<std::byte, 64>> parse_sign_response(std::span<const std::byte> body);

// The answer to a request that returns only success or failure (ADD_IDENTITY): byte 6, nothing after.
[[nodiscard]] twoway::Status parse_status_reply(std::span<const std::byte> body);

// The inverse of parse_identities_answer, for tests and the fuzzer's round trip (only blob and comment
// are written).
[[nodiscard]] std::vector<std::byte> encode_identities_answer(const std::vector<AgentIdentity>& identities);
// byte 13 | string key_blob | string data | u32 flags. message_too_large when it would exceed 256 KiB.
[[nodiscard]] twoway::Result<std::vector<std::byte>> encode_sign_request(std::span<const std::byte> key_blob,
                                                                        std::span<const std::byte> data,
                                                                        std::uint32_t flags = 0);
// byte 17 (25 with constraints) | string "ssh-ed25519" | string pk[32] | string seed||pk [64] |
// string comment [| byte 1 | u32 lifetime] [| byte 2]. In secure memory: it holds the private key.
// invalid_argument for a NUL in the comment, message_too_large for a comment that does not fit.
[[nodiscard]] twoway::Result<twoway::SecretBuffer> encode_add_identity(const twoway::PrivateKey& key,
                                                                      std::string_view comment,
                                                                      std::optional<std::uint32_t> lifetime_seconds,
                                                                      bool confirm);

// Checks an agent's signature over data with the key it should have been made with: bad_signature when
// it does not verify. sign() already does this; the handshake may call it again on what it sends.
[[nodiscard]] twoway::Status verify_agent_signature(const twoway::PublicKey& key, std::span<const std::byte> data,
                                                    std::span<const std::byte, 64> signature);

// The socket to use. identity_agent: IdentityAgent's value if the config sets one (after the caller's
// ~ and environment expansion); "SSH_AUTH_SOCK" there, or no value, means the environment's
// ssh_auth_sock (getenv("SSH_AUTH_SOCK"), may be null). "none", or no path at all, gives
// AgentError::not_configured.
[[nodiscard]] twoway::Result<std::string> agent_socket_path(std::optional<std::string_view> identity_agent,
                                                            const char* ssh_auth_sock);

// ---- the connection -------------------------------------------------------------------------------
class AgentClient {
public:
    // Connects to the agent's UNIX socket at path. Errors: the connect(2) errno as a system_category code
    // (no_such_file_or_directory when no agent listens there, connection_refused for a stale socket),
    // filename_too_long for a path sockaddr_un cannot hold, AgentError::timeout.
    [[nodiscard]] static twoway::Result<AgentClient> connect(const std::string& path,
                                                             std::chrono::milliseconds timeout = agent_default_timeout);

    AgentClient(AgentClient&& o) noexcept;
    AgentClient& operator=(AgentClient&& o) noexcept;
    AgentClient(const AgentClient&) = delete;
    AgentClient& operator=(const AgentClient&) = delete;
    ~AgentClient();

    // Each call is one request and its reply, within the timeout as a whole.
    [[nodiscard]] twoway::Result<std::vector<AgentIdentity>> list_identities();

    // Has the agent sign data with the key of key_blob (an AgentIdentity's blob). Only Ed25519 can
    // answer: the blob must be a plain ssh-ed25519 key or an ssh-ed25519 certificate (else
    // unsupported_key_type, before anything is sent). The signature is verified with that key before it
    // is returned, so a confused or hostile agent yields bad_signature, never a bad proof on the wire.
    // flags: SSH_AGENTC_SIGN_REQUEST's flags (none apply to Ed25519). AgentError::failure is the
    // agent's refusal for this key, and the connection stays usable: try the next key. OpenSSH's agent
    // refuses a key whose confirmation (ssh-add -c) is denied, and always a key added with destination
    // constraints (ssh-add -h), which it signs with for SSH user authentication only.
    [[nodiscard]] twoway::Result<std::array<std::byte, 64>> sign(std::span<const std::byte> key_blob,
                                                                 std::span<const std::byte> data,
                                                                 std::uint32_t flags = 0);

    // Adds key with comment (AddKeysToAgent): SSH_AGENTC_ADD_IDENTITY, or ADD_ID_CONSTRAINED with a
    // lifetime in seconds and/or confirmation before each use (ssh-add -t / -c). The request is built
    // and sent from secure memory.
    [[nodiscard]] twoway::Status add_identity(const twoway::PrivateKey& key, std::string_view comment,
                                              std::optional<std::uint32_t> lifetime_seconds = std::nullopt,
                                              bool confirm = false);

    [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }
    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }

private:
    AgentClient(int fd, std::chrono::milliseconds timeout) noexcept : fd_(fd), timeout_(timeout) {}
    // Sends one request body (with its length) and returns the reply body; any failure is kept.
    twoway::Result<std::vector<std::byte>> transact(std::span<const std::byte> request);

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::error_code broken_;  // the first I/O failure: the stream is out of step from then on
};

}  // namespace twoway_client
