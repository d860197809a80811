// ssh's escape sequences on an interactive session: the escape character (default '~') right after a
// line break (or at the very start) introduces a command. Pure: bytes in, bytes for the remote and
// commands out.
//   ~.   disconnect            ~?   list the escapes
//   ~^Z  suspend twoway        ~~   send one '~' (the escape character typed twice)
// Any other character after the escape character is sent with it, as ssh does.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace twoway_client {

class EscapeFilter {
public:
    static constexpr int none = -1;
    explicit EscapeFilter(int escape_char) : escape_(escape_char) {}

    enum class Command { disconnect, help, suspend };
    struct Output {
        std::vector<std::byte> bytes;   // for the remote, in order
        std::vector<Command> commands;  // in the order typed; input after a disconnect is dropped
    };

    void filter(std::span<const std::byte> input, Output& out);

    // The help text for ~? (lines joined with "\n").
    [[nodiscard]] std::string help() const;
    // The escape character as typed: "~", or "^X" for a control character.
    [[nodiscard]] std::string name() const;

private:
    int escape_;
    bool at_line_start_ = true;
    bool pending_ = false;
};

}  // namespace twoway_client
