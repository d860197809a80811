#include "run.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>

#include <unistd.h>

extern char** environ;

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <twoway/pattern.hpp>
#include <twoway/session.hpp>

#include "auth.hpp"
#include "forward.hpp"
#include "host_check.hpp"
#include "identity.hpp"
#include "local_io.hpp"
#include "log.hpp"
#include "remote_forward.hpp"
#include "session_pump.hpp"
#include "terminal.hpp"
#include "transport.hpp"

namespace twoway_client {

namespace session = twoway::session;
using twoway::PublicKey;

namespace {

constexpr int failure = 255;

// Everything one invocation needs, alive for the whole event loop.
struct Context {
    const cli::CommandLine& line;
    const ClientSettings& settings;
    std::unique_ptr<IdentityChain> identities;  // key mode: the keys offered in turn (null without publickey)
    Endpoints endpoints;
    HostCheck host_check;
    std::optional<PublicKey> pinned;  // the host key accepted by the first connection
    AuthPlan plan;
    AuthMethod method = AuthMethod::publickey;  // the method of the connection being made (or made)
    // Password mode: the password last typed (secure memory, wiped at exit), reused without a prompt by
    // later connections (-L) to the pinned host once it has logged in; and whether the pending login is
    // to replace a changed key (UpdateHostKeysByPassword).
    std::optional<twoway::SecretBuffer> password;
    bool logged_in = false;
    bool replace_changed = false;
    std::optional<ProxyPlan> proxy;  // ProxyCommand / ProxyJump: each connection starts its own

    ConnectParams params() { return method == AuthMethod::password ? password_params() : key_params(); }

    // "alice@host: Permission denied (publickey,password)." as ssh ends its tries.
    std::string denied_line() const {
        return settings.user + "@" + settings.host_name + ": Permission denied (" + method_list(plan.methods) + ").";
    }

    ConnectParams password_params() {
        ConnectParams p = base_params();
        p.password = true;
        p.denied_line = denied_line();
        p.password_verdict = [this](const PublicKey& key, const twoway::Certificate* certificate,
                                    const std::string& banner) {
            PasswordAnswer answer;
            // Later connections (-L) meet the key the first one proved, with the password that worked.
            if (logged_in && pinned && key == *pinned && password) {
                answer.action = PasswordHostAction::accept;
                answer.password = twoway::SecretBuffer(password->span());
                return answer;
            }
            const PasswordHostDecision d =
                verify_host_key_for_password(host_check, key, certificate, settings.update_host_keys_by_password);
            if (d.action == PasswordHostAction::refuse) return answer;
            // The banner is signed by the host key: shown before the prompt when that key is known (a
            // key the password has yet to prove could have written anything).
            if (d.action == PasswordHostAction::accept && !banner.empty() && !log::quiet()) {
                log::block(banner_text(banner));
            }
            auto typed = read_password(settings.user, settings.host_name);
            if (!typed) {
                log::error("no password read from the terminal");
                return answer;
            }
            replace_changed = d.changed;
            password.emplace(std::move(*typed));
            answer.action = d.action;
            answer.password = twoway::SecretBuffer(password->span());
            return answer;
        };
        p.on_authenticated = [this](SecureConnection& conn) {
            logged_in = true;
            if (!pinned) pinned = conn.host_key();
            if (conn.host_proven_by_password()) {
                (void)record_proven_host_key(host_check, conn.host_key(), settings.user, replace_changed);
            }
        };
        return p;
    }

    ConnectParams key_params() {
        ConnectParams p = base_params();
        p.identities = identities.get();
        // The key that logged in is the one later connections (-L) offer; AddKeysToAgent adds it.
        p.on_authenticated = [this](SecureConnection&) {
            if (!identities) return;
            identities->pin_current();
            const AddKeysToAgent& add = settings.add_keys_to_agent;
            if (add.add) identities->add_current_to_agent(add.confirm, add.lifetime);
        };
        // Later connections (-L) must meet the key the first one accepted, or pass the full check.
        p.verify_host = [this](const PublicKey& key, const twoway::Certificate* certificate) {
            if (pinned && key == *pinned) return true;
            const bool ok = verify_host_key(host_check, key, certificate);
            if (ok && !pinned) pinned = key;
            return ok;
        };
        return p;
    }

