// twowayd's log, in sshd's shape so that operators' habits and fail2ban filters carry over: syslog
// (facility AUTH, ident "twowayd") when detached, stderr with -D, -d or -e. Each message is one line;
// debug messages carry "debug1: " .. "debug3: ", errors "error: " and fatal ones "fatal: ", as sshd's.
// The process is single-threaded, so the logger is a process-wide singleton without locking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "daemon_config.hpp"

namespace twowayd {

using twowayd::LogLevel;

enum class LogSink { stderr_sink, syslog_sink };

// Chooses the sink and the level. Opening syslog is cheap and happens here.
void log_open(LogSink sink, LogLevel level);
void log_set_level(LogLevel level);
// SyslogFacility: reopens syslog with the facility of that name ("AUTH", "LOCAL0", ...; as the config
// parser spells them) when logging goes to syslog.
void log_set_facility(std::string_view name);
// While starting in the background (syslog), errors are shown on stderr too, so an operator who starts
// the daemon by hand sees why it did not start. Turned off once detached.
void log_tee_errors(bool on);
[[nodiscard]] LogLevel log_level() noexcept;
[[nodiscard]] bool log_enabled(LogLevel level) noexcept;

// One line; control characters in the message are escaped (\n, \xNN) so that no text a peer or a file
// supplies can forge a second log line.
void log_line(LogLevel level, std::string_view message);

// What log_line does to every message: bytes below 0x20 and DEL become \xNN (\x0a for a line break), and
// so does every byte that is not part of well-formed UTF-8, and the code points a terminal or viewer acts
// on (C1 controls such as U+009B, CSI) or that reorder the text (U+2028/2029, the bidirectional
// controls). Printable ASCII and other UTF-8 text are kept.
[[nodiscard]] std::string escape_controls(std::string_view s);

// A peer-chosen name (an account name) made safe to embed in a log line: every byte outside the
// printable ASCII range, the space and the backslash become \xNN. Real account names never contain
// those, so only an attacker's names change, and none can smuggle " from 10.0.0.1 port 1" into a line
// that a fail2ban filter reads.
[[nodiscard]] std::string log_safe(std::string_view name);

// Concatenation without std::format (which g++ 12 lacks): strings, characters and integers.
namespace detail {
inline void append(std::string& out, std::string_view s) { out.append(s); }
inline void append(std::string& out, const char* s) { out.append(s); }
inline void append(std::string& out, const std::string& s) { out.append(s); }
inline void append(std::string& out, char c) { out.push_back(c); }
template <class T>
    requires std::is_integral_v<T> && (!std::is_same_v<T, char>) && (!std::is_same_v<T, bool>)
void append(std::string& out, T v) {
    out.append(std::to_string(v));
}
}  // namespace detail

template <class... Parts>
[[nodiscard]] std::string cat(const Parts&... parts) {
    std::string out;
    (detail::append(out, parts), ...);
    return out;
}

template <class... Parts>
void log_at(LogLevel level, const Parts&... parts) {
    if (log_enabled(level)) log_line(level, cat(parts...));
}

template <class... Parts>
void log_fatal(const Parts&... parts) {
    log_at(LogLevel::fatal, parts...);
}
template <class... Parts>
void log_error(const Parts&... parts) {
    log_at(LogLevel::error, parts...);
}
template <class... Parts>
void log_info(const Parts&... parts) {
    log_at(LogLevel::info, parts...);
}
template <class... Parts>
void log_verbose(const Parts&... parts) {
    log_at(LogLevel::verbose, parts...);
}
template <class... Parts>
void log_debug(const Parts&... parts) {
    log_at(LogLevel::debug1, parts...);
}
template <class... Parts>
void log_debug2(const Parts&... parts) {
    log_at(LogLevel::debug2, parts...);
}

// strerror(errno) as a string (the thread-safe variant; the daemon is single-threaded anyway).
[[nodiscard]] std::string errno_text(int err);

}  // namespace twowayd
