#include "escape.hpp"

namespace twoway_client {

namespace {
constexpr unsigned char ctrl_z = 0x1a;
}

void EscapeFilter::filter(std::span<const std::byte> input, Output& out) {
    for (std::byte b : input) {
        const auto c = static_cast<unsigned char>(b);
        if (escape_ == none) {
            out.bytes.push_back(b);
            continue;
        }
        if (pending_) {
            pending_ = false;
            if (c == '.') {
                out.commands.push_back(Command::disconnect);
                return;  // nothing typed after ~. reaches the remote
            }
            if (c == '?') {
                out.commands.push_back(Command::help);
                continue;  // still at a line start, as in ssh: "~?~." works
            }
            if (c == ctrl_z) {
                out.commands.push_back(Command::suspend);
                continue;
            }
            // Not a command: the escape character goes out too, unless this is the escape character
            // itself (typed twice to send one).
            if (c != static_cast<unsigned char>(escape_)) out.bytes.push_back(static_cast<std::byte>(escape_));
        } else if (at_line_start_ && c == static_cast<unsigned char>(escape_)) {
            pending_ = true;
            continue;
        }
        at_line_start_ = c == '\r' || c == '\n';
        out.bytes.push_back(b);
    }
}

std::string EscapeFilter::name() const {
    if (escape_ == none) return "none";
    if (escape_ < 0x20) return std::string("^") + static_cast<char>(escape_ + 0x40);
    return std::string(1, static_cast<char>(escape_));
}

std::string EscapeFilter::help() const {
    const std::string e = name();
    return "Supported escape sequences:\n"
           " " + e + ".   - terminate connection\n"
           " " + e + "^Z  - suspend twoway\n"
           " " + e + "?   - this message\n"
           " " + e + e + "   - send the escape character by typing it twice\n"
           "(Note that escapes are only recognized immediately after newline.)";
}

}  // namespace twoway_client
