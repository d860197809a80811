// Password mode (issue 17, PROTOCOL.md 4.8) against the real twowayd: the adversary's RefClient speaks
// OPAQUE inside the handshake with the session keys in hand, so each of client_password and
// client_password_finish can be flipped, replayed, misplaced or filled with hostile group elements and
// still reach the checks behind the AEAD. Each case checks the refusal on the wire and in the log, that
// nothing was accepted, then that a key client and a password client are still served.
#include <functional>
#include <map>

#include "probe.hpp"

namespace adversary {

namespace {

using twoway::errc;

std::string msg(errc e) { return make_error_code(e).message(); }

void with_password(hs::ClientHello& ch) { ch.extensions.insert(ch.extensions.begin(), hs::Extension{hs::ext_password, {}}); }

bool reach_password(World& w, Probe& p, RefClient& c, std::string& obs) {
    return reach_client_auth(w, p, c, obs, nullptr, with_password);
}

// Sends client_password for `account` and reads server_password; false (and why) if none came.
bool reach_finish(World& w, Probe& p, RefClient& c, std::string& obs, const std::string& account, const std::string& password) {
    if (!reach_password(w, p, c, obs)) return false;
    (void)p.sock.send_all(c.password(account, password));
    ByteVec sp;
    if (p.sock.read_message(sp, milliseconds(5000)) != End::open) {
        obs = "no server_password: " + hex(sp);
        return false;
    }
    if (auto st = c.take_server_password(sp); !st) {
        obs = "server_password unusable: " + st.error().message();
        return false;
    }
    return true;
}

// A password login with the right password, start to verdict, from 127.0.0.1.
bool password_login(World& w, std::string& why) {
    Probe p;
    RefClient c(*w.user_key, twoway::system_rng());
    if (!reach_finish(w, p, c, why, w.account, w.password)) return false;
    (void)p.sock.send_all(c.password_finish());
    ByteVec v;
    (void)p.sock.read_message(v, milliseconds(5000));
    const auto plain = c.open_verdict(v);
    if (plain && *plain == ByteVec{std::byte{0}}) return true;
    why = "verdict " + hex(v);
    return false;
}

bool serves_both(World& w, std::string& obs) {
    bool ok = still_serves(w, obs);
    std::string why;
    if (!password_login(w, why)) {
        obs += "; then a password login FAILED (" + why + ")";
        return false;
    }
    obs += " (key and password)";
    return ok;
}

std::string logged_reason(World& w, std::size_t mark, const Probe& p) {
    const std::string failed = "Handshake failed with " + p.peer() + ": ";
    const std::string pw = "Failed password for ";
    for (int i = 0; i < 100; ++i) {
        const std::string text = w.log->since(mark);
        if (auto pos = text.find(failed); pos != std::string::npos) {
            const auto start = pos + failed.size();
            const auto end = text.find(" [preauth]", start);
            return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        if (auto pos = text.find(pw); pos != std::string::npos && text.find(p.peer(), pos) != std::string::npos) {
            return "Failed password";
        }
        if (text.find("Connection closed by " + p.peer() + " [preauth]") != std::string::npos) {
            return "waited for the longer body, closed on our EOF";
        }
        sleep_for(milliseconds(30));
    }
    return "nothing logged";
}

std::string summary(const std::map<std::string, int>& counts) {
    std::string s;
    for (const auto& [k, n] : counts) s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(n);
    return s;
}

bool accepted_since(World& w, std::size_t mark, const Probe& p, std::string& obs) {
    const bool yes = w.log->since(mark).find("Accepted password for " + w.account + " from " + p.peer()) != std::string::npos;
    if (yes) obs += "; ACCEPTED";
    return yes;
}

}  // namespace

void run_password_daemon_cases(World& w, Matrix& m) {
    if (w.password.empty()) return;
    const std::string generic = "generic denial, closed; log ";
    {
        std::string why;
        if (!password_login(w, why)) {
            m.add("password mode: an honest password login (the baseline)", "accepted", why, false);
            return;
        }
    }

    // ---- client_password: each byte flipped ------------------------------------------------------
    {
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        std::size_t size = 0;
        for (std::size_t i = 0;; ++i) {
            const auto mark = w.log->size();
            RefClient c(*w.user_key, twoway::system_rng());
            Probe p;
            std::string obs;
            if (!reach_password(w, p, c, obs)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + obs;
                break;
            }
            ByteVec m6 = c.password(w.account, w.password);
            size = m6.size();
            if (i >= size) break;
            const ByteVec honest = m6;
            m6[i] ^= std::byte{0x01};
            (void)p.sock.send_all(m6);
            finish(p, milliseconds(500));
            std::string o;
            const bool grows = i >= 1 && i <= 3 && m6[i] > honest[i];
            if (!denied(p, &c, o) && !(grows && p.got.empty() && p.end == End::eof)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + o;
            }
            if (accepted_since(w, mark, p, bad)) ok = false;
            ++outcomes[logged_reason(w, mark, p)];
        }
        std::string obs = std::to_string(size) + " single-bit flips: " + summary(outcomes);
        if (!ok) obs += "; BAD:" + bad;
        ok = outcomes.count("nothing logged") == 0 && outcomes.count("Failed password") == 0 && ok;
        ok = serves_both(w, obs) && ok;
        m.add("password: client_password, flip each byte (bit 0)",
              "generic denial (no server_password) and the reason logged (the length byte that grows: waits, closed on EOF)",
              obs, ok);
    }

    // ---- no record, no account: the fake response, as long as a real one -------------------------
    std::size_t real_size = 0;
    {
        Probe p;
        RefClient c(*w.user_key, twoway::system_rng());
        std::string obs;
        if (reach_password(w, p, c, obs)) {
            (void)p.sock.send_all(c.password(w.account, w.password));
            ByteVec sp;
            (void)p.sock.read_message(sp, milliseconds(5000));
            real_size = sp.size();
        }
    }
    for (const std::string& name : {std::string("daemon"), std::string("no-such-user-adv")}) {
        const auto mark = w.log->size();
        Probe p;
        RefClient c(*w.user_key, twoway::system_rng());
        std::string obs;
        bool ok = reach_password(w, p, c, obs);
        if (ok) {
            (void)p.sock.send_all(c.password(name, "a guess"));
            ByteVec sp;
            (void)p.sock.read_message(sp, milliseconds(5000));
            ok = !sp.empty() && sp[0] == std::byte{0x07} && sp.size() == real_size;
            obs = "server_password " + std::to_string(sp.size()) + " bytes (a real one: " + std::to_string(real_size) + ")";
            p.sock.shutdown_write();
            finish(p);
            obs += std::string(", then ") + end_text(p.end);
            ok = expect_log(w, mark, "Failed password for invalid user " + name + " from " + p.peer(), obs) && ok;
        }
        ok = serves_both(w, obs) && ok;
        m.add(std::string("password: client_password for ") +
                  (name == "daemon" ? "an account without a record (daemon)" : "an account that does not exist") +
                  ", then EOF",
              "a server_password as long as a real one (the fake response); log `Failed password for invalid user " + name + "`",
              obs, ok);
    }

    // ---- client_password_finish: each byte flipped, a wrong KE3, a wrong Finished -------------------
    {
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        std::size_t size = 0;
        for (std::size_t i = 0;; ++i) {
            const auto mark = w.log->size();
            RefClient c(*w.user_key, twoway::system_rng());
            Probe p;
            std::string obs;
            if (!reach_finish(w, p, c, obs, w.account, w.password)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + obs;
                break;
            }
            ByteVec m8 = c.password_finish();
            size = m8.size();
            if (i >= size) break;
            const ByteVec honest = m8;
            m8[i] ^= std::byte{0x01};
            (void)p.sock.send_all(m8);
            finish(p, milliseconds(500));
            std::string o;
            const bool grows = i >= 1 && i <= 3 && m8[i] > honest[i];
            if (!denied(p, &c, o) && !(grows && p.got.empty() && p.end == End::eof)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + o;
            }
            if (!w.log->wait_for("Failed password for " + w.account + " from " + p.peer(), mark, milliseconds(3000))) {
                ok = false;
                bad += " #" + std::to_string(i) + " no Failed password line";
            }
            if (accepted_since(w, mark, p, bad)) ok = false;
            ++outcomes[logged_reason(w, mark, p) == "nothing logged" ? "nothing logged" : "Failed password"];
        }
        std::string obs = std::to_string(size) + " single-bit flips: " + summary(outcomes);
        if (!ok) obs += "; BAD:" + bad;
        ok = serves_both(w, obs) && ok;
        m.add("password: client_password_finish, flip each byte (bit 0)",
              "generic denial, never accepted; log `Failed password for " + w.account + "` (the length byte that grows: waits, closed on EOF)",
              obs, ok);
    }
    auto finish_refusal = [&](const std::string& name, const std::function<ByteVec(RefClient&)>& make) {
        const auto mark = w.log->size();
        RefClient c(*w.user_key, twoway::system_rng());
        Probe p;
        std::string obs;
        bool ok = reach_finish(w, p, c, obs, w.account, w.password);
        if (ok) {
            (void)p.sock.send_all(make(c));
            finish(p);
            ok = denied(p, &c, obs);
            ok = expect_log(w, mark, "Failed password for " + w.account + " from " + p.peer(), obs) && ok;
            ok = !accepted_since(w, mark, p, obs) && ok;
        }
        ok = serves_both(w, obs) && ok;
        m.add(name, generic + "`Failed password for " + w.account + "`, never accepted", obs, ok);
    };
    finish_refusal("password: a wrong KE3 (client MAC, one bit), sealed correctly",
                   [](RefClient& c) { return c.password_finish([](ByteVec& b) { b[0] ^= std::byte{0x01}; }); });
    finish_refusal("password: a wrong Finished (one bit), KE3 right, sealed correctly",
                   [](RefClient& c) { return c.password_finish([](ByteVec& b) { b[64] ^= std::byte{0x01}; }); });
    finish_refusal("password: client_password_finish of length 145 (fixed at 144)",
                   [](RefClient&) { return frame(0x08, ByteVec(145)); });
    finish_refusal("password: client_password_finish of length 0xffffff", [](RefClient&) { return header(0x08, 0xffffff); });
    finish_refusal("password: client_password (again) in place of client_password_finish",
                   [&](RefClient& c) { return c.seal(hs::MsgType::client_password, 1, hs::write_client_password(w.account, ByteVec(96))); });

    // ---- replay --------------------------------------------------------------------------------------
    {
        // Session A logs in with the right password; its client messages are recorded.
        RefClient a(*w.user_key, twoway::system_rng());
        Probe pa;
        std::string oa;
        ByteVec a6, a8;
        if (reach_password(w, pa, a, oa)) {
            a6 = a.password(w.account, w.password);
            (void)pa.sock.send_all(a6);
            ByteVec sp;
            (void)pa.sock.read_message(sp, milliseconds(5000));
            if (a.take_server_password(sp)) {
                a8 = a.password_finish();
                (void)pa.sock.send_all(a8);
                ByteVec v;
                (void)pa.sock.read_message(v, milliseconds(5000));
                const auto plain = a.open_verdict(v);
                if (!plain || *plain != ByteVec{std::byte{0}}) a8.clear();
            }
        }
        {
            // A's whole flight (client_hello, client_password, client_password_finish) on a new connection.
            const auto mark = w.log->size();
            Probe p;
            std::string obs;
            bool ok = !a8.empty() && open_probe(w, p, obs);
            if (ok) {
                ByteVec f;
                (void)p.sock.send_all(a.hello(with_password));
                (void)p.sock.read_message(f, milliseconds(3000));
                (void)p.sock.read_message(f, milliseconds(3000));
                ByteVec rest = a6;
                rest.insert(rest.end(), a8.begin(), a8.end());
                (void)p.sock.send_all(rest);
                finish(p);
                ok = denied(p, nullptr, obs);
                ok = expect_log(w, mark, handshake_failed_line(p, errc::decrypt_failed), obs) && ok;
                ok = !accepted_since(w, mark, p, obs) && ok;
            } else if (a8.empty()) {
                obs = "session A was not accepted: " + oa;
            }
            ok = serves_both(w, obs) && ok;
            m.add("password replay: a recorded client_hello + client_password + client_password_finish on a new connection",
                  generic + "`" + msg(errc::decrypt_failed) + "` (fresh server keys), never accepted", obs, ok);
        }
        {
            // Session B runs its own client_password (any KE1 can be made without the password) and
            // then sends A's client_password_finish.
            const auto mark = w.log->size();
            Probe p;
            RefClient b(*w.user_key, twoway::system_rng());
            std::string obs;
            bool ok = !a8.empty() && reach_password(w, p, b, obs);
            if (ok) {
                (void)p.sock.send_all(b.password(w.account, "not the password"));
                ByteVec sp;
                (void)p.sock.read_message(sp, milliseconds(5000));
                ok = !sp.empty() && sp[0] == std::byte{0x07};
                (void)p.sock.send_all(a8);
                finish(p);
                ok = denied(p, nullptr, obs) && ok;
                ok = expect_log(w, mark, "Failed password for " + w.account + " from " + p.peer(), obs) && ok;
                ok = !accepted_since(w, mark, p, obs) && ok;
            } else if (a8.empty()) {
                obs = "session A was not accepted: " + oa;
            }
            ok = serves_both(w, obs) && ok;
            m.add("password replay: session A's client_password_finish after session B's own client_password",
                  generic + "`Failed password for " + w.account + "`, never accepted", obs, ok);
        }
    }

    // ---- the wrong message for the mode ----------------------------------------------------------------
    {
        const auto mark = w.log->size();
        Probe p;
        RefClient c(*w.user_key, twoway::system_rng());
        std::string obs;
        bool ok = reach_client_auth(w, p, c, obs);  // no password extension
        if (ok) {
            (void)p.sock.send_all(c.password(w.account, w.password));
            finish(p);
            ok = denied(p, &c, obs);
            ok = expect_log(w, mark, handshake_failed_line(p, errc::unexpected_message), obs) && ok;
        }
        ok = serves_both(w, obs) && ok;
        m.add("password: client_password without the password extension in client_hello",
              generic + "`" + msg(errc::unexpected_message) + "` (no server_password)", obs, ok);
    }
    {
        const auto mark = w.log->size();
        Probe p;
        RefClient c(*w.user_key, twoway::system_rng());
        std::string obs;
        bool ok = reach_password(w, p, c, obs);
        if (ok) {
            (void)p.sock.send_all(c.auth(w.account));
            finish(p);
            ok = denied(p, &c, obs);
            ok = expect_log(w, mark, handshake_failed_line(p, errc::unexpected_message), obs) && ok;
            if (w.log->since(mark).find("Accepted publickey for " + w.account + " from " + p.peer()) != std::string::npos) {
                obs += "; ACCEPTED";
                ok = false;
            }
        }
        ok = serves_both(w, obs) && ok;
        m.add("password: client_auth (trusted key, valid signature) after offering the password extension",
              generic + "`" + msg(errc::unexpected_message) + "`, never accepted", obs, ok);
    }

    // ---- KE1's group elements --------------------------------------------------------------------------
    {
        // KE1 = blinded element (32) | client nonce (32) | client keyshare (32), ristretto255.
        ByteVec identity(32, std::byte{0});
        ByteVec noncanonical(32, std::byte{0xff});
        noncanonical[31] = std::byte{0x7f};
        ByteVec negative(32, std::byte{0});
        negative[0] = std::byte{0x01};  // an odd (negative) field element: not a canonical encoding
        struct Variant {
            const char* name;
            std::size_t at;
            ByteVec bytes;
        };
        const std::vector<Variant> variants{{"blinded element = identity", 0, identity},
                                            {"blinded element non-canonical (2^255-1)", 0, noncanonical},
                                            {"blinded element negative (s = 1)", 0, negative},
                                            {"client keyshare = identity", 64, identity},
                                            {"client keyshare non-canonical (2^255-1)", 64, noncanonical},
                                            {"client keyshare negative (s = 1)", 64, negative}};
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        for (const auto& v : variants) {
            const auto mark = w.log->size();
            Probe p;
            RefClient c(*w.user_key, twoway::system_rng());
            std::string o;
            if (!reach_password(w, p, c, o)) {
                ok = false;
                bad += std::string(" ") + v.name + ": " + o;
                continue;
            }
            // An honest KE1 first, to take its nonce; then the element replaced.
            ByteVec ke1(96);
            twoway::system_rng().fill(std::span<std::byte>(ke1));
            std::copy(v.bytes.begin(), v.bytes.end(), ke1.begin() + static_cast<std::ptrdiff_t>(v.at));
            // The other element must be valid: take a real one from an honest KE1.
            {
                auto start = twoway::opaque::client_init(twoway::wire::as_bytes(std::string_view("x")),
                                                         twoway::opaque::client_login_random(twoway::system_rng()));
                const auto honest = twoway::opaque::encode(start->ke1);
                const std::size_t other = v.at == 0 ? 64 : 0;
                std::copy(honest.begin() + static_cast<std::ptrdiff_t>(other), honest.begin() + static_cast<std::ptrdiff_t>(other + 32),
                          ke1.begin() + static_cast<std::ptrdiff_t>(other));
            }
            (void)p.sock.send_all(c.password(w.account, w.password, ke1));
            finish(p);
            if (!denied(p, &c, o)) {
                ok = false;
                bad += std::string(" ") + v.name + ": " + o;
            }
            const std::string reason = logged_reason(w, mark, p);
            if (reason == "nothing logged" || reason == "Failed password") {
                ok = false;
                bad += std::string(" ") + v.name + ": " + reason;
            }
            ++outcomes[reason];
        }
        std::string obs = std::to_string(variants.size()) + " KE1s: " + summary(outcomes);
        if (!ok) obs += "; BAD:" + bad;
        ok = serves_both(w, obs) && ok;
        m.add("password: KE1 with an identity, non-canonical or negative ristretto255 element (blinded element, keyshare)",
              "generic denial, no server_password; log `" + msg(errc::weak_public_key) + "` or `" + msg(errc::malformed) + "`",
              obs, ok);
    }
}

}  // namespace adversary
