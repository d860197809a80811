#include "connection.hpp"

#include "keys_command.hpp"
#include "pam.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>

#include <asio/write.hpp>

#include <twoway/channel.hpp>
#include <twoway/password.hpp>
#include <twoway/text.hpp>

#include "authorized.hpp"
#include "log.hpp"
#include "policy.hpp"
#include "server.hpp"
#include "session.hpp"

namespace twowayd {

namespace {

// After a denial, how long we wait for the client to close before closing ourselves.
constexpr auto linger_after_denial = std::chrono::seconds(2);
// A connection the session limits refuse waits this long at most for the request it is to refuse.
constexpr auto refused_request_wait = std::chrono::seconds(10);

// The account whose checks stand in for an account that gets none (stand_in_checks).
Account stand_in_account() {
    std::string ignored;
    auto stand_in = lookup_account("nobody", ignored);
    if (!stand_in) stand_in = Account{"nobody", ::geteuid(), ::getegid(), "/nonexistent", "/nonexistent", {}, {}};
    return std::move(*stand_in);
}

// The account an AuthorizedKeysCommand or AuthorizedPrincipalsCommand (label) runs as: its
// ...CommandUser, looked up. Nothing, said in the log, when that is "none" (sshd refuses to start so;
// here the setting may come from a Match block, so the command is not run) or cannot be looked up;
// server_fault is then set when the look-up failed for another reason than "no such user".
std::optional<Account> command_runner(std::string_view label, const std::string& command, const std::string& user,
                                      bool& server_fault) {
    if (user == "none") {
        log_error(label, " ", log_safe(command), " is set without ", label, "User: not run");
        return std::nullopt;
    }
    std::string reason;
    auto runner = lookup_account(user, reason);
    if (!runner) {
        log_error(label, "User ", log_safe(user), ": ", reason.empty() ? std::string("no such user") : reason);
        server_fault = !reason.empty();
    }
    return runner;
}

}  // namespace

Connection::Connection(Server& server, tcp::socket socket, Peer peer, Source source,
                       std::shared_ptr<const Settings> settings, StartupTable::Id startup_id)
    : server_(server),
      peer_(std::move(peer)),
      source_(std::move(source)),
      settings_(std::move(settings)),
      transport_(std::make_unique<Transport>(std::move(socket), stream_config())),
      grace_(server.io()),
      startup_id_(startup_id) {
    server_.attach(this);
}

Connection::~Connection() {
    release_startup();
    server_.detach(this);
}

void Connection::release_startup() {
    if (!std::exchange(startup_counted_, false)) return;
    server_.release_startup(startup_id_);
}

void Connection::penalise(PenaltyKind kind) {
    if (std::exchange(penalised_, true)) return;
    server_.penalise(source_, kind);
}

void Connection::terminate() {
    if (session_) return session_->terminate();
    std::error_code ec;
    (void)socket().close(ec);
}

void Connection::abort() {
    if (session_) return session_->abort();
    std::error_code ec;
    (void)socket().close(ec);
}

void Connection::conclude() {
    if (std::exchange(concluded_, true)) return;
    server_.startup_conclude(startup_id_);
}

int Connection::shed() {
    shed_ = true;
    startup_counted_ = false;  // the table already let go of it
    std::error_code ec;
    if (concluded_) {
        // Already answered (a denial, or a silence held): nothing to pace, close now.
        (void)socket().close(ec);
        return -1;
    }
    // Released, not closed: pending operations end (operation_aborted) and the coroutine returns quietly.
    const int fd = socket().release(ec);
    if (ec) {
        (void)socket().close(ec);
        return -1;
    }
    return fd;
}

awaitable<void> Connection::run() {
    auto self = shared_from_this();
    log_verbose("Connection from ", peer_.ip, " port ", peer_.port, " on ", peer_.local_ip, " port ", peer_.local_port);
    const std::uint32_t grace = settings_->config.login_grace_time;
    if (grace > 0) {
        has_deadline_ = true;
        deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(grace);
        grace_.expires_at(deadline_);
        // One deadline for the whole handshake: when it fires, closing the socket ends whatever read or
        // write is pending, and the handshake loop sees timed_out_.
        grace_.async_wait([this, self](std::error_code ec) {
            if (ec) return;
            timed_out_ = true;
            std::error_code ignored;
            (void)socket().close(ignored);
        });
    }

    // The handshake's state (its read buffer, transcript, the locked pages of its secrets) is created
    // only once the client's first byte is there: a connection that sends nothing (the cheapest way to
    // hold a slot) costs this object and little more. A failed wait (timeout, shed) falls through: the
    // handshake's first read reports it. A client_hello that came with the connection is handled at
    // once, before the next accept, so that the connection already ranks above the newcomers that might
    // shed it (StartupTable).
    std::error_code ec;
    if (socket().available(ec) == 0) (void)co_await socket().async_wait(tcp::socket::wait_read, use_nothrow_awaitable);
    const bool authenticated = co_await handshake();
    grace_.cancel();
    if (!authenticated) co_return;
    release_startup();  // authenticated: no longer counts against MaxStartups
    std::optional<std::chrono::steady_clock::time_point> request_deadline;
    if (has_deadline_) request_deadline = deadline_;
    // Counted from authentication, the request not yet seen: an authenticated connection holds its
    // descriptor and memory whether or not it asks for anything. Over a limit, the session protocol
    // says so (REJECT resource_shortage) rather than the handshake: the key was good, and a denial
    // would read as a refused key, to the user and to fail2ban.
    // A refused connection is no longer in the MaxStartups table and counts against no session limit:
    // it waits for its request (to answer it) only briefly, closes soon after its REJECT, and only a
    // few of one account are open at once, so that one key cannot hold descriptors without end (the
    // review of issue 13).
    std::optional<std::string> refusal;
    std::string why;
    const bool counted = server_.reserve_session(account_->uid, why);
    if (!counted) {
        if (!server_.hold_refused(account_->uid)) {
            log_info("Refused session for ", account_->name, " from ", peer_.text(), ": ", why, "; closed at once (",
                     refused_per_account, " refused connections of the account are open already)");
            co_return;
        }
        log_info("Refused session for ", account_->name, " from ", peer_.text(), ": ", why);
        refusal = std::move(why);
        const auto wait = std::chrono::steady_clock::now() + refused_request_wait;
        if (!request_deadline || wait < *request_deadline) request_deadline = wait;
    }
    const auto release = [&] {
        if (counted) {
            server_.release_session(account_->uid);
        } else {
            server_.release_refused(account_->uid);
        }
    };
    try {
        session_ = std::make_shared<Session>(server_, std::move(transport_), peer_, settings_, *account_,
                                             std::move(*config_policy_), std::move(key_policy_),
                                             request_deadline, std::move(refusal));
    } catch (...) {
        release();
        throw;
    }
    if (server_.terminating()) session_->terminate();
    co_await session_->run();
    release();
    log_info("Disconnected from user ", account_->name, " ", peer_.text());
    session_.reset();
}

twoway::StreamServerConfig Connection::stream_config() {
    twoway::StreamServerConfig c{.handshake = twoway::ServerConfig{settings_->host_key()}};
    // HostCertificate: presented instead of the bare key (the stealth proof stays keyed by the plain key).
    c.handshake.host_certificate = settings_->host_keys.front().certificate;
    c.handshake.stealth = settings_->config.stealth_mode;
    c.handshake.banner = settings_->banner;
    c.rng = &server_.rng();
    c.handshake.max_auth_tries = settings_->config.max_auth_tries;
    c.preauth_byte_cap = preauth_cap(settings_->config.max_auth_tries);
    // The flight counts as progress from the moment it exists, before the write completes: the next
    // connection accepted must already find this one ranked above a newcomer.
    c.on_answer = [this] {
        answered_ = true;
        server_.startup_progress(startup_id_, Progress::answered);
    };
    c.authorize_async = [this](const twoway::NeedClientVerdict& v, twoway::PendingVerdict verdict) {
        server_.startup_progress(startup_id_, Progress::proved);
        asio::co_spawn(socket().get_executor(), judge(shared_from_this(), v, std::move(verdict)), asio::detached);
    };
    // PasswordAuthentication yes: the handshake answers password clients with the OPAQUE key loaded with
    // these settings (kept alive by settings_); the record is looked up off the loop.
    if (settings_->password_keys) {
        c.handshake.password_keys = &*settings_->password_keys;
        c.password_record_async = [this](const twoway::NeedPasswordRecord& r, twoway::PendingPasswordRecord answer) {
            asio::co_spawn(socket().get_executor(), find_password_record(shared_from_this(), r.account, std::move(answer)),
                           asio::detached);
        };
    }
    // Once server_auth is out, a failure's output is the generic denial: it leaves at the pace of every
    // denial, measured from the proof (the client_auth whose last bytes came last), whatever the
    // reason was (PROTOCOL.md 10.10, denial_pace.hpp). The stream waits in the event loop.
    c.denial_time = [this](std::chrono::steady_clock::time_point proof) { return server_.denial_deadline(proof); };
    return c;
}

awaitable<bool> Connection::handshake() {
    auto [ec] = co_await transport_->async_handshake(use_nothrow_awaitable);
    if (!ec) co_return account_.has_value();
    if (ec == twoway::errc::preauth_limit) {
        // Whatever arrived did not make a handshake that wants no more input.
        const auto d = server_.note_drop(DropKind::byte_cap);
        log_at(d.info ? LogLevel::info : LogLevel::verbose, "Pre-authentication byte limit (",
               preauth_cap(settings_->config.max_auth_tries),
               ") exceeded by ", peer_.text(), " [preauth]");
        penalise(PenaltyKind::noauth);
        co_return false;
    }
    if (log_failed_password(ec)) {
        // A wrong password (or an account without one): as a refused key, for the penalty box and fail2ban.
        penalise(PenaltyKind::authfail);
        conclude();
        co_await linger_close();
        co_return false;
    }
    if (ec == twoway::errc::truncated) {
        // The client ended its side (once server_auth was out, the stream answered that too with the
        // generic denial, PROTOCOL.md 7.2 step 4, which the client may still read).
        log_preauth_end(timed_out_ ? ec : std::error_code(asio::error::eof));
        co_return false;
    }
    if (ec.category() != twoway::twoway_category() || timed_out_ || shed_) {
        log_preauth_end(ec);  // the transport's end: a reset, LoginGraceTime, a shed
        co_return false;
    }
    if (settings_->config.stealth_mode && !answered_) {
        // Stealth mode: whatever was wrong (no host_key_mac, garbage, a bad length), say nothing, and
        // from here on behave exactly as a connection that has sent part of a client_hello and stalls:
        // no progress (its rank and age in the table stay those of its accept, and a shed goes through
        // the same hold), closed at LoginGraceTime or when the client closes, and penalised then as
        // such a connection is (grace-exceeded, or noauth), never at once. Otherwise the order in which
        // a full table sheds, the moment of a close or a penalty would tell a prober that it was
        // refused (the security review of issue 13).
        log_verbose("No proof of the host key from ", peer_.text(), " (", ec.message(),
                    "): silent until LoginGraceTime or the client closes [preauth]");
        const auto end = co_await silent_hold();
        log_preauth_end(end);
        co_return false;
    }
    if (ec == twoway::errc::auth_denied && !settings_->password_keys && !password_attempt_ &&
        transport_->denial_reason() == "password authentication is off") {
        // Nothing was decided (no account was looked at): say why the client was refused.
        log_info("Password login refused for ", peer_.text(), ": PasswordAuthentication is no [preauth]");
    }
    // A denial was logged when it was decided; anything else is the client's protocol failure.
    if (ec != twoway::errc::auth_denied) {
        log_info("Handshake failed with ", peer_.text(), ": ", ec.message(), " [preauth]");
        penalise(PenaltyKind::noauth);
    } else if (!server_fault_) {
        penalise(PenaltyKind::authfail);
    }
    conclude();
    co_await linger_close();
    co_return false;
}

void Connection::log_preauth_end(const std::error_code& ec) {
    if (shed_) return;  // closed by us to make room: logged as a drop, never penalised
    if (timed_out_) {
        log_info("Timeout before authentication for ", peer_.text());
        penalise(PenaltyKind::grace_exceeded);
        return;
    }
    if (server_.terminating()) {
        log_verbose("Closing unauthenticated connection from ", peer_.text(), ": shutting down [preauth]");
        return;
    }
    penalise(PenaltyKind::noauth);
    if (ec == asio::error::eof) {
        log_info("Connection closed by ", peer_.text(), " [preauth]");
    } else if (ec == asio::error::connection_reset) {
        log_info("Connection reset by ", peer_.text(), " [preauth]");
    } else {
        log_info("Read error from remote host ", peer_.text(), ": ", ec.message(), " [preauth]");
    }
}

awaitable<std::error_code> Connection::silent_hold() {
    // Until the LoginGraceTime timer closes the socket (timed_out_), the client closes, or a shed
    // releases the socket; without LoginGraceTime, as long as a stalled connection would be held.
    co_return co_await drain_then_close(std::nullopt);
}

awaitable<void> Connection::linger_close() {
    std::error_code ec;
    (void)socket().shutdown(tcp::socket::shutdown_send, ec);
    auto until = std::chrono::steady_clock::now() + linger_after_denial;
    if (has_deadline_ && deadline_ < until) until = deadline_;
    (void)co_await drain_then_close(until);
}

awaitable<std::error_code> Connection::drain_then_close(std::optional<std::chrono::steady_clock::time_point> until) {
    // Reads and drops input, a buffer at a time (nothing accumulates), until the peer closes, the socket
    // is closed or released (LoginGraceTime, a shed), or `until`. Returns the read's error.
    asio::steady_timer limit(server_.io());
    if (until) {
        limit.expires_at(*until);
        limit.async_wait([this](std::error_code e) {
            if (e) return;
            std::error_code ignored;
            (void)socket().close(ignored);
        });
    }
    std::array<std::byte, 512> sink{};
    std::error_code ended;
    for (;;) {
        auto [rec, n] = co_await socket().async_read_some(asio::buffer(sink), use_nothrow_awaitable);
        if (rec) {
            ended = rec;
            break;
        }
    }
    limit.cancel();
    std::error_code ec;
    (void)socket().close(ec);
    co_return ended;
}

void Connection::stand_in_checks(const twoway::PublicKey& key, const Account& stand_in) {
    // What deciding on a real account costs, done for a name that has none (or that this daemon does not
    // serve), with a stand-in account, its outcome ignored: the decision then takes about as long either
    // way, and the pace (denial_pace.hpp) hides the rest. No %u of the client's choosing reaches a path.
    // (The stand-in's account checks ran with the lookup, AccountLookup.)
    stand_in_key_checks(key, stand_in);
}

void Connection::stand_in_key_checks(const twoway::PublicKey& key, const Account& stand_in) {
    (void)check_revoked_key(settings_->config, key);
    (void)check_authorized_key(settings_->config, stand_in, key, key_option_facts());
}

std::optional<twoway::ConnectionFacts> Connection::key_option_facts() const {
    const std::time_t now = std::time(nullptr);
    struct tm local {};
    const std::int32_t offset = ::localtime_r(&now, &local) != nullptr ? static_cast<std::int32_t>(local.tm_gmtoff) : 0;
    return connection_facts(peer_.ip, static_cast<std::int64_t>(now), offset);
}

bool Connection::account_allowed(const Account& account, const AccountVerdict& verdict, const std::string& safe_name,
                                 const twoway::PublicKey& key, const Account& stand_in) {
    if (verdict.allowed()) return true;
    if (verdict.server_fault) {
        // As a failed account lookup: nothing is known against the client (no penalty, no fail2ban line).
        log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": ", verdict.reason);
        server_fault_ = true;
        return false;
    }
    log_info("User ", account.name, " from ", peer_.ip, " not allowed because ", verdict.reason);
    // A refused account costs what an unknown name does: the key checks still run, on the stand-in's
    // files (never the account's, whose size is the account's choice), their outcome ignored.
    stand_in_key_checks(key, stand_in);
    return false;
}

