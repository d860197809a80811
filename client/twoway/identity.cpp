#include "identity.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <span>
#include <string_view>
#include <system_error>

#include <sys/stat.h>

#include <twoway/file.hpp>
#include <twoway/key_file.hpp>
#include <twoway/text.hpp>
#include <twoway/key.hpp>
#include <twoway/secret.hpp>

#include "log.hpp"
#include "terminal.hpp"

namespace twoway_client {

using twoway::errc;
using twoway::decode_private_key;
using twoway::fingerprint_sha256;
using twoway::inspect_private_key;
using twoway::read_private_key_file;

namespace {

// -v's line for a certificate about to be offered, from a file or from the agent (source names it).
void log_certificate_offer(const std::string& source, const twoway::Certificate& c) {
    log::debug(1, "Will offer certificate: " + source + " ID \"" + twoway::log_text(c.key_id) + "\" serial " +
                      std::to_string(c.serial) + " CA ED25519 " + fingerprint_sha256(c.signature_key));
}

void warn_unprotected(const std::string& path) {
    struct stat st {};
    char mode[8] = "?";
    if (::stat(path.c_str(), &st) == 0) std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    std::string w;
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\n";
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "Permissions " + std::string(mode) + " for '" + path + "' are too open.\n";
    w += "It is required that your private key files are NOT accessible by others.\n";
    w += "This private key will be ignored (fix it with: chmod 600 " + path + ").\n";
    w += "Load key \"" + path + "\": bad permissions";
    log::block(w);
}

// Wipes a std::string that held key file text.
struct Wiped {
    std::string& s;
    ~Wiped() { twoway::wipe(std::as_writable_bytes(std::span(s))); }
};

// An identity file's text, or nothing when it cannot be read, said as ssh says it (a missing file at
// debug level only; ssh's warning for one others may read). exists: there was a file at all.
std::optional<std::string> read_identity_text(const std::string& path, bool& exists) {
    auto text = read_private_key_file(path);
    if (text) {
        exists = true;
        return std::move(*text);
    }
    const auto ec = text.error();
    exists = ec != std::errc::no_such_file_or_directory;
    if (!exists) {
        log::debug(1, "identity file " + path + " does not exist");
    } else if (ec == errc::insecure_permissions) {
        warn_unprotected(path);
    } else {
        log::line("Load key \"" + path + "\": " + ec.message());
    }
    return std::nullopt;
}

std::optional<Identity> decode(const std::string& path, std::string& text, bool batch_mode, int passphrase_prompts) {
    Wiped wiped{text};
    auto info = inspect_private_key(text);
    if (!info) {
        log::line("Load key \"" + path + "\": " + info.error().message());
        return std::nullopt;
    }
    if (!info->encrypted) {
        auto key = decode_private_key(text, {});
        if (!key) {
            log::line("Load key \"" + path + "\": " + key.error().message());
            return std::nullopt;
        }
        return Identity{std::move(key->key), path, std::move(key->comment), std::nullopt, {}};
    }
    if (batch_mode) {
        log::debug(1, "identity " + path + " is encrypted and BatchMode is set: skipped");
        return std::nullopt;
    }
    auto tty = terminal::Tty::open();
    if (!tty) {
        log::debug(1, "identity " + path + " is encrypted and there is no terminal for its passphrase: skipped");
        return std::nullopt;
    }
    for (int i = 0; i < passphrase_prompts; ++i) {
        auto pass = tty->read_secret("Enter passphrase for key '" + path + "': ");
        if (!pass || pass->empty()) {
            log::debug(2, "no passphrase given, try next key");
            return std::nullopt;
        }
        const std::string_view pv(reinterpret_cast<const char*>(pass->data()), pass->size());
        auto key = decode_private_key(text, pv);
        if (key) return Identity{std::move(key->key), path, std::move(key->comment), std::nullopt, {}};
        if (key.error() != errc::wrong_passphrase) {
            log::line("Load key \"" + path + "\": " + key.error().message());
            return std::nullopt;
        }
        log::debug(2, "bad passphrase given, try again...");
    }
    log::line("Load key \"" + path + "\": incorrect passphrase supplied to decrypt private key");
    return std::nullopt;
}

}  // namespace

std::optional<std::pair<twoway::Certificate, std::string>> find_certificate(
    const twoway::PublicKey& key, const std::vector<std::string>& candidates, std::size_t explicit_count) {
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::string& path = candidates[i];
        const bool explicit_file = i < explicit_count;
        const auto report = [&](const std::string& why) {
            if (explicit_file) {
                log::line("Load certificate \"" + path + "\": " + why);
            } else {
                log::debug(1, "certificate " + path + ": " + why);
            }
        };
        auto file = twoway::read_file(path, 2 * twoway::max_certificate_size + 4096);
        if (!file) {
            if (file.error() == std::errc::no_such_file_or_directory) {
                log::debug(1, "certificate file " + path + " does not exist");
            } else {
                report(file.error().message());
            }
            continue;
        }
        std::string_view text = file->text;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
        std::string why;
        auto line = twoway::parse_certificate_line(text, &why);
        if (!line) {
            report(why.empty() ? line.error().message() : why);
            continue;
        }
        if (line->certificate.key != key) {
            report("certifies another key (" + fingerprint_sha256(line->certificate.key) + ")");
            continue;
        }
        if (line->certificate.type != twoway::CertificateType::user) {
            report("a host certificate, not a user certificate");
            continue;
        }
        return std::make_pair(std::move(line->certificate), path);
    }
    return std::nullopt;
}

