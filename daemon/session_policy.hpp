// What an authenticated connection may do, as far as the matched authorized_keys line says (its
// options): carried from Connection::decide() to the Session in one value, so that the configuration's
// own limits (ForceCommand, PermitTTY, DisableForwarding, a Match block) can later be combined into the
// same struct before the session starts. Pure: no I/O, no logging.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/pattern.hpp>
#include <twoway/session.hpp>
#include <twoway/trust.hpp>

namespace twowayd {

struct SessionPolicy {
    std::optional<twoway::Location> key_line;  // the authorized_keys line that granted the login
    std::optional<std::string> force_command;  // command=: runs instead of the client's request
    bool permit_pty = true;                    // no-pty, restrict
    bool permit_services = true;               // no-port-forwarding, restrict (services are twoway's forwarding)
    std::vector<std::string> services_only;    // permit-service=: only these (empty: any)
    std::vector<std::string> open_only;        // permitopen=: direct connections only to these (empty: PermitOpen's)
    std::vector<std::string> listen_only;      // permitlisten=: listen requests only for these (empty: PermitListen's)
    // UsePAM yes and PAM_NEW_AUTHTOK_REQD: as sshd, the login goes on, no forwarding (no services), and
    // the session runs passwd on a PTY (pam.hpp).
    bool password_expired = false;
    // PasswordAuthentication for the account (Match applied): whether the subsystem twoway-passwd may
    // register or change its password (passwd_serve.hpp). A password login implies it.
    bool password_mode = false;
};

// Where a configuration value comes from, for the log: its file and line, or "twowayd's default".
[[nodiscard]] std::string where_text(const twoway::Location& where);

// The policy an authorized_keys line's options give.
[[nodiscard]] SessionPolicy key_session_policy(const twoway::KeyOptions& options, const twoway::Location& line);

// Why a service request is refused (for the log), or nothing when the policy permits it.
[[nodiscard]] std::optional<std::string> service_refusal(const SessionPolicy& policy, std::string_view service);
// Why a direct connection to d is refused by the key's options (for the log), or nothing. The daemon's
// PermitOpen is checked besides (Session::direct_refusal): both must allow it, as in sshd.
[[nodiscard]] std::optional<std::string> direct_refusal(const SessionPolicy& policy, const twoway::session::Destination& d);

// Why the key's options refuse remote forwarding at all, a listen request or a pickup (for the log), or
// nothing: an expired password, restrict or no-port-forwarding.
[[nodiscard]] std::optional<std::string> remote_forwarding_refusal(const SessionPolicy& policy);
// Why a listen request for a is refused by the key's options (for the log), or nothing: the above, then
// permitlisten=. The daemon's PermitListen is checked besides (Session::listen_refusal): both must allow
// it, as in sshd.
[[nodiscard]] std::optional<std::string> listen_refusal(const SessionPolicy& policy, const twoway::session::ListenAddress& a);

// The facts authorized_keys options are decided on: the client's address (an IPv4-mapped IPv6 address
// as the IPv4 address, so from="10.0.0.0/8" means the same on a dual-stack listener), the time and the
// local time zone's offset at that time. Nothing when ip is not an address.
[[nodiscard]] std::optional<twoway::ConnectionFacts> connection_facts(std::string_view ip, std::int64_t now,
                                                                      std::int32_t utc_offset);

}  // namespace twowayd
