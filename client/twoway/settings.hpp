// From the command line and ~/.twoway/config (or -F) to the effective settings for the destination,
// through client/config's parser and resolve(); and `-G`, which prints them as ssh -G does.
#pragma once

#include <optional>

#include "cli.hpp"
#include "client_config.hpp"

namespace twoway_client {

// Nothing when the configuration or an option is bad (every error has been printed, ssh's way).
[[nodiscard]] std::optional<ClientSettings> load_settings(const cli::CommandLine& line);

// "keyword value" lines on stdout, lower-case keywords as ssh -G prints them.
void print_settings(const ClientSettings& settings);

}  // namespace twoway_client
