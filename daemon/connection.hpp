// One client connection, from accept to close, as one coroutine. Before authentication it runs the
// handshake through libtwoway's stream (the one driver, as any embedder would) under one deadline
// (LoginGraceTime) that bounds every read and write, decides the client's verdict (account,
// StrictModes, authorized_keys) when the stream asks for it, and logs it in sshd's words; after
// authentication it hands the stream to a Session (session.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <twoway/asio_stream.hpp>

#include "account.hpp"
#include "authorized.hpp"
#include "async.hpp"
#include "pam.hpp"
#include "session_policy.hpp"
#include "settings.hpp"
#include "startups.hpp"

namespace twowayd {

class Server;
class Session;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Server& server, tcp::socket socket, Peer peer, Source source, std::shared_ptr<const Settings> settings,
               StartupTable::Id startup_id);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The whole life of the connection. Spawn it with a shared_ptr to this object kept alive.
    awaitable<void> run();

    // SIGTERM: a connection still in its handshake is closed; a session ends cleanly (session.hpp).
    void terminate();
    // The shutdown deadline passed: close everything now.
    void abort();
    // MaxStartups or PerSourceMaxStartups made room with this connection (it no longer counts): it ends
    // without a byte, without a log line of its own (the server logged the drop) and without a penalty.
    // Returns its descriptor, released from the connection, for the server to close (ShedHold), or -1
    // when it was closed here.
    [[nodiscard]] int shed();

    // The handshake failed and its end was logged: the connection only lingers so our last bytes (the
    // denial) reach the client. Shedding it then needs no line of its own.
    [[nodiscard]] bool concluded() const noexcept { return concluded_; }
    [[nodiscard]] const Peer& peer() const noexcept { return peer_; }
    [[nodiscard]] const std::string& source_key() const noexcept { return source_.key; }

