// What twoway does once its command line and configuration are known: load the identity, connect and
// authenticate, then run the remote shell or command (-t/-T), forward stdio to a service (-W) or
// listen for local forwards (-L), and work out the exit status.
#pragma once

#include "cli.hpp"
#include "client_config.hpp"

namespace twoway::client {

// The process's exit status: the remote command's, or 255 for a failure of twoway itself.
[[nodiscard]] int run(const cli::CommandLine& line, const ClientSettings& settings);

}  // namespace twoway::client
