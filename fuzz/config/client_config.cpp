// Fuzz target: ~/.twoway/config text. The first line of the input is the host alias to resolve, the
// rest the config; every config line is also parsed as a -o option. A line "--- /path" starts an
// in-memory file that Include patterns can match (the text before the first one is the config), and
// Match exec goes to a fake runner: no real file is read and no process runs.
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

#include <twoway/pattern.hpp>

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

    // The config, then the in-memory files.
    std::string_view main_text = text;
    std::vector<IncludedFile> files;
    for (std::size_t at = text.find("--- "); at != std::string_view::npos && files.size() < 64;) {
        if (at == 0 || text[at - 1] == '\n') {
            if (files.empty()) main_text = text.substr(0, at);
            const auto name_end = text.find('\n', at);
            const auto next = text.find("\n--- ", at);
            const std::string_view name = text.substr(at + 4, name_end == std::string_view::npos ? std::string_view::npos : name_end - at - 4);
            const std::string_view body = name_end == std::string_view::npos || (next != std::string_view::npos && next < name_end)
                                              ? std::string_view{}
                                              : text.substr(name_end + 1, next == std::string_view::npos ? std::string_view::npos : next - name_end);
            files.push_back(IncludedFile{.path = std::string(name), .text = std::string(body)});
            at = next == std::string_view::npos ? next : next + 1;
        } else {
            at = text.find("--- ", at + 1);
        }
    }
    std::size_t reads = 0;
    const ParseOptions parse_options{
        .user_dir = "/home/fuzz/.twoway",
        .home = "/home/fuzz",
        .read_include = [&](const std::string& pattern) {
            ++reads;
            IncludeResult r;
            if (pattern.ends_with("!")) {
                r.error = pattern + ": Bad owner or permissions";
                return r;
            }
            for (const auto& f : files) {
                if (twoway::match_pattern(pattern, f.path)) r.files.push_back(f);
            }
            return r;
        },
        .ignore_unknown = {},
    };
    auto config = parse_client_config("fuzz_config", main_text, parse_options);
    check(config.errors.size() <= 101);
    for (const auto& d : config.directives) check(d.block < config.blocks.size());
    for (std::size_t i = 1; i < config.blocks.size(); ++i) {
        const auto parent = config.blocks[i].parent;
        check(parent == no_parent || parent < i);  // so resolve() never loops
        check(config.blocks[i].first_directive <= config.directives.size());
    }

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

    ClientContext context{"/home/fuzz", "fuzz"};
    context.local_host = "fuzzhost.example";
    std::size_t execs = 0;
    context.run_exec = [&](const std::string& command) -> std::optional<int> {
        ++execs;
        if (command.find('!') != std::string::npos) return std::nullopt;  // "could not run"
        return static_cast<int>(command.size() % 2);
    };
    auto s = resolve(config, alias, cli, context);
    check(s.errors.size() <= 1);
    (void)reads;  // one per Include argument reached: bounded by the input
    check(execs <= 2 * 128 * config.blocks.size());  // at most every exec criterion of a line (256 words), twice
    check(s.port != 0);
    check(!s.user.empty());
    check(!s.identity_files.empty() && s.identity_files.size() <= max_identity_files);
    check(s.user_known_hosts_files.size() <= max_known_hosts_files);
    if (!alias.empty()) check(!s.host_name.empty());
    return 0;
}
