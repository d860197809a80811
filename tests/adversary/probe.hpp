// One hostile connection to the daemon and what came of it, plus the log assertions the daemon cases
// share.
#pragma once

#include <functional>
#include <string>

#include "adversary.hpp"
#include "peers.hpp"

namespace adversary {

struct Probe {
    Socket sock;
    std::string ip;        // our source address
    std::uint16_t port = 0;  // our source port
    ByteVec got;           // everything the daemon sent after our last step
    End end = End::open;

    [[nodiscard]] std::string peer() const { return ip + " port " + std::to_string(port); }
};

// Connects from a fresh source address; false (and observed text) if it cannot.
[[nodiscard]] bool open_probe(World& w, Probe& p, std::string& observed);

// After sending our last bytes: reads until the daemon closes. If it neither answers nor closes within
// `quiet`, we end our side (EOF) and read on, as a peer that gave up would.
void finish(Probe& p, milliseconds quiet = milliseconds(1500), milliseconds total = milliseconds(6000));

// "closed, nothing sent" (true) or a description of what happened instead.
[[nodiscard]] bool closed_silently(const Probe& p, std::string& observed);

// The daemon's one generic denial (a 21-byte server_verdict, then the close). With a RefClient that
// holds the session keys it must also open to "denied".
[[nodiscard]] bool denied(const Probe& p, const RefClient* keys, std::string& observed);

// Waits for a log line after `mark` containing `needle`; appends "log: ..." or "no log line ..." to observed.
bool expect_log(World& w, std::size_t mark, const std::string& needle, std::string& observed,
                milliseconds timeout = milliseconds(3000));

// Connects from a fresh source, sends c's client_hello (after `edit`) and opens the daemon's flight.
[[nodiscard]] bool reach_client_auth(World& w, Probe& p, RefClient& c, std::string& obs, ByteVec* flight = nullptr,
                                     const std::function<void(hs::ClientHello&)>& edit = {});

// The log line for a handshake refusal with errc `e` (its message text) from p.
[[nodiscard]] std::string handshake_failed_line(const Probe& p, twoway::errc e);

}  // namespace adversary
