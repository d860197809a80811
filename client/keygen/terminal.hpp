// The terminal side of twoway-keygen: prompting for passphrases without echo, and yes/no questions.
// "Interactive" means standard input is a terminal; without one, nothing is ever asked.
#pragma once

#include <string>

#include <twoway/result.hpp>
#include <twoway/secret.hpp>

namespace twoway_keygen {

[[nodiscard]] bool interactive();

// Prints prompt on stderr and reads one line from the terminal with echo off (the terminal is restored
// even if a signal ends the program meanwhile). At most 1023 bytes; the line break is not included.
// Fails with io_error at end of input (Ctrl-D) or on a read error.
[[nodiscard]] twoway::Result<twoway::SecretBuffer> read_passphrase(const std::string& prompt);

// Asks a question on stderr and reads an answer with echo on; true for an answer starting with y or Y.
[[nodiscard]] bool ask_yes_no(const std::string& question);

}  // namespace twoway_keygen
