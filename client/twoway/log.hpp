// The client's messages on stderr, in ssh's shapes: "debug1: ..." lines with -v (-vv, -vvv for more),
// plain lines for errors ("Permission denied (publickey).", "twoway: connect to host ..."). While the
// local terminal is in raw mode a line ends in "\r\n", as there is no output processing to add the "\r".
// Written straight to file descriptor 2 (no stdio buffering), so nothing is lost on _exit().
#pragma once

#include <string>
#include <string_view>

namespace twoway_client::log {

void set_verbosity(int level) noexcept;  // 0: only errors; 1..3: debug1..debug3
[[nodiscard]] int verbosity() noexcept;
void set_quiet(bool quiet) noexcept;  // -q: also drops the informational lines
[[nodiscard]] bool quiet() noexcept;

// "debugN: text" when verbosity() >= level.
void debug(int level, std::string_view text);
// "twoway: text" (failures that are ours, not the remote's).
void error(std::string_view text);
// text as it is (ssh's own shapes: "Permission denied (publickey).", warnings), one line.
void line(std::string_view text);
// Informational lines that -q silences ("Connection to host closed.").
void info(std::string_view text);
// Several lines at once (the host key warning): each "\n" becomes the right line ending.
void block(std::string_view text);

// Text the server supplied (a REJECT text, an EXIT_SIGNAL message), made safe for the terminal before
// it goes into any line above: control characters, C1 codes and bidirectional overrides become visible
// escapes (twoway::terminal_text); non-ASCII characters pass only when the locale (LC_ALL, LC_CTYPE,
// LANG, as ssh reads them) says UTF-8.
[[nodiscard]] std::string untrusted(std::string_view text);

// Writes all of text to fd, retrying on EINTR and waiting when the descriptor is non-blocking.
void write_all(int fd, std::string_view text) noexcept;

}  // namespace twoway_client::log
