#include "log.hpp"

#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <twoway/text.hpp>

namespace twowayd {

namespace {

struct LogState {
    LogSink sink = LogSink::stderr_sink;
    LogLevel level = LogLevel::info;
    bool syslog_open = false;
    bool tee_errors = false;
};

LogState& state() {
    static LogState s;
    return s;
}

std::string_view prefix(LogLevel level) {
    switch (level) {
        case LogLevel::fatal: return "fatal: ";
        case LogLevel::error: return "error: ";
        case LogLevel::debug1: return "debug1: ";
        case LogLevel::debug2: return "debug2: ";
        case LogLevel::debug3: return "debug3: ";
        default: return {};
    }
}

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::fatal: return LOG_CRIT;
        case LogLevel::error: return LOG_ERR;
        case LogLevel::info:
        case LogLevel::verbose: return LOG_INFO;
        default: return LOG_DEBUG;
    }
}

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char c) {
    out += "\\x";
    out.push_back(hex_digits[c >> 4]);
    out.push_back(hex_digits[c & 0xf]);
}

// write(2) until done: one call per line in practice, so lines from the daemon never interleave.
void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // nowhere left to report a failing log
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

void log_open(LogSink sink, LogLevel level) {
    LogState& s = state();
    s.sink = sink;
    s.level = level;
    if (sink == LogSink::syslog_sink && !s.syslog_open) {
        ::openlog("twowayd", LOG_PID | LOG_NDELAY, LOG_AUTH);
        s.syslog_open = true;
    }
}

void log_set_level(LogLevel level) { state().level = level; }

void log_set_facility(std::string_view name) {
    static constexpr std::pair<std::string_view, int> facilities[] = {
        {"DAEMON", LOG_DAEMON}, {"USER", LOG_USER},     {"AUTH", LOG_AUTH},     {"AUTHPRIV", LOG_AUTHPRIV},
        {"LOCAL0", LOG_LOCAL0}, {"LOCAL1", LOG_LOCAL1}, {"LOCAL2", LOG_LOCAL2}, {"LOCAL3", LOG_LOCAL3},
        {"LOCAL4", LOG_LOCAL4}, {"LOCAL5", LOG_LOCAL5}, {"LOCAL6", LOG_LOCAL6}, {"LOCAL7", LOG_LOCAL7},
    };
    LogState& s = state();
    if (!s.syslog_open) return;
    for (const auto& [n, f] : facilities) {
        if (n == name) {
            ::closelog();
            ::openlog("twowayd", LOG_PID | LOG_NDELAY, f);
            return;
        }
    }
}

void log_tee_errors(bool on) { state().tee_errors = on; }

LogLevel log_level() noexcept { return state().level; }

bool log_enabled(LogLevel level) noexcept {
    const LogLevel current = state().level;
    return current != LogLevel::quiet && level != LogLevel::quiet && level <= current;
}

void log_line(LogLevel level, std::string_view message) {
    if (!log_enabled(level)) return;
    std::string line(prefix(level));
    line += escape_controls(message);
    LogState& s = state();
    if (s.sink == LogSink::syslog_sink) {
        ::syslog(syslog_priority(level), "%s", line.c_str());
        if (!s.tee_errors || level > LogLevel::error) return;
    }
    line.push_back('\n');
    write_all(STDERR_FILENO, line);
}

std::string escape_controls(std::string_view s) { return twoway::log_text(s); }

std::string log_safe(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            append_hex(out, c);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::string errno_text(int err) {
    char buf[256];
    // The GNU strerror_r returns the message, which may or may not live in buf.
    return std::string(::strerror_r(err, buf, sizeof buf));
}

}  // namespace twowayd
