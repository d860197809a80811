// twoway: the ssh-like client. docs/twoway.md is its reference.
//   twoway [-46aCGNnqsTtVvx] [-D [bind_address:]port] [-e escape_char] [-F configfile]
//          [-i identity_file] [-J destination] [-L address] [-l login_name] [-o option] [-p port]
//          [-R address] [-W host:port] destination [command [argument ...]]
// Exit status: the remote command's, or 255 when twoway itself fails (connection, host key,
// authentication, protocol), each failure with one line on stderr.
#include <sys/prctl.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include <twoway/text.hpp>

#include "cli.hpp"
#include "log.hpp"
#include "run.hpp"
#include "settings.hpp"
#include "terminal.hpp"

namespace {
constexpr int failure = 255;
constexpr const char* version = "twoway " TWOWAY_VERSION;  // the project version, from meson
}  // namespace

int main(int argc, char** argv) {
    namespace c = twoway_client;
    // The user's private key is decrypted in this process: no core dumps, no ptrace by the same user.
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    const auto parsed = c::cli::parse(args);
    if (!parsed.line) {
        if (!parsed.error.empty()) c::log::error(parsed.error);
        c::log::write_all(2, c::cli::usage());
        return failure;
    }
    auto line = *parsed.line;
    if (line.version) {
        c::log::line(version);
        return 0;
    }
    c::log::set_verbosity(line.verbosity);
    c::log::set_quiet(line.quiet);
    c::terminal::install_exit_handlers(line.verbosity);
    c::log::debug(1, version);
    for (const auto& n : line.notes) c::log::debug(1, n);

    try {
        const auto settings = c::load_settings(line);
        if (!settings) return failure;
        if (settings->log_level && line.verbosity == 0 && !line.quiet) {
            // LogLevel, when neither -v nor -q was given (those come first, as ssh's).
            const auto level = *settings->log_level;
            const int verbosity = level == c::LogLevel::debug1   ? 1
                                  : level == c::LogLevel::debug2 ? 2
                                  : level == c::LogLevel::debug3 ? 3
                                                                 : 0;
            c::log::set_verbosity(verbosity);
            c::log::set_quiet(level == c::LogLevel::quiet);
        }
        // LocalForward lines of the files, after the command line's -L (as ssh: all of them add up).
        for (const auto& spec : settings->local_forwards) {
            auto f = c::cli::parse_local_forward(spec);
            if (!f) {
                c::log::error("LocalForward: bad forwarding specification " + twoway::quoted(spec));
                return failure;
            }
            line.local_forwards.push_back(std::move(*f));
        }
        // DynamicForward lines come after the command line's -D (ssh's order); a duplicate adds nothing.
        for (const auto& text : settings->dynamic_forwards) {
            auto f = c::cli::parse_dynamic_forward(text);  // the config checked it
            if (!f) continue;
            const bool known = std::any_of(line.local_forwards.begin(), line.local_forwards.end(), [&](const auto& g) {
                return g.dynamic && g.port == f->port && g.bind_address == f->bind_address;
            });
            if (!known) line.local_forwards.push_back(std::move(*f));
        }
        // RemoteForward lines come after the command line's -R (ssh's order); a duplicate adds nothing.
        for (const auto& text : settings->remote_forwards) {
            auto r = c::parse_remote_forward(text);  // the config checked it
            if (!r.forward) continue;
            const bool known = std::any_of(line.remote_forwards.begin(), line.remote_forwards.end(), [&](const auto& g) {
                return g.bind_address == r.forward->bind_address && g.listen == r.forward->listen &&
                       g.host == r.forward->host && g.host_port == r.forward->host_port;
            });
            if (!known) line.remote_forwards.push_back(std::move(*r.forward));
        }
        if (settings->clear_all_forwardings && (!line.local_forwards.empty() || !line.remote_forwards.empty())) {
            // As ssh: ClearAllForwardings drops the forwards of the command line and the files.
            c::log::debug(1, "ClearAllForwardings: not setting up the -L, -D and -R forwards");
            line.local_forwards.clear();
            line.remote_forwards.clear();
        }
        if (line.print_config) {
            // -G shows the dynamic forwards in effect, the command line's and the files' (as ssh -G).
            auto shown = *settings;
            shown.dynamic_forwards.clear();
            for (const auto& f : line.local_forwards) {
                if (!f.dynamic) continue;
                if (auto l = c::parse_forward_listen(f.spec)) shown.dynamic_forwards.push_back(c::forward_listen_text(*l));
            }
            // The remote forwards too, the command line's and the files'.
            shown.remote_forwards.clear();
            for (const auto& r : line.remote_forwards) shown.remote_forwards.push_back(r.spec);
            c::print_settings(shown);
            return 0;
        }
        const int status = c::run(line, *settings);
        c::terminal::restore_all();
        return status;
    } catch (const std::exception& e) {
        c::terminal::restore_all();
        c::log::error(std::string("internal error: ") + e.what());
        return failure;
    }
}
