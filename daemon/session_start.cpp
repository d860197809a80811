// Starting what the client asked for: a shell or command in a child process running as the account,
// or a connection to a named service. The session is accepted only once the process runs (its exec
// report came back clean) or the connection is up; otherwise it is rejected with a reason code.
#include <signal.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <asio/connect.hpp>

#include <twoway/pattern.hpp>
#include <twoway/text.hpp>

#include "child.hpp"
#include "child_program.hpp"
#include "chroot.hpp"
#include "log.hpp"
#include "pam.hpp"
#include "passwd_serve.hpp"
#include "server.hpp"
#include "service_connect.hpp"
#include "session.hpp"

namespace twowayd {

namespace ts = twoway::session;

namespace {

constexpr auto service_connect_timeout = std::chrono::seconds(10);
constexpr std::string_view user_path = "/usr/local/bin:/usr/bin:/bin";
// As sshd's SUPERUSER_PATH: root gets the sbin directories too.
constexpr std::string_view root_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Client variables we pass on: those AcceptEnv names (wildcards as sshd's match_pattern).
bool accepted_client_variable(const ConnectionConfig& policy, std::string_view name) {
    for (const auto& p : policy.accept_env) {
        if (twoway::match_pattern(p, name)) return true;  // (pattern, text): LC_* matches LC_ALL
    }
    return false;
}

}  // namespace

twoway::Status Session::accept_request() {
    // Every distinct HostKey (at most max_host_keys, the first ones) with its proof for this session,
    // to a client that said it takes them (PROTOCOL.md 4.1.2 and 15); any other client gets ACCEPT alone.
    if (!transport_->client_accepts_host_keys()) return proto_.accept();
    std::vector<const twoway::PrivateKey*> keys;
    for (const HostKey& k : settings_->host_keys) {
        if (keys.size() == twoway::session::max_host_keys) break;
        const bool seen = std::any_of(keys.begin(), keys.end(), [&](const twoway::PrivateKey* p) {
            return p->public_key() == k.key.public_key();
        });
        if (!seen) keys.push_back(&k.key);
    }
    log_debug("announcing ", keys.size(), " host key", keys.size() == 1 ? "" : "s", " to the client");
    return proto_.accept_with_host_keys(keys, transport_->session_id());
}

void Session::answered() noexcept {
    if (std::holds_alternative<Starting>(phase_)) phase_ = Answered{};
}

void Session::reject(std::uint32_t code, std::string_view text) {
    if (auto st = proto_.reject(code, text); !st) log_debug("cannot reject: ", st.error().message());
    answered();
    progress();
}

void Session::apply_force_command(ts::Request& req, std::optional<std::string>& original) const {
    if (!config_.force_command) return;
    if (req.kind == ts::RequestKind::exec) original = req.command;
    log_debug("ForceCommand (", where_text(config_.force_command->where), ") runs instead of the ",
              req.kind == ts::RequestKind::exec ? "command" : "shell");
    req.kind = ts::RequestKind::exec;
    req.command = config_.force_command->value;
}

void Session::apply_permit_tty(ts::Request& req) const {
    if (config_.permit_tty.value || !req.pty) return;
    // As sshd: the PTY request is refused, the session runs without one.
    log_info("PTY allocation refused for ", account_.name, " (PermitTTY no, ", where_text(config_.permit_tty.where), ")");
    req.pty.reset();
}

std::optional<std::string> Session::service_refusal(const std::string& name) const {
    const auto& p = config_;
    if (p.disable_forwarding.value) return "DisableForwarding yes (" + where_text(p.disable_forwarding.where) + ")";
    if (!p.allow_tcp_forwarding.value) return "AllowTcpForwarding (" + where_text(p.allow_tcp_forwarding.where) + ")";
    if (p.permit_service) {
        for (const auto& n : *p.permit_service) {
            if (n == name) return std::nullopt;
        }
        return "not listed in PermitService (" + where_text(p.permit_service_where) + ")";
    }
    return std::nullopt;
}

std::optional<std::string> Session::direct_refusal(const ts::Destination& d) const {
    const auto& p = config_;
    if (p.disable_forwarding.value) return "DisableForwarding yes (" + where_text(p.disable_forwarding.where) + ")";
    if (!p.allow_tcp_forwarding.value) return "AllowTcpForwarding (" + where_text(p.allow_tcp_forwarding.where) + ")";
    const auto& open = p.permit_open.value;
    if (!open) return std::nullopt;  // PermitOpen any
    for (const auto& e : *open) {
        if (ts::permit_open_matches(e, d)) return std::nullopt;
    }
    return std::string(open->empty() ? "PermitOpen none" : "not listed in PermitOpen") + " (" +
           where_text(p.permit_open.where) + ")";
}

std::vector<std::string> Session::child_environment(const ts::Request& req, const std::string* original_command) const {
    std::vector<std::string> env;
    // SetEnv first: sshd lets the administrator's variables override the client's (AcceptEnv).
    for (const auto& e : config_.set_env) env.push_back(e);
    for (const auto& v : req.env) {
        if (!accepted_client_variable(config_, v.name)) {
            log_debug("ignoring environment variable ", log_safe(v.name), " from the client");
            continue;
        }
        const std::string prefix = v.name + "=";
        bool dup = false;
        for (const auto& e : env) dup = dup || e.starts_with(prefix);
        if (!dup) env.push_back(prefix + v.value);
    }
    // One entry per name, as sshd's child_set_env keeps it. The account's variables give way to those
    // the administrator (SetEnv) or the client (AcceptEnv) chose, as in sshd, where those come later.
    const auto find = [&env](std::string_view name) {
        return std::find_if(env.begin(), env.end(), [name](const std::string& e) {
            return e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=';
        });
    };
    const auto set_default = [&](std::string_view name, const std::string& value) {
        if (find(name) == env.end()) env.push_back(cat(name, "=", value));
    };
    // The connection's facts replace whatever came before: in sshd they are set last, so that neither a
    // client (AcceptEnv SSH_*) nor anything else can make a forced command's wrapper read another
    // SSH_ORIGINAL_COMMAND or a script another SSH_CONNECTION.
    const auto set = [&](std::string_view name, const std::string& value) {
        if (auto it = find(name); it != env.end()) env.erase(it);
        env.push_back(cat(name, "=", value));
    };
    set_default("HOME", account_.home);
    set_default("SHELL", account_.shell);
    set_default("USER", account_.name);
    set_default("LOGNAME", account_.name);
    set_default("PATH", std::string(account_.uid == 0 ? root_path : user_path));
    set_default("MAIL", "/var/mail/" + account_.name);
    if (req.pty && !req.pty->term.empty()) set_default("TERM", req.pty->term);
    // sshd's SSH_CLIENT, SSH_CONNECTION and SSH_ORIGINAL_COMMAND (what the client asked for when
    // ForceCommand or command= runs instead; unset for a shell request, which asked for none), under
    // both names: scripts, shells' prompts and wrappers such as rrsync test the SSH_ ones, and the
    // TWOWAY_ ones tell twoway apart. (SSH_TTY and TWOWAY_TTY are set with the PTY.)
    const std::string client = cat(peer_.ip, " ", peer_.port, " ", peer_.local_port);
    const std::string connection = cat(peer_.ip, " ", peer_.port, " ", peer_.local_ip, " ", peer_.local_port);
    for (const std::string prefix : {"TWOWAY_", "SSH_"}) {
        set(prefix + "CLIENT", client);
        set(prefix + "CONNECTION", connection);
        if (original_command != nullptr) {
            set(prefix + "ORIGINAL_COMMAND", *original_command);
        } else if (auto it = find(prefix + "ORIGINAL_COMMAND"); it != env.end()) {
            env.erase(it);  // unset when nothing was forced, whoever sent one
        }
        // Set with the PTY, when there is one (child.cpp, pam_session.cpp); never the client's.
        if (auto it = find(prefix + "TTY"); it != env.end()) env.erase(it);
    }
    return env;
}

ts::Request Session::permitted_request(const ts::Request& req) const {
    ts::Request out = req;
    if (out.pty && !key_policy_.permit_pty) {
        // As sshd: the PTY is refused and the session runs without one (ssh then says "PTY allocation
        // request failed"; twoway's request has no separate answer for the PTY).
        const std::string where = key_policy_.key_line ? " by " + key_policy_.key_line->text() : std::string();
        log_info("PTY not permitted", where, " for ", account_.name, " from ", peer_.text(), ": running without one");
        out.pty.reset();
    }
    return out;
}

awaitable<void> Session::start(const ts::Request& asked) {
    const ts::Request req = permitted_request(asked);
    if (refusal_) {
        // MaxSessionsTotal or PerUserMaxSessions (logged when the connection authenticated).
        reject(ts::reject::resource_shortage, "too many sessions");
        co_return;
    }
    // Every kind by name (no default): a kind added to the protocol must be given its own path here,
    // never fall through to running a process.
    switch (req.kind) {
        case ts::RequestKind::service:
            if (auto why = service_refusal(req.command)) {
                log_info("Refused request for service ", log_safe(req.command), " from user ", account_.name, " ",
                         peer_.text(), ": ", *why);
                reject(ts::reject::prohibited, "service not permitted");
                co_return;
            }
            co_await start_service(req);
            break;
        case ts::RequestKind::direct: co_await start_direct(req); break;
        case ts::RequestKind::listen: start_listen(req); break;
        case ts::RequestKind::pickup: start_pickup(req); break;
        case ts::RequestKind::shell:
        case ts::RequestKind::exec:
        case ts::RequestKind::subsystem: co_await start_process(req); break;
    }
    // Answered (or stopped) by now; a terminate() that came meanwhile was left to us.
    answered();
    if (terminating_) terminate_backend();
}

awaitable<void> Session::start_process(const ts::Request& request) {
    ts::Request req = request;
    std::optional<std::string> original;
    std::string subsystem;  // the name, for a subsystem request
    // twoway-passwd is twowayd's own (passwd_serve.hpp), unless a forced command runs instead of any
    // request (as for every subsystem): a key restricted to one command can never set a password.
    const bool passwd = req.kind == ts::RequestKind::subsystem && req.command == twoway::password_subsystem &&
                        !config_.force_command && !key_policy_.force_command;
    if (passwd) {
        subsystem = req.command;
        req.pty.reset();
    } else if (req.kind == ts::RequestKind::subsystem) {
        // As sshd's session_subsystem_req: the configured command line, run as a command would be
        // (the account's shell with -c, the same environment); ForceCommand and command= still win.
        const auto& subsystems = settings_->config.subsystems;
        const auto it = std::find_if(subsystems.begin(), subsystems.end(),
                                     [&](const SubsystemSpec& s) { return s.name == req.command; });
        if (it == subsystems.end()) {
            log_info("subsystem request for ", log_safe(req.command), " by user ", account_.name, " from ",
                     peer_.text(), " failed, subsystem not found");
            reject(ts::reject::unknown_service, "no such subsystem");
            co_return;
        }
        subsystem = it->name;
        log_debug("subsystem ", subsystem, " (", it->where.text(), "): ", it->command_line());
        req.kind = ts::RequestKind::exec;
        req.command = it->command_line();
    }
    // ForceCommand wins over the key's command=, as in sshd (session.c do_exec).
    const bool config_forced = config_.force_command.has_value();
    apply_force_command(req, original);
    if (!config_forced && key_policy_.force_command) {
        // command=: the line's command, whatever was asked (the shell's -c, as sshd runs it).
        log_info("Forced command from ", key_policy_.key_line ? key_policy_.key_line->text() : std::string("key options"),
                 " for ", account_.name, " from ", peer_.text());
        if (req.kind == ts::RequestKind::exec) original = req.command;
        req.kind = ts::RequestKind::exec;
        req.command = *key_policy_.force_command;
    }
    apply_permit_tty(req);
    const std::string base = base_name(account_.shell);
    SpawnRequest spawn_req;
    if (passwd) {
        spawn_req = passwd_request();
    } else {
        spawn_req.account = &account_;
        spawn_req.switch_identity = running_as_root();
        if (req.kind == ts::RequestKind::shell) {
            spawn_req.argv = {"-" + base};  // a login shell, as login(1) and sshd start it
        } else {
            spawn_req.argv = {base, "-c", req.command};
        }
        spawn_req.env = child_environment(req, original ? &*original : nullptr);
        spawn_req.pty = req.pty;
        spawn_req.tty_variables = {"TWOWAY_TTY", "SSH_TTY"};
        spawn_req.umask = session_umask();  // read at each session, as login and pam_umask do
        // sshd's do_login: the message of the day for an interactive login only (a PTY and no command, a
        // forced one included).
        spawn_req.print_motd =
            settings_->config.print_motd && req.pty.has_value() && req.kind == ts::RequestKind::shell;
        if (auto root = chroot_directory()) {
            spawn_req.chroot = std::move(*root);
        } else {
            reject(ts::reject::start_failed, "cannot start the session");
            co_return;
        }
        if (settings_->config.use_pam) {
            // The session helper opens PAM's session, then starts the program as the account (pam.hpp),
            // chrooted if ChrootDirectory says so (after the session opened, as sshd does).
            const PamFacts facts{settings_->config.pam_service_name, peer_.ip,
                                 cat(peer_.ip, " ", peer_.port, " ", peer_.local_ip, " ", peer_.local_port)};
            spawn_req = pam_session_request(spawn_req, facts, key_policy_.password_expired);
        }
    }

    SpawnFailure failure;
    auto child = spawn_child(spawn_req, failure);
    if (!child) {
        log_error("cannot start a session for ", account_.name, ": ", failure.message);
        reject(failure.kind == SpawnError::pty_failed ? ts::reject::pty_failed : ts::reject::start_failed,
               failure.kind == SpawnError::pty_failed ? "no PTY available" : "cannot start the session");
        co_return;
    }
    const auto ex = socket().get_executor();
    auto& proc = backend_.emplace<Process>(child->pid, ex);
    proc.passwd = passwd;
    std::weak_ptr<Session> weak = shared_from_this();
    server_.watch_child(proc.pid, [weak](int status) {
        if (auto s = weak.lock()) s->on_child_exit(status);
    });
    log_debug("User child is on pid ", proc.pid);

    // End of file on the report pipe: the program runs. Anything else: why it did not.
    Descriptor report(ex, child->report_fd.release());
    const std::vector<unsigned char> said = co_await read_spawn_report(report);
    if (auto why = decode_session_report(said)) {
        log_error("cannot start a session for ", account_.name, ": ", *why);
        reject(ts::reject::start_failed, "cannot start the session");
        co_return;
    }
    if (stopped()) co_return;
    if (!spawn_req.chroot.empty()) log_verbose("Changed root directory to \"", spawn_req.chroot, "\"");

    const bool pty = req.pty.has_value();
    if (pty) {
        proc.io.emplace<Terminal>(Descriptor(ex, child->pty_master.release()));
    } else {
        proc.io.emplace<Pipes>(Pipes{Descriptor(ex, child->stdin_fd.release()),
                                     Descriptor(ex, child->stdout_fd.release()),
                                     Descriptor(ex, child->stderr_fd.release())});
    }
    if (auto st = accept_request(); !st) {
        fail("cannot accept the session: " + st.error().message());
        co_return;
    }
    answered();
    const std::string what = !subsystem.empty() && !original ? "subsystem '" + subsystem + "'"
                             : req.kind == ts::RequestKind::shell ? "shell" : "command";
    std::string tty = child->tty;
    if (tty.starts_with("/dev/")) tty.erase(0, 5);
    log_info("Starting session: ", what, pty ? " on " + tty : std::string(), " for ", account_.name, " from ",
             peer_.text());
    if (req.kind == ts::RequestKind::exec) log_debug("session command: ", req.command);
    run_process_pumps();
    progress();
}

SpawnRequest Session::passwd_request() const {
    // The helper stays root (the key and the records are root's) and chroots nowhere; PAM's session is
    // for programs run as the account, which this is not. No PTY: the exchange is bytes.
    std::string decision(passwd_decision_yes);
    if (!key_policy_.password_mode) {
        decision = passwd_decision_off;
    } else if (account_.uid == 0 && config_.permit_root_login.value != PermitRootLogin::yes) {
        decision = passwd_decision_root;  // as a password login for root (decide_root_password_login)
    }
    SpawnRequest r;
    r.account = &account_;
    r.switch_identity = false;
    r.path = "/proc/self/exe";
    r.argv = {"twowayd", std::string(passwd_serve_mode), account_.name, decision, settings_->config.opaque_key,
              settings_->config.opaque_records};
    r.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"};
    r.umask = 077;
    log_debug("twoway-passwd for ", account_.name, ": ", decision);
    return r;
}

std::optional<std::string> Session::chroot_directory() const {
    const auto& value = config_.chroot_directory;
    if (twoway::iequals(value, "none")) return std::string();
    const auto refuse = [&](const std::string& why) -> std::optional<std::string> {
        log_error(why, " (ChrootDirectory for user ", account_.name, " from ", peer_.text(), ")");
        return std::nullopt;
    };
    // sshd chroots only as root; a daemon that cannot must not run the session unconfined.
    if (!running_as_root()) return refuse("cannot chroot: twowayd is not running as root");
    std::string why;
    const ChrootAccount who{account_.name, account_.home, account_.uid};
    auto path = expand_chroot_directory(value, who, [](std::string_view name) -> std::optional<std::string> {
        std::string reason;
        auto other = lookup_account(name, reason);
        return other ? std::optional<std::string>(other->home) : std::nullopt;
    }, why);
    if (!path) return refuse("cannot expand ChrootDirectory: " + why);
    if (auto problem = check_chroot_directory(*path)) return refuse(*problem);
    return path;
}

awaitable<std::error_code> Session::connect_service(Service& svc, const std::vector<tcp::endpoint>& endpoints) {
    if (!running_as_root()) {
        // The daemon is the account already (it serves only the one it runs as).
        auto [ec, ep] = co_await asio::async_connect(svc.socket, endpoints, use_nothrow_awaitable);
        co_return ec;
    }
    std::vector<SocketAddress> addresses;
    for (const auto& ep : endpoints) {
        SocketAddress a;
        std::memcpy(&a.storage, ep.data(), ep.size());
        a.size = static_cast<socklen_t>(ep.size());
        addresses.push_back(a);
    }
    std::string failure;
    // The child's own deadline only matters should the daemon be gone: the timer kills it at 10 s.
    auto child = spawn_connect_child(account_, addresses,
                                     static_cast<unsigned>(service_connect_timeout.count()) + 5, failure);
    if (!child) {
        log_error("service connection for ", account_.name, ": ", failure);
        co_return std::make_error_code(std::errc::resource_unavailable_try_again);
    }
    svc.connector_pid = child->pid;
    // Reaped on the loop (as we run): from then on its pid may be reused, so nothing may kill it.
    std::weak_ptr<Session> weak = shared_from_this();
    server_.watch_child(child->pid, [weak, pid = child->pid](int) {
        auto self = weak.lock();
        auto* s = self ? self->service() : nullptr;
        if (s != nullptr && s->connector_pid == pid) s->connector_pid = -1;
    });
    auto& answer = svc.connector.emplace(socket().get_executor(), child->answer.release());
    auto [wec] = co_await answer.async_wait(Descriptor::wait_read, use_nothrow_awaitable);
    if (wec || !svc.connector || stopped()) {
        // Timed out or stopped: stop_connector ran already.
        co_return wec ? wec : asio::error::operation_aborted;
    }
    auto got = receive_connect_answer(svc.connector->native_handle());
    // It has answered and _exits (or is gone): the server reaps it.
    svc.connector_pid = -1;
    stop_connector(svc);
    if (!got.socket) {
        if (!got.step.empty()) {
            log_error("service connection for ", account_.name, ": ", got.step, ": ", errno_text(got.error));
        }
        co_return std::error_code(got.error, std::system_category());
    }
    if (got.index >= endpoints.size()) co_return std::make_error_code(std::errc::protocol_error);
    std::error_code ec;
    (void)svc.socket.assign(endpoints[got.index].protocol(), got.socket.release(), ec);
    co_return ec;
}

void Session::stop_connector(Service& svc) noexcept {
    // Not reaped yet (watch_child clears the pid), so the pid is still that child's.
    if (svc.connector_pid > 0) ::kill(svc.connector_pid, SIGKILL);
    svc.connector_pid = -1;
    if (svc.connector) {
        std::error_code ignored;
        (void)svc.connector->close(ignored);
        svc.connector.reset();
    }
}

bool Session::account_may_use_services() const {
    // An account whose shell refuses logins (nologin, false) gets no door in through a service either.
    if (services_allowed(account_.shell)) return true;
    log_info("Refused service request from user ", account_.name, " ", peer_.text(), ": shell ", account_.shell,
             " does not permit services");
    return false;
}

awaitable<void> Session::start_service(const ts::Request& req) {
    if (!account_may_use_services()) {
        reject(ts::reject::prohibited, "services are not permitted for this account");
        co_return;
    }
    if (auto why = twowayd::service_refusal(key_policy_, req.command)) {
        log_info("Refused request for service ", log_safe(req.command), " from user ", account_.name, " ",
                 peer_.text(), ": ", *why);
        reject(ts::reject::prohibited, "not permitted");
        co_return;
    }
    const auto* spec = settings_->find_service(req.command);
    if (spec == nullptr) {
        log_info("Refused request for unknown service ", log_safe(req.command), " from user ", account_.name, " ",
                 peer_.text());
        reject(ts::reject::unknown_service, "no such service");
        co_return;
    }
    co_await start_connection("service " + spec->name, spec->host, spec->port);
}

awaitable<void> Session::start_direct(const Request& req) {
    // parse_destination cannot fail here: the session protocol took only a valid destination.
    const auto dest = ts::parse_destination(req.command);
    const std::string shown = dest ? dest->host + " port " + std::to_string(dest->port) : log_safe(req.command);
    const auto refuse = [&](const std::string& why) {
        // sshd: "Received request to connect to host H port P, but the request was denied."
        log_info("Refused direct connection to ", shown, " from user ", account_.name, " ", peer_.text(), ": ", why);
        reject(ts::reject::prohibited, "destination not permitted");
    };
    if (!dest) {
        refuse("not a destination");
        co_return;
    }
    if (!account_may_use_services()) {
        reject(ts::reject::prohibited, "forwarding is not permitted for this account");
        co_return;
    }
    if (auto why = direct_refusal(*dest)) {
        refuse(*why);
        co_return;
    }
    if (auto why = twowayd::direct_refusal(key_policy_, *dest)) {
        refuse(*why);
        co_return;
    }
    co_await start_connection("direct connection", dest->host, dest->port);
}

awaitable<void> Session::start_connection(std::string what, std::string host, std::uint16_t port) {
    const auto ex = socket().get_executor();
    // The service is the backend from here on (stop() closes its socket); it is dropped if the connect fails.
    auto& svc = backend_.emplace<Service>(ex);
    auto self = shared_from_this();
    svc.connect_timer.expires_after(service_connect_timeout);
    svc.connect_timer.async_wait([self](std::error_code ec) {
        // A completion already queued when the connect finished finds the session answered and does nothing.
        auto* s = self->service();
        if (ec || s == nullptr || !std::holds_alternative<Starting>(self->phase_)) return;
        s->connect_timed_out = true;
        std::error_code ignored;
        if (s->resolver) s->resolver->cancel();
        (void)s->socket.close(ignored);
        stop_connector(*s);
    });

    std::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
        endpoints.emplace_back(address, port);
    } else {
        // A host name: Asio resolves it on its own background thread, so the loop never blocks on DNS.
        auto& resolver = svc.resolver.emplace(ex);
        auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_nothrow_awaitable);
        ec = rec;
        for (const auto& r : results) endpoints.push_back(r.endpoint());
        svc.resolver.reset();
    }
    if (!ec && !stopped()) {
        ec = co_await connect_service(svc, endpoints);
    }
    svc.connect_timer.cancel();
    if (stopped()) co_return;
    if (ec || !svc.socket.is_open()) {
        log_error(what, ": connect to ", host, " port ", port, " failed: ",
                  svc.connect_timed_out ? std::string("timed out") : ec.message());
        backend_ = std::monostate{};
        reject(ts::reject::start_failed, "cannot connect");
        co_return;
    }
    (void)svc.socket.set_option(tcp::no_delay(true), ec);
    if (auto st = accept_request(); !st) {
        fail("cannot accept the session: " + st.error().message());
        co_return;
    }
    answered();
    log_info("Starting session: ", what, " (", host, " port ", port, ") for ", account_.name, " from ",
             peer_.text());
    run_service_pumps();
    progress();
}

}  // namespace twowayd
