// The malicious server against the real twoway client: it presents twowayd's genuine host key (so the
// client's known_hosts trusts it) and then bends every message. Each case runs `twoway true` against it
// and asserts exit status 255 with the failure on stderr (one line for protocol errors), and, for every
// failure before the client's verdict on the host, that nothing but client_hello left the client.
#include <fstream>
#include <iterator>
#include <functional>
#include <map>

#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/password.hpp>

#include "adversary.hpp"
#include "crypto/crypto.hpp"
#include "peers.hpp"
#include "session/messages.hpp"

namespace adversary {

namespace {

using twoway::errc;

std::string msg(errc e) { return make_error_code(e).message(); }

struct ClientRun {
    int rc = -1;
    std::string err;       // the client's stderr
    ByteVec m1;            // its client_hello
    ByteVec after_hello;   // everything it sent after client_hello
    std::string failure;   // set if the run itself could not be staged
};

// What a script may use: the socket to the client and its client_hello.
using Script = std::function<void(Socket&, const ByteVec& m1)>;

class Stage {
public:
    explicit Stage(World& w) : w_(w) {
        auto l = Listener::open();
        if (!l) return;
        listener_.emplace(std::move(*l));
        known_hosts_ = w.scratch + "/known_hosts_adversary";
        std::ofstream(known_hosts_) << "[127.0.0.1]:" << listener_->port() << " "
                                    << twoway::format_public_key_line(w.host_key->public_key()) << "\n";
    }
    [[nodiscard]] bool ready() const { return listener_.has_value(); }

    // Runs the client against `script` and waits `patience` for it to exit (then kills it). With
    // eof_after, a client still running after that long sees us end our side (EOF), as a server that
    // gave up would, and gets `patience` again.
    ClientRun run(const Script& script, milliseconds patience = milliseconds(5000),
                  std::optional<milliseconds> eof_after = std::nullopt) {
        ClientRun r;
        std::vector<std::string> env = child_env(w_);
        env.insert(env.end(), extra_env_.begin(), extra_env_.end());
        // Password mode: on a terminal (the password is typed at the prompt), an unknown host (the
        // password is to prove it), a known_hosts of its own that must stay empty.
        const std::vector<std::string> argv =
            password_.empty()
                ? std::vector<std::string>{w_.twoway, "-p", std::to_string(listener_->port()), "-o",
                                           "UserKnownHostsFile=" + known_hosts_, "-o", "StrictHostKeyChecking=yes", "-o",
                                           "ConnectTimeout=3", "127.0.0.1", "true"}
                : std::vector<std::string>{w_.twoway, "-p", std::to_string(listener_->port()), "-o",
                                           "UserKnownHostsFile=" + known_hosts_password(), "-o",
                                           "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1", "-o",
                                           "ConnectTimeout=3", "-l", w_.account, "127.0.0.1", "true"};
        std::optional<Child> child;
        if (password_.empty()) {
            child.emplace(argv, env);
        } else {
            child.emplace(argv, env, password_);
        }
        Child& c = *child;
        auto s = listener_->accept(milliseconds(5000));
        if (!s) {
            r.failure = "the client did not connect";
            r.rc = c.wait(milliseconds(5000));
            r.err = c.err();
            return r;
        }
        if (s->read_message(r.m1, milliseconds(3000)) != End::open) {
            r.failure = "no client_hello";
        } else {
            script(*s, r.m1);
        }
        r.rc = eof_after ? c.wait(*eof_after, false) : -2;
        if (r.rc == -2) {
            if (eof_after) s->shutdown_write();
            r.rc = c.wait(patience);
        }
        if (r.rc == -1) r.failure = "the client was still running after the script (killed)";
        r.err = c.err();
        (void)s->read_until_end(r.after_hello, milliseconds(200));
        return r;
    }

    ClientRun run_with_eof(const Script& script) { return run(script, milliseconds(5000), milliseconds(300)); }