void Connection::deny_log_invalid(const std::string& safe_name, const twoway::PublicKey& key) {
    log_info("Invalid user ", safe_name, " from ", peer_.text());
    // The key, for forensics, at VERBOSE and in a shape the fail2ban filter does not count twice.
    log_verbose("Failed publickey for invalid user ", safe_name, " from ", peer_.text(), ": ", key_fingerprint_text(key));
}

static std::string certificate_text(const twoway::Certificate& c) {
    // sshd's format_method_key for a certificate.
    return cat("ED25519-CERT ", twoway::fingerprint_sha256(c.key), " ID ", log_safe(c.key_id), " (serial ", c.serial,
               ") CA ED25519 ", twoway::fingerprint_sha256(c.signature_key));
}

awaitable<bool> Connection::decide(twoway::NeedClientVerdict v) {
    if (v.password) co_return co_await decide_password(v);
    const std::string safe_name = log_safe(v.account);
    // Everything the name service is asked (the account, its shadow entry, its groups' names, the
    // stand-in) is asked off the loop, in one piece of work: NSS may wait on a directory.
    struct AccountLookup {
        std::optional<Account> account;
        std::string reason;     // the lookup itself failed (not "no such account")
        AccountVerdict verdict;  // unix_account_checks: with UsePAM yes only the shell rules are ours
        ConnectionFacts facts;   // for Match and Allow/Deny, with the account's group names
        Account stand_in;        // whose checks stand in for an account that gets none
    } found;
    co_await server_.decisions().lookup([&] {
        found.account = lookup_account(v.account, found.reason);
        found.stand_in = stand_in_account();
        if (found.account) {
            found.verdict = unix_account_checks(*found.account, {}, settings_->config.use_pam);
            found.facts = connection_facts(settings_->config, peer_, found.account->name, &*found.account);
        } else {
            (void)unix_account_checks(found.stand_in);  // what an account's checks cost, outcome ignored
        }
    });
    auto& account = found.account;
    const Account& stand_in = found.stand_in;
    if (!account && !found.reason.empty()) {
        const std::string& reason = found.reason;
        // Not "Invalid user": nothing is known about the account, and fail2ban counts that line against
        // the client, who did nothing wrong. The penalty box is spared for the same reason.
        log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": ", reason);
        server_fault_ = true;
        co_return false;
    }
    if (!account) {
        stand_in_checks(v.client_key, stand_in);
        deny_log_invalid(safe_name, v.client_key);
        co_return false;
    }
    if (!running_as_root() && account->uid != ::geteuid()) {
        // Not root: this daemon can only ever run sessions as the account it runs as.
        log_debug("twowayd runs as uid ", ::geteuid(), " and serves that account only");
        stand_in_checks(v.client_key, stand_in);
        deny_log_invalid(safe_name, v.client_key);
        co_return false;
    }
    if (!account_allowed(*account, found.verdict, safe_name, v.client_key, stand_in)) co_return false;

    // sshd_config's access policy: the Match blocks that apply, then DenyUsers, AllowUsers, DenyGroups
    // and AllowGroups (before the key is looked at, as sshd's allowed_user).
    const ConnectionFacts& facts = found.facts;
    ConnectionConfig policy = effective_config(settings_->config, facts);
    if (const auto verdict = decide_access(policy, facts, AccessFacts{false, peer_.port, false});
        !verdict.allowed) {
        log_info(verdict.message);
        stand_in_checks(v.client_key, stand_in);
        co_return false;
    }

    KeyDecision kd;
    const auto option_facts = key_option_facts();  // one address and one "now" for files and command alike
    std::string fp = key_fingerprint_text(v.client_key);
    bool accepted = false;
    if (v.client_certificate) {
        // A certificate first; when no way takes it, its key alone, which is what ssh offers next (without a
        // second handshake here).
        const twoway::Certificate& cert = *v.client_certificate;
        accepted = co_await key_login(policy, *account, v.client_key, &cert, option_facts, safe_name, kd);
        if (accepted) {
            fp = certificate_text(cert);
            log_verbose("Accepted certificate ID ", twoway::quoted(cert.key_id, 128), " (serial ", cert.serial,
                        ") signed by ED25519 CA ", twoway::fingerprint_sha256(cert.signature_key), " via ",
                        kd.matched ? kd.matched->text() : std::string("?"));
        } else if (server_fault_) {
            co_return false;
        } else {
            log_info("Certificate ID ", twoway::quoted(cert.key_id, 128), " (serial ", cert.serial, ") not accepted for ",
                     account->name, "; trying its key alone");
            kd = KeyDecision{};
        }
    }
    if (!accepted) {
        const bool by_key = co_await key_login(policy, *account, v.client_key, nullptr, option_facts, safe_name, kd);
        if (!by_key) co_return false;
    }
    if (kd.matched) {
        log_debug("matching key found: ", kd.matched->path == keys_command_label ? "" : "file ", kd.matched->path,
                  ", line ", kd.matched->line);
    }
    // PermitRootLogin is decided once the key is proved, as sshd's auth_root_allowed; forced-commands-only
    // asks whether the line that accepted the key has command=.
    const AccessFacts access_facts{account->uid == 0, peer_.port, kd.options.command.has_value()};
    if (const auto root = decide_root_login(policy, facts, access_facts); !root.allowed) {
        log_info(root.message);
        log_info("Failed publickey for ", account->name, " from ", peer_.text(), ": ", fp);
        co_return false;
    } else if (!root.message.empty()) {
        log_info(root.message);
    }
    // UsePAM yes: PAM's account phase, once the key is accepted and before it is logged so, as sshd's
    // userauth_finish runs do_pam_account.
    bool password_expired = false;
    if (settings_->config.use_pam) {
        const PamAccountVerdict pam = co_await pam_account(*account, safe_name);
        if (!pam.allowed()) co_return false;
        password_expired = pam.kind == PamAccountVerdict::Kind::password_expired;
    }
    log_info("Accepted publickey for ", account->name, " from ", peer_.text(), ": ", fp);
    if (password_expired) {
        log_info("Password of ", account->name, " has expired (PAM): the session runs passwd, no services");
    }
    if (kd.matched) {
        key_policy_ = key_session_policy(kd.options, *kd.matched);
        if (!kd.options.text.empty()) log_verbose(kd.matched->text(), ": key options ", log_safe(kd.options.text));
        // sshd sets environment= only with PermitUserEnvironment, which twowayd does not have (sshd's default: no).
        if (!kd.options.environment.empty()) {
            log_info(kd.matched->text(), ": environment= ignored (PermitUserEnvironment is no)");
        }
    }
    key_policy_.password_expired = password_expired;
    key_policy_.password_mode = effective_password_authentication(settings_->config, facts);
    account_ = std::move(*account);
    config_policy_ = std::move(policy);
    co_return true;
}


