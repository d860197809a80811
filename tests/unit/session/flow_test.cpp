// Flow control: senders stop at the peer's window and resume once the peer's application consumes;
// a peer that sends beyond its window (or grants past 2^32 - 1) is a protocol error.
#include <catch2/catch.hpp>

#include <numeric>
#include <string>
#include <vector>

#include "../../support/hex.hpp"
#include "session/flow.hpp"
#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using namespace twoway::session::test;

namespace {
std::size_t data_bytes(const Events& evs, Stream s) {
    std::size_t n = 0;
    for (const auto& e : evs) {
        if (auto* d = std::get_if<Data>(&e); d && d->stream == s) n += d->bytes.size();
    }
    return n;
}
std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 7 + 3);
    return v;
}
}  // namespace

TEST_CASE("the server stops at the client's window and resumes after consumed()", "[session]") {
    Options client_opts;
    client_opts.window = 100000;
    auto p = Pair::make(exec_request("cat big"), client_opts);
    p.open();
    auto payload = pattern(300000);

    CHECK(p.server.send_capacity(Stream::out) == 100000);
    auto n = p.server.send_data(Stream::out, payload);
    REQUIRE(n.has_value());
    CHECK(*n == 100000);  // exactly the window
    CHECK(p.server.send_capacity(Stream::out) == 0);
    CHECK(*p.server.send_data(Stream::out, wire::Bytes(payload).subspan(*n)) == 0);
    // stderr has its own window: a stalled stdout does not block it.
    CHECK(p.server.send_capacity(Stream::err) == 100000);
    p.pump();
    CHECK(data_bytes(p.client_events, Stream::out) == 100000);

    // Consuming less than half the window grants nothing yet (grants are batched) ...
    REQUIRE(p.client.consumed(Stream::out, 49999).has_value());
    CHECK(p.client.pending_output() == 0);
    // ... reaching half does: one WINDOW_ADJUST for everything owed.
    REQUIRE(p.client.consumed(Stream::out, 1).has_value());
    CHECK(p.client.pending_output() == 10);
    p.pump();
    CHECK(p.server_log().back() == "adjusted out 50000");
    CHECK(p.server.send_capacity(Stream::out) == 50000);

    std::size_t sent = *n;
    while (sent < payload.size()) {
        auto k = p.server.send_data(Stream::out, wire::Bytes(payload).subspan(sent));
        REQUIRE(k.has_value());
        REQUIRE(*k > 0);  // never stuck while the client consumes everything
        sent += *k;
        const std::size_t before = p.client_events.size();
        p.pump();
        for (std::size_t i = before; i < p.client_events.size(); ++i) {
            if (auto* d = std::get_if<Data>(&p.client_events[i])) {
                REQUIRE(p.client.consumed(d->stream, d->bytes.size()).has_value());
            }
        }
        p.pump();
    }
    // Everything arrived, in order.
    std::vector<std::byte> got;
    for (const auto& e : p.client_events) {
        if (auto* d = std::get_if<Data>(&e)) got.insert(got.end(), d->bytes.begin(), d->bytes.end());
    }
    CHECK(got == payload);
}

TEST_CASE("the client stops at the server's window for stdin", "[session]") {
    Options server_opts;
    server_opts.window = 70000;
    auto p = Pair::make(exec_request("wc -c"), {}, server_opts);
    p.open();
    auto payload = pattern(200000);
    CHECK(p.client.send_capacity(Stream::in) == 70000);
    CHECK(*p.client.send_data(Stream::in, payload) == 70000);
    CHECK(*p.client.send_data(Stream::in, payload) == 0);
    // Sent as frames that each fit a channel record.
    auto out = p.client.take_output();
    CHECK(out.size() == 70000 + 2 * (frame_header_size + 1));
    CHECK(out[0] == std::byte{0x10});
    CHECK(twoway::test::hex(wire::Bytes(out).subspan(1, 5)) == "0000fffb00");  // 65531 = 1 + 65530, stream in
    REQUIRE(p.server.feed(out).has_value());
    CHECK(p.server.consumed(Stream::in, 70001).error() == errc::invalid_argument);
    REQUIRE(p.server.consumed(Stream::in, 70000).has_value());
    p.pump();
    CHECK(p.client_log().back() == "adjusted in 70000");
    CHECK(p.client.send_capacity(Stream::in) == 70000);
}

TEST_CASE("take_output(batch) hands over the same bytes and recycles the caller's storage", "[session]") {
    auto a = Pair::make(exec_request("cat"), {}, {});
    auto b = Pair::make(exec_request("cat"), {}, {});
    a.open();
    b.open();
    const auto payload = pattern(150000);
    REQUIRE(a.client.send_data(Stream::in, payload).has_value());
    REQUIRE(b.client.send_data(Stream::in, payload).has_value());

    std::vector<std::byte> batch;
    batch.reserve(300000);
    const std::byte* storage = batch.data();
    a.client.take_output(batch);
    CHECK(batch == b.client.take_output());  // the very bytes take_output() returns
    CHECK(a.client.pending_output() == 0);

    // The session goes on writing into the storage the caller handed in.
    REQUIRE(a.client.send_eof(Stream::in).has_value());
    std::vector<std::byte> next;
    a.client.take_output(next);
    CHECK_FALSE(next.empty());
    CHECK(next.data() == storage);
    REQUIRE(a.server.feed(batch).has_value());
    REQUIRE(a.server.feed(next).has_value());
}

