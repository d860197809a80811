// The subsystem twoway-passwd (docs/PROTOCOL.md 16, docs/twoway-passwd.md): remote registration of a
// password for password mode. twowayd runs it itself, not as a configured Subsystem command: the OPAQUE
// key and the records are root's, and the account the record is for is the one the session
// authenticated, never a name from the client. A helper process (twowayd executed again by itself, as
// the PAM helpers) speaks the exchange on its standard input and output, which are the session's pipes:
// a broken client can crash nothing but that process, and the daemon's memory never holds the record.
#pragma once

#include <string>
#include <string_view>

namespace twowayd {

// argv[1] of the hidden mode: twowayd --passwd-serve ACCOUNT DECISION OPAQUE_KEY RECORDS_DIR
inline constexpr std::string_view passwd_serve_mode = "--passwd-serve";
[[nodiscard]] int passwd_serve_main(int argc, char** argv);

// What the session may do, decided by the daemon from the configuration (DECISION above): register or
// change (yes), only remove (off: PasswordAuthentication no for the account; root: root without
// PermitRootLogin yes). Removing is always allowed: it narrows access.
inline constexpr std::string_view passwd_decision_yes = "yes";
inline constexpr std::string_view passwd_decision_off = "off";
inline constexpr std::string_view passwd_decision_root = "root";

// The helper's exit status, which the daemon logs (passwd_serve_outcome) and the client receives as
// the session's exit status.
inline constexpr int passwd_exit_registered = 0;
inline constexpr int passwd_exit_refused = 1;
inline constexpr int passwd_exit_protocol = 2;  // not the exchange (bad message, end of input, time out)
inline constexpr int passwd_exit_changed = 3;
inline constexpr int passwd_exit_removed = 4;

// The log line's text for the helper's wait status, for `account` from `peer` ("Registered a password
// for alice from 127.0.0.1 port 4711", ...).
[[nodiscard]] std::string passwd_serve_outcome(int wait_status, std::string_view account, std::string_view peer);

}  // namespace twowayd
