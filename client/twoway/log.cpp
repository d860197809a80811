#include "log.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>

#include <poll.h>
#include <unistd.h>

#include <twoway/text.hpp>

#include "terminal.hpp"
#include <twoway/text.hpp>

namespace twoway_client::log {


namespace {
int level = 0;
bool silent = false;

void emit(std::string text) {
    const bool raw = terminal::raw_mode();
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) {
        if (c == '\n' && raw) out += '\r';
        out += c;
    }
    out += raw ? "\r\n" : "\n";
    write_all(STDERR_FILENO, out);
}
}  // namespace

void set_verbosity(int v) noexcept { level = v; }
int verbosity() noexcept { return level; }
void set_quiet(bool q) noexcept { silent = q; }
bool quiet() noexcept { return silent; }

void debug(int at, std::string_view text) {
    if (level < at) return;
    emit("debug" + std::to_string(at) + ": " + std::string(text));
}

void error(std::string_view text) { emit("twoway: " + std::string(text)); }

void line(std::string_view text) { emit(std::string(text)); }

void info(std::string_view text) {
    if (!silent) emit(std::string(text));
}

void block(std::string_view text) {
    std::string t(text);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    emit(std::move(t));
}

std::string untrusted(std::string_view text) {
    // As ssh's msetlocale: the first of these that is set decides; a UTF-8 codeset lets characters
    // through, anything else (C, POSIX, Latin-1 ...) only ASCII, since a UTF-8 continuation byte such
    // as 0x9b is a C1 control to a terminal in an 8-bit encoding.
    static const twoway::Charset charset = [] {
        for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
            const char* v = std::getenv(name);
            if (v == nullptr || *v == '\0') continue;
            const std::string lower = twoway::ascii_lower(v);
            const bool utf8 = lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
            return utf8 ? twoway::Charset::utf8 : twoway::Charset::ascii;
        }
        return twoway::Charset::ascii;
    }();
    return twoway::terminal_text(text, charset);
}

void write_all(int fd, std::string_view text) noexcept {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n > 0) {
            text.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // The event loop made the descriptor non-blocking: wait until it drains.
            struct pollfd p {fd, POLLOUT, 0};
            (void)::poll(&p, 1, 1000);
            continue;
        }
        return;  // stderr is gone: nothing sensible to do
    }
}

}  // namespace twoway_client::log
