// After an honest handshake with the real twowayd: records replayed from another session or within
// one, flipped, cut, oversize or undersize, a handshake message where a record belongs, and session
// protocol messages out of place. Each case checks that the daemon closes and logs why, then that it
// still serves a good client.
#include <unistd.h>

#include <functional>

#include <twoway/handshake.hpp>
#include <twoway/password.hpp>

#include "probe.hpp"

namespace adversary {

namespace {

using twoway::errc;

std::string msg(errc e) { return make_error_code(e).message(); }

ByteVec concat(ByteVec a, const ByteVec& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Drives the library's own client over p to a completed handshake; the channel for what follows.
std::optional<twoway::Channel> honest_session(World& w, Probe& p, std::string& obs) {
    if (!open_probe(w, p, obs)) return std::nullopt;
    twoway::ClientHandshake c(client_config(*w.user_key, w.account), twoway::system_rng());
    for (int steps = 0; steps < 16; ++steps) {
        if (auto out = c.take_output(); !out.empty()) (void)p.sock.send_all(out);
        const auto ev = c.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev)) {
            auto r = c.take_result();
            if (!r) break;
            auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, std::move(r->send_secret), std::move(r->recv_secret));
            if (!ch) break;
            return std::move(*ch);
        }
        if (std::holds_alternative<twoway::HandshakeFailed>(ev)) break;
        if (std::holds_alternative<twoway::NeedServerVerdict>(ev)) {
            (void)c.accept_server();
            continue;
        }
        ByteVec in;
        (void)p.sock.read_message(in, milliseconds(3000));
        if (in.empty()) break;
        (void)c.feed(in);
    }
    obs = "honest handshake did not complete" + (c.error() ? ": " + c.error().message() : std::string());
    return std::nullopt;
}

// A session REQUEST (docs/PROTOCOL.md section 15): exec `command`, window 2 MiB, no PTY.
ByteVec request_exec(std::string_view command) {
    twoway::wire::Writer body;
    body.u32(2u << 20).u8(2).string(command).u8(0);
    twoway::wire::Writer f;
    f.u8(0x02).u32(static_cast<std::uint32_t>(body.size())).bytes(body.view());
    return f.take();
}

ByteVec request_true() { return request_exec("true"); }

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Records right behind client_auth (PROTOCOL.md 7.2.5): a REQUEST to create `marker`, sealed under the
// application keys the client derives itself. They may be acted on only after the daemon authorizes.
void early_request_case(World& w, Matrix& m, const std::string& name, const twoway::PrivateKey& key, bool trusted) {
    static int n = 0;
    const std::string marker = w.scratch + "/early-request-" + std::to_string(++n);
    const auto mark = w.log->size();
    Probe p;
    std::string obs;
    RefClient c(key, twoway::system_rng());
    bool ok = reach_client_auth(w, p, c, obs);
    if (ok) {
        ByteVec flight = c.auth(w.account);
        auto ch = c.app_channel();
        ByteVec early;
        if (ch) (void)ch->seal(request_exec("touch " + marker), early);
        (void)p.sock.send_all(concat(flight, early));
        if (trusted) {
            ByteVec v;
            (void)p.sock.read_message(v, milliseconds(3000));
            const auto plain = c.open_verdict(v);
            ok = plain && *plain == ByteVec{std::byte{0}};
            obs += ok ? "accepted" : "NOT accepted";
            ok = expect_log(w, mark, "Starting session: command for " + w.account + " from " + p.peer(), obs) && ok;
            for (int i = 0; i < 100 && !file_exists(marker); ++i) sleep_for(milliseconds(30));
            const bool ran = file_exists(marker);
            obs += ran ? "; the early REQUEST ran" : "; the early REQUEST did NOT run";
            ok = ok && ran;
        } else {
            finish(p);
            ok = denied(p, &c, obs);
            ok = expect_log(w, mark, "Failed publickey for " + w.account + " from " + p.peer(), obs) && ok;
            sleep_for(milliseconds(500));
            const bool ran = file_exists(marker);
            const bool started = w.log->since(mark).find("Starting session: command for " + w.account + " from " + p.peer()) !=
                                 std::string::npos;
            obs += ran || started ? "; the early REQUEST RAN" : "; the early REQUEST never ran (no file, no session logged)";
            ok = ok && !ran && !started;
        }
    }
    ok = still_serves(w, obs) && ok;
    m.add(name,
          trusted ? "accepted, and the REQUEST sent behind client_auth runs (control for the row below)"
                  : "generic denial; the REQUEST sent behind client_auth never runs; log `Failed publickey`",
          obs, ok);
}

