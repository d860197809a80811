// Pre-authentication resource games against the real twowayd: clients that stop mid-handshake or drip
// bytes (LoginGraceTime), half-open connections (PerSourceMaxStartups, MaxStartups) and a flood of
// short garbage connections. Each asserts the daemon's drop and its log line, then a good login.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "probe.hpp"

namespace adversary {

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string secs(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", s);
    return buf;
}

// A stalled connection: sends `first` and then waits for the daemon to close it.
void stall_case(World& w, Matrix& m, const std::string& name, const std::function<void(Probe&)>& act) {
    const auto mark = w.log->size();
    Probe p;
    std::string obs;
    bool ok = open_probe(w, p, obs);
    if (ok) {
        const auto t0 = Clock::now();
        act(p);
        ByteVec rest;
        p.end = p.sock.read_until_end(rest, milliseconds((w.grace + 5) * 1000));
        const double took = since(t0);
        ok = (p.end == End::eof || p.end == End::reset) && took > w.grace - 0.5 && took < w.grace + 3;
        obs += std::string(end_text(p.end)) + " after " + secs(took);
        ok = expect_log(w, mark, "Timeout before authentication for " + p.peer(), obs) && ok;
    }
    ok = still_serves(w, obs) && ok;
    m.add(name, "closed after LoginGraceTime (" + std::to_string(w.grace) + " s); log `Timeout before authentication`", obs, ok);
}

// Waits until twowayd has logged its accept of the connection from ip:port (VERBOSE "Connection from").
bool accepted(World& w, std::size_t mark, const std::string& ip, std::uint16_t port) {
    return w.log->wait_for("Connection from " + ip + " port " + std::to_string(port) + " on ", mark, milliseconds(5000))
        .has_value();
}

bool is_closed(Socket& s, milliseconds wait) {
    ByteVec b;
    const End e = s.read_until_end(b, wait);
    return e == End::eof || e == End::reset;
}

}  // namespace

