// Fuzz target: twowayd.conf text through parse_daemon_config and the functions that use its result.
//
// Beyond "no crash": errors are bounded and located inside the text; a config without errors has at
// least one port, listen address and host key, limits in their ranges, unique service names, every
// listen endpoint on a real port, and AuthorizedKeysFile entries that expand for any account; and what
// twowayd -T prints (format_daemon_config) parses without error into a configuration that prints the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon_config.hpp"
#include "config_syntax.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    using namespace twowayd;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = parse_daemon_config("fuzz.conf", text);
    check(result.errors.size() <= 101);
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const auto& e : result.errors) {
        check(e.where.path == "fuzz.conf" && e.where.line >= 1 && e.where.line <= lines);
        check(!e.message.empty());
    }
    const auto& c = result.config;
    check(c.ports.size() <= 256 && c.listen_addresses.size() <= 256 && c.host_keys.size() <= 256);
    if (!result.ok()) return 0;

    check(!c.ports.empty() && !c.listen_addresses.empty() && !c.host_keys.empty());
    check(c.max_startups >= 1);
    check(!c.max_sessions_total || *c.max_sessions_total >= 1);
    check(!c.per_user_max_sessions || *c.per_user_max_sessions >= 1);
    check(c.per_session_max_buffer >= min_session_buffer && c.per_session_max_buffer <= (std::uint64_t{1} << 30));
    check(c.max_buffer_total >= min_session_buffer);
    for (std::size_t i = 0; i < c.services.size(); ++i) {
        check(c.services[i].port != 0);
        for (std::size_t j = i + 1; j < c.services.size(); ++j) check(c.services[i].name != c.services[j].name);
    }
    for (const auto& e : listen_endpoints(c)) check(e.port != 0 && !e.host.empty());
    auto paths = authorized_keys_paths(c, AccountInfo{"fuzz", "/home/fuzz", 1234});
    check(paths.has_value());
    for (const auto& p : *paths) check(p.starts_with('/'));
    (void)log_level_name(c.log_level);

    const std::string text_out = format_daemon_config(c);
    // A line the reader would refuse as too long cannot round-trip (only paths near the 8 KiB limit
    // that need quoting get there); everything else must.
    std::size_t longest = 0;
    for (std::size_t at = 0; at < text_out.size();) {
        const std::size_t nl = text_out.find('\n', at);
        longest = std::max(longest, nl - at);
        at = nl + 1;
    }
    if (longest > twoway_common::config::max_line_length) return 0;
    auto back = parse_daemon_config("T", text_out);
    check(back.ok());
    check(format_daemon_config(back.config) == text_out);
    check(back.config.listen_addresses == c.listen_addresses && back.config.host_keys == c.host_keys);
    check(back.config.authorized_keys_files == c.authorized_keys_files);
    check(back.config.revoked_keys_files == c.revoked_keys_files);
    check(back.config.max_startups == c.max_startups && back.config.per_source_max_startups == c.per_source_max_startups);
    check(back.config.max_sessions_total == c.max_sessions_total &&
          back.config.per_user_max_sessions == c.per_user_max_sessions);
    check(back.config.per_session_max_buffer == c.per_session_max_buffer &&
          back.config.max_buffer_total == c.max_buffer_total);
    return 0;
}
