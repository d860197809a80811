#include "pickups.hpp"

#include <vector>

namespace twowayd {

Pickups::~Pickups() {
    for (auto& [id, e] : entries_) e->timer.cancel();
}

std::optional<twoway::session::PickupToken> Pickups::add(std::uint64_t listener, uid_t uid, tcp::socket socket,
                                                         twoway::Rng& rng) {
    if (held(listener) >= pickups_per_listener) {
        std::error_code ignored;
        (void)socket.close(ignored);
        return std::nullopt;
    }
    auto e = std::make_unique<Entry>(std::move(socket), io_);
    e->listener = listener;
    e->uid = uid;
    rng.fill(std::as_writable_bytes(std::span(e->token)));
    const auto token = e->token;
    const std::uint64_t id = ++last_id_;
    e->timer.expires_after(timeout_);
    e->timer.async_wait([this, id](std::error_code ec) {
        if (!ec) erase(id);  // not picked up in time: the remote peer sees its connection close
    });
    entries_.emplace(id, std::move(e));
    return token;
}

std::optional<tcp::socket> Pickups::take(uid_t uid, const twoway::session::PickupToken& token) {
    // Every entry is compared, in constant time each: how long the lookup takes says nothing about the
    // tokens held.
    std::optional<std::uint64_t> found;
    for (const auto& [id, e] : entries_) {
        const bool same = twoway::session::same_pickup_token(e->token, token);
        if (same && e->uid == uid && !found) found = id;
    }
    if (!found) return std::nullopt;
    auto& e = *entries_.at(*found);
    e.timer.cancel();
    tcp::socket socket = std::move(e.socket);
    entries_.erase(*found);
    return socket;
}

void Pickups::drop_listener(std::uint64_t listener) {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, e] : entries_) {
        if (e->listener == listener) ids.push_back(id);
    }
    for (auto id : ids) erase(id);
}

std::size_t Pickups::held(std::uint64_t listener) const noexcept {
    std::size_t n = 0;
    for (const auto& [id, e] : entries_) n += e->listener == listener ? 1 : 0;
    return n;
}

void Pickups::erase(std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second->timer.cancel();
    std::error_code ignored;
    (void)it->second->socket.close(ignored);
    entries_.erase(it);
}

}  // namespace twowayd
