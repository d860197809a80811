// systemd's service notification protocol (sd_notify(3), "READY=1" and friends as one datagram to the
// AF_UNIX socket named by $NOTIFY_SOCKET), so that twowayd runs as a Type=notify service: systemd then
// knows when it listens, when a reload (SIGHUP) begins and ends, and when it is stopping. Written here
// rather than linked from libsystemd: the protocol is one sendmsg, and the daemon then needs no library
// that Debian's minimal systems may lack.
#pragma once

#include <string>
#include <string_view>

namespace twowayd {

// Takes $NOTIFY_SOCKET from the environment (and removes it there, so that nothing the daemon starts
// inherits it, as sd_notify's unset_environment does). Call once, before any thread starts.
void notify_init();

// Sends state (newline-separated assignments, e.g. "READY=1\nSTATUS=...") to the service manager, if
// there is one; best effort, never blocks. False if there is none or the datagram could not be sent.
bool notify_service_manager(std::string_view state);

// The socket notify_init() found ("" for none): for tests and the log.
[[nodiscard]] const std::string& notify_socket();

}  // namespace twowayd