std::function<std::string(const Probe&)> bad_record(errc e) {
    return [e](const Probe& p) { return "Bad record from " + p.peer() + ": " + msg(e); };
}

// A record case: an honest session, then `attack` sends something; the daemon must close and log `needle`.
void record_case(World& w, Matrix& m, const std::string& name, const std::string& expected,
                 const std::function<void(Probe&, twoway::Channel&)>& attack,
                 const std::function<std::string(const Probe&)>& needle) {
    const auto mark = w.log->size();
    Probe p;
    std::string obs;
    auto ch = honest_session(w, p, obs);
    bool ok = ch.has_value();
    if (ok) {
        attack(p, *ch);
        ByteVec rest;
        p.end = p.sock.read_until_end(rest, milliseconds(5000));
        ok = p.end == End::eof || p.end == End::reset;
        obs += std::string("authenticated; daemon ") + end_text(p.end) + " the connection";
        ok = expect_log(w, mark, needle(p), obs) && ok;
    }
    ok = still_serves(w, obs) && ok;
    m.add(name, expected, obs, ok);
}

}  // namespace

void run_record_cases(World& w, Matrix& m) {
    RefClient any(*w.user_key, twoway::system_rng());
    const ByteVec hello = any.hello();
    early_request_case(w, m, "early records: a REQUEST right behind client_auth, trusted key", *w.user_key, true);
    early_request_case(w, m, "early records: a REQUEST right behind client_auth, untrusted key (valid signature)",
                       *w.stranger, false);
    {
        // Records recorded from session A, replayed into session B; and a record replayed within a session.
        Probe pa;
        std::string oa;
        ByteVec recorded;
        if (auto ch = honest_session(w, pa, oa)) {
            (void)ch->seal(request_true(), recorded);
            (void)pa.sock.send_all(recorded);
            ByteVec answer;
            (void)pa.sock.read_exact(answer, 1, milliseconds(3000));
            pa.sock.close();
        }
        record_case(w, m, "replay: session A's records sent in session B",
                    "daemon closes; log `Bad record ... " + msg(errc::decrypt_failed) + "`",
                    [&](Probe& p, twoway::Channel&) { (void)p.sock.send_all(recorded); },
                    bad_record(errc::decrypt_failed));
        record_case(w, m, "replay: a record sent twice in one session",
                    "daemon closes; log `Bad record ... " + msg(errc::decrypt_failed) + "`",
                    [&](Probe& p, twoway::Channel& ch) {
                        ByteVec r;
                        (void)ch.seal(request_true(), r);
                        (void)p.sock.send_all(concat(r, r));
                    },
                    bad_record(errc::decrypt_failed));
        record_case(w, m, "record layer: a flipped ciphertext byte",
                    "daemon closes; log `Bad record ... " + msg(errc::decrypt_failed) + "`",
                    [&](Probe& p, twoway::Channel& ch) {
                        ByteVec r;
                        (void)ch.seal(request_true(), r);
                        r[10] ^= std::byte{0x01};
                        (void)p.sock.send_all(r);
                    },
                    bad_record(errc::decrypt_failed));
        record_case(w, m, "state Authenticated: a handshake message (client_hello) in place of a record",
                    "daemon closes; log `Bad record ... " + msg(errc::record_too_large) + "`",
                    [&](Probe& p, twoway::Channel&) { (void)p.sock.send_all(hello); }, bad_record(errc::record_too_large));
        record_case(w, m, "record layer: a truncated record, then EOF",
                    "daemon closes; log `... without an authenticated close`",
                    [&](Probe& p, twoway::Channel& ch) {
                        ByteVec r;
                        (void)ch.seal(request_true(), r);
                        (void)p.sock.send_all(ByteVec(r.begin(), r.begin() + 10));
                        p.sock.shutdown_write();
                    },
                    [](const Probe& p) { return "Connection closed by " + p.peer() + " without an authenticated close"; });
    }

    // ---- the record layer's and the session protocol's refusals, after an honest handshake ------------
    record_case(w, m, "record layer: length 65554 (one above the maximum)",
                "daemon closes; log `Bad record ... " + msg(errc::record_too_large) + "`",
                [](Probe& p, twoway::Channel&) { (void)p.sock.send_all(header(0x00, 65554)); }, bad_record(errc::record_too_large));
    record_case(w, m, "record layer: length 16 (below the AEAD minimum)", "daemon closes; log `Bad record ... " + msg(errc::malformed) + "`",
                [](Probe& p, twoway::Channel&) { (void)p.sock.send_all(concat(header(0x00, 16), ByteVec(16))); },
                bad_record(errc::malformed));
    auto session_frame = [](std::uint8_t type, const ByteVec& body) {
        twoway::wire::Writer f;
        f.u8(type).u32(static_cast<std::uint32_t>(body.size())).bytes(body);
        return f.take();
    };
    auto send_sealed = [](Probe& p, twoway::Channel& ch, const ByteVec& plain) {
        ByteVec r;
        (void)ch.seal(plain, r);
        (void)p.sock.send_all(r);
    };
    auto protocol_error = [](errc e) {
        return [e](const Probe& p) { return "Protocol error from " + p.peer() + ": " + msg(e); };
    };
    record_case(w, m, "session state ExpectRequest: DATA before REQUEST",
                "daemon closes; log `Protocol error ... " + msg(errc::unexpected_message) + "`",
                [&](Probe& p, twoway::Channel& ch) { send_sealed(p, ch, session_frame(0x10, ByteVec{std::byte{0}, std::byte{'x'}})); },
                protocol_error(errc::unexpected_message));
    record_case(w, m, "session state AwaitDecision: DATA right behind REQUEST (same record)",
                "daemon closes; log `Protocol error ... " + msg(errc::unexpected_message) + "`",
                [&](Probe& p, twoway::Channel& ch) {
                    send_sealed(p, ch, concat(request_exec("cat"), session_frame(0x10, ByteVec{std::byte{0}, std::byte{'x'}})));
                },
                protocol_error(errc::unexpected_message));
    record_case(w, m, "session state ExpectInput: a second REQUEST after ACCEPT",
                "daemon closes; log `Protocol error ... " + msg(errc::unexpected_message) + "`",
                [&](Probe& p, twoway::Channel& ch) {
                    send_sealed(p, ch, request_exec("cat"));
                    ByteVec accept;
                    (void)p.sock.read_exact(accept, 1, milliseconds(3000));  // the daemon's first record
                    send_sealed(p, ch, request_exec("cat"));
                },
                protocol_error(errc::unexpected_message));
    record_case(w, m, "session state ExpectRequest: unknown frame type 0x7f",
                "daemon closes; log `Protocol error ... " + msg(errc::unexpected_message) + "`",
                [&](Probe& p, twoway::Channel& ch) { send_sealed(p, ch, session_frame(0x7f, {})); },
                protocol_error(errc::unexpected_message));
    record_case(w, m, "session: frame length 65532 (above 65531)",
                "daemon closes; log `Protocol error ... " + msg(errc::length_too_large) + "`",
                [&](Probe& p, twoway::Channel& ch) {
                    twoway::wire::Writer f;
                    f.u8(0x02).u32(65532);
                    send_sealed(p, ch, f.take());
                },
                protocol_error(errc::length_too_large));
    record_case(w, m, "session: REQUEST of kind 9", "daemon closes; log `Protocol error ... " + msg(errc::malformed) + "`",
                [&](Probe& p, twoway::Channel& ch) {
                    twoway::wire::Writer body;
                    body.u32(1024).u8(9).string(std::string_view("")).u8(0);
                    send_sealed(p, ch, session_frame(0x02, body.take()));
                },
                protocol_error(errc::malformed));
    record_case(w, m, "session: 65 ENV messages (at most 64)",
                "daemon closes; log `Protocol error ... " + msg(errc::unexpected_message) + "`",
                [&](Probe& p, twoway::Channel& ch) {
                    twoway::wire::Writer env;
                    env.string(std::string_view("ADV")).string(std::string_view("1"));
                    const ByteVec one = session_frame(0x01, env.take());
                    ByteVec all;
                    for (int i = 0; i < 65; ++i) all = concat(all, one);
                    send_sealed(p, ch, all);
                },
                protocol_error(errc::unexpected_message));

    // ---- the subsystem twoway-passwd (PROTOCOL.md 16): hostile registration messages ---------------------
    // An honest session asks for the subsystem, then sends `data` on stream in (and EOF): twowayd's helper
    // must end without storing anything (log `... ended without a change`), and the daemon keep serving.
    auto passwd_case = [&](const std::string& name, const ByteVec& data) {
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        auto ch = honest_session(w, p, obs);
        bool ok = ch.has_value();
        if (ok) {
            twoway::wire::Writer req;
            req.u32(2u << 20).u8(4).string(twoway::password_subsystem).u8(0);
            send_sealed(p, *ch, session_frame(0x02, req.take()));
            ok = expect_log(w, mark, "Starting session: subsystem 'twoway-passwd' for " + w.account + " from " + p.peer(), obs);
            ByteVec data_body{std::byte{0}};
            data_body.insert(data_body.end(), data.begin(), data.end());
            send_sealed(p, *ch, concat(session_frame(0x10, data_body), session_frame(0x11, ByteVec{std::byte{0}})));
            ok = expect_log(w, mark, "twoway-passwd for " + w.account + " from " + p.peer() + " ended without a change", obs,
                            milliseconds(10000)) && ok;
            const auto since = w.log->since(mark);
            const bool stored = since.find("Registered a password for " + w.account) != std::string::npos ||
                                since.find("Changed the password of " + w.account) != std::string::npos;
            if (stored) obs += "; a RECORD WAS STORED";
            ok = ok && !stored;
            p.sock.close();
        }
        ok = still_serves(w, obs) && ok;
        m.add(name, "the helper ends without a change (log `twoway-passwd for ... ended without a change`), nothing stored",
              obs, ok);
    };
    auto bytes_of = [](std::initializer_list<int> head, std::size_t zeros, std::initializer_list<int> tail = {}) {
        ByteVec b;
        for (int v : head) b.push_back(static_cast<std::byte>(v));
        b.insert(b.end(), zeros, std::byte{0});
        for (int v : tail) b.push_back(static_cast<std::byte>(v));
        return b;
    };
    passwd_case("twoway-passwd: REGISTER with the identity element", bytes_of({0x01}, 32));
    passwd_case("twoway-passwd: REGISTER with bit 255 set (the identity, to libsodium 1.0.18 alone)",
                bytes_of({0x01}, 31, {0x80}));
    passwd_case("twoway-passwd: an unknown message type", bytes_of({0x7f}, 32));
    passwd_case("twoway-passwd: RECORD without REGISTER", bytes_of({0x03}, 192));
    passwd_case("twoway-passwd: REGISTER cut short, then EOF", bytes_of({0x01}, 16));
    {
        // A real REGISTER (the RESPONSE is left unread), then a RECORD whose client key is the identity.
        const std::string pw = "adversary";
        auto c = twoway::PasswordRegistrationClient::start(std::as_bytes(std::span(pw)), twoway::system_rng());
        ByteVec both;
        if (c) both.assign(c->register_message().begin(), c->register_message().end());
        both = concat(both, bytes_of({0x03}, 192));
        passwd_case("twoway-passwd: a real REGISTER, then a RECORD with the identity as client key", both);
    }
}

}  // namespace adversary