std::optional<Identity> load_identity(const std::vector<std::string>& files, bool batch_mode,
                                      const std::vector<std::string>& certificate_files, bool report_none,
                                      int prompts, std::string* none_reason) {
    bool any_file = false;
    for (const auto& path : files) {
        bool exists = false;
        auto text = read_identity_text(path, exists);
        any_file = any_file || exists;
        if (!text) continue;
        auto id = decode(path, *text, batch_mode, prompts);
        if (!id) continue;
        log::debug(1, "Will offer public key: " + path + " ED25519 " + fingerprint_sha256(id->key.public_key()));
        std::vector<std::string> candidates = certificate_files;
        candidates.push_back(path + "-cert.pub");
        if (auto cert = find_certificate(id->key.public_key(), candidates, certificate_files.size())) {
            id->certificate = std::move(cert->first);
            id->certificate_path = std::move(cert->second);
            log_certificate_offer(id->certificate_path, *id->certificate);
        }
        return id;
    }
    if (!any_file) {
        std::string tried;
        for (const auto& p : files) tried += (tried.empty() ? "" : ", ") + p;
        const std::string none = "no identity key (tried " + tried + "); create one with twoway-keygen";
        if (none_reason != nullptr) *none_reason = none;
        if (report_none) {
            log::error(none);
        } else {
            log::debug(1, none);
        }
    } else if (report_none) {
        if (none_reason != nullptr) *none_reason = "no usable identity key";
        log::error("no usable identity key");
    } else {
        if (none_reason != nullptr) *none_reason = "no usable identity key";
        log::debug(1, "no usable identity key");
    }
    return std::nullopt;
}

// ---- several identities ---------------------------------------------------------------------------

std::optional<AgentClient> connect_agent(const std::string& identity_agent) {
    const std::optional<std::string_view> configured =
        identity_agent == "SSH_AUTH_SOCK" ? std::nullopt : std::optional<std::string_view>(identity_agent);
    auto path = agent_socket_path(configured, std::getenv("SSH_AUTH_SOCK"));
    if (!path) {
        log::debug(2, "no agent: " + path.error().message());
        return std::nullopt;
    }
    auto agent = AgentClient::connect(*path);
    if (!agent) {
        log::debug(1, "agent " + twoway::log_text(*path) + ": " + agent.error().message());
        return std::nullopt;
    }
    return std::move(*agent);
}

IdentityChain::IdentityChain(IdentityChainOptions options, std::optional<AgentClient> agent)
    : options_(std::move(options)), agent_(std::move(agent)) {
    // The files' public halves, read without a passphrase.
    std::vector<Candidate> files;
    for (const auto& path : options_.files) {
        bool exists = false;
        auto text = read_identity_text(path, exists);
        any_file_ = any_file_ || exists;
        if (!text) continue;
        Wiped wiped{*text};
        auto info = inspect_private_key(*text);
        if (!info) {
            log::line("Load key \"" + path + "\": " + info.error().message());
            continue;
        }
        files.push_back(Candidate{false, info->public_key, info->comment, path, std::nullopt, {}});
    }
    // The agent's keys first (its order), the files' among them taken out of the file list.
    if (agent_) {
        auto ids = agent_->list_identities();
        if (!ids) {
            log::debug(1, "agent: cannot list its keys: " + ids.error().message());
        } else {
            // The IdentityFile keys, for IdentitiesOnly (a certificate's key may be one the agent also
            // holds plain, which takes the file out of the list below).
            std::vector<twoway::PublicKey> file_keys;
            for (const auto& f : files) file_keys.push_back(f.key);
            const auto is_file_key = [&](const twoway::PublicKey& k) {
                return std::find(file_keys.begin(), file_keys.end(), k) != file_keys.end();
            };
            for (auto& id : *ids) {
                if (id.type == twoway::ssh_ed25519_cert_name) {
                    // A certificate the agent holds with its private key (ssh-add adds one found beside
                    // the key file): offered as such, the agent signing for the certificate's blob.
                    auto cert = twoway::parse_certificate(id.blob);
                    if (!cert || cert->type != twoway::CertificateType::user) {
                        log::debug(2, "agent certificate \"" + twoway::log_text(id.comment) + "\": " +
                                          (cert ? std::string("a host certificate, skipped")
                                                : "unreadable (" + cert.error().message() + "), skipped"));
                        continue;
                    }
                    if (options_.identities_only && !is_file_key(cert->key)) {
                        log::debug(2, "agent certificate of " + fingerprint_sha256(cert->key) +
                                          ": not an IdentityFile's key (IdentitiesOnly)");
                        continue;
                    }
                    const twoway::PublicKey key = cert->key;
                    plan_.push_back(Candidate{true, key, id.comment, {}, std::move(*cert), std::move(id.blob)});
                    continue;
                }
                if (!id.usable()) {
                    log::debug(2, "agent key " + twoway::log_text(id.type) + " \"" + twoway::log_text(id.comment) +
                                      "\": not an Ed25519 key, skipped");
                    continue;
                }
                auto in_files = std::find_if(files.begin(), files.end(), [&](const Candidate& c) { return c.key == *id.key; });
                if (in_files == files.end() && options_.identities_only) {
                    log::debug(2, "agent key " + fingerprint_sha256(*id.key) + ": not an IdentityFile (IdentitiesOnly)");
                    continue;
                }
                std::string comment = in_files != files.end() ? in_files->path : id.comment;
                if (in_files != files.end()) files.erase(in_files);
                plan_.push_back(Candidate{true, *id.key, std::move(comment), {}, std::nullopt, std::move(id.blob)});
            }
        }
    }
    for (auto& f : files) plan_.push_back(std::move(f));
}

