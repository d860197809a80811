// Keep-alive (PROTOCOL.md, "Keep-alive"): PING is answered by the peer's session itself with a PONG
// carrying its cookie, before the answerer's next message; PINGs pile up into one PONG, never a queue;
// a PONG must answer a PING of the receiver's; nothing is answered after CLOSE or REJECT.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../../support/hex.hpp"
#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using namespace twoway::session::test;
using twoway::test::hex;
using twoway::test::unhex;

namespace {
std::vector<std::byte> ping(std::uint32_t cookie) {
    wire::Writer w;
    write_ping(w, cookie);
    return w.take();
}
std::vector<std::byte> pong(std::uint32_t cookie) {
    wire::Writer w;
    write_pong(w, cookie);
    return w.take();
}
}  // namespace

TEST_CASE("a PING is answered with its cookie, before the request is answered too, and reports nothing",
          "[session]") {
    auto p = Pair::make(exec_request("sleep 30"));
    // The server checks on a client that has not even asked yet, and the client on a server deciding.
    REQUIRE(p.server.send_ping().has_value());
    CHECK(p.server.unanswered_pings() == 1);
    p.pump();
    CHECK(p.server.unanswered_pings() == 0);
    REQUIRE(p.client.send_ping().has_value());
    REQUIRE(p.client.send_ping().has_value());
    CHECK(p.client.unanswered_pings() == 2);
    p.pump();  // the server is in AwaitDecision now
    CHECK(p.client.unanswered_pings() == 0);
    CHECK(p.client_log().empty());
    CHECK(p.server_log() == std::vector<std::string>{"request kind=2 cmd=sleep 30"});
    REQUIRE(p.server.accept().has_value());
    p.pump();
    // Mid-session, both ways at once.
    REQUIRE(p.server.send_ping().has_value());
    REQUIRE(p.client.send_ping().has_value());
    p.pump();
    CHECK(p.server.unanswered_pings() == 0);
    CHECK(p.client.unanswered_pings() == 0);
    CHECK(p.client_log() == std::vector<std::string>{"accepted"});
    CHECK_FALSE(p.server.error());
    CHECK_FALSE(p.client.error());
}

TEST_CASE("the PONG goes out before the answerer's next message", "[session]") {
    auto p = Pair::make(exec_request("x"));
    p.pump();
    REQUIRE(p.server.feed(ping(0x01020304)).has_value());
    CHECK(p.server.pending_output() == 9);
    REQUIRE(p.server.accept().has_value());
    CHECK(hex(p.server.take_output()) == "190000000401020304" "030000000400200000");
    CHECK(p.server.pending_output() == 0);

    // Owed while the application sends data: written ahead of the DATA frame.
    REQUIRE(p.client.feed(unhex("030000000400200000")).has_value());
    REQUIRE(p.client.feed(ping(9)).has_value());
    const std::vector<std::byte> x{std::byte{'x'}};
    REQUIRE(p.client.send_data(Stream::in, x).value() == 1);
    CHECK(hex(p.client.take_output()) == "190000000400000009" "100000000200" "78");
}

TEST_CASE("a flood of PINGs is answered by one PONG with the latest cookie", "[session]") {
    auto p = Pair::make(exec_request("x"));
    p.open();
    std::vector<std::byte> flood;
    for (std::uint32_t i = 0; i < 10000; ++i) {
        auto f = ping(i);
        flood.insert(flood.end(), f.begin(), f.end());
    }
    auto ev = p.server.feed(flood);
    REQUIRE(ev.has_value());
    CHECK(ev->empty());
    CHECK(p.server.pending_output() == 9);  // one answer held, not 10000
    CHECK(hex(p.server.take_output()) == "19000000040000270f");
    // take_output(batch) writes the owed PONG too.
    REQUIRE(p.server.feed(ping(5)).has_value());
    std::vector<std::byte> batch;
    p.server.take_output(batch);
    CHECK(hex(batch) == "190000000400000005");

    // The sender's side: one PONG with a later cookie answers every PING before it.
    auto c = SessionClient::start(exec_request("y"));
    REQUIRE(c.has_value());
    (void)c->take_output();
    for (int i = 0; i < 3; ++i) REQUIRE(c->send_ping().has_value());
    CHECK(hex(c->take_output()) == "180000000400000000" "180000000400000001" "180000000400000002");
    REQUIRE(c->feed(pong(1)).has_value());
    CHECK(c->unanswered_pings() == 1);
    REQUIRE(c->feed(pong(2)).has_value());
    CHECK(c->unanswered_pings() == 0);
}

TEST_CASE("a PONG that answers no PING of ours is a protocol error", "[session]") {
    SECTION("none was sent") {
        auto s = SessionServer::create();
        REQUIRE(s.has_value());
        CHECK(s->feed(pong(0)).error() == errc::unexpected_message);
        CHECK(s->send_ping().error() == errc::unexpected_message);  // sticky
    }
    SECTION("a cookie never sent") {
        auto c = SessionClient::start(exec_request("y"));
        REQUIRE(c.has_value());
        REQUIRE(c->send_ping().has_value());
        REQUIRE(c->send_ping().has_value());  // cookies 0 and 1
        CHECK(c->feed(pong(2)).error() == errc::unexpected_message);
    }
    SECTION("one already answered") {
        auto c = SessionClient::start(exec_request("y"));
        REQUIRE(c.has_value());
        REQUIRE(c->send_ping().has_value());
        REQUIRE(c->send_ping().has_value());
        REQUIRE(c->feed(pong(1)).has_value());  // answers 0 and 1
        CHECK(c->feed(pong(0)).error() == errc::unexpected_message);
    }
    SECTION("the same answer twice") {
        auto p = Pair::make(exec_request("x"));
        p.open();
        REQUIRE(p.server.send_ping().has_value());
        (void)p.server.take_output();
        REQUIRE(p.server.feed(pong(0)).has_value());
        CHECK(p.server.feed(pong(0)).error() == errc::unexpected_message);
    }
}