awaitable<bool> Connection::key_login(const ConnectionConfig& policy, const Account& account, const twoway::PublicKey& key,
                                      const twoway::Certificate* certificate,
                                      const std::optional<twoway::ConnectionFacts>& option_facts,
                                      const std::string& safe_name, KeyDecision& kd) {
    const std::string fp = certificate != nullptr ? certificate_text(*certificate) : key_fingerprint_text(key);
    if (const auto rd = check_revoked_key(settings_->config, key, certificate); rd.refused && rd.server_fault && !rd.revoked_by) {
        // Fail closed, but as the daemon's trouble (descriptors, memory): not a failed key, no penalty.
        for (const auto& p : rd.problems) {
            log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": revoked keys file ", p);
        }
        server_fault_ = true;
        co_return false;
    } else if (rd.refused) {
        // sshd's lines: the key is refused whatever the account's authorized_keys says.
        if (rd.revoked_by && rd.revoked_by->line != 0) {
            log_error("Authentication key ", fp, " revoked by file ", rd.revoked_by->path, ", line ",
                      rd.revoked_by->line, rd.revoked_detail == "key" ? "" : " (" + rd.revoked_detail + ")");
        } else if (rd.revoked_by) {
            // A KRL: which entry (serial, key id, key or hash) revoked it.
            log_error("Authentication key ", fp, " revoked by file ", rd.revoked_by->path, ": ", rd.revoked_detail);
        }
        for (const auto& p : rd.problems) {
            log_error("Error checking authentication key ", fp, " in revoked keys file ", p);
        }
        log_info("Failed publickey for ", account.name, " from ", peer_.text(), ": ", fp);
        co_return false;
    }

    // The files are opened here, as the account; read, parsed and searched on the pool, beside every other
    // connection's work (a 16 MiB file is the account owner's choice, not everyone's wait).
    if (certificate != nullptr) {
        // sshd's three ways for a certificate (certificate_decision); facts are needed for its checks.
        if (option_facts) kd = co_await certificate_decision(policy, account, *certificate, *option_facts);
    } else {
        OpenedKeyFiles opened = open_authorized_keys(settings_->config, account);
        const std::size_t bytes = opened.bytes;
        co_await server_.decisions().run(account.uid, bytes, [&] {
            kd = decide_authorized_key(std::move(opened), key, option_facts);
        });
    }
    // sshd's order: AuthorizedKeysCommand only when no file authorized the key.
    if (certificate == nullptr && !kd.authorized && policy.authorized_keys_command != "none") {
        // The files' lines first, in their order, then the command's.
        then_decide(kd, co_await command_keys(policy, account, key, option_facts));
    }
    for (const auto& line : kd.refused_files) log_info(line);
    // A line with this key whose options refused (from=, expiry-time=): one line each, naming it.
    for (const auto& why : kd.option_refusals) {
        log_info(certificate != nullptr ? "Certificate refused for " : "Key refused by authorized_keys options for ",
                 account.name, " from ", peer_.text(), ": ", why);
    }
    // Skipped lines explain a refusal, so they are shown at INFO then; after a success only at VERBOSE.
    const LogLevel skipped_level = kd.authorized ? LogLevel::verbose : LogLevel::info;
    for (const auto& line : kd.skipped_lines) log_at(skipped_level, line);
    if (!kd.authorized && kd.server_fault) {
        log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": authorized keys could not be read");
        server_fault_ = true;
        co_return false;
    }
    if (!kd.authorized) {
        log_info("Failed publickey for ", account.name, " from ", peer_.text(), ": ", fp);
        co_return false;
    }
    co_return true;
}