void run_flood_cases(World& w, Matrix& m) {
    const ByteVec one{std::byte{0x01}};
    stall_case(w, m, "slowloris: one header byte, then silence", [&](Probe& p) { (void)p.sock.send_all(one); });
    stall_case(w, m, "slowloris: client_hello dripped one byte per 300 ms", [&](Probe& p) {
        RefClient c(*w.user_key, twoway::system_rng());
        const ByteVec m1 = c.hello();
        const auto deadline = Clock::now() + std::chrono::seconds(w.grace + 2);
        for (std::size_t i = 0; i + 1 < m1.size() && Clock::now() < deadline; ++i) {
            if (!p.sock.send_all(ByteVec{m1[i]}, milliseconds(200))) break;
            ByteVec b;
            if (p.sock.read_until_end(b, milliseconds(300)) != End::timeout) break;  // closed meanwhile
        }
    });
    stall_case(w, m, "stops mid-handshake: reads the server flight, never sends client_auth", [&](Probe& p) {
        RefClient c(*w.user_key, twoway::system_rng());
        (void)p.sock.send_all(c.hello());
        ByteVec f;
        (void)p.sock.read_message(f, milliseconds(3000));
        (void)p.sock.read_message(f, milliseconds(3000));
    });

    // ---- PerSourceMaxStartups: half-open connections from one address -------------------------------
    {
        const auto mark = w.log->size();
        const std::string src = w.sources.next();
        std::vector<Socket> held;
        std::string obs;
        bool ok = true;
        for (int i = 0; i < w.per_source; ++i) {
            auto s = Socket::connect(w.port, src);
            if (!s) {
                ok = false;
                break;
            }
            (void)s->send_all(one);
            ok = accepted(w, mark, src, s->local_port()) && ok;
            held.push_back(std::move(*s));
        }
        auto over = Socket::connect(w.port, src);
        if (ok && over) {
            // The newcomer is admitted; the source's stalest (the first) makes room, closed without a byte.
            const std::uint16_t first_port = held.front().local_port();
            const bool admitted = accepted(w, mark, src, over->local_port());
            const bool shed = is_closed(held.front(), milliseconds(2000));
            int alive = is_closed(*over, milliseconds(50)) ? 0 : 1;
            for (std::size_t i = 1; i < held.size(); ++i) alive += is_closed(held[i], milliseconds(50)) ? 0 : 1;
            obs = std::to_string(w.per_source) + " held open, then one more: it was " +
                  (admitted ? "admitted" : "NOT admitted") + ", the first was " + (shed ? "shed" : "NOT shed") + ", " +
                  std::to_string(alive) + " still open";
            ok = admitted && shed && alive == w.per_source;
            ok = expect_log(w, mark, "from [" + src + "]:" + std::to_string(first_port) + " on [127.0.0.1]:" +
                                         std::to_string(w.port) + " past PerSourceMaxStartups",
                            obs) &&
                 ok;
        } else {
            ok = false;
            obs = "could not connect";
        }
        held.clear();
        over.reset();
        sleep_for(milliseconds(300));
        ok = still_serves(w, obs) && ok;
        m.add("half-open: PerSourceMaxStartups+1 connections from one address",
              "the newcomer admitted, the source's stalest closed without a byte (after a pause); log "
              "`past PerSourceMaxStartups` naming the stalest",
              obs, ok);
    }

    // ---- MaxStartups: many half-open connections from many addresses --------------------------------
    {
        const auto mark = w.log->size();
        const int attempts = w.startups * 2;
        std::vector<Socket> socks;
        for (int i = 0; i < attempts; ++i) {
            if (auto s = Socket::connect(w.port, w.sources.next())) {
                (void)s->send_all(one);
                socks.push_back(std::move(*s));
            }
        }
        // Judged by the daemon's own account of each connection (admitted, then shed or not), which a
        // busy machine cannot blur: every one is admitted; the oldest `startups` are shed (named by a drop
        // line, closed after a pause), the newest `startups` stay open.
        int admitted = 0;
        int shed_ok = 0;
        int open_ok = 0;
        int wrong = 0;
        const auto oldest = [&](std::size_t i) { return static_cast<int>(i) < attempts - w.startups; };
        // The newest first, before LoginGraceTime can close them; then the oldest, whose close comes
        // after a pause (ShedHold: 0.5-1.5 s).
        for (std::size_t i = 0; i < socks.size(); ++i) {
            auto& s = socks[i];
            const std::string where = s.local_ip() + " port " + std::to_string(s.local_port());
            admitted += w.log->wait_for("Connection from " + where + " on ", mark, milliseconds(5000)) ? 1 : 0;
            if (!oldest(i)) (is_closed(s, milliseconds(50)) ? wrong : open_ok) += 1;
        }
        for (std::size_t i = 0; i < socks.size(); ++i) {
            if (!oldest(i)) continue;
            auto& s = socks[i];
            const std::string drop = "drop connection #" + std::to_string(w.startups) + " from [" + s.local_ip() +
                                     "]:" + std::to_string(s.local_port()) + " on ";
            const bool logged = w.log->wait_for(drop, mark, milliseconds(5000)).has_value();
            (logged && is_closed(s, milliseconds(2000)) ? shed_ok : wrong) += 1;
        }
        std::string obs = std::to_string(socks.size()) + " half-open connections from as many addresses: " +
                          std::to_string(admitted) + " admitted, the " + std::to_string(shed_ok) +
                          " oldest shed (closed, drop line naming each), the " + std::to_string(open_ok) +
                          " newest still open";
        if (wrong > 0) obs += ", " + std::to_string(wrong) + " NOT as expected";
        bool ok = static_cast<int>(socks.size()) == attempts && admitted == attempts &&
                  shed_ok == attempts - w.startups && open_ok == w.startups && wrong == 0;
        ok = expect_log(w, mark, "beginning MaxStartups throttling", obs) && ok;
        socks.clear();
        ok = expect_log(w, mark, "exited MaxStartups throttling", obs, milliseconds(5000)) && ok;
        ok = still_serves(w, obs) && ok;
        m.add("half-open: " + std::to_string(attempts) + " stalled connections (MaxStartups " +
                  std::to_string(w.startups) + ")",
              "every one admitted, the oldest shed to make room, closed without a byte after a pause; log "
              "`beginning`/`past`/`exited MaxStartups`",
              obs, ok);
    }

    // ---- a flood of short garbage connections ----------------------------------------------------
    {
        // Waves of `wave` connections (well under MaxStartups, so none is shed and every one is judged
        // by the protocol), each sending garbage; between waves, now and then, a clean login
        // runs while a wave is still open, timed against unloaded logins measured first.
        const int total = 2000;
        const int wave = std::max(1, w.startups / 2 - 2);
        const ByteVec garbage{std::byte{'S'}, std::byte{'S'}, std::byte{'H'}, std::byte{'-'}};
        auto timed_login = [&](std::vector<double>& into) {
            const auto t = Clock::now();
            std::string why;
            const bool ok = clean_login(w, why);
            into.push_back(since(t));
            return ok;
        };
        const auto flood_mark = w.log->size();
        std::vector<double> unloaded;
        std::vector<double> loaded;
        bool logins_ok = true;
        for (int i = 0; i < 5; ++i) logins_ok = timed_login(unloaded) && logins_ok;
        int connected = 0;
        int closed = 0;
        const auto t0 = Clock::now();
        for (int i = 0; i < total; i += wave) {
            std::vector<Socket> batch;
            for (int j = 0; j < wave && i + j < total; ++j) {
                if (auto s = Socket::connect(w.port, w.sources.next())) {
                    (void)s->send_all(garbage);
                    batch.push_back(std::move(*s));
                    ++connected;
                }
            }
            if ((i / wave) % 25 == 0) logins_ok = timed_login(loaded) && logins_ok;
            for (auto& s : batch) closed += is_closed(s, milliseconds(2000)) ? 1 : 0;
        }
        const double took = since(t0);
        // The daemon's account: one refusal line per connection it read, one drop line per connection
        // MaxStartups shed (if the previous wave had not been released yet).
        std::size_t refusals = 0;
        std::size_t drops = 0;
        for (int tries = 0; tries < 50; ++tries) {
            const std::string text = w.log->since(flood_mark);
            auto count = [&](const std::string& needle) {
                std::size_t n = 0;
                for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
                return n;
            };
            refusals = count(": " + make_error_code(twoway::errc::unexpected_message).message() + " [preauth]");
            drops = count(" past MaxStartups");
            if (refusals + drops >= static_cast<std::size_t>(total)) break;
            sleep_for(milliseconds(100));
        }
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v.empty() ? 0.0 : v[v.size() / 2];
        };
        auto worst = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
        char figures[256];
        std::snprintf(figures, sizeof figures,
                      "; clean logins: unloaded median %.1f ms, during the flood median %.1f ms, worst %.1f ms (%zu logins)",
                      median(unloaded) * 1e3, median(loaded) * 1e3, worst(loaded) * 1e3, loaded.size());
        std::string obs = std::to_string(connected) + "/" + std::to_string(total) + " garbage connections in " + secs(took) +
                          " (" + std::to_string(static_cast<int>(connected / took)) + "/s), " + std::to_string(closed) +
                          " closed by the daemon (log: " + std::to_string(refusals) + " `unexpected message`, " +
                          std::to_string(drops) + " `past MaxStartups`)" + figures;
        bool ok = connected == total && closed == total && refusals + drops == static_cast<std::size_t>(total) &&
                  logins_ok && worst(loaded) < 2.0;
        if (!logins_ok) obs += "; a clean login FAILED";
        ok = still_serves(w, obs) && ok;
        m.add("connection flood: 2000 short connections sending garbage",
              "every one closed and logged (refused, or shed); clean logins in between succeed (< 2 s); "
              "it serves right after",
              obs, ok);
    }
}

}  // namespace adversary