TEST_CASE("PING and PONG bodies are exactly 4 bytes", "[session]") {
    for (MsgType t : {MsgType::ping, MsgType::pong}) {
        INFO(static_cast<int>(t));
        auto s = SessionServer::create();
        REQUIRE(s.has_value());
        REQUIRE(s->send_ping().has_value());  // so that a PONG would be valid
        CHECK(s->feed(frame(t, {std::byte{0}, std::byte{0}, std::byte{0}})).error() == errc::short_input);
        auto s2 = SessionServer::create();
        REQUIRE(s2.has_value());
        REQUIRE(s2->send_ping().has_value());
        CHECK(s2->feed(frame(t, std::vector<std::byte>(5))).error() == errc::trailing_data);
        auto s3 = SessionServer::create();
        REQUIRE(s3.has_value());
        CHECK(s3->feed(frame(t, {})).error() == errc::short_input);
    }
}

TEST_CASE("after CLOSE or REJECT nothing is answered, and after Done PING is an error", "[session]") {
    SECTION("the client closed first: a PING that crossed its CLOSE is accepted, not answered") {
        auto p = Pair::make(exec_request("x"));
        p.open();
        REQUIRE(p.client.send_ping().has_value());  // unanswered when the client closes
        REQUIRE(p.client.close().has_value());
        (void)p.client.take_output();
        CHECK(p.client.send_ping().error() == errc::bad_state);
        REQUIRE(p.client.feed(ping(3)).has_value());
        REQUIRE(p.client.feed(pong(0)).has_value());  // the server answered before it saw our CLOSE
        CHECK(p.client.pending_output() == 0);
        CHECK(p.client.unanswered_pings() == 0);
        REQUIRE(p.client.feed(unhex("1700000000")).has_value());
        CHECK(p.client.finished());
        CHECK(p.client.feed(ping(4)).error() == errc::unexpected_message);  // Done
    }
    SECTION("the server closed: the client in Done takes no PING") {
        auto p = Pair::make(exec_request("x"));
        p.open();
        REQUIRE(p.server.send_eof(Stream::out).has_value());
        REQUIRE(p.server.send_eof(Stream::err).has_value());
        REQUIRE(p.server.send_exit_status(0).has_value());
        REQUIRE(p.server.close().has_value());
        CHECK(p.server.send_ping().error() == errc::bad_state);
        p.pump();
        CHECK(p.server.finished());
        CHECK(p.client.finished());
        CHECK(p.client.feed(ping(0)).error() == errc::unexpected_message);
        CHECK(p.server.feed(ping(0)).error() == errc::unexpected_message);
    }
    SECTION("after REJECT the server takes the client's PING and PONG silently, and sends none") {
        auto p = Pair::make(exec_request("x"));
        p.pump();
        REQUIRE(p.server.send_ping().has_value());
        REQUIRE(p.server.reject(reject::prohibited, "no").has_value());
        (void)p.server.take_output();
        CHECK(p.server.finished());
        CHECK(p.server.send_ping().error() == errc::bad_state);
        REQUIRE(p.server.feed(ping(0)).has_value());
        REQUIRE(p.server.feed(pong(0)).has_value());
        CHECK(p.server.pending_output() == 0);
        CHECK(p.server.feed(unhex("1700000000")).error() == errc::unexpected_message);
    }
    SECTION("a rejected client sends no PING, and answers none that came with the REJECT") {
        auto p = Pair::make(exec_request("x"));
        p.pump();
        REQUIRE(p.server.send_ping().has_value());
        REQUIRE(p.server.reject(reject::prohibited, "no").has_value());
        auto ev = p.client.feed(p.server.take_output());  // PING then REJECT, in one read
        REQUIRE(ev.has_value());
        CHECK(describe_all(*ev) == std::vector<std::string>{"rejected 1 no"});
        CHECK(p.client.finished());
        CHECK(p.client.pending_output() == 0);
        CHECK(p.client.take_output().empty());
        CHECK(p.client.send_ping().error() == errc::bad_state);
    }
}

TEST_CASE("keep-alives in any chunking leave the conversation unchanged", "[session]") {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{4}, std::size_t{7}}) {
        INFO(chunk);
        auto p = Pair::make(exec_request("echo hi"));
        p.chunk = chunk;
        REQUIRE(p.client.send_ping().has_value());
        p.open();
        REQUIRE(p.server.send_ping().has_value());
        const std::vector<std::byte> hi{std::byte{'h'}, std::byte{'i'}};
        REQUIRE(p.server.send_data(Stream::out, hi).value() == 2);
        REQUIRE(p.server.send_ping().has_value());
        REQUIRE(p.server.send_eof(Stream::out).has_value());
        REQUIRE(p.server.send_eof(Stream::err).has_value());
        REQUIRE(p.server.send_exit_status(0).has_value());
        p.pump();
        CHECK(p.server.unanswered_pings() == 0);
        REQUIRE(p.server.close().has_value());
        p.pump();
        CHECK(p.client_log() == std::vector<std::string>{"accepted", "data out hi", "eof out", "eof err", "exit 0", "closed"});
        CHECK(p.client.finished());
        CHECK(p.server.finished());
    }
}
