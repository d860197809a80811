// Helpers of commands.cpp that the other modes' files share: messages, the private key loading of
// -y/-p/-e (with its passphrase prompt), and the rule that no file is replaced without asking.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <twoway/key_file.hpp>
#include <twoway/result.hpp>

#include "commands.hpp"

namespace twoway_keygen {

// "twoway-keygen: msg" on stderr; returns 1, the exit status of every error.
int fail_msg(const std::string& msg);
// "twoway-keygen: path: what went wrong", with a hint where the user can act (permissions, passphrase).
int fail_path(const std::string& path, std::error_code ec);
// Reads and decrypts a private key file of either format, asking for a twoway key's passphrase on a
// terminal when -P did not give it.
[[nodiscard]] twoway::Result<twoway::DecodedPrivateKey> load_key(const Options& o, const std::string& path);
// Whether path may be written: it does not exist, or the person said yes on a terminal. Otherwise says
// why on stderr.
[[nodiscard]] bool may_write(const std::string& path);
// Text from a file (a comment, a key id), shown as ssh-keygen shows it, so that the output stays
// byte-identical and never drives the terminal: characters the locale can print pass; any other byte
// becomes a \ooo octal escape. Tab, CR and LF pass too, as in ssh's mprintf, unless
// escape_line_controls (ssh's asmprintf with a width, which krl_dump uses for comments and key ids).
[[nodiscard]] std::string printable(std::string_view s, bool escape_line_controls = false);
// Everything on standard input (`-` for a file), up to max bytes; nothing when more, or on a read error.
[[nodiscard]] std::optional<std::string> read_stdin(std::size_t max);

}  // namespace twoway_keygen