awaitable<PamAccountVerdict> Connection::pam_account(const Account& account, const std::string& safe_name) {
    const PamFacts facts{settings_->config.pam_service_name, peer_.ip,
                         cat(peer_.ip, " ", peer_.port, " ", peer_.local_ip, " ", peer_.local_port)};
    PamAccountVerdict v = co_await pam_account_check(server_, account, facts);
    if (v.kind == PamAccountVerdict::Kind::refused) {
        // One line, in the shape of the other account refusals (fail2ban counts it).
        log_info("User ", account.name, " from ", peer_.ip, " not allowed because PAM account check failed: ", v.reason);
    } else if (v.kind == PamAccountVerdict::Kind::failed) {
        // As a failed account lookup: the daemon's trouble, not the client's (no penalty, no fail2ban line).
        log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": ", v.reason);
        server_fault_ = true;
    }
    co_return v;
}

awaitable<void> Connection::judge(std::shared_ptr<Connection> self, twoway::NeedClientVerdict v,
                                  twoway::PendingVerdict verdict) {
    bool ok = false;
    const bool last_word = !v.retry_allowed;  // a denial now ends the handshake (no retry follows)
    try {
        ok = co_await self->decide(std::move(v));
    } catch (const std::exception& e) {
        // Out of memory, most likely: the daemon's trouble, and a refusal (fail closed).
        log_error("Cannot check user from ", self->peer_.text(), ": ", e.what());
        self->server_fault_ = true;
        ok = false;
    }
    if (ok) {
        verdict.accept();
        co_return;
    }
    verdict.reject("not authorized");
    // A retry keeps the connection in the table as one that proved a key (its client may try another).
    if (last_word) self->conclude();
}

