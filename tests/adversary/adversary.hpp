// The hostile-peer matrix: what every case shares (the world it runs in, the table it reports to).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>

#include "net.hpp"

namespace adversary {

struct World {
    std::uint16_t port = 0;          // the real twowayd
    std::string account;             // an account the user key may log in to
    std::string password;            // its password (PasswordAuthentication yes); empty: no password rows
    std::string twoway;              // the real client binary
    std::string client_home;         // HOME for it (id_ed25519 there is user_key)
    std::string scratch;             // a private directory for files of our own (known_hosts)
    std::unique_ptr<twoway::PrivateKey> host_key;   // twowayd's (the malicious server presents it)
    std::unique_ptr<twoway::PrivateKey> user_key;   // in authorized_keys
    std::unique_ptr<twoway::PrivateKey> stranger;   // a valid key nobody trusts
    std::unique_ptr<DaemonLog> log;
    // twowayd's pre-auth limits as its configuration sets them.
    int grace = 0;               // LoginGraceTime, seconds
    int per_source = 0;          // PerSourceMaxStartups
    int startups = 0;            // MaxStartups: the pre-authentication table's size
    Sources sources;
};

struct Row {
    std::string name;
    std::string expected;
    std::string observed;
    bool pass = false;
    bool expected_fail = false;  // a known bug, reported, not counted as a failure
};

class Matrix {
public:
    void add(Row r);
    void add(std::string name, std::string expected, std::string observed, bool pass) {
        add(Row{std::move(name), std::move(expected), std::move(observed), pass, false});
    }
    // The table (markdown); returns the number of failures.
    [[nodiscard]] int print() const;

private:
    std::vector<Row> rows_;
};

// Handshake configurations naming only what the adversary sets: the structs grow new members (with
// their defaults), and these keep every case compiling as they do.
[[nodiscard]] twoway::ClientConfig client_config(const twoway::PrivateKey& key, const std::string& account);
[[nodiscard]] twoway::ServerConfig server_config(const twoway::PrivateKey& host_key);

// The environment for a real twoway: HOME, a plain PATH and locale, and any sanitizer options we were
// given (so that a sanitizer build can be run with its known exceptions).
[[nodiscard]] std::vector<std::string> child_env(const World& w);

// A clean login against the daemon with the trusted key (handshake accepted), from 127.0.0.1.
[[nodiscard]] bool clean_login(World& w, std::string& why);
// The real client: `twoway -p port 127.0.0.1 true` against the daemon.
[[nodiscard]] bool real_login(World& w, std::string& why);
// Both, as one "still serves" verdict appended to a case's observation.
[[nodiscard]] bool still_serves(World& w, std::string& observed);

void run_daemon_cases(World& w, Matrix& m);   // handshake attacks on twowayd
void run_record_cases(World& w, Matrix& m);   // record layer and session protocol, after a handshake
void run_flood_cases(World& w, Matrix& m);
void run_password_daemon_cases(World& w, Matrix& m);  // password mode (OPAQUE) attacks on twowayd
void run_client_cases(World& w, Matrix& m);

// Hex of a few bytes, for observations.
[[nodiscard]] std::string hex(const ByteVec& b, std::size_t max = 8);

}  // namespace adversary
