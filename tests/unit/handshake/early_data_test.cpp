// Early data (PROTOCOL.md 7.1 step 5): the client builds its channel from take_early_result() right
// after client_auth and sends records before the server's verdict; they reach the server's channel
// after authorize and are dropped on a denial.
#include "support.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

namespace twoway::handshake_test {

namespace {

Channel channel_of(HandshakeResult& r) {
    Result<Channel> ch = Channel::create(r);
    REQUIRE(ch);
    return std::move(*ch);
}

ByteVec seal(Channel& ch, std::string_view text) {
    ByteVec out;
    REQUIRE(ch.seal(bytes(text), out));
    return out;
}

// All application bytes the channel can open from `transport`.
std::string open_all(Channel& ch, const ByteVec& transport) {
    std::string got;
    std::size_t pos = 0;
    for (;;) {
        Result<Channel::Received> r = ch.read();
        REQUIRE(r);
        if (r->kind == Channel::Received::Kind::data) {
            got.append(reinterpret_cast<const char*>(r->data.data()), r->data.size());
            continue;
        }
        REQUIRE(r->kind == Channel::Received::Kind::need_more);
        if (pos == transport.size()) return got;
        Result<std::size_t> fed = ch.feed(std::span(transport).subspan(pos));
        REQUIRE(fed);
        pos += *fed;
    }
}

bool all_zero(const SecretBytes<64>& s) {
    return std::all_of(s.span().begin(), s.span().end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

TEST_CASE("early data: records sealed before the verdict open on the server after authorize", "[handshake]") {
    Endpoints e = make_endpoints(21);
    DeterministicRng r1(211), r2(212);
    ClientHandshake client({.identity = e.client_key, .account = "erin"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    REQUIRE_FALSE(client.early_data_ready());
    REQUIRE(client.take_early_result().error() == errc::bad_state);  // nothing sent yet
    REQUIRE(server.feed(client.take_output()));
    REQUIRE(client.feed(server.take_output()));
    REQUIRE_FALSE(client.early_data_ready());  // the verdict on the server key comes first
    REQUIRE(client.take_early_result().error() == errc::bad_state);
    REQUIRE(client.accept_server());
    REQUIRE(client.early_data_ready());

    Result<HandshakeResult> early = client.take_early_result();
    REQUIRE(early);
    REQUIRE_FALSE(client.early_data_ready());
    REQUIRE(client.take_early_result().error() == errc::bad_state);  // exactly once
    REQUIRE(client.take_result().error() == errc::bad_state);        // not complete yet
    REQUIRE(early->peer == e.server_key.public_key());
    REQUIRE(early->account == "erin");
    REQUIRE(early->leftover.empty());
    REQUIRE(early->exporter("x", {}, 16).error() == errc::invalid_argument);  // no exporter before the verdict
    Channel client_channel = channel_of(*early);

    // client_auth and the first records leave in one write.
    const ByteVec flight = concat({client.take_output(), seal(client_channel, "ls -l"), seal(client_channel, "\n")});
    REQUIRE(server.feed(flight));
    REQUIRE(std::holds_alternative<NeedClientVerdict>(server.event()));
    REQUIRE(server.authorize());
    Result<HandshakeResult> s = server.take_result();
    REQUIRE(s);
    REQUIRE(s->session_id == early->session_id);
    Channel server_channel = channel_of(*s);
    REQUIRE(s->leftover.empty());  // the early records went into the channel with the secrets
    REQUIRE(open_all(server_channel, {}) == "ls -l\n");

    // The verdict and the server's first record arrive together; the client's handshake completes.
    const ByteVec answer = concat({server.take_output(), seal(server_channel, "total 0")});
    REQUIRE(client.feed(answer));
    REQUIRE(client.complete());
    Result<HandshakeResult> c = client.take_result();
    REQUIRE(c);
    REQUIRE(c->session_id == early->session_id);
    REQUIRE(all_zero(c->send_secret));  // handed out early, not twice
    REQUIRE(all_zero(c->recv_secret));
    REQUIRE_FALSE(c->leftover.empty());
    REQUIRE(client_channel.take_leftover(*c));  // the records that came with the verdict
    REQUIRE(c->leftover.empty());
    REQUIRE(open_all(client_channel, {}) == "total 0");
    const ByteVec context = bytes("ctx");
    auto ce = c->exporter("test label", context, 32);
    auto se = s->exporter("test label", context, 32);
    REQUIRE((ce && se));
    REQUIRE(hex(ce->span()) == hex(se->span()));
}

TEST_CASE("early data: a refused client fails with auth_denied and its records are never opened", "[handshake]") {
    Endpoints e = make_endpoints(22);
    DeterministicRng r1(221), r2(222);
    ClientHandshake client({.identity = e.client_key, .account = "erin"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    REQUIRE(server.feed(client.take_output()));
    REQUIRE(client.feed(server.take_output()));
    REQUIRE(client.accept_server());
    Result<HandshakeResult> early = client.take_early_result();
    REQUIRE(early);
    Channel client_channel = channel_of(*early);
    REQUIRE(server.feed(concat({client.take_output(), seal(client_channel, "rm -rf /tmp/x")})));
    REQUIRE(server.deny("key not in authorized_keys"));
    REQUIRE(server.take_result().error() == errc::bad_state);  // nothing for a channel to open
    REQUIRE(client.feed(server.take_output()).error() == errc::auth_denied);
    REQUIRE(std::get<HandshakeFailed>(client.event()).error == errc::auth_denied);
    REQUIRE(client.take_result().error() == errc::bad_state);
    REQUIRE(client.take_early_result().error() == errc::bad_state);
}

TEST_CASE("early data: a client that never takes it completes as before", "[handshake]") {
    Endpoints e = make_endpoints(23);
    DeterministicRng r1(231), r2(232);
    ClientHandshake client({.identity = e.client_key, .account = "erin"}, r1);
    ServerHandshake server({.host_key = e.server_key}, r2);
    Run run = run_handshake(client, server);
    REQUIRE_FALSE(client.early_data_ready());
    REQUIRE(client.take_early_result().error() == errc::bad_state);
    REQUIRE_FALSE(all_zero(run.client_result->send_secret));
}

}  // namespace twoway::handshake_test