awaitable<KeyDecision> Connection::command_keys(const ConnectionConfig& policy, const Account& account,
                                                const twoway::PublicKey& key,
                                                std::optional<twoway::ConnectionFacts> option_facts,
                                                const twoway::Certificate* certificate) {
    KeyDecision out;
    const std::string& command = policy.authorized_keys_command;
    auto runner = command_runner(keys_command_label, command, policy.authorized_keys_command_user, out.server_fault);
    if (!runner) co_return out;  // the key is refused
    const std::string line = certificate != nullptr ? twoway::format_certificate_line(*certificate)
                                                    : twoway::format_public_key_line(key);
    const auto blank = line.find(' ');
    KeysCommandTokens tokens;
    tokens.user = account.name;
    tokens.uid = std::to_string(account.uid);
    tokens.home = account.home;
    tokens.key_type = line.substr(0, blank);
    tokens.fingerprint = twoway::fingerprint_sha256(key);
    tokens.key_base64 = blank == std::string::npos ? std::string() : line.substr(blank + 1);
    tokens.connection = cat(peer_.ip, " ", peer_.port, " ", peer_.local_ip, " ", peer_.local_port);
    std::string why;
    auto argv = keys_command_argv(command, tokens, why);
    if (!argv) {
        log_error("AuthorizedKeysCommand ", log_safe(command), ": ", why);
        co_return out;
    }
    KeysCommandLimits limits;
    limits.timeout = std::chrono::seconds(settings_->config.authorized_keys_command_timeout);
    const KeysCommandResult ran = co_await run_keys_command(server_, std::move(*argv), std::move(*runner), limits);
    if (!ran.ok) {
        log_error("AuthorizedKeysCommand ", log_safe(command), " for ", account.name, " failed: ", ran.problem);
        co_return out;
    }
    co_await server_.decisions().run(account.uid, ran.output.size(), [&] {
        if (certificate == nullptr) {
            out = decide_command_keys(keys_command_label, ran.output, key, option_facts);
        } else if (option_facts) {
            out = decide_command_certificate(keys_command_label, ran.output, *certificate, account.name, *option_facts);
        }
    });
    co_return out;
}

