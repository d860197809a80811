// The client's identity key: the first IdentityFile that exists and opens, as ssh tries its keys in
// order. A file that group or others may read is refused with ssh's "UNPROTECTED PRIVATE KEY FILE!"
// warning; an encrypted one asks for its passphrase on /dev/tty (three tries; an empty answer skips
// the key), never in BatchMode. With the key goes its certificate, if one is found: the first of the
// CertificateFile files that certifies this key as a user, else "<IdentityFile>-cert.pub" (ssh's
// rule); the server falls back to the key alone when it does not take the certificate.
#pragma once

#include <array>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>

#include "agent.hpp"

namespace twoway_client {

struct Identity {
    twoway::PrivateKey key;
    std::string path;
    std::string comment;
    std::optional<twoway::Certificate> certificate;
    std::string certificate_path;
};

// Nothing when no file gave a key (the reasons have been printed; with report_none false, the final
// "no identity key" line only at debug level, for a client that has another method to try).
// prompts: passphrase tries per key (NumberOfPasswordPrompts).
[[nodiscard]] std::optional<Identity> load_identity(const std::vector<std::string>& files, bool batch_mode,
                                                    const std::vector<std::string>& certificate_files = {},
                                                    bool report_none = true, int prompts = 3,
                                                    std::string* none_reason = nullptr);

// The certificate for key among candidates (in order): the first file that holds a user certificate of
// key; files that do not exist are passed over, others that do not fit are reported at debug level
// (explicit ones, from CertificateFile, on stderr).
[[nodiscard]] std::optional<std::pair<twoway::Certificate, std::string>> find_certificate(
    const twoway::PublicKey& key, const std::vector<std::string>& candidates, std::size_t explicit_count);

// One identity to offer: a key read from a file (ref refers to it) or one the agent holds (ref is
// external: the agent signs).
struct IdentityOffer {
    twoway::IdentityRef ref = nullptr;
    std::optional<twoway::Certificate> certificate;
    twoway::PublicKey key;
    std::string source;  // the file, or "agent: <comment>"
    bool agent = false;
    std::vector<std::byte> agent_blob;  // an agent identity: the blob it listed (a key's or a certificate's)
    const Identity* file = nullptr;  // the loaded file key (AddKeysToAgent), null for an agent key
};

struct IdentityChainOptions {
    std::vector<std::string> files;              // IdentityFile, in order
    std::vector<std::string> certificate_files;  // CertificateFile
    bool batch_mode = false;
    int prompts = 3;                             // passphrase tries per key
    bool identities_only = false;                // IdentitiesOnly
    bool report_none = true;                     // say so on stderr when there is no identity at all
};

// The identities offered one after the other (PROTOCOL.md 4.1.3), in ssh's order (sshconnect2.c's
// pubkey_prepare): the agent's usable identities in the agent's order (ssh-ed25519 keys, and user
// certificates of ssh-ed25519 keys, which ssh-add adds beside their key: offered with the certificate),
// except that with IdentitiesOnly only those whose key is also an IdentityFile's; then the IdentityFile
// keys the agent does not hold, each read when its turn comes (an encrypted one asks for its passphrase then, never when the
// agent holds it). A file's public half is read without its passphrase (OpenSSH and twoway files keep
// it in the clear), which is how a key in the agent is recognised as an IdentityFile's.
// Not thread-safe; offers stay valid as long as the chain.
class IdentityChain {
public:
    IdentityChain(IdentityChainOptions options, std::optional<AgentClient> agent);

    // The next identity, or nullptr when none is left (files that cannot be read are passed over, with
    // ssh's messages). The first call also decides `none_reason` when there is none at all.
    const IdentityOffer* next();
    // The identity offered last (nullptr before the first next()).
    [[nodiscard]] const IdentityOffer* current() const noexcept { return current_; }
    // Whether next() may still give another (candidates not tried yet).
    [[nodiscard]] bool more() const noexcept { return !pinned_ && position_ < plan_.size(); }
    // From now on only the current identity: it logged in, and later connections (-L) offer it alone.
    void pin_current() noexcept { pinned_ = true; }
    // The agent's signature for an external identity (NeedSignature), verified.
    [[nodiscard]] twoway::Result<std::array<std::byte, 64>> sign(const twoway::PublicKey& key,
                                                                 std::span<const std::byte> payload);
    // AddKeysToAgent: add the current identity's file key to the agent (nothing for an agent key or
    // without an agent); says why on failure, at debug level as ssh does.
    void add_current_to_agent(bool confirm, std::uint32_t lifetime);
    [[nodiscard]] bool has_agent() const noexcept { return agent_.has_value(); }
    std::string none_reason;

private:
    struct Candidate {
        bool agent = false;
        twoway::PublicKey key;
        std::string comment;
        std::string path;
        std::optional<twoway::Certificate> certificate;  // an agent-held certificate
        std::vector<std::byte> agent_blob;              // what the agent listed (it signs for it)
    };
    IdentityChainOptions options_;
    std::optional<AgentClient> agent_;
    std::vector<Candidate> plan_;
    std::size_t position_ = 0;
    bool any_file_ = false;  // some IdentityFile exists (for the "no identity" message)
    bool pinned_ = false;
    std::deque<Identity> loaded_;
    std::deque<IdentityOffer> offers_;
    const IdentityOffer* current_ = nullptr;
};

// The agent to use, or nothing (no agent configured, or it cannot be reached: said at debug level).
// identity_agent: IdentityAgent's value ("SSH_AUTH_SOCK", "none" or a path).
[[nodiscard]] std::optional<AgentClient> connect_agent(const std::string& identity_agent);

}  // namespace twoway_client
