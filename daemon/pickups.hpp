// Remote forwarding's hand-over (docs/PROTOCOL.md 15, "Remote forwarding"): the connections listen
// sessions have accepted and announced, each waiting under its one-time token for a pickup session of
// the same account. Bounded per listener (pickups_per_listener) and in time (pickup_timeout); a
// listener's leftovers are closed when it ends. Tokens are looked up in constant time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <twoway/random.hpp>
#include <twoway/session.hpp>

#include "async.hpp"

namespace twowayd {

// How long an announced connection waits for its pickup, and how many one listener may have waiting.
inline constexpr auto pickup_timeout = std::chrono::seconds(30);
inline constexpr std::size_t pickups_per_listener = 64;

class Pickups {
public:
    // timeout: pickup_timeout (the tests shorten it).
    explicit Pickups(asio::io_context& io, std::chrono::steady_clock::duration timeout = pickup_timeout)
        : io_(io), timeout_(timeout) {}
    Pickups(const Pickups&) = delete;
    Pickups& operator=(const Pickups&) = delete;
    ~Pickups();

    // A new listener's id (for add and drop_listener).
    [[nodiscard]] std::uint64_t new_listener() noexcept { return ++last_listener_; }
    // Holds socket for account uid under a fresh token, until taken, timed out or dropped; nothing (and
    // the socket is closed) when the listener already holds pickups_per_listener.
    [[nodiscard]] std::optional<twoway::session::PickupToken> add(std::uint64_t listener, uid_t uid, tcp::socket socket,
                                                                  twoway::Rng& rng);
    // The connection under token, if it belongs to uid: it leaves the table (a token is good once).
    [[nodiscard]] std::optional<tcp::socket> take(uid_t uid, const twoway::session::PickupToken& token);
    // Closes every connection the listener still holds (it ended).
    void drop_listener(std::uint64_t listener);
    [[nodiscard]] std::size_t held(std::uint64_t listener) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        Entry(tcp::socket s, asio::io_context& io) : socket(std::move(s)), timer(io) {}
        std::uint64_t listener = 0;
        uid_t uid = 0;
        twoway::session::PickupToken token{};
        tcp::socket socket;
        asio::steady_timer timer;
    };
    void erase(std::uint64_t id);

    asio::io_context& io_;
    std::chrono::steady_clock::duration timeout_;
    std::map<std::uint64_t, std::unique_ptr<Entry>> entries_;
    std::uint64_t last_id_ = 0;
    std::uint64_t last_listener_ = 0;
};

}  // namespace twowayd