TEST_CASE("send_data holds back while too much output is pending", "[session]") {
    Options server_opts;
    server_opts.max_pending_output = 65536;
    Options client_opts;
    client_opts.window = 1u << 20;
    auto p = Pair::make(exec_request("yes"), client_opts, server_opts);
    p.open();
    auto payload = pattern(200000);
    auto a = p.server.send_data(Stream::out, payload);
    REQUIRE(a.has_value());
    CHECK(*a == 65536);
    CHECK(p.server.pending_output() >= 65536);
    CHECK(*p.server.send_data(Stream::out, payload) == 0);  // full until the caller drains
    CHECK(p.server.send_capacity(Stream::out) == 0);
    auto drained = p.server.take_output();
    CHECK(p.server.send_capacity(Stream::out) == 65536);
    REQUIRE(p.client.feed(drained).has_value());

    Options too_small;
    too_small.max_pending_output = 1000;
    CHECK(SessionServer::create(too_small).error() == errc::invalid_argument);
    Options zero_window;
    zero_window.window = 0;
    CHECK(SessionClient::start(exec_request("x"), zero_window).error() == errc::invalid_argument);
}

TEST_CASE("a peer that sends beyond its window is a protocol error", "[session]") {
    SECTION("server -> client") {
        Options client_opts;
        client_opts.window = 10;
        auto p = Pair::make(exec_request("x"), client_opts);
        p.open();
        // Exactly the window is fine, one byte more is not, even split across messages.
        REQUIRE(p.client.feed(frame(MsgType::data, bytes_of("\x01" "1234567"))).has_value());
        REQUIRE(p.client.feed(frame(MsgType::data, bytes_of("\x02" "789"))).has_value());  // err: own window
        REQUIRE(p.client.feed(frame(MsgType::data, bytes_of("\x01" "789"))).has_value());
        CHECK(p.client.feed(frame(MsgType::data, bytes_of("\x01" "X"))).error() == errc::window_exceeded);
        // Sticky: everything fails with the first error from now on.
        CHECK(p.client.feed(frame(MsgType::close, {})).error() == errc::window_exceeded);
        CHECK(p.client.send_data(Stream::in, bytes_of("x")).error() == errc::window_exceeded);
        CHECK(p.client.consumed(Stream::out, 1).error() == errc::window_exceeded);
        CHECK(p.client.close().error() == errc::window_exceeded);
        CHECK(p.client.error() == errc::window_exceeded);
    }
    SECTION("client -> server") {
        Options server_opts;
        server_opts.window = 4;
        auto p = Pair::make(exec_request("x"), {}, server_opts);
        p.open();
        CHECK(p.server.feed(frame(MsgType::data, bytes_of(std::string("\x00" "12345", 6)))).error() ==
              errc::window_exceeded);
        CHECK(p.server.accept().error() == errc::window_exceeded);
    }
    SECTION("a grant past 2^32 - 1") {
        auto p = Pair::make(exec_request("x"));
        p.open();
        // The client announced 2 MiB; 2^32 - 1 - 2 MiB more is the most it can take.
        const std::uint32_t room = 0xffffffffu - default_window;
        auto adjust = [](std::uint32_t inc) {
            wire::Writer w;
            write_window_adjust(w, WindowAdjustMsg{Stream::out, inc});
            return w.take();
        };
        REQUIRE(p.server.feed(adjust(room)).has_value());
        CHECK(p.server.send_capacity(Stream::out) == std::min<std::size_t>(0xffffffffu, Options{}.max_pending_output));
        CHECK(p.server.feed(adjust(1)).error() == errc::window_exceeded);
    }
}

TEST_CASE("receive windows: grants never exceed the announced window", "[session]") {
    RecvWindow w;
    w.open(7);
    CHECK(w.receive(7).has_value());
    CHECK(w.receive(1).error() == errc::window_exceeded);
    CHECK(w.consume(3).has_value());
    CHECK(w.take_grant() == 0);  // 3 < ceil(7/2) = 4
    CHECK(w.consume(1).has_value());
    CHECK(w.take_grant() == 4);
    CHECK(w.available() == 4);
    CHECK(w.consume(4).error() == errc::invalid_argument);  // only 3 unconsumed
    CHECK(w.consume(3).has_value());
    CHECK(w.take_grant() == 0);
    CHECK(w.available() + w.unconsumed() == 4);  // the 3 owed wait for the threshold
    RecvWindow one;
    one.open(1);
    CHECK(one.receive(1).has_value());
    CHECK(one.consume(1).has_value());
    CHECK(one.take_grant() == 1);

    SendWindow s;
    s.open(0xfffffff0u);
    CHECK(s.grant(0x0f).has_value());
    CHECK(s.available() == 0xffffffffu);
    CHECK(s.grant(1).error() == errc::window_exceeded);
}
