// The malicious client against the real twowayd: every message flipped, cut, stretched, reordered,
// replayed, reflected or spliced, and the handshake's pre-auth timing games. Each case checks the
// daemon's refusal on the wire and in its log, then that it still serves a good client.
#include <functional>
#include <map>

#include <twoway/handshake.hpp>

#include "probe.hpp"
#include "support/small_order.hpp"

namespace adversary {

namespace {

using twoway::errc;
using Edit = std::function<void(hs::ClientHello&)>;

std::string msg(errc e) { return make_error_code(e).message(); }

ByteVec text_bytes(std::string_view s) {
    ByteVec b;
    for (char c : s) b.push_back(static_cast<std::byte>(c));
    return b;
}

ByteVec concat(ByteVec a, const ByteVec& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

ByteVec honest_hello(const twoway::PrivateKey& key) {
    RefClient c(key, twoway::system_rng());
    return c.hello();
}

// The reason twowayd logged for p's handshake (or that it only saw the connection close or time out).
std::string logged_reason(World& w, std::size_t mark, const Probe& p) {
    const std::string failed = "Handshake failed with " + p.peer() + ": ";
    const std::string closed = "Connection closed by " + p.peer() + " [preauth]";
    for (int i = 0; i < 100; ++i) {
        const std::string text = w.log->since(mark);
        if (auto pos = text.find(failed); pos != std::string::npos) {
            const auto start = pos + failed.size();
            const auto end = text.find(" [preauth]", start);
            return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        if (text.find(closed) != std::string::npos) return "waited for the longer body, closed on our EOF";
        if (text.find("Timeout before authentication for " + p.peer()) != std::string::npos) return "LoginGraceTime";
        sleep_for(milliseconds(30));
    }
    return "nothing logged";
}

std::string summary(const std::map<std::string, int>& counts) {
    std::string s;
    for (const auto& [k, n] : counts) s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(n);
    return s;
}

// A case refused at client_hello: the daemon closes without a byte and logs errc e.
void hello_refusal(World& w, Matrix& m, const std::string& name, const ByteVec& data, errc e) {
    const auto mark = w.log->size();
    Probe p;
    std::string obs;
    bool ok = open_probe(w, p, obs);
    if (ok) {
        (void)p.sock.send_all(data);
        finish(p);
        ok = closed_silently(p, obs);
        ok = expect_log(w, mark, handshake_failed_line(p, e), obs) && ok;
    }
    ok = still_serves(w, obs) && ok;
    m.add(name, "closed, nothing sent; log `" + msg(e) + "`", obs, ok);
}

// A case refused after server_auth: the daemon sends its one generic denial and logs `needle(p)`.
void auth_refusal(World& w, Matrix& m, const std::string& name, const std::string& expected,
                  const std::function<ByteVec(RefClient&, const ByteVec& flight)>& make,
                  const std::function<std::string(const Probe&)>& needle, const twoway::PrivateKey* key = nullptr) {
    const auto mark = w.log->size();
    Probe p;
    std::string obs;
    RefClient c(key != nullptr ? *key : *w.user_key, twoway::system_rng());
    ByteVec flight;
    bool ok = reach_client_auth(w, p, c, obs, &flight);
    if (ok) {
        (void)p.sock.send_all(make(c, flight));
        finish(p);
        ok = denied(p, &c, obs);
        ok = expect_log(w, mark, needle(p), obs) && ok;
    }
    ok = still_serves(w, obs) && ok;
    m.add(name, expected, obs, ok);
}

std::function<std::string(const Probe&)> failed_with(errc e) {
    return [e](const Probe& p) { return handshake_failed_line(p, e); };
}

}  // namespace

void run_daemon_cases(World& w, Matrix& m) {
    const ByteVec hello = honest_hello(*w.user_key);
    const std::string generic = "generic denial (server_verdict 01), closed; log ";

    // ---- client_hello: byte flips, lengths, trailing bytes, truncation --------------------------------
    {
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        RefClient base(*w.user_key, twoway::system_rng());
        const ByteVec m1 = base.hello();
        for (std::size_t i = 0; i < m1.size(); ++i) {
            const auto mark = w.log->size();
            RefClient c(*w.user_key, twoway::system_rng());
            ByteVec flipped = c.hello();
            flipped[i] ^= std::byte{0x01};
            Probe p;
            std::string obs;
            if (!open_probe(w, p, obs)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + obs;
                continue;
            }
            (void)p.sock.send_all(flipped);
            ByteVec f;
            // (Under LoginGraceTime, so that a length that grows is seen waiting, not timed out.)
            if (p.sock.read_message(f, milliseconds(1500)) == End::open && p.sock.read_message(f, milliseconds(3000)) == End::open) {
                // The parser accepted the change; the transcripts now differ, so the flight cannot open.
                auto st = c.take_flight(f);
                if (st) {
                    ok = false;
                    bad += " #" + std::to_string(i) + " produced a usable flight";
                } else {
                    ++outcomes["answered, flight unusable (" + st.error().message() + ")"];
                }
                p.sock.close();
                continue;
            }
            p.got = f;
            finish(p, milliseconds(300));
            std::string o;
            if (!closed_silently(p, o)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + o;
            }
            ++outcomes["refused: " + logged_reason(w, mark, p)];
        }
        std::string obs = std::to_string(m1.size()) + " single-bit flips: " + summary(outcomes);
        if (!ok) obs += "; BAD:" + bad;
        ok = outcomes.count("refused: nothing logged") == 0 && ok;
        ok = still_serves(w, obs) && ok;
        m.add("client_hello: flip each byte (bit 0)",
              "refused at once and logged, or (random/share/extension changed) a flight whose keys the client cannot have",
              obs, ok);
    }
    hello_refusal(w, m, "client_hello: length 0xffffff", header(0x01, 0xffffff), errc::length_too_large);
    hello_refusal(w, m, "client_hello: length 4097 (max 4096)", header(0x01, 4097), errc::length_too_large);
    hello_refusal(w, m, "client_hello: zero length", header(0x01, 0), errc::malformed);
    {
        ByteVec longer = hello;
        longer[3] = static_cast<std::byte>(std::to_integer<unsigned>(longer[3]) + 1);
        longer.push_back(std::byte{0});
        hello_refusal(w, m, "client_hello: one trailing byte inside the body", longer, errc::malformed);
    }
    {
        const ByteVec share(32, std::byte{9});
        auto edited = [&](const Edit& e) {
            RefClient c(*w.user_key, twoway::system_rng());
            return c.hello(e);
        };
        hello_refusal(w, m, "client_hello: version 0x0002 only", edited([](hs::ClientHello& h) { h.versions = {0x0002}; }),
                      errc::unsupported_version);
        hello_refusal(w, m, "client_hello: version 0x0000 only", edited([](hs::ClientHello& h) { h.versions = {0x0000}; }),
                      errc::unsupported_version);
        hello_refusal(w, m, "client_hello: suite 0x0002 (reserved AES-GCM) only",
                      edited([](hs::ClientHello& h) { h.suites = {0x0002}; }), errc::unsupported_suite);
        hello_refusal(w, m, "client_hello: suite 0x0101 (reserved X-Wing) only",
                      edited([](hs::ClientHello& h) { h.suites = {0x0101}; }), errc::unsupported_suite);
        hello_refusal(w, m, "client_hello: share for group 0x0002 only",
                      edited([](hs::ClientHello& h) { h.shares[0].group = hs::group_xwing; }), errc::unsupported_suite);
        hello_refusal(w, m, "client_hello: duplicate suites",
                      edited([](hs::ClientHello& h) { h.suites = {1, 1}; }), errc::malformed);
        // Low-order X25519 points: one row for all 14 encodings.
        const auto points = twoway::test::x25519_small_order_points();
        int refused = 0;
        std::string obs;
        bool ok = true;
        for (const auto& pt : points) {
            const auto mark = w.log->size();
            Probe p;
            std::string o;
            if (!open_probe(w, p, o)) {
                ok = false;
                continue;
            }
            (void)p.sock.send_all(edited([&](hs::ClientHello& h) { h.shares[0].data = pt; }));
            finish(p);
            const bool silent = closed_silently(p, o);
            const bool logged = w.log->wait_for(handshake_failed_line(p, errc::weak_public_key), mark, milliseconds(3000)).has_value();
            if (silent && logged) {
                ++refused;
            } else {
                ok = false;
                obs += " [" + hex(ByteVec(pt.begin(), pt.end())) + ": " + o + (logged ? "" : ", not logged") + "]";
            }
        }
        obs = std::to_string(refused) + "/" + std::to_string(points.size()) + " closed, nothing sent, log `" +
              msg(errc::weak_public_key) + "`" + obs;
        ok = still_serves(w, obs) && ok;
        m.add("client_hello: low-order X25519 share (14 encodings)", "closed, nothing sent; log `" + msg(errc::weak_public_key) + "`",
              obs, ok);
    }
    {
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        bool ok = open_probe(w, p, obs);
        if (ok) {
            (void)p.sock.send_all(ByteVec(hello.begin(), hello.begin() + 40));
            p.sock.shutdown_write();
            finish(p);
            ok = closed_silently(p, obs);
            ok = expect_log(w, mark, "Connection closed by " + p.peer() + " [preauth]", obs) && ok;
        }
        ok = still_serves(w, obs) && ok;
        m.add("client_hello: truncated (40 of 81 bytes, then EOF)", "closed, nothing sent; log `Connection closed by`", obs, ok);
    }

    // ---- garbage and unexpected messages before client_hello ---------------------------------------
    hello_refusal(w, m, "garbage first: an SSH banner", text_bytes("SSH-2.0-OpenSSH_9.6\r\n"), errc::unexpected_message);
    hello_refusal(w, m, "garbage first: an HTTP request", text_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), errc::unexpected_message);
    hello_refusal(w, m, "garbage first: a TLS ClientHello record",
                  ByteVec{std::byte{0x16}, std::byte{0x03}, std::byte{0x01}, std::byte{0x02}, std::byte{0x00}}, errc::unexpected_message);
    hello_refusal(w, m, "garbage first: 4 KiB of zero bytes", ByteVec(4096, std::byte{0}), errc::unexpected_message);
    for (std::uint8_t t : {0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff}) {
        // The server's own types (server_hello, server_auth, server_verdict, server_password) are reflected.
        const bool reflected = t == 0x02 || t == 0x03 || t == 0x05 || t == 0x07;
        hello_refusal(w, m, "state ExpectClientHello: message type 0x" + hex(ByteVec{std::byte{t}}),
                      concat(header(t, 21), ByteVec(21, std::byte{0})), reflected ? errc::reflected_message : errc::unexpected_message);
    }
    {  // The daemon's own flight sent back to it as the first message.
        Probe p0;
        std::string o;
        RefClient c(*w.user_key, twoway::system_rng());
        ByteVec flight;
        if (reach_client_auth(w, p0, c, o, &flight)) {
            p0.sock.close();
            hello_refusal(w, m, "reflection: the daemon's server_hello+server_auth sent back as the first message", flight,
                          errc::reflected_message);
        } else {
            m.add("reflection: the daemon's flight sent back first", "refused", o, false);
        }
    }

    // ---- client_auth: byte flips, lengths, trailing bytes, truncation, order ------------------------
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
            if (!reach_client_auth(w, p, c, obs)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + obs;
                break;
            }
            ByteVec m3 = c.auth(w.account);
            size = m3.size();
            if (i >= size) break;
            const ByteVec honest = m3;
            m3[i] ^= std::byte{0x01};
            (void)p.sock.send_all(m3);
            finish(p, milliseconds(500));
            std::string o;
            // A length that grows waits for bytes that never come: we end our side, and the daemon closes
            // (whether it sends the denial then is the EOF row's concern below).
            const bool grows = i >= 1 && i <= 3 && m3[i] > honest[i];
            if (!denied(p, &c, o) && !(grows && p.got.empty() && p.end == End::eof)) {
                ok = false;
                bad += " #" + std::to_string(i) + " " + o;
            }
            ++outcomes[logged_reason(w, mark, p)];
        }
        std::string obs = std::to_string(size) + " single-bit flips: " + summary(outcomes);
        if (!ok) obs += "; BAD:" + bad;
        ok = outcomes.count("nothing logged") == 0 && ok;
        ok = still_serves(w, obs) && ok;
        m.add("client_auth: flip each byte (bit 0)",
              "generic denial and the reason logged (the length byte that grows: waits, closed on EOF)", obs, ok);
    }
    auth_refusal(w, m, "client_auth: length 0xffffff", generic + "`" + msg(errc::length_too_large) + "`",
                 [](RefClient&, const ByteVec&) { return header(0x04, 0xffffff); }, failed_with(errc::length_too_large));
    auth_refusal(w, m, "client_auth: length 10241 (max 10240)", generic + "`" + msg(errc::length_too_large) + "`",
                 [](RefClient&, const ByteVec&) { return header(0x04, 10241); }, failed_with(errc::length_too_large));
    auth_refusal(w, m, "client_auth: zero length", generic + "`" + msg(errc::malformed) + "`",
                 [](RefClient&, const ByteVec&) { return header(0x04, 0); }, failed_with(errc::malformed));
    auth_refusal(w, m, "client_auth: 16-byte body (below the AEAD minimum)", generic + "`" + msg(errc::malformed) + "`",
                 [](RefClient&, const ByteVec&) { return frame(0x04, ByteVec(16)); }, failed_with(errc::malformed));
    auth_refusal(w, m, "client_auth: trailing plaintext byte (sealed correctly)", generic + "`" + msg(errc::malformed) + "`",
                 [&](RefClient& c, const ByteVec&) { return c.auth(w.account, AuthEdits{.trailing = ByteVec{std::byte{0}}}); },
                 failed_with(errc::malformed));
    {
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        RefClient c(*w.user_key, twoway::system_rng());
        bool ok = reach_client_auth(w, p, c, obs);
        bool conform = false;
        if (ok) {
            const ByteVec m3 = c.auth(w.account);
            (void)p.sock.send_all(ByteVec(m3.begin(), m3.begin() + 100));
            p.sock.shutdown_write();
            finish(p);
            ok = p.end == End::eof || p.end == End::reset;
            // PROTOCOL.md 7.2.4: once server_auth is out, every failure, "the end of input" included,
            // sends the generic denial. A daemon that only closes leaks nothing either, so that is a
            // conformance gap, kept visible as an expected failure rather than hidden.
            std::string o;
            conform = denied(p, &c, o);
            obs += conform ? o : std::string("closed without the denial: ") + end_text(p.end) + " after " +
                                     std::to_string(p.got.size()) + " bytes";
            ok = expect_log(w, mark, "Connection closed by " + p.peer() + " [preauth]", obs) && ok;
        }
        ok = still_serves(w, obs) && ok;
        conform = conform && ok;
        m.add(Row{"client_auth: truncated (100 bytes, then EOF)",
                  "generic denial (PROTOCOL.md 7.2.4, end of input), closed; log `Connection closed by`", obs, conform,
                  ok && !conform});
    }
    for (std::uint8_t t : {0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x08, 0xff}) {
        const bool reflected = t == 0x02 || t == 0x03 || t == 0x05 || t == 0x07;
        const errc e = reflected ? errc::reflected_message : errc::unexpected_message;
        auth_refusal(w, m, "state ExpectClientAuth: message type 0x" + hex(ByteVec{std::byte{t}}),
                     generic + "`" + msg(e) + "`",
                     [t](RefClient&, const ByteVec&) { return concat(header(t, 21), ByteVec(21, std::byte{0})); },
                     failed_with(e));
    }
    auth_refusal(w, m, "reflection: the daemon's server_auth sent back in place of client_auth",
                 generic + "`" + msg(errc::reflected_message) + "`",
                 [](RefClient&, const ByteVec& flight) { return split_messages(flight).at(1); },
                 failed_with(errc::reflected_message));
    auth_refusal(w, m, "out of order: client_hello again in place of client_auth", generic + "`" + msg(errc::unexpected_message) + "`",
                 [&](RefClient&, const ByteVec&) { return hello; }, failed_with(errc::unexpected_message));

