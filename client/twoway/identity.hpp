// The client's identity key: the first IdentityFile that exists and opens, as ssh tries its keys in
// order. A file that group or others may read is refused with ssh's "UNPROTECTED PRIVATE KEY FILE!"
// warning; an encrypted one asks for its passphrase on /dev/tty (three tries; an empty answer skips
// the key), never in BatchMode. With the key goes its certificate, if one is found: the first of the
// CertificateFile files that certifies this key as a user, else "<IdentityFile>-cert.pub" (ssh's
// rule); the server falls back to the key alone when it does not take the certificate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>

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

}  // namespace twoway_client
