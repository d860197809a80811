// Fuzz target: ~/.twoway/config text. The first line of the input is the host alias to resolve, the
// rest the config; every config line is also parsed as a -o option.
//
// Beyond "no crash": errors are bounded and located; resolve() always yields a host name, a real port, a
// user, at least one identity file and no more than the cap; options never bring Host blocks.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "client_config.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway_client;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    const std::string_view alias = input.substr(0, std::min<std::size_t>(nl, 255));
    const std::string_view text = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

    auto config = parse_client_config("fuzz_config", text);
    check(config.errors.size() <= 101);
    for (const auto& d : config.directives) check(d.block < config.blocks.size());

    // Some lines of the file again as -o options (bounded, so a big input stays fast).
    std::vector<std::string> options;
    std::string_view rest = text;
    while (!rest.empty() && options.size() < 16) {
        const auto end = rest.find('\n');
        options.emplace_back(rest.substr(0, end));
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    auto cli = parse_client_options(options);
    check(cli.blocks.size() == 1);
    for (const auto& d : cli.directives) check(d.block == 0);

    const ClientContext context{"/home/fuzz", "fuzz"};
    auto s = resolve(config, alias, cli, context);
    check(s.port != 0);
    check(!s.user.empty());
    check(!s.identity_files.empty() && s.identity_files.size() <= max_identity_files);
    check(s.user_known_hosts_files.size() <= max_known_hosts_files);
    if (!alias.empty()) check(!s.host_name.empty());
    return 0;
}