    {
        // Failure is final: a broken client_auth and, right behind it, the honest one of the same session.
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        RefClient c(*w.user_key, twoway::system_rng());
        bool ok = reach_client_auth(w, p, c, obs);
        if (ok) {
            const ByteVec honest = c.auth(w.account);
            ByteVec broken = honest;
            broken[40] ^= std::byte{0x01};
            (void)p.sock.send_all(concat(broken, honest));
            finish(p);
            ok = denied(p, &c, obs);
            ok = expect_log(w, mark, handshake_failed_line(p, errc::decrypt_failed), obs) && ok;
            const bool accepted = w.log->since(mark).find("Accepted publickey for " + w.account + " from " + p.peer()) != std::string::npos;
            if (accepted) obs += "; ACCEPTED the second attempt";
            ok = ok && !accepted;
        }
        ok = still_serves(w, obs) && ok;
        m.add("a second client_auth (the honest one) right behind a broken one",
              "one generic denial only, nothing accepted; log `" + msg(errc::decrypt_failed) + "`", obs, ok);
    }

    // ---- who is asking: keys, accounts, signatures --------------------------------------------------
    auth_refusal(w, m, "a valid signature by a key the daemon does not trust",
                 generic + "`Failed publickey for " + w.account + "`",
                 [&](RefClient& c, const ByteVec&) { return c.auth(w.account); },
                 [&](const Probe& p) { return "Failed publickey for " + w.account + " from " + p.peer(); }, w.stranger.get());
    auth_refusal(w, m, "the trusted key, an account that does not exist", generic + "`Invalid user`",
                 [&](RefClient& c, const ByteVec&) { return c.auth("no-such-user-adv"); },
                 [&](const Probe& p) { return "Invalid user no-such-user-adv from " + p.peer(); });
    {
        twoway::wire::Writer ctl;
        ctl.string(std::string_view("ro\not"));
        const ByteVec field = ctl.take();
        auth_refusal(w, m, "an account name with a control character", generic + "`" + msg(errc::malformed) + "`",
                     [&](RefClient& c, const ByteVec&) { return c.auth(w.account, AuthEdits{.account_field = field}); },
                     failed_with(errc::malformed));
        twoway::wire::Writer empty;
        empty.string(std::string_view(""));
        const ByteVec none = empty.take();
        auth_refusal(w, m, "an empty account name", generic + "`" + msg(errc::malformed) + "`",
                     [&](RefClient& c, const ByteVec&) { return c.auth(w.account, AuthEdits{.account_field = none}); },
                     failed_with(errc::malformed));
    }
    auth_refusal(w, m, "the trusted identity with a signature by an untrusted key", generic + "`" + msg(errc::bad_signature) + "`",
                 [&](RefClient& c, const ByteVec&) {
                     return c.auth(w.account, AuthEdits{.identity = w.user_key->public_key().blob()});
                 },
                 failed_with(errc::bad_signature), w.stranger.get());