awaitable<std::string> Connection::principals_command(const ConnectionConfig& policy, const Account& account,
                                                      const twoway::Certificate& certificate) {
    // As AuthorizedKeysCommand (keys_command.hpp), with sshd's tokens for the certificate; any failure
    // is an empty list (no principal: the certificate is refused this way).
    const std::string& command = policy.authorized_principals_command;
    bool server_fault = false;  // not told apart here: no principal either way
    auto runner = command_runner(principals_command_label, command, policy.authorized_principals_command_user,
                                 server_fault);
    if (!runner) co_return std::string();
    const auto base64_of = [](const std::string& line) {
        const auto blank = line.find(' ');
        return blank == std::string::npos ? std::string() : line.substr(blank + 1);
    };
    KeysCommandTokens tokens;
    tokens.user = account.name;
    tokens.uid = std::to_string(account.uid);
    tokens.home = account.home;
    tokens.key_type = "ssh-ed25519-cert-v01@openssh.com";
    tokens.fingerprint = twoway::fingerprint_sha256(certificate.key);
    tokens.key_base64 = base64_of(twoway::format_certificate_line(certificate));
    tokens.connection = cat(peer_.ip, " ", peer_.port, " ", peer_.local_ip, " ", peer_.local_port);
    tokens.principals = true;
    tokens.ca_fingerprint = twoway::fingerprint_sha256(certificate.signature_key);
    tokens.key_id = certificate.key_id;
    tokens.ca_base64 = base64_of(twoway::format_public_key_line(certificate.signature_key));
    tokens.serial = std::to_string(certificate.serial);
    tokens.ca_type = "ssh-ed25519";
    std::string why;
    auto argv = keys_command_argv(command, tokens, why, principals_command_label);
    if (!argv) {
        log_error("AuthorizedPrincipalsCommand ", log_safe(command), ": ", why);
        co_return std::string();
    }
    KeysCommandLimits limits;
    limits.timeout = std::chrono::seconds(settings_->config.authorized_keys_command_timeout);
    limits.what = principals_command_label;
    const KeysCommandResult ran = co_await run_keys_command(server_, std::move(*argv), std::move(*runner), limits);
    if (!ran.ok) {
        log_error("AuthorizedPrincipalsCommand ", log_safe(command), " for ", account.name, " failed: ", ran.problem);
        co_return std::string();
    }
    co_return ran.output;
}

