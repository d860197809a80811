// What twoway does once its command line and configuration are known: load the identity, connect and
// authenticate, then run the remote shell or command (-t/-T), forward stdio to a service (-W) or
// listen for local forwards (-L), and work out the exit status.
#pragma once

#include <cstdint>

#include "cli.hpp"
#include "client_config.hpp"

namespace twoway_client {

// The process's exit status: the remote command's, or 255 for a failure of twoway itself.
[[nodiscard]] int run(const cli::CommandLine& line, const ClientSettings& settings);

// The exit code for a remote EXIT_STATUS (PROTOCOL.md 15, "Exit semantics"): the status itself when it
// fits POSIX's 8 bits, 255 above that. Taking it modulo 256, as exit() would, turns 256 into 0: a
// failure reported as success.
[[nodiscard]] constexpr int exit_code_of(std::uint32_t status) noexcept {
    return status > 255 ? 255 : static_cast<int>(status);
}

}  // namespace twoway_client