    // Identity splicing: session A (honest, trusted key) runs alongside session B (the attacker's keys);
    // B presents A's identity with A's signature, or A's Finished.
    {
        RefClient a(*w.user_key, twoway::system_rng());
        Probe pa;
        std::string oa;
        if (!reach_client_auth(w, pa, a, oa)) {
            m.add("identity splicing", "refused", oa, false);
        } else {
            const ByteVec a3 = a.auth(w.account);  // A's signature and Finished, over A's transcript
            const AuthParts from_a = a.parts();
            auth_refusal(w, m, "identity splicing: session A's identity and signature in session B",
                         generic + "`" + msg(errc::bad_signature) + "`",
                         [&](RefClient& c, const ByteVec&) {
                             return c.auth(w.account, AuthEdits{.identity = w.user_key->public_key().blob(),
                                                                .signature_blob = from_a.signature_blob});
                         },
                         failed_with(errc::bad_signature), w.stranger.get());
            auth_refusal(w, m, "identity splicing: session A's Finished in session B (B signs honestly)",
                         generic + "`" + msg(errc::bad_finished) + "`",
                         [&](RefClient& c, const ByteVec&) { return c.auth(w.account, AuthEdits{.finished = from_a.finished}); },
                         failed_with(errc::bad_finished));
            // A itself still completes: splicing its values elsewhere did not disturb it.
            (void)pa.sock.send_all(a3);
            ByteVec v;
            (void)pa.sock.read_message(v, milliseconds(3000));
            const auto plain = a.open_verdict(v);
            const bool ok = plain && *plain == ByteVec{std::byte{0}};
            m.add("identity splicing: session A itself, completed after B's attempts", "accepted (verdict 00)",
                  ok ? "accepted (verdict 00)" : "verdict " + hex(v), ok);
        }
    }