awaitable<KeyDecision> Connection::certificate_decision(const ConnectionConfig& policy, const Account& account,
                                                        const twoway::Certificate& certificate,
                                                        const twoway::ConnectionFacts& facts) {
    // Each way's refusals and skipped lines are kept, in sshd's order, for the log.
    KeyDecision kd;
    {
        OpenedKeyFiles opened = open_authorized_keys(settings_->config, account);
        const std::size_t bytes = opened.bytes;
        co_await server_.decisions().run(account.uid, bytes, [&] {
            kd = decide_authorized_certificate(std::move(opened), certificate, account.name, facts);
        });
    }
    if (!kd.authorized && policy.trusted_user_ca_keys != "none") {
        TrustedCa ca;
        // TrustedUserCAKeys is the administrator's file, small: the ordinary lane.
        co_await server_.decisions().run(account.uid, 0, [&] {
            ca = find_trusted_user_ca(policy.trusted_user_ca_keys, certificate.signature_key);
        });
        // sshd's order: the principals file, then the command (run only for a CA that is trusted).
        std::optional<OpenedKeyFiles> principals;
        std::optional<std::string> principals_output;
        if (ca.where && policy.authorized_principals_file != "none") {
            principals = open_authorized_principals(settings_->config, policy, account);
        }
        if (ca.where && policy.authorized_principals_command != "none") {
            principals_output = co_await principals_command(policy, account, certificate);
        }
        KeyDecision by_ca;
        if (ca.where) {
            const std::size_t bytes = (principals ? principals->bytes : 0) +
                                      (principals_output ? principals_output->size() : 0);
            co_await server_.decisions().run(account.uid, bytes, [&] {
                by_ca = decide_trusted_certificate(std::move(principals), std::move(principals_output), certificate,
                                                   account.name, *ca.where, facts);
            });
        }
        for (const auto& p : ca.problems) log_error(p);
        by_ca.server_fault = by_ca.server_fault || ca.server_fault;
        if (!ca.where) {
            log_debug("CA ", key_fingerprint_text(certificate.signature_key), " is not listed in ",
                      policy.trusted_user_ca_keys);
        }
        then_decide(kd, std::move(by_ca));
    }
    if (!kd.authorized && policy.authorized_keys_command != "none") {
        then_decide(kd, co_await command_keys(policy, account, certificate.key, facts, &certificate));
    }
    co_return kd;
}


// ---- password mode (PasswordAuthentication yes, issue 17) ------------------------------------------

namespace {

std::string record_path(const std::string& dir, std::string_view account) {
    std::string path = dir;
    if (path.empty() || path.back() != '/') path += '/';
    path += account;
    return path;
}

}  // namespace

awaitable<void> Connection::find_password_record(std::shared_ptr<Connection> self, std::string account,
                                                 twoway::PendingPasswordRecord answer) {
    Connection& c = *self;
    c.password_attempt_.emplace();
    c.password_attempt_->name = account;
    const std::string safe_name = log_safe(account);
    const std::string dir = c.settings_->config.opaque_records;
    if (c.server_.password_failures().locked(account, std::chrono::steady_clock::now())) {
        // PerUserMaxPasswordFailures: no record is looked up, no guess is possible; the generic denial. The
        // lockout was logged when it began; each refusal only at VERBOSE.
        log_verbose("Password login for ", safe_name, " from ", c.peer_.text(),
                    " refused: too many failed passwords for the account (PerUserMaxPasswordFailures)");
        c.password_attempt_.reset();
        answer.reject("too many failed passwords for the account");
        co_return;
    }
    // The account and its record, in one piece of work on the lookup threads (NSS may wait on a
    // directory, the record is a file of root's). The record is read whether or not the account exists,
    // so that an unknown name costs what a known one does; the client learns neither (none()).
    struct Found {
        bool valid_name = false;
        std::optional<Account> account;
        std::string reason;  // the account lookup itself failed
        std::optional<twoway::PasswordRecord> record;
        std::error_code record_error;
        bool enabled = false;  // PasswordAuthentication for this account (Match applied)
    } found;
    try {
        co_await c.server_.decisions().lookup([&] {
            found.valid_name = twoway::valid_password_account(account);
            if (!found.valid_name) return;
            found.account = lookup_account(account, found.reason);
            if (found.account) {
                const auto facts = connection_facts(c.settings_->config, c.peer_, found.account->name, &*found.account);
                found.enabled = effective_password_authentication(c.settings_->config, facts);
            }
            auto r = twoway::load_password_record(dir, account);
            if (r) {
                found.record.emplace(std::move(*r));
            } else {
                found.record_error = r.error();
            }
        });
    } catch (const std::exception& e) {
        log_error("Cannot check user ", safe_name, " from ", c.peer_.text(), ": ", e.what());
        c.server_fault_ = true;
        answer.reject("password record lookup failed");
        co_return;
    }
    if (!found.account && !found.reason.empty()) {
        // As in decide(): nothing is known against the client (no penalty, no fail2ban line).
        log_error("Cannot check user ", safe_name, " from ", c.peer_.text(), ": ", found.reason);
        c.server_fault_ = true;
        answer.reject("account lookup failed");
        co_return;
    }
    if (found.valid_name && !found.record && found.record_error != std::errc::no_such_file_or_directory) {
        // A record that exists but cannot be used (permissions, a broken file): fail closed, the
        // administrator's to fix. The path holds the client's name: escaped.
        log_error("Cannot read password record ", log_safe(record_path(dir, account)), " for login from ",
                  c.peer_.text(), ": ", found.record_error.message());
        c.server_fault_ = true;
        answer.reject("password record unusable");
        co_return;
    }
    // Not root: this daemon can only ever run sessions as the account it runs as (as in decide()).
    const bool servable = found.account && (running_as_root() || found.account->uid == ::geteuid());
    c.password_attempt_->invalid = !(servable && found.record);
    c.password_attempt_->answered = true;
    if (c.password_attempt_->invalid) {
        log_debug("No password record for ", safe_name, " from ", c.peer_.text(), ": the fake response");
        answer.none();
        co_return;
    }
    if (!found.enabled) {
        // A Match block (or the global value, with a block turning it on for others) says no for this
        // account: the fake response too, so that the client learns nothing about the password.
        log_verbose("PasswordAuthentication is no for ", found.account->name, " from ", c.peer_.text(),
                    ": the fake response");
        answer.none();
        co_return;
    }
    answer.provide(found.record->registration.span(), found.record->ksf);
}

