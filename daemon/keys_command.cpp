#include "keys_command.hpp"

#include <sys/stat.h>

#include "authorized.hpp"
#include "child_program.hpp"
#include "log.hpp"

namespace twowayd {

namespace {

std::optional<std::string> expand_tokens(std::string_view arg, const KeysCommandTokens& t) {
    std::string out;
    for (std::size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] != '%') {
            out += arg[i];
            continue;
        }
        if (++i == arg.size()) return std::nullopt;
        switch (arg[i]) {
            case '%': out += '%'; break;
            case 'u': out += t.user; break;
            case 'U': out += t.uid; break;
            case 'h': out += t.home; break;
            case 't': out += t.key_type; break;
            case 'f': out += t.fingerprint; break;
            case 'k': out += t.key_base64; break;
            case 'C': out += t.connection; break;
            case 'D': break;  // no routing domains in twowayd
            case 'F':
            case 'i':
            case 'K':
            case 's':
            case 'T':
                if (!t.principals) return std::nullopt;
                out += arg[i] == 'F' ? t.ca_fingerprint
                       : arg[i] == 'i' ? t.key_id
                       : arg[i] == 'K' ? t.ca_base64
                       : arg[i] == 's' ? t.serial
                                       : t.ca_type;
                break;
            default: return std::nullopt;
        }
    }
    return out;
}

}  // namespace

twoway::Result<std::vector<std::string>> keys_command_argv(std::string_view command, const KeysCommandTokens& tokens,
                                                           std::string& why, std::string_view what) {
    auto words = split_command_line(command);
    if (!words) {
        why = std::string(what) + " has an unterminated quote";
        return twoway::errc::invalid_argument;
    }
    if (words->empty() || !words->front().starts_with('/')) {
        why = std::string(what) + " must be an absolute path";
        return twoway::errc::invalid_argument;
    }
    for (std::size_t i = 1; i < words->size(); ++i) {
        auto expanded = expand_tokens((*words)[i], tokens);
        if (!expanded) {
            why = std::string(what) + " has an unknown %-token in " + log_safe((*words)[i]);
            return twoway::errc::invalid_argument;
        }
        (*words)[i] = std::move(*expanded);
    }
    if (words->size() == 1) words->push_back(tokens.user);  // sshd: no arguments means the user name
    return std::move(*words);
}

awaitable<KeysCommandResult> run_keys_command(Server& server, std::vector<std::string> argv, Account runner,
                                              KeysCommandLimits limits) {
    KeysCommandResult r;
    struct stat st {};
    if (argv.empty() || ::stat(argv.front().c_str(), &st) != 0) {
        r.problem = "cannot stat " + (argv.empty() ? std::string("(nothing)") : argv.front()) + ": " + errno_text(errno);
        co_return r;
    }
    // sshd's rule for the command (auth_secure_path as root): a root-owned file in root-owned directories.
    if (auto problem = secure_path_problem(argv.front(), st, "/", 0)) {
        r.problem = "unsafe " + std::string(limits.what) + ": " + *problem;
        co_return r;
    }

    SpawnRequest req;
    req.switch_identity = running_as_root();
    req.path = argv.front();
    req.argv = std::move(argv);
    req.env = {"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C"};
    const ProgramResult ran = co_await run_program(server, std::move(req), std::move(runner),
                                                   ProgramLimits{limits.timeout, limits.max_output});
    r.ok = ran.ok;
    r.output = ran.output;
    r.problem = ran.problem;
    co_return r;
}

}  // namespace twowayd
