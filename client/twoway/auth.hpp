// Which authentication method each connection uses (a twoway handshake carries one), and the password
// prompt. PreferredAuthentications orders the methods, as in ssh: publickey is usable with an identity
// key, password with PasswordAuthentication yes and a terminal to ask on (never in BatchMode). The
// client tries them in that order on successive connections (docs/twoway.md, "Password authentication").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <twoway/secret.hpp>

#include "client_config.hpp"

namespace twoway_client {

// What the plan is made from.
struct AuthFacts {
    std::vector<AuthMethod> preferred;  // PreferredAuthentications
    bool identity = false;              // an identity key was loaded
    bool password_authentication = true;
    bool batch_mode = false;
    bool terminal = false;              // /dev/tty can be opened
    std::uint32_t password_prompts = 3;  // NumberOfPasswordPrompts: 0 leaves the password out
    std::string identity_problem = "no identity key to offer";  // why there is no identity (load_identity's words)
};

struct AuthPlan {
    std::vector<AuthMethod> methods;  // to try, in order
    // When methods is empty: why each preferred method cannot be used ("publickey: no usable identity
    // key; password: BatchMode is set"), for the one line the client fails with.
    std::string why_none;
};

// Pure.
[[nodiscard]] AuthPlan plan_authentication(const AuthFacts& facts);

// "publickey,password": the methods, as ssh lists them in "Permission denied (...)".
[[nodiscard]] std::string method_list(const std::vector<AuthMethod>& methods);

// ssh's password prompt, "USER@HOST's password: ", on /dev/tty without echo. Nothing when there is no
// terminal or the input ended (then nothing was typed).
[[nodiscard]] std::optional<twoway::SecretBuffer> read_password(const std::string& user, const std::string& host);

}  // namespace twoway_client