    ConnectParams base_params() {
        ConnectParams p;
        p.host = settings.host_name;
        p.port = settings.port;
        p.endpoints = endpoints;
        p.proxy = proxy;
        p.timeout_seconds = settings.connect_timeout;
        p.connection_attempts = settings.connection_attempts;
        p.server_alive_interval = settings.server_alive_interval;
        p.server_alive_count_max = settings.server_alive_count_max;
        p.account = settings.user;
        p.known_host_key = pinned ? pinned : expected_host_key(host_check);
        return p;
    }

};


// ssh's debug1 lines when a method has failed and the next one is tried (on a new connection).
void next_method(const std::vector<AuthMethod>& methods, std::size_t failed) {
    const std::vector<AuthMethod> left(methods.begin() + static_cast<std::ptrdiff_t>(failed) + 1, methods.end());
    log::debug(1, "Authentications that can continue: " + method_list(left));
    log::debug(1, std::string("Next authentication method: ") + auth_method_name(left.front()));
}

// The first connection: the plan's methods in order (docs/twoway.md, "Password authentication"). A
// denied key moves on to the next method on a new connection; a wrong password is asked again, up to
// NumberOfPasswordPrompts times, each on a new connection. Nothing when all failed (already said).
asio::awaitable<std::unique_ptr<SecureConnection>> log_in(Context& ctx, bool early_data) {
    const auto& methods = ctx.plan.methods;
    for (std::size_t i = 0; i < methods.size(); ++i) {
        ctx.method = methods[i];
        const bool last = i + 1 == methods.size();
        if (ctx.method == AuthMethod::publickey) {
            ConnectParams p = ctx.key_params();
            // With a method left to try, the server's verdict must come before the session starts.
            p.early_data = early_data && last;
            std::error_code why;
            p.failure = &why;
            p.quiet_denial = !last;
            // Alone, ssh's "Permission denied (publickey)."; after other methods, the line that ends them.
            if (methods.size() > 1) p.denied_line = ctx.denied_line();
            auto conn = co_await establish(std::move(p));
            if (conn || last || why != twoway::errc::auth_denied) co_return conn;
            next_method(methods, i);
            continue;
        }
        const std::uint32_t tries = ctx.settings.number_of_password_prompts;
        for (std::uint32_t t = 1; t <= tries; ++t) {
            ConnectParams p = ctx.password_params();
            p.early_data = early_data && last;
            std::error_code why;
            p.failure = &why;
            p.quiet_denial = true;
            auto conn = co_await establish(std::move(p));
            if (conn) co_return conn;
            if (why != twoway::errc::auth_denied) co_return nullptr;  // said by establish
            if (t < tries) log::line("Permission denied, please try again.");
        }
        if (!last) {
            next_method(methods, i);
            continue;
        }
        log::line(ctx.denied_line());
        co_return nullptr;
    }
    co_return nullptr;
}

// -n makes stdin /dev/null, which is no terminal (as with ssh, which reopens stdin at start).
bool stdin_terminal(const cli::CommandLine& line) {
    return !line.stdin_null && terminal::is_terminal(STDIN_FILENO);
}

bool want_pty(const cli::CommandLine& line, const ClientSettings& settings) {
    // -t and -T win; without them, RequestTTY (ssh's order).
    cli::TtyRequest tty = line.tty;
    if (tty == cli::TtyRequest::automatic) {
        switch (settings.request_tty) {
            case RequestTty::automatic: break;
            case RequestTty::no: tty = cli::TtyRequest::no; break;
            case RequestTty::yes: tty = cli::TtyRequest::yes; break;
            case RequestTty::force: tty = cli::TtyRequest::force; break;
        }
    }
    bool want = false;
    switch (tty) {
        case cli::TtyRequest::automatic: want = line.command.empty(); break;
        case cli::TtyRequest::yes:
        case cli::TtyRequest::force: want = true; break;
        case cli::TtyRequest::no: want = false; break;
    }
    // As ssh: no PTY when stdin is not a terminal, unless forced with -tt.
    if (want && !stdin_terminal(line) && tty != cli::TtyRequest::force) {
        log::info("Pseudo-terminal will not be allocated because stdin is not a terminal.");
        want = false;
    }
    return want;
}

// SendEnv: the local variables whose names match, as ssh sends them (the server decides which it
// applies: twowayd's AcceptEnv). What the protocol cannot carry is left out with a debug line.
std::vector<session::EnvVar> variables_to_send(const std::vector<std::string>& patterns) {
    std::vector<session::EnvVar> out;
    if (patterns.empty()) return out;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view var = *e;
        const auto eq = var.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = var.substr(0, eq);
        bool wanted = false;
        for (const auto& p : patterns) wanted = wanted || twoway::match_pattern(p, name);
        if (!wanted) continue;
        session::EnvVar v{std::string(name), std::string(var.substr(eq + 1))};
        if (!session::valid_env_name(v.name) || !session::valid_env_value(v.value) ||
            out.size() == session::max_env_count) {
            log::debug(1, "not sending environment variable " + log::untrusted(v.name));
            continue;
        }
        log::debug(1, "Sending env " + v.name + " = " + log::untrusted(v.value));
        out.push_back(std::move(v));
    }
    return out;
}

session::Request command_request(const cli::CommandLine& line, bool pty, const ClientSettings& settings) {
    session::Request r;
    r.env = variables_to_send(settings.send_env);
    // SetEnv's variables after SendEnv's; a name in both goes with SetEnv's value (the config's explicit
    // value over the local environment's), sent once.
    for (const auto& v : settings.set_env) {
        const auto eq = v.find('=');
        session::EnvVar var{v.substr(0, eq), v.substr(eq + 1)};
        std::erase_if(r.env, [&](const session::EnvVar& e) { return e.name == var.name; });
        if (r.env.size() == session::max_env_count) {
            log::debug(1, "not sending environment variable " + log::untrusted(var.name));
            continue;
        }
        log::debug(1, "Setting env " + var.name + " = " + log::untrusted(var.value));
        r.env.push_back(std::move(var));
    }
    // As ssh: -s names a subsystem with the command; -s without one still asks for a shell.
    r.kind = line.command.empty() ? session::RequestKind::shell
             : line.subsystem     ? session::RequestKind::subsystem
                                  : session::RequestKind::exec;
    r.command = line.command_line();
    if (pty) {
        session::Pty p;
        const char* term = std::getenv("TERM");
        if (term != nullptr && session::valid_term(term)) p.term = term;
        if (auto ws = terminal::window_size(STDIN_FILENO)) {
            if (ws->cols > 0 && ws->rows > 0) p.size = session::TermSize{ws->cols, ws->rows, ws->width_px, ws->height_px};
        }
        r.pty = std::move(p);
    }
    return r;
}

int exit_status(const SessionOutcome& o, const std::string& what) {
    if (o.failed) return failure;
    if (o.rejected) {
        log::error(what + " refused by the host: " + reject_reason(*o.rejected));
        return failure;
    }
    if (o.disconnected) return failure;
    if (o.exit_status) return exit_code_of(*o.exit_status);
    if (o.exit_signal) {
        // ssh exits 255 here and says nothing; we say why, since 255 otherwise reads as a failure of ours.
        // The name is checked by the session parser (upper-case letters and digits); the message is
        // the server's own words, escaped.
        const std::string& message = o.exit_signal->message;
        log::error("remote command killed by signal " + o.exit_signal->name +
                   (o.exit_signal->core_dumped ? " (core dumped)" : "") +
                   (message.empty() ? std::string() : ": " + log::untrusted(message)));
        return failure;
    }
    log::debug(1, "the session ended without an exit status");
    return failure;
}

PumpOptions alive_options(const ClientSettings& settings) {
    PumpOptions o;
    o.alive_interval = settings.server_alive_interval;
    o.alive_count_max = settings.server_alive_count_max;
    return o;
}

// UpdateHostKeys on this connection's HOSTKEYS (host_check.hpp).
PumpOptions session_options(Context& ctx, const SecureConnection& conn) {
    PumpOptions o = alive_options(ctx.settings);
    o.on_host_keys = [&ctx, &conn](const session::HostKeysAnnounced& announced) {
        HostKeysUpdate u{ctx.settings.update_host_keys, conn.host_key(), conn.host_certificate(), conn.session_id()};
        learn_host_keys(ctx.host_check, u, announced);
    };
    return o;
}

asio::awaitable<int> main_flow(Context& ctx, Forwarder* forwarder, RemoteForwarder* remote) {
    const auto& line = ctx.line;
    auto ex = co_await asio::this_coro::executor;
    // -N reads nothing: it must wait for the verdict itself. So must -R, whose listen connections start
    // once the login is known to have worked (with the identity that worked).
    auto conn = co_await log_in(ctx, !line.no_command && line.remote_forwards.empty());
    if (!conn) co_return failure;

    // -R: a listen connection for each. With ExitOnForwardFailure, every answer comes before anything
    // else starts, and a refusal ends twoway (255); without, the answers are reported when they come.
    remote->start();
    if (ctx.settings.exit_on_forward_failure && !line.remote_forwards.empty()) {
        const std::size_t failed = co_await remote->settled();
        if (failed > 0) {
            remote->stop();
            co_await conn->close();
            co_return failure;
        }
    }

    if (line.stdio_service) {
        session::Request r;
        const bool direct = cli::is_destination(*line.stdio_service);
        r.kind = direct ? session::RequestKind::direct : session::RequestKind::service;
        r.command = *line.stdio_service;
        log::debug(1, std::string("stdio forwarding to ") + (direct ? "" : "service ") + r.command);
        StdioIo io(ex, line.stdin_null, /*close_stdout_at_eof=*/true);
        const SessionOutcome o = co_await run_session(*conn, r, io, session_options(ctx, *conn));
        co_await conn->close();
        if (o.failed) co_return failure;
        if (o.rejected) {
            log::error("stdio forwarding to " + (direct ? r.command : "service '" + r.command + "'") + " failed: " +
                       reject_reason(*o.rejected));
            co_return failure;
        }
        co_return 0;
    }

    if (forwarder != nullptr) forwarder->start();
    if (line.no_command) {
        // -N: this connection only proved that we can log in; forwards open their own (and -R's listen
        // connections last until twoway is stopped).
        co_await conn->close();
        co_return 0;
    }

    const bool pty = want_pty(line, ctx.settings);
    const session::Request request = command_request(line, pty, ctx.settings);
    if (!session::valid_request(request)) {
        log::error(request.kind == session::RequestKind::subsystem
                       ? "invalid subsystem name '" + log::untrusted(request.command) +
                             "' (printable ASCII without blanks, at most 64 characters)"
                       : std::string("the remote command is too long or holds characters that cannot be sent"));
        co_await conn->close();
        if (forwarder != nullptr) forwarder->stop();
        remote->stop();
        co_return failure;
    }
    if (request.kind == session::RequestKind::exec) log::debug(1, "Sending command: " + request.command);
    if (request.kind == session::RequestKind::subsystem) log::debug(1, "Sending subsystem: " + request.command);
    const bool interactive = pty && stdin_terminal(line);
    PumpOptions options = session_options(ctx, *conn);
    options.interactive = interactive;
    options.escape_char = line.escape_char.value_or(ctx.settings.escape_char);
    if (forwarder != nullptr && ctx.settings.enable_escape_commandline) {
        options.command_line = [forwarder](const std::string& text) { return forwarder->command_line(text); };
    }
    if (interactive) (void)terminal::enter_raw_mode();
    SessionOutcome o;
    {
        StdioIo io(ex, line.stdin_null, /*close_stdout_at_eof=*/false);
        o = co_await run_session(*conn, request, io, options);
    }
    terminal::leave_raw_mode();
    co_await conn->close();
    if (forwarder != nullptr) forwarder->stop();
    remote->stop();  // the listen sessions end with the main one; forwarded connections go on
    if (pty && !o.failed) log::info("Connection to " + ctx.settings.host_name + " closed.");
    co_return exit_status(o, request.kind == session::RequestKind::shell       ? "shell"
                             : request.kind == session::RequestKind::subsystem ? "subsystem"
                                                                               : "command");
}

}  // namespace

