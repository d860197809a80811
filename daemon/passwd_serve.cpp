// The twoway-passwd helper (passwd_serve.hpp): one exchange of PROTOCOL.md 16 on standard input and
// output, then exit. Every message has a size its type fixes, so the helper reads exactly that much and
// never more: the client's bytes reach no parser but libtwoway's, which take one whole message each.
#include "passwd_serve.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <optional>

#include <twoway/password.hpp>
#include <twoway/random.hpp>

#include "fd_io.hpp"

namespace twowayd {

namespace {

// The whole exchange: the client sends REGISTER once its person typed the password (before it
// connected) and RECORD once Argon2id ran (seconds at the default cost).
constexpr unsigned exchange_deadline_seconds = 120;

// The exchange is on standard input and output (the session's pipes).
bool read_exact(std::byte* to, std::size_t n) { return twoway_common::read_exact(0, std::span(to, n)); }
bool write_all(std::span<const std::byte> bytes) { return twoway_common::write_all(1, bytes); }

int refuse(twoway::PasswordRefusal why) {
    (void)write_all(twoway::password_refused_message(why));
    return passwd_exit_refused;
}

int done(twoway::PasswordDone what, int status) {
    return write_all(twoway::password_done_message(what)) ? status : passwd_exit_protocol;
}

int remove_record(const std::string& account, const std::string& dir) {
    auto s = twoway::delete_password_record(dir, account);
    if (!s && s.error() == std::errc::no_such_file_or_directory) return refuse(twoway::PasswordRefusal::no_record);
    if (!s) return refuse(twoway::PasswordRefusal::server_failure);
    return done(twoway::PasswordDone::removed, passwd_exit_removed);
}

int register_record(const std::string& account, const std::string& key_path, const std::string& dir) {
    std::array<std::byte, twoway::password_register_message_size> request{};
    request[0] = std::byte{static_cast<std::uint8_t>(twoway::PasswordMessage::register_request)};
    if (!read_exact(request.data() + 1, request.size() - 1)) return passwd_exit_protocol;

    // The new record costs what the one it replaces did (the administrator's choice, twoway-passwd
    // --local --ksf-*), else the default. One that exists but cannot be read is the administrator's to
    // fix: nothing replaces it from here.
    twoway::PasswordKsf ksf = twoway::default_password_ksf();
    bool existed = false;
    if (auto old = twoway::load_password_record(dir, account)) {
        ksf = old->ksf;
        existed = true;
    } else if (old.error() != std::errc::no_such_file_or_directory) {
        return refuse(twoway::PasswordRefusal::server_failure);
    }
    auto key = twoway::load_opaque_key(key_path);
    if (!key) return refuse(twoway::PasswordRefusal::server_failure);
    auto response = twoway::answer_password_register(*key, account, ksf, request);
    if (!response) return passwd_exit_protocol;
    if (!write_all(*response)) return passwd_exit_protocol;

    twoway::SecretBytes<twoway::password_record_message_size> message;
    if (!read_exact(message.data(), message.size())) return passwd_exit_protocol;
    auto record = twoway::password_record_from_message(ksf, message.span());
    if (!record) return passwd_exit_protocol;
    // Nothing may follow RECORD: the client waits for DONE, then closes.
    if (auto s = twoway::save_password_record(dir, account, *record); !s) {
        return refuse(twoway::PasswordRefusal::server_failure);
    }
    return existed ? done(twoway::PasswordDone::changed, passwd_exit_changed)
                   : done(twoway::PasswordDone::registered, passwd_exit_registered);
}

}  // namespace

int passwd_serve_main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "twowayd: %s is for twowayd's own use\n", argv[1]);
        return passwd_exit_protocol;
    }
    (void)::prctl(PR_SET_NAME, "twowayd-passwd", 0, 0, 0);  // in ps, rather than "exe"
    (void)::alarm(exchange_deadline_seconds);                // SIGALRM's default action ends it
    const std::string account = argv[2];
    const std::string_view decision = argv[3];
    const std::string key_path = argv[4];
    const std::string dir = argv[5];

    std::byte type{};
    if (!read_exact(&type, 1)) return passwd_exit_protocol;
    switch (static_cast<twoway::PasswordMessage>(type)) {
        case twoway::PasswordMessage::remove:
            return remove_record(account, dir);
        case twoway::PasswordMessage::register_request:
            if (decision == passwd_decision_off) return refuse(twoway::PasswordRefusal::mode_off);
            if (decision != passwd_decision_yes) return refuse(twoway::PasswordRefusal::not_permitted);
            return register_record(account, key_path, dir);
        default:
            return passwd_exit_protocol;
    }
}

std::string passwd_serve_outcome(int wait_status, std::string_view account, std::string_view peer) {
    const std::string who = std::string(account) + " from " + std::string(peer);
    if (WIFEXITED(wait_status)) {
        switch (WEXITSTATUS(wait_status)) {
            case passwd_exit_registered: return "Registered a password for " + who + " (twoway-passwd)";
            case passwd_exit_changed: return "Changed the password of " + who + " (twoway-passwd)";
            case passwd_exit_removed: return "Removed the password of " + who + " (twoway-passwd)";
            case passwd_exit_refused: return "Refused twoway-passwd for " + who;
            default: break;
        }
    }
    return "twoway-passwd for " + who + " ended without a change";
}

}  // namespace twowayd
