// ssh's escape sequences on an interactive session: the escape character (default '~') right after a
// line break (or at the very start) introduces a command. Pure: bytes in, bytes for the remote and
// commands out.
//   ~.   disconnect            ~?   list the escapes
//   ~^Z  suspend twoway        ~~   send one '~' (the escape character typed twice)
//   ~C   open a command line ("twoway> "), ssh's: -L and -KL add and cancel a local forward
// Any other character after the escape character is sent with it, as ssh does.
//
// The command line is read here, from the same input, with its own echo: the terminal stays in raw
// mode, and nothing typed on the line reaches the remote. Enter ends it; Backspace, ^U (erase the line)
// and ^C (give up) work as on a terminal; other control characters are ignored, and the line holds at
// most max_command_line characters.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace twoway_client {

class EscapeFilter {
public:
    static constexpr int none = -1;
    // command_line false (EnableEscapeCommandline no): ~C reads no line; it gives a command_line with an
    // empty line at once, which the caller answers as ssh does ("commandline disabled").
    explicit EscapeFilter(int escape_char, bool command_line = true) : escape_(escape_char), command_line_(command_line) {}

    static constexpr std::size_t max_command_line = 512;

    enum class Command { disconnect, help, suspend, command_line };
    struct Output {
        std::vector<std::byte> bytes;   // for the remote, in order
        std::vector<Command> commands;  // in the order typed; input after a disconnect is dropped
        std::vector<std::string> lines;  // one per command_line, in order: what was typed on it
        std::string echo;                // for the local terminal (raw mode): the prompt and the echo
    };

    void filter(std::span<const std::byte> input, Output& out);

    // The help text for ~? (lines joined with "\n").
    [[nodiscard]] std::string help() const;
    // The escape character as typed: "~", or "^X" for a control character.
    [[nodiscard]] std::string name() const;

private:
    int escape_;
    bool command_line_ = true;
    bool at_line_start_ = true;
    bool pending_ = false;
    bool reading_line_ = false;  // after ~C, until Enter or ^C
    std::string line_;
};

}  // namespace twoway_client