    // More environment for the client's next runs ("LC_ALL=C.UTF-8"); the default is LANG=C.
    void set_extra_env(std::vector<std::string> env) { extra_env_ = std::move(env); }
    // The next runs log in by password (typed on a terminal), to a host they do not know.
    void set_password(std::string pw) {
        password_ = std::move(pw);
        std::ofstream(known_hosts_password(), std::ios::trunc).flush();
    }
    [[nodiscard]] std::string known_hosts_password() const { return w_.scratch + "/known_hosts_password"; }

private:
    std::string password_;
    std::vector<std::string> extra_env_;
    World& w_;
    std::optional<Listener> listener_;
    std::string known_hosts_;
};

std::size_t lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Exit 255, one line containing `needle`, and (if `quiet`) nothing sent after client_hello.
bool judge(const ClientRun& r, const std::string& needle, bool quiet, std::string& obs) {
    if (!r.failure.empty()) {
        obs = r.failure + "; exit " + std::to_string(r.rc) + ": " + r.err;
        return false;
    }
    obs = "exit " + std::to_string(r.rc) + ", stderr \"" + first_line(r.err) + "\"";
    if (lines(r.err) != 1) obs += " (" + std::to_string(lines(r.err)) + " lines)";
    bool ok = r.rc == 255 && lines(r.err) == 1 && r.err.find(needle) != std::string::npos;
    if (quiet) {
        if (r.after_hello.empty()) {
            obs += "; sent nothing after client_hello";
        } else {
            obs += "; SENT " + std::to_string(r.after_hello.size()) + " more bytes";
            ok = false;
        }
    }
    return ok;
}

// An honest server for the twoway client, built on the library's state machine with twowayd's host key.
struct HonestServer {
    twoway::ServerHandshake hs;
    explicit HonestServer(World& w) : hs(server_config(*w.host_key), twoway::system_rng()) {}
    ByteVec flight(const ByteVec& m1) {
        (void)hs.feed(m1);
        return hs.take_output();
    }
    // Reads client_auth from s and authorizes: the verdict (accepted) to send.
    std::optional<ByteVec> verdict(Socket& s) {
        ByteVec m3;
        if (s.read_message(m3, milliseconds(3000)) != End::open) return std::nullopt;
        (void)hs.feed(m3);
        if (!std::holds_alternative<twoway::NeedClientVerdict>(hs.event())) return std::nullopt;
        (void)hs.authorize();
        return hs.take_output();
    }
};

void client_case(Stage& st, Matrix& m, const std::string& name, errc e, bool quiet, const Script& script) {
    std::string obs;
    const bool ok = judge(st.run(script), msg(e), quiet, obs);
    m.add("vs client: " + name, "exit 255, one line `" + msg(e) + "`" + (quiet ? ", nothing sent after client_hello" : ""),
          obs, ok);
}

// An honest handshake, then the session frames a hostile server chose, and the authenticated close; or,
// without close_record, once the client has answered, the end of TCP without it.
Script session_script(World& w, ByteVec frames, bool close_record = true) {
    return [&w, frames = std::move(frames), close_record](Socket& s, const ByteVec& m1) {
        HonestServer h(w);
        (void)s.send_all(h.flight(m1));
        auto v = h.verdict(s);
        if (!v) return;
        (void)s.send_all(*v);
        auto res = h.hs.take_result();
        if (!res) return;
        auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, std::move(res->send_secret), std::move(res->recv_secret));
        if (!ch) return;
        ByteVec records;
        (void)ch->seal(frames, records);
        if (close_record) (void)ch->close(records);
        (void)s.send_all(records);
        if (!close_record) {
            ByteVec answer;
            (void)s.read_message(answer, milliseconds(1500));
            s.shutdown_write();
        }
        ByteVec rest;
        (void)s.read_until_end(rest, milliseconds(1500));
    };
}

// Bytes a terminal could take for a command: C0 controls but the line end, DEL, and anything >= 0x80
// when ascii_only (a terminal in the C locale, where 0x9b is CSI).
bool terminal_clean(const std::string& s, bool ascii_only) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n') || u == 0x7f || (ascii_only && u >= 0x80)) return false;
    }
    return true;
}

ByteVec concat_flight(ByteVec a, const ByteVec& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

ByteVec with(ByteVec b, std::size_t at, std::uint8_t value) {
    b.at(at) = std::byte{value};
    return b;
}

std::string last_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    const auto at = s.find_last_of('\n');
    return at == std::string::npos ? s : s.substr(at + 1);
}

bool contains(const ByteVec& hay, std::string_view needle) {
    const auto* b = reinterpret_cast<const char*>(hay.data());
    return std::string_view(b, hay.size()).find(needle) != std::string_view::npos;
}

ByteVec random_bytes(std::size_t n) {
    ByteVec b(n);
    twoway::system_rng().fill(std::span<std::byte>(b));
    return b;
}

