// Fuzz target: twowayd.conf text through parse_daemon_config and the functions that use its result.
//
// Beyond "no crash": errors are bounded and located inside the text; a config without errors has at
// least one port, listen address and host key, limits in their ranges, unique service names, every
// listen endpoint on a real port, and AuthorizedKeysFile entries that expand for any account; and what
// twowayd -T prints (format_daemon_config) parses without error into a configuration that prints the same.
// The Match blocks and the access decision are evaluated for a few connections, one of them made from
// the input's last bytes: the blocks that apply are the file's own, a connection no block applies to
// gets the global policy, every refusal names a keyword and a line of the text, and what -T -C prints
// for the connection parses back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "access.hpp"
#include "daemon_config.hpp"
#include "config_syntax.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
std::size_t longest_line(const std::string& text) {
    std::size_t longest = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t nl = text.find('\n', at);
        longest = std::max(longest, nl - at);
        at = nl + 1;
    }
    return longest;
}

// Connections to evaluate: fixed ones, and one whose user, groups, addresses and port come from the
// input's last 24 bytes.
std::vector<twowayd::ConnectionFacts> connections(std::string_view text) {
    using twowayd::ConnectionFacts;
    std::vector<ConnectionFacts> out;
    ConnectionFacts a;
    a.user = "root";
    a.groups = {"root", "wheel"};
    a.address = twowayd::parse_ip_address("10.1.2.3");
    a.host = "10.1.2.3";
    a.local_address = twowayd::parse_ip_address("192.0.2.1");
    a.local_port = 4422;
    out.push_back(a);
    ConnectionFacts b;
    b.user = "alice";
    b.groups = {"staff"};
    b.address = twowayd::parse_ip_address("2001:db8::7");
    b.host = "2001:db8::7";
    out.push_back(b);
    out.push_back(ConnectionFacts{});  // nothing known (twowayd -T -C with an empty spec)
    const std::string_view tail = text.substr(text.size() > 24 ? text.size() - 24 : 0);
    if (tail.size() == 24) {
        ConnectionFacts d;
        d.user = std::string(tail.substr(0, 6));
        d.groups = {std::string(tail.substr(6, 4)), std::string(tail.substr(10, 2))};
        twowayd::IpAddress ip;
        ip.v6 = (tail[12] & 1) != 0;
        for (std::size_t i = 0; i < 8; ++i) ip.bytes[i] = static_cast<std::uint8_t>(tail[13 + i]);
        if (!ip.v6) std::fill(ip.bytes.begin() + 4, ip.bytes.end(), 0);
        d.address = ip;
        d.host = twoway::format_ip_address(ip);
        d.local_port = static_cast<std::uint16_t>((static_cast<unsigned char>(tail[21]) << 8) | static_cast<unsigned char>(tail[22]));
        out.push_back(d);
    }
    return out;
}

void check_policy(const twowayd::DaemonConfig& c, std::string_view text, std::size_t lines) {
    using namespace twowayd;
    for (const auto& f : connections(text)) {
        std::vector<twoway::Location> applied;
        const ConnectionConfig p = effective_config(c, f, &applied);
        check(applied.size() <= c.matches.size());
        for (const auto& where : applied) check(where.path == "fuzz.conf" && where.line >= 1 && where.line <= lines);
        if (applied.empty()) check(p == c.connection);
        for (bool root : {false, true}) {
            for (bool forced : {false, true}) {
                if (!f.user) continue;
                const AccessVerdict v = decide_access(p, f, AccessFacts{root, 22, forced});
                if (v.allowed) {
                    check(v.keyword.empty());
                    continue;
                }
                check(!v.keyword.empty() && !v.message.empty());
                // A refusal by a default names no line; any other names one of the text's.
                check(v.where.path.empty() || (v.where.path == "fuzz.conf" && v.where.line >= 1 && v.where.line <= lines));
                check(v.where.path.empty() == (v.keyword == "PermitRootLogin" && p.permit_root_login.where.path.empty()));
                if (!root) check(v.keyword != "PermitRootLogin");
                if (v.keyword == "PermitRootLogin") check(p.permit_root_login.value != PermitRootLogin::yes &&
                                                          p.permit_root_login.value != PermitRootLogin::prohibit_password);
            }
        }
        // What -T -C prints reads back as the same connection policy (without Match blocks).
        const std::string one = format_connection_config(c, p);
        if (longest_line(one) > twoway_common::config::max_line_length) continue;
        auto back = parse_daemon_config("C", one);
        check(back.ok() && back.config.matches.empty());
        check(format_connection_config(back.config, back.config.connection) == one);
    }
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

    check_policy(c, text, lines);

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
