// ProxyJump's and -J's value: jump hosts, [user@]host[:port] or ssh://[user@]host[:port], separated by
// commas, checked as ssh's readconf.c parse_jump() checks them. Bounded: at most max_jump_hops hops of a
// line that is itself bounded (8192 bytes).
#include "client_config.hpp"

#include <twoway/text.hpp>
#include <twoway/trust.hpp>

namespace twoway_client {

namespace {

// One hop: [user@]host[:port] or ssh://[user@]host[:port][/], as ssh's parse_ssh_uri() and
// parse_user_host_port() read it (the user ends at the last '@'; [brackets] around an IPv6 address).
std::string parse_jump_host(std::string_view text, JumpHost& out) {
    out.spec = std::string(text);
    if (text.empty()) return "empty jump host";
    if (text.starts_with("ssh://")) {
        text.remove_prefix(6);
        if (text.ends_with('/')) text.remove_suffix(1);  // ssh allows an empty path, nothing more
        if (text.find('/') != std::string_view::npos) return "a path in an ssh:// URI " + twoway::quoted(out.spec);
    }
    if (const auto at = text.rfind('@'); at != std::string_view::npos) {
        out.user = std::string(text.substr(0, at));
        if (out.user.empty() || out.user.find_first_of(" \t") != std::string::npos || twoway::has_control(out.user) ||
            out.user.front() == '-') {
            return "invalid user name in " + twoway::quoted(out.spec);
        }
        text.remove_prefix(at + 1);
    }
    const auto parts = twoway::split_host_port(text);
    if (!parts) return "invalid host in " + twoway::quoted(out.spec);
    out.host = std::string(parts->host);
    if (!twoway::valid_host_name(out.host) || out.host.front() == '-') return "invalid host in " + twoway::quoted(out.spec);
    if (parts->port) {
        const auto port = twoway::parse_port(*parts->port);
        if (!port) return "bad port in " + twoway::quoted(out.spec);
        out.port = *port;
    }
    return {};
}

}  // namespace

JumpSpec parse_jump_spec(std::string_view text) {
    JumpSpec out;
    if (twoway::iequals(text, "none")) return out;
    while (true) {
        const auto comma = text.find(',');
        JumpHost hop;
        if (auto problem = parse_jump_host(text.substr(0, comma), hop); !problem.empty()) {
            out.hops.clear();
            out.error = std::move(problem);
            return out;
        }
        if (out.hops.size() == max_jump_hops) {
            out.hops.clear();
            out.error = "too many jump hosts (max " + std::to_string(max_jump_hops) + ")";
            return out;
        }
        out.hops.push_back(std::move(hop));
        if (comma == std::string_view::npos) return out;
        text.remove_prefix(comma + 1);
    }
}

}  // namespace twoway_client