    // ---- several identities (PROTOCOL.md 4.1.3): a retry is for another key, not another account ----
    {
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        RefClient c(*w.user_key, twoway::system_rng());
        const auto with_retry = [](hs::ClientHello& h) {
            h.extensions.push_back(hs::Extension{hs::ext_auth_retry, {}});
        };
        bool ok = reach_client_auth(w, p, c, obs, nullptr, with_retry);
        if (ok) {
            // First an account that does not exist: refused with "retry" (02, seq 1), as the client asked.
            (void)p.sock.send_all(c.auth("twoway-adversary-nobody"));
            ByteVec v;
            const bool got = p.sock.read_message(v, milliseconds(5000)) == End::open;
            const auto opened = got ? c.open_verdict(v) : std::nullopt;
            ok = opened && *opened == ByteVec{std::byte{2}};
            obs += ok ? "retry verdict (opens to 02); " : "no retry verdict: " + hex(v) + "; ";
            if (ok) {
                // Then the authorized key for the account it may log in to: another account, refused.
                c.set_verdict_seq(2);
                (void)p.sock.send_all(c.auth(w.account, {}, 1));
                finish(p);
                ok = denied(p, &c, obs);
                ok = expect_log(w, mark, handshake_failed_line(p, errc::unexpected_message), obs) && ok;
            }
        }
        ok = still_serves(w, obs) && ok;
        m.add("several identities: after a retry, the authorized key for another account",
              "retry (02), then " + generic + "`" + msg(errc::unexpected_message) + "`", obs, ok);
    }