int run(const cli::CommandLine& line, const ClientSettings& settings) {
    if (line.stdio_service && !line.command.empty()) {
        log::error("-W cannot be combined with a remote command");
        return failure;
    }
    if (line.stdio_service && (!line.local_forwards.empty() || !line.remote_forwards.empty())) {
        log::error("-W cannot be combined with -L, -D or -R");
        return failure;
    }
    if (line.no_command && !line.command.empty()) {
        log::error("-N cannot be combined with a remote command");
        return failure;
    }

    // The methods, in PreferredAuthentications order (auth.hpp); when none can be used, one line and
    // 255 before connecting (never a prompt that cannot be answered).
    const auto& preferred = settings.preferred_authentications;
    const auto pos = [&](AuthMethod m) { return std::find(preferred.begin(), preferred.end(), m); };
    AuthFacts facts{preferred, false, settings.password_authentication, settings.batch_mode, false,
                    settings.number_of_password_prompts};
    facts.terminal = !settings.batch_mode && settings.password_authentication && pos(AuthMethod::password) != preferred.end() &&
                     terminal::Tty::open().has_value();
    std::unique_ptr<IdentityChain> identities;
    if (pos(AuthMethod::publickey) != preferred.end()) {
        // With password in the list, a missing key is said at debug level: the password may still log
        // in, and when it cannot either, the one line below says why for both. The first identity is
        // made ready now (its passphrase, if any, asked); the others when the server refuses one.
        IdentityChainOptions o;
        o.files = settings.identity_files;
        o.certificate_files = settings.certificate_files;
        o.batch_mode = settings.batch_mode;
        o.prompts = static_cast<int>(settings.number_of_password_prompts);
        o.identities_only = settings.identities_only;
        o.report_none = pos(AuthMethod::password) == preferred.end();
        identities = std::make_unique<IdentityChain>(std::move(o), connect_agent(settings.identity_agent));
        facts.identity = identities->next() != nullptr;
        if (!facts.identity) facts.identity_problem = identities->none_reason;
    }
    AuthPlan plan = plan_authentication(facts);
    if (plan.methods.empty()) {
        if (!facts.identity && pos(AuthMethod::publickey) != preferred.end() && pos(AuthMethod::password) == preferred.end()) {
            return failure;  // load_identity said why, as before password mode
        }
        log::error("no authentication method left for " + settings.user + "@" + settings.host_name + " (" +
                   plan.why_none + ")");
        return failure;
    }
    // With a proxy, as ssh: the host name is the command's business (%h), not resolved here.
    ProxyPlanResult proxy = proxy_plan(settings, line, self_executable(), jump_depth());
    if (!proxy.error.empty()) {
        log::error(proxy.error);
        return failure;
    }
    Endpoints endpoints;
    if (!proxy.plan) {
        auto found = resolve_host(settings.host_name, settings.port, line.family);
        if (!found) return failure;
        endpoints = std::move(*found);
    }

    Context ctx{line, settings, std::move(identities), std::move(endpoints), HostCheck{}, std::nullopt, std::move(plan),
                AuthMethod::publickey, std::nullopt, false, false, std::move(proxy.plan)};
    // HostKeyAlias: known_hosts is consulted and written under the alias alone, as ssh does (no
    // "[alias]:port"), so one entry serves a host reached through several names or ports.
    ctx.host_check.host = settings.host_key_alias.value_or(settings.host_name);
    ctx.host_check.port = settings.host_key_alias ? twoway::default_port : settings.port;
    ctx.host_check.user_files = settings.user_known_hosts_files;
    ctx.host_check.revoked_file = settings.revoked_host_keys;
    ctx.host_check.strict = settings.strict_host_key_checking;
    ctx.host_check.batch_mode = settings.batch_mode;
    ctx.host_check.hash_known_hosts = settings.hash_known_hosts;

    asio::io_context io;
    // Always there, for ~C's -L even when none was given at the start.
    auto forwarder = std::make_unique<Forwarder>(io.get_executor(), line.local_forwards, [&ctx] { return ctx.params(); });
    if (!forwarder->listen()) return failure;
    // Always there too, for ~C's -R; its listen connections open after the login.
    auto remote = std::make_unique<RemoteForwarder>(io.get_executor(), line.remote_forwards, [&ctx] { return ctx.params(); },
                                                    settings.exit_on_forward_failure);
    forwarder->set_remote(remote.get());

    int status = failure;
    asio::co_spawn(io, main_flow(ctx, forwarder.get(), remote.get()), [&status](std::exception_ptr e, int s) {
        if (!e) {
            status = s;
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error(std::string("internal error: ") + x.what());
        } catch (...) {
            log::error("internal error");
        }
        status = failure;
    });
    io.run();
    terminal::leave_raw_mode();
    return status;
}

}  // namespace twoway_client