// Password mode against the real client on a terminal, as a hostile server: each run must end in exit
// 255, with the password neither echoed nor sent, and nothing in known_hosts (the host was unknown and
// nothing proved it).
void password_client_cases(World& w, Matrix& m) {
    if (w.password.empty()) return;
    Stage st(w);
    if (!st.ready()) return;
    st.set_password(w.password);
    bool got_m6 = false;  // the script received the client's client_password
    auto verdict = [&](const std::string& name, const std::string& expected, const Script& script,
                       std::optional<milliseconds> within = std::nullopt) {
        got_m6 = false;
        const auto t0 = Clock::now();
        const ClientRun r = st.run(script, milliseconds(8000));
        const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
        std::string obs = r.failure.empty() ? "" : r.failure + "; ";
        obs += "exit " + std::to_string(r.rc) + ", \"" + last_line(r.err) + "\" after " + std::to_string(took.count()) + " ms";
        bool ok = r.failure.empty() && r.rc == 255;
        if (within && took > *within) {
            obs += " (SLOW: the limit is " + std::to_string(within->count()) + " ms)";
            ok = false;
        }
        if (r.err.find("password: ") == std::string::npos || !got_m6) {
            obs += "; NOT asked for the password, or no client_password came";
            ok = false;
        }
        if (r.err.find(w.password) != std::string::npos || contains(r.after_hello, w.password)) {
            obs += "; the password LEAKED (echoed or sent)";
            ok = false;
        }
        std::ifstream kh(st.known_hosts_password());
        const std::string written((std::istreambuf_iterator<char>(kh)), std::istreambuf_iterator<char>());
        if (written.empty()) {
            obs += "; known_hosts empty";
        } else {
            obs += "; known_hosts WRITTEN: " + first_line(written);
            ok = false;
            st.set_password(w.password);
        }
        m.add("vs password client: " + name, expected, obs, ok);
    };
    const std::string refused = "exit 255, the password neither echoed nor sent, nothing in known_hosts";

    // A hostile server with twowayd's host key and the session keys (RefServer): its flight, then the
    // client's client_password, then `then`.
    auto hostile = [&](const std::function<void(Socket&, RefServer&, const ByteVec& m6)>& then, bool early = false,
                       const ByteVec& early_plain = {}) {
        return [&w, &got_m6, then, early, early_plain](Socket& s, const ByteVec& m1) {
            RefServer rs(*w.host_key, twoway::system_rng());
            auto f = rs.answer(m1);
            if (!f) return;
            ByteVec out = f->hello;
            out.insert(out.end(), f->auth.begin(), f->auth.end());
            if (early) {
                const ByteVec sp = rs.seal(hs::MsgType::server_password, 1, early_plain);
                out.insert(out.end(), sp.begin(), sp.end());
            }
            (void)s.send_all(out);
            ByteVec m6;
            if (s.read_message(m6, milliseconds(5000)) != End::open) return;
            got_m6 = m6.at(0) == std::byte{0x06};
            then(s, rs, m6);
            ByteVec rest;
            (void)s.read_until_end(rest, milliseconds(3000));
        };
    };
    auto costs = [&](std::uint32_t ops, std::uint32_t mem_kib) {
        return hostile([ops, mem_kib](Socket& s, RefServer& rs, const ByteVec&) {
            (void)s.send_all(rs.seal(hs::MsgType::server_password, 1, hs::write_server_password(ops, mem_kib, random_bytes(320))));
        });
    };
    verdict("server_password asking Argon2id 17 passes (256 MiB)", refused + ", at once (no stretching: under 1.5 s)",
            costs(17, 256 * 1024), milliseconds(1500));
    verdict("server_password asking Argon2id 1 GiB + 1 KiB (1 pass)", refused + ", at once (no stretching: under 1.5 s)",
            costs(1, (1U << 20) + 1), milliseconds(1500));
    verdict("server_password with a garbage KE2 (random 320 bytes, sealed correctly)", refused,
            costs(1, 64));
    verdict("server_password with a KE2 of valid ristretto255 elements and a random rest (sealed correctly)",
            refused + " (checked past the elements: the unmasked server key or the envelope fails)",
            hostile([](Socket& s, RefServer& rs, const ByteVec&) {
                // Two valid elements, from an honest KE1 (its blinded element and keyshare), where KE2
                // has its evaluated element (offset 0) and the server's keyshare (offset 256).
                ByteVec ke2 = random_bytes(320);
                auto start = twoway::opaque::client_init(twoway::wire::as_bytes(std::string_view("x")),
                                                         twoway::opaque::client_login_random(twoway::system_rng()));
                if (start) {
                    const auto ke1 = twoway::opaque::encode(start->ke1);
                    std::copy(ke1.begin(), ke1.begin() + 32, ke2.begin());
                    std::copy(ke1.begin() + 64, ke1.begin() + 96, ke2.begin() + 256);
                }
                (void)s.send_all(rs.seal(hs::MsgType::server_password, 1, hs::write_server_password(1, 64, ke2)));
            }));
    verdict("server_password with one ciphertext byte flipped", refused,
            hostile([](Socket& s, RefServer& rs, const ByteVec&) {
                ByteVec sp = rs.seal(hs::MsgType::server_password, 1, hs::write_server_password(1, 64, random_bytes(320)));
                sp[40] ^= std::byte{0x01};
                (void)s.send_all(sp);
            }));
    verdict("the client's own client_password reflected as the answer", refused,
            hostile([](Socket& s, RefServer&, const ByteVec& m6) { (void)s.send_all(m6); }));
    verdict("server_password sent before the client's client_password (with the flight)", refused,
            hostile([](Socket&, RefServer&, const ByteVec&) {}, true, hs::write_server_password(1, 64, random_bytes(320))));

    // The real state machine with OPAQUE keys: `times` copies of its server_password, from the account's
    // record (honest) or, without one, its fake response; an honest one then accepts.
    auto real = [&](int times, bool honest) {
        return [&w, &got_m6, times, honest](Socket& s, const ByteVec& m1) {
            const twoway::OpaqueKey opaque = twoway::generate_opaque_key(twoway::system_rng());
            auto record = twoway::register_password(opaque, w.account, twoway::wire::as_bytes(w.password),
                                                    twoway::PasswordKsf{1, 64}, twoway::system_rng());
            if (!record) return;
            const twoway::PasswordServerKeys keys{opaque.oprf_seed.clone(), opaque.private_key.clone()};
            twoway::ServerConfig config = server_config(*w.host_key);
            config.password_keys = &keys;
            config.password_default_ksf = twoway::PasswordKsf{1, 64};
            twoway::ServerHandshake h(config, twoway::system_rng());
            (void)h.feed(m1);
            (void)s.send_all(h.take_output());
            ByteVec m6;
            if (s.read_message(m6, milliseconds(5000)) != End::open) return;
            got_m6 = m6.at(0) == std::byte{0x06};
            (void)h.feed(m6);
            if (!std::holds_alternative<twoway::NeedPasswordRecord>(h.event())) return;
            (void)(honest ? h.provide_password_record(record->registration.span(), record->ksf) : h.no_password_record());
            const ByteVec sp = h.take_output();
            for (int i = 0; i < times; ++i) (void)s.send_all(sp);
            if (honest) {
                ByteVec m8;
                if (s.read_message(m8, milliseconds(5000)) != End::open) return;
                (void)h.feed(m8);
                if (std::holds_alternative<twoway::NeedClientVerdict>(h.event())) (void)h.authorize();
                (void)s.send_all(h.take_output());
                // A session that ends at once with status 0 (as session_script's).
                auto res = h.take_result();
                if (!res) return;
                auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, std::move(res->send_secret),
                                                  std::move(res->recv_secret));
                if (!ch) return;
                twoway::wire::Writer f;
                f.u8(0x03).u32(4).u32(2u << 20);                // ACCEPT, window 2 MiB
                f.u8(0x11).u32(1).u8(1).u8(0x11).u32(1).u8(2);  // EOF out, EOF err
                f.u8(0x15).u32(4).u32(0);                       // EXIT_STATUS 0
                f.u8(0x17).u32(0);                              // CLOSE
                ByteVec records;
                (void)ch->seal(f.take(), records);
                (void)ch->close(records);
                (void)s.send_all(records);
            }
            ByteVec rest;
            (void)s.read_until_end(rest, milliseconds(3000));
        };
    };
    auto fake = [&](int times) { return real(times, false); };
    verdict("unknown host, a server without the account's record (the fake response)", refused + " (`Permission denied (password)`)",
            fake(1));
    verdict("unknown host, the fake server_password sent twice", refused, fake(2));
    {
        // The control: an honest server holding the record is let in, and known_hosts records the key
        // as proven by the password (so the empty known_hosts above is a refusal, not a harness that
        // cannot see a write).
        got_m6 = false;
        const ClientRun r = st.run(real(1, true), milliseconds(8000));
        std::ifstream kh(st.known_hosts_password());
        const std::string written((std::istreambuf_iterator<char>(kh)), std::istreambuf_iterator<char>());
        const bool ok = got_m6 && r.failure.empty() && r.rc == 0 && written.find("proven by password for " + w.account) != std::string::npos;
        m.add("vs password client (control): an honest server with the account's record",
              "exit 0; known_hosts gets the key `proven by password for " + w.account + "`",
              "exit " + std::to_string(r.rc) + " \"" + last_line(r.err) + "\"" + (got_m6 ? "" : ", no client_password") + "; known_hosts: " + (written.empty() ? std::string("empty") : first_line(written)), ok);
        st.set_password(w.password);
    }
}

}  // namespace

