// Remote forwarding's hand-over table (daemon/pickups.hpp), with real TCP connections on 127.0.0.1: a
// held connection goes only to the same account presenting its exact token, once; it is closed (its
// remote peer sees the end) when nobody picks it up in time, when its listener ends, and at once when
// the listener already holds pickups_per_listener. These are SECURITY.md's claims for pickups.
#include <sys/socket.h>
#include <sys/time.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include <asio/read.hpp>
#include <asio/write.hpp>

#include "pickups.hpp"

using namespace twowayd;
using namespace std::chrono_literals;

namespace {

// A connected pair: `held` goes into the table, `remote` stands for the peer that connected to the port.
struct Pair {
    tcp::socket held;
    tcp::socket remote;
};

Pair connected_pair(asio::io_context& io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket remote(io);
    remote.connect(acceptor.local_endpoint());
    tcp::socket held = acceptor.accept();
    return Pair{std::move(held), std::move(remote)};
}

// True when the peer of `remote` has closed its end: a read returns end of file (waits at most 5 s).
bool sees_end(tcp::socket& remote) {
    timeval tv{5, 0};
    ::setsockopt(remote.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char byte = 0;
    return ::recv(remote.native_handle(), &byte, 1, 0) == 0;
}

// True when `held` is still the open end of `remote`'s connection: a byte written by remote arrives.
bool still_connected(tcp::socket& held, tcp::socket& remote) {
    if (!held.is_open()) return false;
    const char out = 'x';
    asio::write(remote, asio::buffer(&out, 1));
    char in = 0;
    std::error_code ec;
    asio::read(held, asio::buffer(&in, 1), ec);
    return !ec && in == 'x';
}

}  // namespace

TEST_CASE("a held connection goes to its account with its exact token, once", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io);
    auto pair = connected_pair(io);
    const auto listener = table.new_listener();
    const auto token = table.add(listener, 1000, std::move(pair.held), twoway::system_rng());
    REQUIRE(token);
    CHECK(table.held(listener) == 1);

    // Another account with the right token, the right account with a token one bit off: nothing, and the
    // connection stays for its owner.
    CHECK_FALSE(table.take(1001, *token));
    auto wrong = *token;
    wrong.back() ^= 1;
    CHECK_FALSE(table.take(1000, wrong));
    wrong = *token;
    wrong.front() ^= 0x80;
    CHECK_FALSE(table.take(1000, wrong));
    CHECK(table.held(listener) == 1);

    auto taken = table.take(1000, *token);
    REQUIRE(taken);
    CHECK(still_connected(*taken, pair.remote));
    CHECK(table.size() == 0);
    // Good once.
    CHECK_FALSE(table.take(1000, *token));
}

TEST_CASE("tokens are fresh for every held connection", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io);
    const auto listener = table.new_listener();
    std::vector<Pair> pairs;
    std::vector<twoway::session::PickupToken> tokens;
    for (int i = 0; i < 8; ++i) {
        pairs.push_back(connected_pair(io));
        auto t = table.add(listener, 1000, std::move(pairs.back().held), twoway::system_rng());
        REQUIRE(t);
        for (const auto& earlier : tokens) CHECK_FALSE(twoway::session::same_pickup_token(earlier, *t));
        tokens.push_back(*t);
    }
    // Each token takes its own connection.
    for (int i = 7; i >= 0; --i) {
        auto taken = table.take(1000, tokens[static_cast<std::size_t>(i)]);
        REQUIRE(taken);
        CHECK(still_connected(*taken, pairs[static_cast<std::size_t>(i)].remote));
    }
}

TEST_CASE("a connection nobody picks up in time is closed", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io, 50ms);
    auto pair = connected_pair(io);
    const auto token = table.add(table.new_listener(), 1000, std::move(pair.held), twoway::system_rng());
    REQUIRE(token);
    io.run_for(300ms);
    CHECK(table.size() == 0);
    CHECK_FALSE(table.take(1000, *token));
    CHECK(sees_end(pair.remote));
}

TEST_CASE("a taken connection is not closed by its timer later", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io, 50ms);
    auto pair = connected_pair(io);
    const auto token = table.add(table.new_listener(), 1000, std::move(pair.held), twoway::system_rng());
    REQUIRE(token);
    auto taken = table.take(1000, *token);
    REQUIRE(taken);
    io.run_for(300ms);
    CHECK(still_connected(*taken, pair.remote));
}

TEST_CASE("a listener holds at most pickups_per_listener; the one over is closed at once", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io);
    const auto full = table.new_listener();
    std::vector<Pair> pairs;
    for (std::size_t i = 0; i < pickups_per_listener; ++i) {
        pairs.push_back(connected_pair(io));
        REQUIRE(table.add(full, 1000, std::move(pairs.back().held), twoway::system_rng()));
    }
    CHECK(table.held(full) == pickups_per_listener);
    auto over = connected_pair(io);
    CHECK_FALSE(table.add(full, 1000, std::move(over.held), twoway::system_rng()));
    CHECK(sees_end(over.remote));
    CHECK(table.held(full) == pickups_per_listener);
    // The bound is per listener: another one still holds its connections.
    auto other = connected_pair(io);
    CHECK(table.add(table.new_listener(), 1000, std::move(other.held), twoway::system_rng()));
}

TEST_CASE("a listener's leftovers are closed when it ends, no other's", "[daemon][pickups]") {
    asio::io_context io;
    Pickups table(io);
    const auto ending = table.new_listener();
    const auto staying = table.new_listener();
    auto a = connected_pair(io);
    auto b = connected_pair(io);
    REQUIRE(table.add(ending, 1000, std::move(a.held), twoway::system_rng()));
    const auto kept = table.add(staying, 1000, std::move(b.held), twoway::system_rng());
    REQUIRE(kept);
    table.drop_listener(ending);
    CHECK(sees_end(a.remote));
    CHECK(table.held(ending) == 0);
    auto taken = table.take(1000, *kept);
    REQUIRE(taken);
    CHECK(still_connected(*taken, b.remote));
}
