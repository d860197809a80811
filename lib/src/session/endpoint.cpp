#include "session/endpoint.hpp"

namespace twoway::session {

std::size_t Endpoint::write_data(Stream s, wire::Bytes bytes) {
    flush_pong();
    const std::size_t n = std::min(bytes.size(), send_capacity(s));
    // Frames of at most max_data_size, so each message fits a channel record on its own.
    for (std::size_t off = 0; off < n;) {
        const std::size_t chunk = std::min(n - off, max_data_size);
        session::write_data(out_, s, bytes.subspan(off, chunk));
        off += chunk;
    }
    send(s).spend(n);
    return n;
}

Status Endpoint::consumed(Stream s, std::size_t n, bool close_sent) {
    RecvWindow& w = recv(s);
    if (auto st = w.consume(n); !st) return st;
    if (close_sent || w.ended()) return {};
    if (const std::uint32_t g = w.take_grant(); g != 0) write_window_adjust(out(), WindowAdjustMsg{s, g});
    return {};
}

Status Endpoint::on_data(const DataMsg& m, Events& events) {
    if (auto st = recv(m.stream).receive(m.bytes.size()); !st) return st;
    events.emplace_back(std::in_place_type<Data>, Data{m.stream, std::vector<std::byte>(m.bytes.begin(), m.bytes.end())});
    return {};
}

Status Endpoint::on_window_adjust(const WindowAdjustMsg& m, Events& events) {
    if (auto st = send(m.stream).grant(m.increment); !st) return st;
    events.emplace_back(std::in_place_type<WindowAdjusted>, WindowAdjusted{m.stream, send(m.stream).available()});
    return {};
}

}  // namespace twoway::session