    // ---- replay -------------------------------------------------------------------------------------
    {
        // Record an honest handshake's client messages, then play them to a new connection.
        RefClient a(*w.user_key, twoway::system_rng());
        Probe pa;
        std::string oa;
        ByteVec m1, m3;
        if (reach_client_auth(w, pa, a, oa)) {
            m3 = a.auth(w.account);
            (void)pa.sock.send_all(m3);
            ByteVec v;
            (void)pa.sock.read_message(v, milliseconds(3000));
            pa.sock.close();
        }
        const auto mark = w.log->size();
        Probe p;
        std::string obs;
        bool ok = !m3.empty() && open_probe(w, p, obs);
        if (ok) {
            // A's client_hello: a RefClient writes the same bytes again from the same random and share.
            ByteVec f;
            m1 = a.hello();
            (void)p.sock.send_all(m1);
            (void)p.sock.read_message(f, milliseconds(3000));
            (void)p.sock.read_message(f, milliseconds(3000));
            (void)p.sock.send_all(m3);
            finish(p);
            ok = denied(p, nullptr, obs);
            ok = expect_log(w, mark, handshake_failed_line(p, errc::decrypt_failed), obs) && ok;
        }
        ok = still_serves(w, obs) && ok;
        m.add("replay: a recorded client_hello + client_auth on a new connection",
              generic + "`" + msg(errc::decrypt_failed) + "` (fresh server keys)", obs, ok);
    }
}

}  // namespace adversary
