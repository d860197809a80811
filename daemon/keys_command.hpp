// AuthorizedKeysCommand, as sshd runs it (sshd_config(5), auth2-pubkey.c): a program that prints
// authorized_keys lines for the account being logged in to, run as AuthorizedKeysCommandUser, with
// sshd's argument splitting and %-tokens. Unlike sshd, which waits for it without limit while the
// connection's own process blocks, twowayd serves every connection from one event loop: the command
// runs as a child whose output is read asynchronously, capped in size (max_output) and in time
// (timeout, after which its process group is killed; child_program.hpp), so a slow or stopped directory
// delays only the logins that asked it, and fails them closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/result.hpp>

#include "account.hpp"
#include "async.hpp"

namespace twowayd {

class Server;

// The name AuthorizedKeysCommand's output goes by in the log, as a file's path would ("AuthorizedKeysCommand:3").
inline constexpr std::string_view keys_command_label = "AuthorizedKeysCommand";
inline constexpr std::string_view principals_command_label = "AuthorizedPrincipalsCommand";

// What the %-tokens of AuthorizedKeysCommand stand for.
struct KeysCommandTokens {
    std::string user;         // %u: the account logged in to
    std::string uid;          // %U: its numeric uid
    std::string home;         // %h: its home directory
    std::string key_type;     // %t: "ssh-ed25519"
    std::string fingerprint;  // %f: "SHA256:..."
    std::string key_base64;   // %k: the key's base64 blob, as in an authorized_keys line
    std::string connection;   // %C: "client-address client-port server-address server-port"
    // AuthorizedPrincipalsCommand's tokens besides (sshd_config(5) TOKENS); with principals false they
    // are unknown tokens, as for AuthorizedKeysCommand.
    bool principals = false;
    std::string ca_fingerprint;  // %F
    std::string key_id;          // %i
    std::string ca_base64;       // %K
    std::string serial;          // %s
    std::string ca_type;         // %T
};

// The command's argv, as sshd builds it: split (split_command_line), the program must be an absolute
// path, every argument after it has its tokens expanded (%% %C %D %u %U %h %t %f %k, and for
// AuthorizedPrincipalsCommand also %F %i %K %s %T; %D, the routing domain, is always empty; any other
// token is an error), and with no argument at all the user name is the one argument. The error text
// says why, naming the keyword (`what`).
[[nodiscard]] twoway::Result<std::vector<std::string>> keys_command_argv(std::string_view command,
                                                                         const KeysCommandTokens& tokens,
                                                                         std::string& why,
                                                                         std::string_view what = "AuthorizedKeysCommand");

struct KeysCommandLimits {
    std::chrono::milliseconds timeout{10'000};
    std::size_t max_output = 1u << 20;  // more than this is an error, not a truncated list
    std::string_view what = "AuthorizedKeysCommand";  // the keyword, for the log
};

struct KeysCommandResult {
    bool ok = false;       // the command ran, exited 0 within the limits; output holds its keys
    std::string output;
    std::string problem;   // when !ok, for the log ("timed out after 10 s", "exited with status 1", ...)
};

// Runs argv as `runner` (the AuthorizedKeysCommandUser account; the daemon becomes it only when it runs
// as root), stdin from nothing, stderr discarded, with a minimal environment. The program file must be
// owned by root and writable by no one else, in directories that are too (sshd's rule: it decides who
// may log in). Fails closed: any problem is !ok.
[[nodiscard]] awaitable<KeysCommandResult> run_keys_command(Server& server, std::vector<std::string> argv,
                                                            Account runner, KeysCommandLimits limits);

}  // namespace twowayd
