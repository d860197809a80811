// The client's identity key: the first IdentityFile that exists and opens, as ssh tries its keys in
// order. A file that group or others may read is refused with ssh's "UNPROTECTED PRIVATE KEY FILE!"
// warning; an encrypted one asks for its passphrase on /dev/tty (three tries; an empty answer skips
// the key), never in BatchMode.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <twoway/key.hpp>

namespace twoway_client {

struct Identity {
    twoway::PrivateKey key;
    std::string path;
    std::string comment;
};

// Nothing when no file gave a key (the reasons have been printed).
[[nodiscard]] std::optional<Identity> load_identity(const std::vector<std::string>& files, bool batch_mode);

}  // namespace twoway_client
