// Helpers for the session tests: a client and a server joined by an in-memory pipe, with events
// collected per side and rendered as text so whole conversations can be compared.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <twoway/session.hpp>

#include "session/messages.hpp"

namespace twoway::session::test {

inline std::string stream_name(Stream s) {
    switch (s) {
        case Stream::in: return "in";
        case Stream::out: return "out";
        case Stream::err: return "err";
    }
    return "?";
}

// One line per event, with every field, so two event lists compare by their text.
inline std::string describe(const Event& e) {
    struct V {
        std::string operator()(const RequestReceived& r) const {
            std::string s = "request kind=" + std::to_string(static_cast<int>(r.request.kind)) + " cmd=" + r.request.command;
            if (r.request.pty) {
                const auto& p = *r.request.pty;
                s += " pty=" + p.term + "/" + std::to_string(p.size.cols) + "x" + std::to_string(p.size.rows) + "/" +
                     std::to_string(p.size.width_px) + "x" + std::to_string(p.size.height_px);
            }
            for (const auto& v : r.request.env) s += " env:" + v.name + "=" + v.value;
            return s;
        }
        std::string operator()(const Accepted&) const { return "accepted"; }
        std::string operator()(const Rejected& r) const { return "rejected " + std::to_string(r.code) + " " + r.text; }
        std::string operator()(const Data& d) const {
            return "data " + stream_name(d.stream) + " " +
                   std::string(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
        }
        std::string operator()(const Eof& e) const { return "eof " + stream_name(e.stream); }
        std::string operator()(const WindowAdjusted& w) const {
            return "adjusted " + stream_name(w.stream) + " " + std::to_string(w.available);
        }
        std::string operator()(const WindowChange& w) const {
            return "winch " + std::to_string(w.size.cols) + "x" + std::to_string(w.size.rows) + "/" +
                   std::to_string(w.size.width_px) + "x" + std::to_string(w.size.height_px);
        }
        std::string operator()(const Signal& s) const { return "signal " + s.name; }
        std::string operator()(const ExitStatus& x) const { return "exit " + std::to_string(x.status); }
        std::string operator()(const ExitSignal& x) const {
            return "killed " + x.name + (x.core_dumped ? " core " : " ") + x.message;
        }
        std::string operator()(const Closed&) const { return "closed"; }
        std::string operator()(const HostKeysAnnounced& h) const { return "hostkeys " + std::to_string(h.keys.size()); }
    };
    return std::visit(V{}, e);
}

inline std::vector<std::string> describe_all(const Events& evs) {
    std::vector<std::string> out;
    for (const auto& e : evs) out.push_back(describe(e));
    return out;
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> v;
    for (char c : s) v.push_back(static_cast<std::byte>(c));
    return v;
}

// Feeds `input` in chunks of `chunk` bytes and collects the events.
template <class Machine>
Events feed_chunked(Machine& m, const std::vector<std::byte>& input,
                    std::size_t chunk = std::numeric_limits<std::size_t>::max()) {
    Events all;
    for (std::size_t off = 0; off < input.size();) {
        const std::size_t n = std::min(chunk, input.size() - off);
        auto ev = m.feed(wire::Bytes(input).subspan(off, n));
        REQUIRE(ev.has_value());
        for (auto& e : *ev) all.push_back(std::move(e));
        off += n;
    }
    return all;
}

// A client and a server connected back to back.
struct Pair {
    SessionClient client;
    SessionServer server;
    Events client_events;  // what the client saw
    Events server_events;  // what the server saw
    std::size_t chunk = std::numeric_limits<std::size_t>::max();

    static Pair make(const Request& r, const Options& client_opts = {}, const Options& server_opts = {}) {
        auto c = SessionClient::start(r, client_opts);
        REQUIRE(c.has_value());
        auto s = SessionServer::create(server_opts);
        REQUIRE(s.has_value());
        return Pair{std::move(*c), std::move(*s), {}, {}};
    }

    // Moves bytes both ways until neither side has anything to say.
    void pump() {
        for (;;) {
            auto c2s = client.take_output();
            auto s2c = server.take_output();
            if (c2s.empty() && s2c.empty()) return;
            for (auto& e : feed_chunked(server, c2s, chunk)) server_events.push_back(std::move(e));
            for (auto& e : feed_chunked(client, s2c, chunk)) client_events.push_back(std::move(e));
        }
    }

    // Pumps, then accepts the request the server must have received.
    void open() {
        pump();
        REQUIRE(server_events.size() == 1);
        REQUIRE(std::holds_alternative<RequestReceived>(server_events[0]));
        REQUIRE(server.accept().has_value());
        pump();
        REQUIRE(client.accepted());
    }

    std::vector<std::string> client_log() const { return describe_all(client_events); }
    std::vector<std::string> server_log() const { return describe_all(server_events); }
};

inline Request shell_with_pty() {
    Request r;
    r.kind = RequestKind::shell;
    r.pty = Pty{"xterm-256color", TermSize{132, 43, 1188, 860}};
    r.env = {{"LANG", "en_US.UTF-8"}, {"LC_ALL", "C"}};
    return r;
}

inline Request exec_request(std::string cmd) {
    Request r;
    r.kind = RequestKind::exec;
    r.command = std::move(cmd);
    return r;
}

inline Request service_request(std::string name) {
    Request r;
    r.kind = RequestKind::service;
    r.command = std::move(name);
    return r;
}

// A frame from a type and a raw body, for hand-made (and wrong) peer input.
inline std::vector<std::byte> frame(MsgType t, const std::vector<std::byte>& body) {
    wire::Writer w;
    w.u8(static_cast<std::uint8_t>(t)).u32(static_cast<std::uint32_t>(body.size())).bytes(body);
    return w.take();
}

}  // namespace twoway::session::test
