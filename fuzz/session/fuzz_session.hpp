// Shared by the session fuzz targets and the corpus generator. An input is
//   u8 config | u8 chunk | peer bytes
// config: bits 0-1 select the request (0 shell+pty+env, 1 exec, 2 service, 3 exec+pty), bit 2 turns an
// exec (1 or 3) into the subsystem "sftp" (with its PTY for 3), bit 6 makes the
// application hold received data instead of consuming it (windows run dry), bit 7 selects small
// windows (so grants and exhaustion happen within a small input); bit 5 (server) rejects the request;
// bit 4 makes the fuzzed side send keep-alives: a PING at once, and a new one whenever none is
// unanswered after a feed() (so a seed's PONGs answer real PINGs; see keep_alive()).
// chunk: how many peer bytes each feed() gets; 0 = one whole frame per feed(), as a peer that waits
// for answers delivers them (a server sees the client's first data only after its own ACCEPT).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <twoway/session.hpp>

#include "session/endpoint.hpp"
#include "session/messages.hpp"

namespace twoway::session::fuzz {

inline constexpr std::uint8_t hold_data = 0x40;
inline constexpr std::uint8_t small_windows = 0x80;
inline constexpr std::uint8_t reject_request = 0x20;
inline constexpr std::uint8_t keep_alive = 0x10;
// The client announced host_keys (allow_host_keys): HOSTKEYS may follow ACCEPT.
inline constexpr std::uint8_t host_keys = 0x08;
// With request 1 or 3: a subsystem request instead of the command.
inline constexpr std::uint8_t subsystem = 0x04;

// With keep_alive: a PING whenever none of ours is unanswered (refused once the side has closed, which
// is fine). The corpus generator does the same, so PONG n in a seed arrives after PING n was sent.
template <class Side>
void keep_alive_step(Side& side, std::uint8_t config) {
    if ((config & keep_alive) && side.unanswered_pings() == 0) (void)side.send_ping();
}

inline Request request_for(std::uint8_t config) {
    Request r;
    switch (config & 3) {
        case 0:
            r.kind = RequestKind::shell;
            r.pty = Pty{"xterm-256color", TermSize{80, 24, 640, 480}};
            r.env = {{"LANG", "C.UTF-8"}, {"LC_CTYPE", "en_US.UTF-8"}};
            break;
        case 1:
            r.kind = RequestKind::exec;
            r.command = "ls -l /tmp";
            break;
        case 2:
            r.kind = RequestKind::service;
            r.command = "web";
            break;
        default:
            r.kind = RequestKind::exec;
            r.command = "top";
            r.pty = Pty{"vt100", TermSize{}};
            break;
    }
    if ((config & subsystem) && r.kind == RequestKind::exec) {
        r.kind = RequestKind::subsystem;
        r.command = "sftp";
    }
    return r;
}

inline Options options_for(std::uint8_t config) {
    Options o;
    if (config & small_windows) o.window = 3000;
    o.max_pending_output = max_frame_size;
    return o;
}

// How many bytes of `peer` from `off` the next feed() gets.
inline std::size_t next_feed(wire::Bytes peer, std::size_t off, std::uint8_t chunk) {
    const std::size_t left = peer.size() - off;
    if (chunk != 0) return std::min<std::size_t>(chunk, left);
    if (left < frame_header_size) return left;
    auto h = parse_frame_header(peer.subspan(off, frame_header_size));
    if (!h) return left;
    return std::min<std::size_t>(frame_header_size + h->length, left);
}

// Parses one frame with its message's parser. If it parses, writing the result back must give the very
// same bytes (one encoding per message); returns whether it parsed.
inline bool parse_and_rewrite(const Frame& f) {
    wire::Writer w;
    bool ok = false;
    switch (f.type) {
        case MsgType::env: if (auto m = parse_env(f.body)) { write_env(w, *m); ok = true; } break;
        case MsgType::request: if (auto m = parse_request(f.body)) { write_request(w, *m); ok = true; } break;
        case MsgType::accept: if (auto m = parse_accept(f.body)) { write_accept(w, *m); ok = true; } break;
        case MsgType::reject: if (auto m = parse_reject(f.body)) { write_reject(w, *m); ok = true; } break;
        case MsgType::data: if (auto m = parse_data(f.body)) { write_data(w, m->stream, m->bytes); ok = true; } break;
        case MsgType::eof: if (auto m = parse_eof(f.body)) { write_eof(w, *m); ok = true; } break;
        case MsgType::window_adjust:
            if (auto m = parse_window_adjust(f.body)) { write_window_adjust(w, *m); ok = true; }
            break;
        case MsgType::window_change:
            if (auto m = parse_window_change(f.body)) { write_window_change(w, *m); ok = true; }
            break;
        case MsgType::signal: if (auto m = parse_signal(f.body)) { write_signal(w, *m); ok = true; } break;
        case MsgType::exit_status: if (auto m = parse_exit_status(f.body)) { write_exit_status(w, *m); ok = true; } break;
        case MsgType::exit_signal: if (auto m = parse_exit_signal(f.body)) { write_exit_signal(w, *m); ok = true; } break;
        case MsgType::close: if (parse_close(f.body)) { write_close(w); ok = true; } break;
        case MsgType::ping: if (auto m = parse_ping(f.body)) { write_ping(w, *m); ok = true; } break;
        case MsgType::pong: if (auto m = parse_pong(f.body)) { write_pong(w, *m); ok = true; } break;
        case MsgType::hostkeys: if (auto m = parse_hostkeys(f.body)) { write_hostkeys(w, *m); ok = true; } break;
    }
    if (ok) {
        wire::Writer orig;
        write_frame(orig, f.type, f.body);
        auto a = w.view();
        auto b = orig.view();
        // memcmp, not std::equal: the comparison is the harness's, not worth coverage tracing per byte.
        if (a.size() != b.size() || (!a.empty() && std::memcmp(a.data(), b.data(), a.size()) != 0)) std::abort();
    }
    return ok;
}

// Every frame a state machine writes must parse (and re-encode identically). And PINGs never pile up
// answers: a batch holds at most one PONG per other frame, plus one, however many PINGs came in.
class OutputChecker {
public:
    void add(const std::vector<std::byte>& out) {
        std::size_t pongs = 0;
        std::size_t others = 0;
        auto s = frames_.feed(out, [&](const Frame& f) -> Status {
            if (!parse_and_rewrite(f)) std::abort();
            ++(f.type == MsgType::pong ? pongs : others);
            return {};
        });
        if (!s) std::abort();
        if (pongs > others + 1) std::abort();
    }

private:
    FrameReader frames_;
};

// The peer's bytes, split into frames independently of the state machine: each one that parses
// must re-encode to itself.
inline void check_canonical(wire::Bytes peer) {
    FrameReader fr;
    (void)fr.feed(peer, [](const Frame& f) -> Status {
        (void)parse_and_rewrite(f);
        return {};
    });
}

}  // namespace twoway::session::fuzz
