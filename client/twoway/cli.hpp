// twoway's command line, parsed as OpenSSH's ssh parses its own: BSD getopt over the letters, option
// parsing stops at the first argument that is not an option (the destination), resumes right after the
// destination (so `twoway host -v ls` is verbose, as with ssh), and stops for good at the next
// non-option or at "--"; the remaining arguments are the remote command, joined with single spaces.
// Pure (no I/O), so the rules are easy to check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_config.hpp"

namespace twoway_client::cli {

enum class TtyRequest {
    automatic,  // a PTY when there is no command and stdin is a terminal (ssh's default)
    yes,        // -t: a PTY if stdin is a terminal
    force,      // -tt: a PTY even if stdin is not a terminal
    no,         // -T
};

enum class AddressFamily { any, inet, inet6 };

// -L [bind_address:]port:service, or -L [bind_address:]port:host:hostport (ssh's form); or
// -D [bind_address:]port (dynamic: a SOCKS server, each connection's request naming its destination).
struct LocalForward {
    std::string bind_address = "127.0.0.1";  // as ssh's GatewayPorts=no: loopback unless told otherwise
    std::uint16_t port = 0;                  // 0: let the system choose (printed at start)
    std::string service;                     // a named service, or
    std::string destination;                 // "host:port" (session::destination_text), a direct connection
    bool dynamic = false;                    // -D: neither; the destination comes from SOCKS
    bool bind_given = false;                 // the spec named the address (for -G's "[address]:port")
    std::string spec;  // as given, for messages
    // What the forward reaches, for messages: "service NAME", "host:port" or "SOCKS".
    [[nodiscard]] std::string target() const {
        if (dynamic) return "SOCKS";
        return destination.empty() ? "service " + service : destination;
    }
    // The option letter, for messages: "-L" or "-D".
    [[nodiscard]] const char* option() const { return dynamic ? "-D" : "-L"; }
};

// -R [bind_address:]port:host:hostport (and RemoteForward): client_config.hpp's RemoteForwardSpec.
using RemoteForward = RemoteForwardSpec;

// -W's argument: "host:port" (a direct connection) when it holds a ':', else a service name.
[[nodiscard]] bool is_destination(const std::string& target);

struct CommandLine {
    std::string destination;  // [user@]host as given
    std::string host;         // the part after the last '@'
    std::vector<std::string> command;  // the remote command's words
    // Settings from -p, -l, -i, -o and user@host, as ssh_config lines in command-line order (the first
    // value of a keyword wins, so the order is the precedence).
    std::vector<std::string> options;
    std::optional<std::string> config_file;  // -F (or "none")
    int verbosity = 0;                       // number of -v (at most 3 count)
    bool quiet = false;                      // -q
    TtyRequest tty = TtyRequest::automatic;
    bool stdin_null = false;                 // -n
    bool no_command = false;                 // -N
    bool print_config = false;               // -G
    bool version = false;                    // -V
    AddressFamily family = AddressFamily::any;
    std::optional<std::string> stdio_service;  // -W
    std::vector<LocalForward> local_forwards;  // -L and -D, in command-line order
    std::vector<RemoteForward> remote_forwards;  // -R, in command-line order
    std::optional<int> escape_char;            // -e: a byte value, or -1 for none
    bool subsystem = false;                    // -s: the command is a subsystem name (sftp)
    // -J: the jump hosts as given (also in options, as "ProxyJump ...", where it takes its place).
    std::optional<std::string> jump;
    // Flags accepted because they ask for nothing twoway would do (-x, -a, -C): one line each for -v.
    std::vector<std::string> notes;

    // The command words joined with single spaces, as ssh sends them.
    [[nodiscard]] std::string command_line() const;
};

struct ParseResult {
    std::optional<CommandLine> line;
    std::string error;  // when !line: the one-line reason (empty: just print the usage)
};

[[nodiscard]] ParseResult parse(const std::vector<std::string>& args);

// ssh's usage text.
[[nodiscard]] const char* usage();

// Parses -L's argument. Nothing when it is malformed.
[[nodiscard]] std::optional<LocalForward> parse_local_forward(const std::string& spec);

// Parses -D's argument (and DynamicForward's): [bind_address:]port, the address as -L's. Nothing when
// it is malformed.
[[nodiscard]] std::optional<LocalForward> parse_dynamic_forward(const std::string& spec);

// Parses -e's argument ("none", one character, or ^X): the byte, -1 for none; nothing if invalid.
[[nodiscard]] std::optional<int> parse_escape_char(const std::string& arg);

}  // namespace twoway_client::cli