private:
    // The handshake; true once it completed with an authorized account.
    awaitable<bool> handshake();
    [[nodiscard]] twoway::StreamServerConfig stream_config();
    [[nodiscard]] tcp::socket& socket() noexcept { return transport_->next_layer(); }
    // The verdict on a client that proved it holds client_key; logs it. Sets account_ when authorized.
    // A coroutine: the authorized_keys files are parsed on the server's DecisionPool and
    // AuthorizedKeysCommand runs as a child, while the event loop goes on with everyone else.
    awaitable<bool> decide(twoway::NeedClientVerdict v);
    // Runs decide() and answers the stream's verdict with it (an exception is a refusal).
    static awaitable<void> judge(std::shared_ptr<Connection> self, twoway::NeedClientVerdict v,
                                 twoway::PendingVerdict verdict);
    // Password mode (PasswordAuthentication yes): the account's OPAQUE record, looked up off the loop
    // (the account and the record file), answered as PendingPasswordRecord asks; remembered in
    // password_attempt_ for the log line when the attempt ends.
    static awaitable<void> find_password_record(std::shared_ptr<Connection> self, std::string account,
                                                twoway::PendingPasswordRecord answer);
    // The verdict on a client that proved the account's password: decide()'s account policy without the
    // key (account checks, Match, Allow/Deny, PermitRootLogin for passwords, PAM account); logs it.
    awaitable<bool> decide_password(const twoway::NeedClientVerdict& v);
    // The end of a password attempt that got no verdict (the client stopped after server_password: a
    // wrong password, PROTOCOL.md 10.16): "Failed password for ...". True when it was one.
    bool log_failed_password(const std::error_code& ec);
    // AuthorizedKeysCommand for this account and key (keys_command.hpp), read as authorized_keys lines.
    // With a certificate its output's cert-authority lines decide (%t, %k: the certificate's).
    awaitable<KeyDecision> command_keys(const ConnectionConfig& policy, const Account& account,
                                        const twoway::PublicKey& key,
                                        std::optional<twoway::ConnectionFacts> option_facts,
                                        const twoway::Certificate* certificate = nullptr);
    // The verdict on the key, or on the certificate when one is given (its key is `key`): RevokedKeys,
    // then authorized_keys and AuthorizedKeysCommand, or for a certificate certificate_decision; every
    // refusal logged (with "Failed publickey"). kd: the deciding line and its options. False when
    // refused; server_fault_ is set when the daemon's own trouble refused.
    awaitable<bool> key_login(const ConnectionConfig& policy, const Account& account, const twoway::PublicKey& key,
                              const twoway::Certificate* certificate,
                              const std::optional<twoway::ConnectionFacts>& option_facts, const std::string& safe_name,
                              KeyDecision& kd);
    // AuthorizedPrincipalsCommand's output for this certificate ("" when it failed, logged).
    awaitable<std::string> principals_command(const ConnectionConfig& policy, const Account& account,
                                              const twoway::Certificate& certificate);
    // sshd's ways for a user certificate, in its order: cert-authority lines in the account's
    // authorized_keys files, TrustedUserCAKeys (with AuthorizedPrincipalsFile), AuthorizedKeysCommand.
    awaitable<KeyDecision> certificate_decision(const ConnectionConfig& policy, const Account& account,
                                                const twoway::Certificate& certificate,
                                                const twoway::ConnectionFacts& facts);
    void deny_log_invalid(const std::string& safe_name, const twoway::PublicKey& key);
    // What authorized_keys options are decided on: this client's address, now (nothing for an address
    // that does not parse: lines with from= or expiry-time= then refuse).
    [[nodiscard]] std::optional<twoway::ConnectionFacts> key_option_facts() const;
    void stand_in_checks(const twoway::PublicKey& key, const Account& stand_in);
    void stand_in_key_checks(const twoway::PublicKey& key, const Account& stand_in);
    // The account checks' verdict (locked, expired, shell, /etc/nologin: account.hpp; made off the loop
    // in decide); logs a refusal, and a refused account gets the stand-in's key checks.
    [[nodiscard]] bool account_allowed(const Account& account, const AccountVerdict& verdict,
                                       const std::string& safe_name, const twoway::PublicKey& key,
                                       const Account& stand_in);
    // UsePAM yes: PAM's account phase (pam.hpp) for an accepted key; logs a refusal or a failure.
    awaitable<PamAccountVerdict> pam_account(const Account& account, const std::string& safe_name);
    void log_preauth_end(const std::error_code& ec);
    // Reports the connection's bad end to the penalty box, at most once.
    void penalise(PenaltyKind kind);
    // After a failed handshake: our last bytes (the denial) must reach the client, so shut down our
    // side and wait briefly for the client to close instead of resetting the connection.
    // Stealth mode's silence for a client that did not prove it knows the host key: held as a stalled
    // connection is; returns how it ended (for log_preauth_end).
    awaitable<std::error_code> silent_hold();
    awaitable<void> linger_close();
    awaitable<std::error_code> drain_then_close(std::optional<std::chrono::steady_clock::time_point> until);
    void release_startup();
    // The handshake is over without authentication: the connection only lingers (StartupTable::conclude).
    void conclude();

    Server& server_;
    Peer peer_;
    Source source_;
    std::shared_ptr<const Settings> settings_;
    std::unique_ptr<Transport> transport_;  // moved to the Session once authenticated (never null before)
    asio::steady_timer grace_;
    std::chrono::steady_clock::time_point deadline_;
    bool has_deadline_ = false;
    bool timed_out_ = false;
    StartupTable::Id startup_id_;
    bool startup_counted_ = true;
    bool shed_ = false;
    bool concluded_ = false;
    bool answered_ = false;  // our first flight (server_hello) exists
    bool penalised_ = false;
    bool server_fault_ = false;  // denied because of our own trouble (a failed account lookup), not the client's
    // Password mode: the attempt this connection made (the account it named), once its record was asked for.
    struct PasswordAttempt {
        std::string name;      // as the client sent it (escape before logging)
        bool invalid = true;   // no such account, no record, or a name no record can have
        bool answered = false;  // server_password went out (a real or a fake response)
        bool judged = false;    // the password was right: decide_password logged the outcome
    };
    std::optional<PasswordAttempt> password_attempt_;
    std::optional<Account> account_;
    std::optional<ConnectionConfig> config_policy_;  // the effective sshd_config policy, set with account_
    SessionPolicy key_policy_;  // set with account_: what the matched authorized_keys line permits
    std::shared_ptr<Session> session_;
};

}  // namespace twowayd