const IdentityOffer* IdentityChain::next() {
    if (pinned_) return nullptr;
    while (position_ < plan_.size()) {
        const Candidate& c = plan_[position_++];
        IdentityOffer offer;
        offer.key = c.key;
        if (c.agent) {
            offer.ref = twoway::IdentityRef::external(c.key);  // the key is copied into the reference
            offer.agent = true;
            offer.agent_blob = c.agent_blob;
            offer.certificate = c.certificate;
            offer.source = "agent: " + twoway::log_text(c.comment);
            if (c.certificate) {
                log_certificate_offer(offer.source, *c.certificate);
            } else {
                log::debug(1, "Will offer public key: " + offer.source + " ED25519 " + fingerprint_sha256(c.key));
            }
        } else {
            auto id = load_identity({c.path}, options_.batch_mode, options_.certificate_files, false, options_.prompts);
            if (!id) continue;
            const Identity& kept = loaded_.emplace_back(std::move(*id));
            offer.ref = kept.key;
            offer.certificate = kept.certificate;
            offer.source = kept.path;
            offer.file = &kept;
        }
        current_ = &offers_.emplace_back(std::move(offer));
        return current_;
    }
    if (current_ == nullptr && none_reason.empty()) {
        std::string tried;
        for (const auto& p : options_.files) tried += (tried.empty() ? "" : ", ") + p;
        none_reason = any_file_ || !plan_.empty() ? "no usable identity key"
                                                  : "no identity key (tried " + tried + "); create one with twoway-keygen";
        if (options_.report_none) {
            log::error(none_reason);
        } else {
            log::debug(1, none_reason);
        }
    }
    return nullptr;
}

twoway::Result<std::array<std::byte, 64>> IdentityChain::sign(const twoway::PublicKey& key,
                                                              std::span<const std::byte> payload) {
    if (!agent_) return twoway::fail(make_error_code(AgentError::not_configured));
    // The blob the agent listed for the offer being made (a certificate's: the agent may hold the
    // certificate's key under it alone); the plain key's otherwise.
    const std::vector<std::byte> blob =
        current_ != nullptr && current_->agent && current_->key == key && !current_->agent_blob.empty()
            ? current_->agent_blob
            : key.blob();
    auto sig = agent_->sign(blob, payload);
    if (!sig) log::debug(1, "agent refused to sign with " + fingerprint_sha256(key) + ": " + sig.error().message());
    return sig;
}

void IdentityChain::add_current_to_agent(bool confirm, std::uint32_t lifetime) {
    if (!agent_ || current_ == nullptr || current_->file == nullptr) return;
    const Identity& id = *current_->file;
    const std::optional<std::uint32_t> life = lifetime != 0 ? std::optional<std::uint32_t>(lifetime) : std::nullopt;
    auto added = agent_->add_identity(id.key, id.path, life, confirm);
    if (!added) {
        log::debug(1, "could not add identity to the agent: " + id.path + " (" + added.error().message() + ")");
        return;
    }
    log::debug(1, "Identity added: " + id.path + " (ED25519 " + fingerprint_sha256(id.key.public_key()) + ")" +
                      (confirm ? " (confirm)" : "") + (life ? " (lifetime " + std::to_string(*life) + "s)" : ""));
}

}  // namespace twoway_client
