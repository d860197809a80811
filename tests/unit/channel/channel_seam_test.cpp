// The seam between handshake and channel: Channel::create(HandshakeResult&) takes the traffic secrets
// and the leftover bytes, and the leftover is read before anything the transport brings later, however
// large it is. take_leftover() is the early-data path's second half.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include <twoway/handshake.hpp>

#include "channel_support.hpp"

namespace twoway::test {

namespace {


// A result as the receiving side's handshake would hand it over: b's secrets, `leftover` behind them.
HandshakeResult result_with(std::vector<std::byte> leftover) {
    HandshakeResult r;
    r.suite = suite1;
    r.send_secret = pattern_secret(0x40);
    r.recv_secret = pattern_secret(0x00);
    r.leftover = std::move(leftover);
    return r;
}

Channel sender() {
    auto a = Channel::create(suite1, pattern_secret(0x00), pattern_secret(0x40));
    REQUIRE(a);
    return std::move(*a);
}

std::vector<std::byte> sealed(Channel& tx, std::size_t n, std::uint8_t fill) {
    std::vector<std::byte> plain(n, std::byte{fill});
    std::vector<std::byte> out;
    REQUIRE(tx.seal(plain, out));
    return out;
}

// Everything rx opens: read() until need_more, then the next piece of `later` (the transport).
std::vector<std::byte> read_all(Channel& rx, std::span<const std::byte> later, bool* closed = nullptr) {
    std::vector<std::byte> got;
    for (;;) {
        auto r = rx.read();
        REQUIRE(r);
        if (r->kind == Channel::Received::Kind::data) {
            got.insert(got.end(), r->data.begin(), r->data.end());
            continue;
        }
        if (r->kind == Channel::Received::Kind::closed) {
            if (closed != nullptr) *closed = true;
            return got;
        }
        if (later.empty()) return got;
        const std::span<std::byte> room = rx.prepare();
        REQUIRE_FALSE(room.empty());
        const std::size_t n = std::min(room.size(), later.size());
        std::copy_n(later.begin(), n, room.begin());
        REQUIRE(rx.commit(n));
        later = later.subspan(n);
    }
}

}  // namespace

TEST_CASE("seam: create(result) moves the secrets and the leftover out of the result", "[channel]") {
    Channel tx = sender();
    HandshakeResult r = result_with(sealed(tx, 5, 'a'));
    auto rx = Channel::create(r);
    REQUIRE(rx);
    REQUIRE(rx->suite() == suite1);
    REQUIRE(r.leftover.empty());
    REQUIRE_FALSE(r.send_secret.valid());  // moved, not copied: the secrets live in one place
    REQUIRE_FALSE(r.recv_secret.valid());
    REQUIRE(read_all(*rx, {}) == std::vector<std::byte>(5, std::byte{'a'}));
    // A second channel from the same result is refused: its secrets are gone.
    REQUIRE(Channel::create(r).error() == ec(errc::invalid_argument));
}

TEST_CASE("seam: a refused result keeps its secrets", "[channel]") {
    HandshakeResult r = result_with({});
    r.suite = Suite::x25519_ed25519_aes256gcm;  // reserved, never run
    REQUIRE(Channel::create(r).error() == ec(errc::unsupported_suite));
    REQUIRE(r.send_secret.valid());
    r.suite = suite1;
    Channel::Options zero;
    zero.rekey_after_bytes = 0;
    REQUIRE(Channel::create(r, zero).error() == ec(errc::invalid_argument));
    REQUIRE(r.send_secret.valid());
    REQUIRE(Channel::create(r));
}

TEST_CASE("seam: leftover larger than the receive buffer is read in order, before the transport", "[channel]") {
    Channel tx = sender();
    std::vector<std::byte> left;
    std::vector<std::byte> expect;
    // Ten maximal records (about 2.5 receive buffers), then the transport's bytes.
    for (int i = 0; i < 10; ++i) {
        auto rec = sealed(tx, Channel::max_payload, static_cast<std::uint8_t>('a' + i));
        left.insert(left.end(), rec.begin(), rec.end());
        expect.insert(expect.end(), Channel::max_payload, std::byte(static_cast<std::uint8_t>('a' + i)));
    }
    // Cut the leftover inside a record: its tail arrives with the transport.
    const std::size_t cut = left.size() - 1000;
    std::vector<std::byte> later(left.begin() + static_cast<std::ptrdiff_t>(cut), left.end());
    left.resize(cut);
    auto tail = sealed(tx, 7, 'z');
    later.insert(later.end(), tail.begin(), tail.end());
    expect.insert(expect.end(), 7, std::byte{'z'});
    REQUIRE(left.size() > Channel::receive_buffer_size);

    HandshakeResult r = result_with(left);
    auto rx = Channel::create(r);
    REQUIRE(rx);
    // The transport gets no room while the leftover waits: its bytes would overtake the leftover's.
    REQUIRE(rx->prepare().empty());
    REQUIRE(rx->commit(1).error() == ec(errc::bad_state));
    REQUIRE(read_all(*rx, later) == expect);
}

TEST_CASE("seam: end of input with leftover still waiting is not a truncation until it is read", "[channel]") {
    Channel tx = sender();
    auto left = sealed(tx, 3, 'q');
    std::vector<std::byte> close;
    REQUIRE(tx.close(close));
    left.insert(left.end(), close.begin(), close.end());
    HandshakeResult r = result_with(left);
    auto rx = Channel::create(r);
    REQUIRE(rx);
    REQUIRE(rx->end_of_input());
    bool closed = false;
    REQUIRE(read_all(*rx, {}, &closed) == std::vector<std::byte>(3, std::byte{'q'}));
    REQUIRE(closed);

    // Without the close: the data, then truncated.
    Channel tx2 = sender();
    HandshakeResult r2 = result_with(sealed(tx2, 3, 'q'));
    auto rx2 = Channel::create(r2);
    REQUIRE(rx2);
    REQUIRE(rx2->end_of_input());
    auto first = rx2->read();
    REQUIRE(first);
    REQUIRE(first->kind == Channel::Received::Kind::data);
    REQUIRE(rx2->read().error() == ec(errc::truncated));
}

TEST_CASE("seam: bytes after the peer's close in the leftover fail the channel", "[channel]") {
    Channel tx = sender();
    std::vector<std::byte> left;
    REQUIRE(tx.close(left));
    left.push_back(std::byte{0});
    HandshakeResult r = result_with(left);
    auto rx = Channel::create(r);
    REQUIRE(rx);
    REQUIRE(rx->read().error() == ec(errc::unexpected_message));
}

TEST_CASE("seam: take_leftover appends behind what is still waiting (early data)", "[channel]") {
    Channel tx = sender();
    HandshakeResult early = result_with({});
    auto rx = Channel::create(early);
    REQUIRE(rx);
    HandshakeResult done;  // the completed result: no secrets, the records that came with the verdict
    done.leftover = sealed(tx, 4, 'v');
    auto more = sealed(tx, 2, 'w');
    done.leftover.insert(done.leftover.end(), more.begin(), more.end());
    REQUIRE(rx->take_leftover(done));
    REQUIRE(done.leftover.empty());
    HandshakeResult again;
    again.leftover = sealed(tx, 1, 'x');
    REQUIRE(rx->take_leftover(again));
    std::vector<std::byte> expect(4, std::byte{'v'});
    expect.insert(expect.end(), 2, std::byte{'w'});
    expect.push_back(std::byte{'x'});
    REQUIRE(read_all(*rx, {}) == expect);
}

}  // namespace twoway::test