bool Connection::log_failed_password(const std::error_code& ec) {
    if (!password_attempt_ || !password_attempt_->answered || password_attempt_->judged) return false;
    // LoginGraceTime, a shed, the daemon's end: logged as such, not as a guess.
    if (timed_out_ || shed_ || server_.terminating()) return false;
    if (ec == twoway::errc::auth_denied || ec == twoway::errc::preauth_limit) return false;
    // The client stopped after server_password (its own check of the password failed, PROTOCOL.md
    // 10.16), or sent a proof that did not verify: either way a failed guess at the password.
    const std::string safe_name = log_safe(password_attempt_->name);
    log_info("Failed password for ", password_attempt_->invalid ? "invalid user " : "", safe_name, " from ", peer_.text());
    if (server_.password_failures().record(password_attempt_->name, std::chrono::steady_clock::now())) {
        const auto& config = settings_->config;
        log_info("Password logins for ", safe_name, " refused for up to ", config.password_failure_window, "s: ",
                 config.per_user_max_password_failures, " failed passwords within ", config.password_failure_window,
                 "s (PerUserMaxPasswordFailures)");
    }
    return true;
}

awaitable<bool> Connection::decide_password(const twoway::NeedClientVerdict& v) {
    if (password_attempt_) password_attempt_->judged = true;
    const std::string safe_name = log_safe(v.account);
    struct AccountLookup {
        std::optional<Account> account;
        std::string reason;
        AccountVerdict verdict;
        ConnectionFacts facts;
    } found;
    co_await server_.decisions().lookup([&] {
        found.account = lookup_account(v.account, found.reason);
        if (found.account) {
            found.verdict = unix_account_checks(*found.account, {}, settings_->config.use_pam);
            found.facts = connection_facts(settings_->config, peer_, found.account->name, &*found.account);
        }
    });
    if (!found.account && !found.reason.empty()) {
        log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": ", found.reason);
        server_fault_ = true;
        co_return false;
    }
    if (!found.account || (!running_as_root() && found.account->uid != ::geteuid())) {
        // Its record was found a moment ago: the account went away since (or was never one this daemon serves).
        log_info("Failed password for invalid user ", safe_name, " from ", peer_.text());
        co_return false;
    }
    Account& account = *found.account;
    // The account checks (locked, expired, shell, nologin) as for a key.
    if (!found.verdict.allowed()) {
        if (found.verdict.server_fault) {
            log_error("Cannot check user ", safe_name, " from ", peer_.text(), ": ", found.verdict.reason);
            server_fault_ = true;
        } else {
            log_info("User ", account.name, " from ", peer_.ip, " not allowed because ", found.verdict.reason);
        }
        co_return false;
    }
    // The record was given only with PasswordAuthentication yes for the account (find_password_record);
    // asked again here, where the account policy is decided, so that no path skips it.
    if (!effective_password_authentication(settings_->config, found.facts)) {
        log_info("Failed password for ", account.name, " from ", peer_.text());
        co_return false;
    }
    // The Match blocks that apply, DenyUsers, AllowUsers, DenyGroups, AllowGroups, as for a key.
    ConnectionConfig policy = effective_config(settings_->config, found.facts);
    if (const auto verdict = decide_access(policy, found.facts, AccessFacts{false, peer_.port, false}); !verdict.allowed) {
        log_info(verdict.message);
        co_return false;
    }
    // PermitRootLogin: root by password only with yes (sshd's auth_root_allowed for "password").
    if (const auto root = decide_root_password_login(policy, found.facts, account.uid == 0, peer_.port); !root.allowed) {
        log_info(root.message);
        log_info("Failed password for ", account.name, " from ", peer_.text());
        co_return false;
    }
    bool password_expired = false;
    if (settings_->config.use_pam) {
        const PamAccountVerdict pam = co_await pam_account(account, safe_name);
        if (!pam.allowed()) co_return false;
        password_expired = pam.kind == PamAccountVerdict::Kind::password_expired;
    }
    log_info("Accepted password for ", account.name, " from ", peer_.text());
    if (password_expired) {
        log_info("Password of ", account.name, " has expired (PAM): the session runs passwd, no services");
    }
    // No authorized_keys line: nothing restricts the session but the configuration.
    key_policy_ = SessionPolicy{};
    key_policy_.password_expired = password_expired;
    key_policy_.password_mode = true;  // decided above
    account_ = std::move(account);
    config_policy_ = std::move(policy);
    co_return true;
}

}  // namespace twowayd
