#include "session_policy.hpp"

#include <algorithm>

namespace twowayd {

std::string where_text(const twoway::Location& where) {
    return where.path.empty() ? "twowayd's default" : where.text();
}

SessionPolicy key_session_policy(const twoway::KeyOptions& options, const twoway::Location& line) {
    SessionPolicy p;
    p.key_line = line;
    p.force_command = options.command;
    p.permit_pty = options.pty;
    p.permit_services = options.port_forwarding;
    p.services_only = options.permit_services;
    p.open_only = options.permit_open;
    p.listen_only = options.permit_listen;
    return p;
}

std::optional<std::string> service_refusal(const SessionPolicy& policy, std::string_view service) {
    if (policy.password_expired) return "the account's password has expired (PAM): it must be changed first";
    const std::string where = policy.key_line ? " by " + policy.key_line->text() : std::string();
    if (!policy.permit_services) return "services are not permitted" + where + " (restrict or no-port-forwarding)";
    if (!policy.services_only.empty() &&
        std::find(policy.services_only.begin(), policy.services_only.end(), service) == policy.services_only.end()) {
        return "service not in permit-service=" + where;
    }
    return std::nullopt;
}

std::optional<std::string> direct_refusal(const SessionPolicy& policy, const twoway::session::Destination& d) {
    if (policy.password_expired) return "the account's password has expired (PAM): it must be changed first";
    const std::string where = policy.key_line ? " by " + policy.key_line->text() : std::string();
    if (!policy.permit_services) {
        return "direct connections are not permitted" + where + " (restrict or no-port-forwarding)";
    }
    if (!policy.open_only.empty() &&
        std::none_of(policy.open_only.begin(), policy.open_only.end(),
                     [&d](const std::string& e) { return twoway::session::permit_open_matches(e, d); })) {
        return "destination not in permitopen=" + where;
    }
    return std::nullopt;
}

std::optional<std::string> remote_forwarding_refusal(const SessionPolicy& policy) {
    if (policy.password_expired) return "the account's password has expired (PAM): it must be changed first";
    if (!policy.permit_services) {
        const std::string where = policy.key_line ? " by " + policy.key_line->text() : std::string();
        return "remote forwarding is not permitted" + where + " (restrict or no-port-forwarding)";
    }
    return std::nullopt;
}

std::optional<std::string> listen_refusal(const SessionPolicy& policy, const twoway::session::ListenAddress& a) {
    if (auto why = remote_forwarding_refusal(policy)) return why;
    const std::string where = policy.key_line ? " by " + policy.key_line->text() : std::string();
    if (!policy.listen_only.empty() &&
        std::none_of(policy.listen_only.begin(), policy.listen_only.end(),
                     [&a](const std::string& e) { return twoway::session::permit_listen_matches(e, a); })) {
        return "listen address not in permitlisten=" + where;
    }
    return std::nullopt;
}

std::optional<twoway::ConnectionFacts> connection_facts(std::string_view ip, std::int64_t now, std::int32_t utc_offset) {
    auto address = twoway::parse_ip_address(ip);
    if (!address) return std::nullopt;
    // ::ffff:a.b.c.d
    constexpr std::array<std::uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (address->v6 && std::equal(mapped.begin(), mapped.end(), address->bytes.begin())) {
        twoway::IpAddress v4{};
        v4.v6 = false;
        std::copy(address->bytes.begin() + 12, address->bytes.end(), v4.bytes.begin());
        address = v4;
    }
    return twoway::ConnectionFacts{*address, now, utc_offset};
}

}  // namespace twowayd