void run_client_cases(World& w, Matrix& m) {
    password_client_cases(w, m);
    Stage st(w);
    if (!st.ready()) {
        m.add("vs client: staging", "a listener", "cannot listen", false);
        return;
    }

    // Baseline: the honest server's denial is reported as such.
    {
        std::string obs;
        const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
            HonestServer h(w);
            (void)s.send_all(h.flight(m1));
            ByteVec m3;
            (void)s.read_message(m3, milliseconds(3000));
            (void)h.hs.feed(m3);
            (void)h.hs.deny("adversary");
            (void)s.send_all(h.hs.take_output());
        });
        const bool ok = judge(r, "Permission denied (publickey).", false, obs);
        m.add("vs client: baseline, an honest denial", "exit 255, `Permission denied (publickey).`", obs, ok);
    }

    // ---- server text on the client's terminal ------------------------------------------------------
    {
        // A REJECT text and an EXIT_SIGNAL message (both pass the session parser, which refuses only C0
        // and DEL) full of what a terminal obeys: CSI and OSC as UTF-8-encoded C1 codes, a raw 0x9b,
        // and bidirectional overrides; "\xc3\xa9" is an honest e-acute.
        const std::string hostile = "no \xc2\x9b" "2J\x9b" "31m\xc2\x9d" "0;pwned\xc2\x9c \xe2\x80\xae" "evil\xe2\x80\xac"
                                    " \xe2\x81\xa6x\xe2\x81\xa9 caf\xc3\xa9";
        const std::string in_c = "no \\u009b2J\\x9b31m\\u009d0;pwned\\u009c \\u202eevil\\u202c \\u2066x\\u2069 caf\\u00e9";
        const std::string in_utf8 = "no \\u009b2J\\x9b31m\\u009d0;pwned\\u009c \\u202eevil\\u202c \\u2066x\\u2069 caf\xc3\xa9";
        twoway::wire::Writer reject;
        twoway::session::write_reject(reject, twoway::session::RejectMsg{1, hostile});
        twoway::wire::Writer exit;
        twoway::session::write_accept(exit, twoway::session::AcceptMsg{1u << 20});
        twoway::session::write_eof(exit, twoway::session::EofMsg{twoway::session::Stream::out});
        twoway::session::write_eof(exit, twoway::session::EofMsg{twoway::session::Stream::err});
        twoway::session::write_exit_signal(exit, twoway::session::ExitSignalMsg{"TERM", false, hostile});
        twoway::session::write_close(exit);
        struct Case {
            const char* name;
            ByteVec frames;
            std::string prefix;
        };
        const Case cases[] = {
            {"REJECT text", reject.take(), "twoway: command refused by the host: administratively prohibited: "},
            {"EXIT_SIGNAL message", exit.take(), "twoway: remote command killed by signal TERM: "},
        };
        for (const auto& c : cases) {
            for (const bool utf8 : {false, true}) {
                st.set_extra_env(utf8 ? std::vector<std::string>{"LC_ALL=C.UTF-8"} : std::vector<std::string>{});
                const ClientRun r = st.run(session_script(w, c.frames));
                const std::string want = c.prefix + (utf8 ? in_utf8 : in_c) + "\n";
                std::string obs = r.failure.empty() ? "exit " + std::to_string(r.rc) : r.failure;
                const bool clean = terminal_clean(r.err, !utf8);
                obs += clean ? ", stderr escaped: \"" + first_line(r.err) + "\"" : ", RAW CONTROL BYTES on stderr";
                const bool ok = r.failure.empty() && r.rc == 255 && r.err == want && clean;
                if (!ok && r.err != want) obs += " (wanted \"" + first_line(want) + "\")";
                m.add(std::string("vs client: hostile ") + c.name + " with C1, raw 0x9b and bidi codes (" +
                          (utf8 ? "LC_ALL=C.UTF-8" : "LANG=C") + ")",
                      std::string("exit 255, one line, every control escaped") + (utf8 ? " (UTF-8 e-acute kept)" : ""),
                      obs, ok);
            }
        }
        st.set_extra_env({});
    }

    // ---- byte flips in every message ---------------------------------------------------------------
    {
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        // Every byte of server_hello (74) and, of server_auth (230), its header and every 8th body byte.
        std::vector<std::size_t> positions;
        for (std::size_t i = 0; i < 78; ++i) positions.push_back(i);
        for (std::size_t i = 78; i < 304; i += 8) positions.push_back(i);
        for (std::size_t i : positions) {
            const ClientRun r = st.run_with_eof([&](Socket& s, const ByteVec& m1) {
                HonestServer h(w);
                ByteVec f = h.flight(m1);
                f.at(i) ^= std::byte{0x01};
                (void)s.send_all(f);
            });
            std::string o;
            if (r.rc != 255 || lines(r.err) != 1 || !r.after_hello.empty() || !r.failure.empty()) {
                ok = false;
                bad += " #" + std::to_string(i) + ": exit " + std::to_string(r.rc) + " " + first_line(r.err) +
                       (r.after_hello.empty() ? "" : " SENT MORE");
            }
            std::string line = first_line(r.err);
            if (auto pos = line.find(" failed: "); pos != std::string::npos) line = line.substr(pos + 9);
            if (line.rfind("Connection closed by", 0) == 0) line = "Connection closed by (waited for more)";
            ++outcomes[line];
        }
        std::string obs = std::to_string(positions.size()) + " flips (all of server_hello, server_auth's header, every 8th "
                          "byte of its body): ";
        for (const auto& [k, n] : outcomes) obs += k + " x" + std::to_string(n) + ", ";
        obs += "each exit 255, one line, nothing sent after client_hello";
        if (!ok) obs += "; BAD:" + bad;
        m.add("vs client: server_hello/server_auth: flip a byte", "exit 255, one line, nothing sent after client_hello", obs, ok);
    }
    {
        std::map<std::string, int> outcomes;
        bool ok = true;
        std::string bad;
        for (std::size_t i = 0; i < 21; ++i) {
            const ClientRun r = st.run_with_eof([&](Socket& s, const ByteVec& m1) {
                HonestServer h(w);
                (void)s.send_all(h.flight(m1));
                auto v = h.verdict(s);
                if (!v) return;
                v->at(i) ^= std::byte{0x01};
                (void)s.send_all(*v);
            });
            if (r.rc != 255 || lines(r.err) != 1 || !r.failure.empty()) {
                ok = false;
                bad += " #" + std::to_string(i) + ": exit " + std::to_string(r.rc) + " " + first_line(r.err);
            }
            std::string line = first_line(r.err);
            if (auto pos = line.find(" failed: "); pos != std::string::npos) line = line.substr(pos + 9);
            if (line.rfind("Connection closed by", 0) == 0) line = "Connection closed by (waited for more)";
            ++outcomes[line];
        }
        std::string obs = "21 flips: ";
        for (const auto& [k, n] : outcomes) obs += k + " x" + std::to_string(n) + ", ";
        obs += "each exit 255, one line";
        if (!ok) obs += "; BAD:" + bad;
        m.add("vs client: server_verdict (accepted): flip each byte", "exit 255, one line; no session", obs, ok);
    }

    // ---- truncation, lengths, trailing bytes -------------------------------------------------------
    {
        std::string obs;
        const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
            HonestServer h(w);
            const ByteVec f = h.flight(m1);
            (void)s.send_all(ByteVec(f.begin(), f.begin() + 150));
            s.shutdown_write();
        });
        const bool ok = judge(r, "Connection closed by", true, obs);
        m.add("vs client: flight truncated (150 of 304 bytes, then EOF)", "exit 255, `Connection closed by ...`", obs, ok);
    }
    client_case(st, m, "server_hello length 0xffffff", errc::length_too_large, true,
                [](Socket& s, const ByteVec&) { (void)s.send_all(header(0x02, 0xffffff)); });
    client_case(st, m, "server_hello zero length", errc::malformed, true,
                [](Socket& s, const ByteVec&) { (void)s.send_all(header(0x02, 0)); });
    client_case(st, m, "server_hello with a trailing byte in its body", errc::malformed, true, [&](Socket& s, const ByteVec& m1) {
        HonestServer h(w);
        auto msgs = split_messages(h.flight(m1));
        ByteVec sh = with(msgs.at(0), 3, 71);
        sh.push_back(std::byte{0});
        (void)s.send_all(sh);
    });
    client_case(st, m, "server_auth zero length", errc::malformed, true, [&](Socket& s, const ByteVec& m1) {
        HonestServer h(w);
        (void)s.send_all(concat_flight(split_messages(h.flight(m1)).at(0), header(0x03, 0)));
    });
    client_case(st, m, "server_auth length 17501 (max 17500)", errc::length_too_large, true, [&](Socket& s, const ByteVec& m1) {
        HonestServer h(w);
        (void)s.send_all(concat_flight(split_messages(h.flight(m1)).at(0), header(0x03, 17501)));
    });
    client_case(st, m, "server_auth with trailing plaintext (sealed correctly)", errc::malformed, true,
                [&](Socket& s, const ByteVec& m1) {
                    RefServer ref(*w.host_key, twoway::system_rng());
                    auto f = ref.answer(m1, AuthEdits{.trailing = ByteVec{std::byte{0}}});
                    if (f) (void)s.send_all(concat_flight(f->hello, f->auth));
                });
    client_case(st, m, "server_verdict zero length", errc::malformed, false, [&](Socket& s, const ByteVec& m1) {
        HonestServer h(w);
        (void)s.send_all(h.flight(m1));
        if (h.verdict(s)) (void)s.send_all(header(0x05, 0));
    });
    client_case(st, m, "server_verdict with plaintext 03 (sealed correctly)", errc::malformed, false,
                [&](Socket& s, const ByteVec& m1) {
                    RefServer ref(*w.host_key, twoway::system_rng());
                    auto f = ref.answer(m1);
                    if (!f) return;
                    (void)s.send_all(concat_flight(f->hello, f->auth));
                    ByteVec m3;
                    (void)s.read_message(m3, milliseconds(3000));
                    (void)s.send_all(ref.verdict(ByteVec{std::byte{3}}));
                });
    {
        // 02 is "retry" (PROTOCOL.md 4.1.3; twoway sends auth_retry): a client with one key has no other
        // to offer, so it ends as denied.
        std::string obs;
        const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
            RefServer ref(*w.host_key, twoway::system_rng());
            auto f = ref.answer(m1);
            if (!f) return;
            (void)s.send_all(concat_flight(f->hello, f->auth));
            ByteVec m3;
            (void)s.read_message(m3, milliseconds(3000));
            (void)s.send_all(ref.verdict(ByteVec{std::byte{2}}));
        });
        const bool ok = judge(r, "Permission denied", false, obs);
        m.add("vs client: server_verdict 02 (retry) to a client with one key", "exit 255, one line `Permission denied`",
              obs, ok);
    }

    {
        std::string obs;
        const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
            HonestServer h(w);
            (void)s.send_all(h.flight(m1));
            auto v = h.verdict(s);
            if (!v) return;
            (void)s.send_all(*v);
            s.shutdown_write();  // accepted, then gone without the authenticated close
        });
        const bool ok = judge(r, "closed by remote host", false, obs);
        m.add("vs client: accepted, then EOF without the authenticated close", "exit 255, one line `... closed by remote host.`",
              obs, ok);
    }

    // ---- unexpected messages in every state, reflection --------------------------------------------
    // The client's own message types (client_hello, client_auth, client_password, client_password_finish)
    // come back as reflected_message; any other wrong type is unexpected_message (PROTOCOL.md 8).
    const auto client_type = [](std::uint8_t t) { return t == 0x01 || t == 0x04 || t == 0x06 || t == 0x08; };
    for (std::uint8_t t : {0x00, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff}) {
        const bool reflected = client_type(t);
        client_case(st, m, "state ExpectServerHello: message type 0x" + hex(ByteVec{std::byte{t}}),
                    reflected ? errc::reflected_message : errc::unexpected_message, true,
                    [t](Socket& s, const ByteVec&) { (void)s.send_all(frame(t, ByteVec(21))); });
    }
    for (std::uint8_t t : {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff}) {
        const bool reflected = client_type(t);
        client_case(st, m, "state ExpectServerAuth: message type 0x" + hex(ByteVec{std::byte{t}}),
                    reflected ? errc::reflected_message : errc::unexpected_message, true, [&, t](Socket& s, const ByteVec& m1) {
                        HonestServer h(w);
                        (void)s.send_all(concat_flight(split_messages(h.flight(m1)).at(0), frame(t, ByteVec(21))));
                    });
    }
    for (std::uint8_t t : {0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0xff}) {
        const bool reflected = client_type(t);
        client_case(st, m, "state ExpectServerVerdict: message type 0x" + hex(ByteVec{std::byte{t}}),
                    reflected ? errc::reflected_message : errc::unexpected_message, false, [&, t](Socket& s, const ByteVec& m1) {
                        HonestServer h(w);
                        (void)s.send_all(h.flight(m1));
                        ByteVec m3;
                        (void)s.read_message(m3, milliseconds(3000));
                        (void)s.send_all(frame(t, ByteVec(17)));
                    });
    }
    client_case(st, m, "reflection: its own client_hello sent back", errc::reflected_message, true,
                [](Socket& s, const ByteVec& m1) { (void)s.send_all(m1); });
    for (int field : {0, 1}) {
        client_case(st, m, field == 0 ? "reflection: server_hello echoing the client's random"
                                      : "reflection: server_hello echoing the client's share",
                    errc::reflected_message, true, [field](Socket& s, const ByteVec& m1) {
                        auto ch = hs::parse_client_hello(twoway::wire::Bytes(m1).subspan(4));
                        if (!ch) return;
                        std::array<std::byte, 32> sk{};
                        sk.fill(std::byte{7});
                        const auto other = twoway::crypto::x25519_public(sk);
                        hs::ServerHello sh{twoway::protocol_version_1, 0x0001, {}, other};
                        sh.random.fill(std::byte{1});
                        if (field == 0) sh.random = ch->random;
                        if (field == 1) sh.share = ch->shares.at(0).data;
                        (void)s.send_all(hs::write_server_hello(sh));
                    });
    }

    // ---- versions, suites, weak shares -------------------------------------------------------------
    for (auto [at, value, e, what] : {std::tuple{4, 0x0002, errc::unsupported_version, "version 0x0002"},
                                      std::tuple{6, 0x0002, errc::unsupported_suite, "suite 0x0002"},
                                      std::tuple{6, 0x0101, errc::unsupported_suite, "suite 0x0101"}}) {
        client_case(st, m, std::string("server_hello selecting ") + what + " (not offered)", e, true,
                    [&, at, value](Socket& s, const ByteVec& m1) {
                        HonestServer h(w);
                        ByteVec f = h.flight(m1);
                        f.at(static_cast<std::size_t>(at)) = static_cast<std::byte>(value >> 8);
                        f.at(static_cast<std::size_t>(at) + 1) = static_cast<std::byte>(value & 0xff);
                        (void)s.send_all(f);
                    });
    }
    {
        int refused = 0;
        std::string obs;
        bool ok = true;
        const char* points[] = {"0000000000000000000000000000000000000000000000000000000000000000",
                                "0100000000000000000000000000000000000000000000000000000000000000",
                                "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                                "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                                "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                                "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"};
        for (const char* h : points) {
            ByteVec pt;
            for (std::size_t i = 0; i < 32; ++i) pt.push_back(static_cast<std::byte>(std::stoul(std::string(h + 2 * i, 2), nullptr, 16)));
            const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
                HonestServer hsrv(w);
                ByteVec f = hsrv.flight(m1);
                std::copy(pt.begin(), pt.end(), f.begin() + 42);
                (void)s.send_all(f);
            });
            std::string o;
            if (judge(r, msg(errc::weak_public_key), true, o)) {
                ++refused;
            } else {
                ok = false;
                obs += " [" + hex(pt) + ": " + o + "]";
            }
        }
        obs = std::to_string(refused) + "/7 exit 255, one line `" + msg(errc::weak_public_key) +
              "`, nothing sent after client_hello" + obs;
        m.add("vs client: low-order X25519 share in server_hello (7 points)", "exit 255, one line `" + msg(errc::weak_public_key) + "`",
              obs, ok);
    }

    // ---- garbage, stalling -------------------------------------------------------------------------
    client_case(st, m, "garbage first: an SSH banner", errc::unexpected_message, true, [](Socket& s, const ByteVec&) {
        const std::string banner = "SSH-2.0-OpenSSH_9.6\r\n";
        ByteVec b;
        for (char c : banner) b.push_back(static_cast<std::byte>(c));
        (void)s.send_all(b);
    });
    {
        std::string obs;
        const auto t0 = Clock::now();
        const ClientRun r = st.run([](Socket&, const ByteVec&) {}, milliseconds(8000));
        const double took = std::chrono::duration<double>(Clock::now() - t0).count();
        bool ok = judge(r, "Connection timed out during the handshake", true, obs);
        obs += "; after " + std::to_string(took).substr(0, 4) + " s";
        ok = ok && took > 2.5 && took < 7;
        m.add("vs client: a server that never answers (ConnectTimeout=3)", "exit 255 after ~3 s, `Connection timed out ...`",
              obs, ok);
    }

    // ---- keys: untrusted, spliced ------------------------------------------------------------------
    {
        std::string obs;
        const ClientRun r = st.run([&](Socket& s, const ByteVec& m1) {
            RefServer ref(*w.stranger, twoway::system_rng());
            auto f = ref.answer(m1);
            if (f) (void)s.send_all(concat_flight(f->hello, f->auth));
        });
        bool ok = r.failure.empty() && r.rc == 255 && r.err.find("Host key verification failed.") != std::string::npos &&
                  r.after_hello.empty();
        std::string last = r.err;
        while (!last.empty() && last.back() == '\n') last.pop_back();
        if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
        obs = "exit " + std::to_string(r.rc) + ", " + std::to_string(lines(r.err)) + " lines ending \"" + last + "\"" +
              (r.after_hello.empty() ? "; sent nothing after client_hello" : "; SENT MORE");
        m.add("vs client: a valid signature by a key it does not trust (another host key)",
              "exit 255, `Host key verification failed.`, nothing sent after client_hello", obs, ok);
    }
    {
        // Session A's values, by the genuine host key, spliced into session B.
        RefServer a(*w.host_key, twoway::system_rng());
        RefClient other(*w.user_key, twoway::system_rng());
        (void)a.answer(other.hello());
        const AuthParts from_a = a.parts();
        client_case(st, m, "splicing: another session's server signature", errc::bad_signature, true,
                    [&](Socket& s, const ByteVec& m1) {
                        RefServer b(*w.host_key, twoway::system_rng());
                        auto f = b.answer(m1, AuthEdits{.signature_blob = from_a.signature_blob});
                        if (f) (void)s.send_all(concat_flight(f->hello, f->auth));
                    });
        client_case(st, m, "splicing: another session's server Finished", errc::bad_finished, true,
                    [&](Socket& s, const ByteVec& m1) {
                        RefServer b(*w.host_key, twoway::system_rng());
                        auto f = b.answer(m1, AuthEdits{.finished = from_a.finished});
                        if (f) (void)s.send_all(concat_flight(f->hello, f->auth));
                    });
        client_case(st, m, "splicing: the trusted host identity, signed by another key", errc::bad_signature, true,
                    [&](Socket& s, const ByteVec& m1) {
                        RefServer b(*w.stranger, twoway::system_rng());
                        auto f = b.answer(m1, AuthEdits{.identity = w.host_key->public_key().blob()});
                        if (f) (void)s.send_all(concat_flight(f->hello, f->auth));
                    });
    }

    // ---- replay ------------------------------------------------------------------------------------
    {
        // A flight recorded from the real daemon (for another client's hello), replayed to this client.
        ByteVec recorded;
        if (auto sock = Socket::connect(w.port)) {
            RefClient c(*w.user_key, twoway::system_rng());
            (void)sock->send_all(c.hello());
            (void)sock->read_message(recorded, milliseconds(3000));
            (void)sock->read_message(recorded, milliseconds(3000));
        }
        client_case(st, m, "replay: a flight recorded from the real twowayd", errc::decrypt_failed, true,
                    [&](Socket& s, const ByteVec&) { (void)s.send_all(recorded); });
    }
    {
        // Session 1 completes; its verdict and its records are then replayed into session 2.
        ByteVec verdict1;
        ByteVec records1;
        (void)st.run([&](Socket& s, const ByteVec& m1) {
            HonestServer h(w);
            (void)s.send_all(h.flight(m1));
            auto v = h.verdict(s);
            if (!v) return;
            verdict1 = *v;
            (void)s.send_all(*v);
            auto res = h.hs.take_result();
            if (!res) return;
            auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, std::move(res->send_secret), std::move(res->recv_secret));
            if (!ch) return;
            // ACCEPT (window 2 MiB), EOF out, EOF err, EXIT_STATUS 0, CLOSE: an honest `true`.
            const ByteVec frames = {std::byte{0x03}, std::byte{0},    std::byte{0},    std::byte{0}, std::byte{4},
                                    std::byte{0},    std::byte{0x20}, std::byte{0},    std::byte{0}, std::byte{0x11},
                                    std::byte{0},    std::byte{0},    std::byte{0},    std::byte{1}, std::byte{1},
                                    std::byte{0x11}, std::byte{0},    std::byte{0},    std::byte{0}, std::byte{1},
                                    std::byte{2},    std::byte{0x15}, std::byte{0},    std::byte{0}, std::byte{0},
                                    std::byte{4},    std::byte{0},    std::byte{0},    std::byte{0}, std::byte{0},
                                    std::byte{0x17}, std::byte{0},    std::byte{0},    std::byte{0}, std::byte{0}};
            (void)ch->seal(frames, records1);
            (void)s.send_all(records1);
            ByteVec rest;
            (void)s.read_until_end(rest, milliseconds(1500));
        });
        client_case(st, m, "replay: another session's server_verdict", errc::decrypt_failed, false,
                    [&](Socket& s, const ByteVec& m1) {
                        HonestServer h(w);
                        (void)s.send_all(h.flight(m1));
                        ByteVec m3;
                        (void)s.read_message(m3, milliseconds(3000));
                        (void)s.send_all(verdict1);
                    });
        std::string obs;
        const ClientRun r = st.run_with_eof([&](Socket& s, const ByteVec& m1) {
            HonestServer h(w);
            (void)s.send_all(h.flight(m1));
            auto v = h.verdict(s);
            if (!v) return;
            (void)s.send_all(*v);
            (void)s.send_all(records1);
        });
        const bool ok = judge(r, msg(errc::decrypt_failed), false, obs);
        m.add("vs client: replay: another session's records after a good handshake",
              "exit 255, one line `" + msg(errc::decrypt_failed) + "`", obs + " (records1 " + std::to_string(records1.size()) + " bytes)",
              ok && !records1.empty());
    }

    // ---- how a session ends (PROTOCOL.md 15, "Exit semantics" and "Closing") ----------------------
    // ACCEPT, EOF out, EOF err, EXIT_STATUS `status`, CLOSE; then the channel's close record, or (with
    // with_close_record false) the end of TCP without it.
    auto session_end = [&](std::uint32_t status, bool with_close_record) {
        twoway::wire::Writer f;
        f.u8(0x03).u32(4).u32(2u << 20);                // ACCEPT, window 2 MiB
        f.u8(0x11).u32(1).u8(1).u8(0x11).u32(1).u8(2);  // EOF out, EOF err
        f.u8(0x15).u32(4).u32(status);                  // EXIT_STATUS
        f.u8(0x17).u32(0);                              // CLOSE
        return st.run(session_script(w, f.take(), with_close_record));
    };
    for (const auto& [status, want] : std::vector<std::pair<std::uint32_t, int>>{
             {3, 3}, {255, 255}, {256, 255}, {512, 255}, {0xffffffffu, 255}}) {
        const ClientRun r = session_end(status, true);
        const bool ok = r.failure.empty() && r.rc == want;
        m.add("vs client: EXIT_STATUS " + std::to_string(status),
              "exit " + std::to_string(want) + (status > 255 ? " (above 255: 255, never status mod 256)" : ""),
              r.failure.empty() ? "exit " + std::to_string(r.rc) : r.failure, ok);
    }
    {
        // CLOSE both ways is the authenticated end of the session: the status counts even when the
        // channel's close record never follows.
        const ClientRun r = session_end(3, false);
        const bool ok = r.failure.empty() && r.rc == 3;
        m.add("vs client: CLOSE exchanged, then TCP ends without the close record", "exit 3 (the session was over)",
              r.failure.empty() ? "exit " + std::to_string(r.rc) + (r.err.empty() ? "" : ", stderr \"" + first_line(r.err) + "\"")
                                : r.failure,
              ok);
    }
}

}  // namespace adversary
