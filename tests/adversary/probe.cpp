#include "probe.hpp"

namespace adversary {

bool open_probe(World& w, Probe& p, std::string& observed) {
    p.ip = w.sources.next();
    auto s = Socket::connect(w.port, p.ip);
    if (!s) {
        observed = "cannot connect from " + p.ip;
        return false;
    }
    p.sock = std::move(*s);
    p.port = p.sock.local_port();
    return true;
}

void finish(Probe& p, milliseconds quiet, milliseconds total) {
    p.end = p.sock.read_until_end(p.got, quiet);
    if (p.end == End::timeout) {
        p.sock.shutdown_write();
        p.end = p.sock.read_until_end(p.got, total);
    }
}

bool closed_silently(const Probe& p, std::string& observed) {
    if (p.got.empty() && (p.end == End::eof || p.end == End::reset)) {
        observed += "closed, nothing sent";
        return true;
    }
    observed += std::string(end_text(p.end)) + " after " + std::to_string(p.got.size()) + " bytes " + hex(p.got);
    return false;
}

bool denied(const Probe& p, const RefClient* keys, std::string& observed) {
    const bool shape = p.got.size() == 21 && p.got[0] == std::byte{0x05} && (p.end == End::eof || p.end == End::reset);
    if (!shape) {
        observed += std::string(end_text(p.end)) + " after " + std::to_string(p.got.size()) + " bytes " + hex(p.got);
        return false;
    }
    if (keys != nullptr) {
        const auto v = keys->open_verdict(p.got);
        if (!v || *v != ByteVec{std::byte{1}}) {
            observed += "a server_verdict that is not the denial: " + (v ? hex(*v) : std::string("does not open"));
            return false;
        }
        observed += "generic denial (opens to 01), closed";
    } else {
        observed += "server_verdict (21 bytes), closed";
    }
    return true;
}

bool expect_log(World& w, std::size_t mark, const std::string& needle, std::string& observed, milliseconds timeout) {
    if (auto line = w.log->wait_for(needle, mark, timeout)) {
        observed += "; log: \"" + *line + "\"";
        return true;
    }
    observed += "; NO log line with \"" + needle + "\"";
    return false;
}

std::string handshake_failed_line(const Probe& p, twoway::errc e) {
    return "Handshake failed with " + p.peer() + ": " + make_error_code(e).message() + " [preauth]";
}

// A connection that has sent an honest client_hello and opened the daemon's flight.
bool reach_client_auth(World& w, Probe& p, RefClient& c, std::string& obs, ByteVec* flight,
                       const std::function<void(hs::ClientHello&)>& edit) {
    if (!open_probe(w, p, obs)) return false;
    if (!p.sock.send_all(c.hello(edit))) {
        obs = "client_hello not sent";
        return false;
    }
    ByteVec f;
    if (p.sock.read_message(f, milliseconds(3000)) != End::open || p.sock.read_message(f, milliseconds(3000)) != End::open) {
        obs = "no server flight";
        return false;
    }
    if (auto st = c.take_flight(f); !st) {
        obs = "server flight does not open: " + st.error().message();
        return false;
    }
    if (flight != nullptr) *flight = f;
    return true;
}

}  // namespace adversary
