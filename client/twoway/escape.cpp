#include "escape.hpp"

namespace twoway_client {

namespace {
constexpr unsigned char ctrl_z = 0x1a;
constexpr unsigned char ctrl_c = 0x03;
constexpr unsigned char ctrl_u = 0x15;
}

void EscapeFilter::filter(std::span<const std::byte> input, Output& out) {
    for (std::byte b : input) {
        const auto c = static_cast<unsigned char>(b);
        if (escape_ == none) {
            out.bytes.push_back(b);
            continue;
        }
        if (reading_line_) {
            if (c == '\r' || c == '\n') {
                reading_line_ = false;
                at_line_start_ = true;  // as after any Enter
                out.echo += "\r\n";
                out.commands.push_back(Command::command_line);
                out.lines.push_back(std::move(line_));
                line_.clear();
                continue;
            }
            if (c == ctrl_c) {
                reading_line_ = false;
                at_line_start_ = true;
                line_.clear();
                out.echo += "\r\n";
            } else if (c == 0x7f || c == 0x08) {
                if (!line_.empty()) {
                    line_.pop_back();
                    out.echo += "\b \b";
                }
            } else if (c == ctrl_u) {
                for (std::size_t k = 0; k < line_.size(); ++k) out.echo += "\b \b";
                line_.clear();
            } else if (c >= 0x20 && c < 0x7f && line_.size() < max_command_line) {
                line_ += static_cast<char>(c);
                out.echo += static_cast<char>(c);
            }
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
            if (c == 'C') {
                if (!command_line_) {
                    out.echo += "\r\n";
                    out.commands.push_back(Command::command_line);
                    out.lines.emplace_back();
                    continue;
                }
                reading_line_ = true;
                out.echo += "\r\ntwoway> ";
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
           " " + e + "C   - open a command line (-L, -KL; -h for help)\n"
           " " + e + "?   - this message\n"
           " " + e + e + "   - send the escape character by typing it twice\n"
           "(Note that escapes are only recognized immediately after newline.)";
}

}  // namespace twoway_client
