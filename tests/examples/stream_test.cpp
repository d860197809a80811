// twoway::stream over real TCP sockets on 127.0.0.1, driven by C++20 coroutines and by plain callbacks:
// handshake verdicts, echo of large data, half-close, truncation, attacks on the records, misuse.
// Links the shared library through the public headers only, as an embedder would.
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include "../support/deterministic_rng.hpp"

using asio::ip::tcp;
using twoway::errc;
using Stream = twoway::stream<tcp::socket>;

namespace {

std::error_code ec_of(errc e) { return twoway::make_error_code(e); }

struct Keys {
    twoway_test::DeterministicRng rng{42};
    twoway::PrivateKey host = twoway::PrivateKey::generate(rng);
    twoway::PrivateKey alice = twoway::PrivateKey::generate(rng);
    twoway::PrivateKey mallory = twoway::PrivateKey::generate(rng);
};

Keys& keys() {
    static Keys k;
    return k;
}

twoway::StreamServerConfig server_config(const twoway::PublicKey& allowed) {
    return {{keys().host}, [allowed](const std::string& account, const twoway::PublicKey& key) {
                return account == "alice" && key == allowed;
            }};
}

twoway::StreamClientConfig client_config(const twoway::PrivateKey& me, const twoway::PublicKey& expected_host) {
    return {{me, "alice"}, [expected_host](const twoway::PublicKey& k) { return k == expected_host; }};
}

// A connected pair of TCP sockets on 127.0.0.1.
struct Sockets {
    tcp::socket server;
    tcp::socket client;
};

Sockets connect_pair(asio::io_context& io) {
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io);
    client.connect(acc.local_endpoint());
    tcp::socket server = acc.accept();
    return {std::move(server), std::move(client)};
}

std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(7);
    for (auto& b : v) b = static_cast<std::byte>(rng() & 0xff);
    return v;
}

struct Handshaked {
    Stream server;
    Stream client;
};

// Both handshakes, with callbacks; REQUIREs success.
Handshaked handshake_pair(asio::io_context& io) {
    Sockets sk = connect_pair(io);
    Handshaked h{Stream(std::move(sk.server), server_config(keys().alice.public_key())),
                 Stream(std::move(sk.client), client_config(keys().alice, keys().host.public_key()))};
    std::optional<std::error_code> se, ce;
    h.server.async_handshake([&](std::error_code e) { se = e; });
    h.client.async_handshake([&](std::error_code e) { ce = e; });
    io.run();
    io.restart();
    REQUIRE(se == std::error_code{});
    REQUIRE(ce == std::error_code{});
    return h;
}

}  // namespace

TEST_CASE("stream echo with coroutines, half-close and end of stream", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    Stream server(std::move(sk.server), server_config(keys().alice.public_key()));
    Stream client(std::move(sk.client), client_config(keys().alice, keys().host.public_key()));
    const auto msg = pattern((1 << 20) + 12345);
    std::vector<std::byte> echoed;
    std::error_code server_end, client_end;

    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await server.async_handshake(asio::use_awaitable);
        REQUIRE(server.account() == "alice");
        REQUIRE(server.peer_key() == keys().alice.public_key());
        std::array<std::byte, 5000> buf{};
        for (;;) {
            auto [ec, n] = co_await server.async_read_some(asio::buffer(buf), twoway::use_nothrow_awaitable);
            if (ec) {
                server_end = ec;
                break;
            }
            co_await asio::async_write(server, asio::buffer(buf.data(), n), asio::use_awaitable);
        }
        co_await server.async_shutdown(asio::use_awaitable);
    }, asio::detached);

    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await client.async_handshake(asio::use_awaitable);
        REQUIRE(client.peer_key() == keys().host.public_key());
        REQUIRE(client.session_id() == server.session_id());
        // Writer and reader run at once: the echo needs both directions flowing.
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            co_await asio::async_write(client, asio::buffer(msg), asio::use_awaitable);
            co_await client.async_shutdown(asio::use_awaitable);
        }, asio::detached);
        echoed.resize(msg.size());
        co_await asio::async_read(client, asio::buffer(echoed), asio::use_awaitable);
        std::array<std::byte, 10> more{};
        auto [ec, n] = co_await client.async_read_some(asio::buffer(more), twoway::use_nothrow_awaitable);
        REQUIRE(n == 0);
        client_end = ec;
    }, asio::detached);

    io.run();
    REQUIRE(echoed == msg);
    // The authenticated close reads as asio::error::eof, as ssl::stream's close_notify does.
    REQUIRE(server_end == std::error_code(asio::error::eof));
    REQUIRE(client_end == std::error_code(asio::error::eof));
    // Exporters agree, as the channel binding they are meant to be.
    auto e1 = client.exporter("test", {}, 32);
    auto e2 = server.exporter("test", {}, 32);
    REQUIRE(e1);
    REQUIRE(e2);
    REQUIRE(std::vector<std::byte>(e1->span().begin(), e1->span().end()) ==
            std::vector<std::byte>(e2->span().begin(), e2->span().end()));
}

TEST_CASE("stream sets TCP_NODELAY and reports the handshake verdicts", "[stream]") {
    asio::io_context io;
    SECTION("accepted") {
        Handshaked h = handshake_pair(io);
        asio::ip::tcp::no_delay nd;
        h.client.lowest_layer().get_option(nd);
        REQUIRE(nd.value());
        h.server.lowest_layer().get_option(nd);
        REQUIRE(nd.value());
    }
    SECTION("server refuses a client key it does not know") {
        Sockets sk = connect_pair(io);
        Stream server(std::move(sk.server), server_config(keys().alice.public_key()));
        Stream client(std::move(sk.client), client_config(keys().mallory, keys().host.public_key()));
        std::optional<std::error_code> se, ce;
        server.async_handshake([&](std::error_code e) { se = e; });
        client.async_handshake([&](std::error_code e) { ce = e; });
        io.run();
        REQUIRE(se == ec_of(errc::auth_denied));
        REQUIRE(ce == ec_of(errc::auth_denied));
        REQUIRE_FALSE(server.denial_reason().empty());
        REQUIRE_FALSE(client.handshake_complete());
    }
    SECTION("client refuses a server key it does not expect") {
        Sockets sk = connect_pair(io);
        Stream server(std::move(sk.server), server_config(keys().alice.public_key()));
        Stream client(std::move(sk.client), client_config(keys().alice, keys().mallory.public_key()));
        std::optional<std::error_code> se, ce;
        server.async_handshake([&](std::error_code e) { se = e; });
        client.async_handshake([&](std::error_code e) {
            ce = e;
            client.lowest_layer().close();  // what a client does next
        });
        io.run();
        REQUIRE(ce == ec_of(errc::host_key_rejected));
        REQUIRE(se == ec_of(errc::truncated));  // the server saw the connection end mid-handshake
    }
    SECTION("a missing verdict callback refuses") {
        Sockets sk = connect_pair(io);
        twoway::StreamServerConfig sc{{keys().host}, {}};
        Stream server(std::move(sk.server), std::move(sc));
        Stream client(std::move(sk.client), client_config(keys().alice, keys().host.public_key()));
        std::optional<std::error_code> se, ce;
        server.async_handshake([&](std::error_code e) { se = e; });
        client.async_handshake([&](std::error_code e) { ce = e; });
        io.run();
        REQUIRE(se == ec_of(errc::auth_denied));
        REQUIRE(ce == ec_of(errc::auth_denied));
    }
}

TEST_CASE("stream: composed reads end at the peer's close with asio::error::eof, as over ssl::stream", "[stream]") {
    asio::io_context io;
    Handshaked h = handshake_pair(io);
    const std::string sent = "line one\nline two\nno newline at the end";
    std::string got;
    std::error_code until_ec, all_ec;
    std::size_t until_n = 0, all_n = 0;
    h.client.async_write_some(asio::buffer(sent), [&](std::error_code e, std::size_t n) {
        REQUIRE_FALSE(e);
        REQUIRE(n == sent.size());
        h.client.async_shutdown([](std::error_code e2) { REQUIRE_FALSE(e2); });
    });
    // read_until finds its delimiter; the transfer_all read that follows ends with eof at the close,
    // with everything the peer sent.
    asio::async_read_until(h.server, asio::dynamic_buffer(got), '\n', [&](std::error_code e, std::size_t n) {
        until_ec = e;
        until_n = n;
        asio::async_read(h.server, asio::dynamic_buffer(got), [&](std::error_code e2, std::size_t n2) {
            all_ec = e2;
            all_n = n2;
        });
    });
    io.run();
    REQUIRE_FALSE(until_ec);
    REQUIRE(until_n == 9);
    REQUIRE(all_ec == std::error_code(asio::error::eof));
    REQUIRE(got == sent);
    REQUIRE(all_n <= sent.size());  // what read_until had not already pulled into the buffer
}

TEST_CASE("stream detects truncation and tampering on the wire", "[stream]") {
    asio::io_context io;
    Handshaked h = handshake_pair(io);
    std::array<std::byte, 100> buf{};
    std::optional<std::error_code> got;
    auto on_read = [&](std::error_code e, std::size_t) { got = e; };

    SECTION("transport EOF without a close") {
        h.client.lowest_layer().shutdown(tcp::socket::shutdown_send);
        h.server.async_read_some(asio::buffer(buf), on_read);
        io.run();
        REQUIRE(got == ec_of(errc::truncated));
    }
    SECTION("an oversized length, straight onto the socket") {
        const std::array<std::byte, 4> huge{std::byte{0x7f}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
        asio::write(h.client.next_layer(), asio::buffer(huge));
        h.server.async_read_some(asio::buffer(buf), on_read);
        io.run();
        REQUIRE(got == ec_of(errc::record_too_large));
    }
    SECTION("a forged record") {
        // A record of the right shape that was never sealed under the session's key.
        std::vector<std::byte> forged(4 + 1 + 10 + 16, std::byte{0x5a});
        forged[0] = std::byte{0};
        forged[1] = std::byte{0};
        forged[2] = std::byte{0};
        forged[3] = std::byte{27};
        asio::write(h.client.next_layer(), asio::buffer(forged));
        h.server.async_read_some(asio::buffer(buf), on_read);
        io.run();
        REQUIRE(got == ec_of(errc::decrypt_failed));
        // Sticky: the next read fails the same way without touching the socket.
        got.reset();
        io.restart();
        h.server.async_read_some(asio::buffer(buf), on_read);
        io.run();
        REQUIRE(got == ec_of(errc::decrypt_failed));
    }
}

TEST_CASE("stream misuse and immediate completions", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    Stream client(std::move(sk.client), client_config(keys().alice, keys().host.public_key()));
    std::array<std::byte, 10> buf{};
    std::optional<std::error_code> got;
    bool inline_call = true;
    client.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t) {
        REQUIRE_FALSE(inline_call);  // never from inside the initiating function
        got = e;
    });
    client.async_write_some(asio::buffer(buf), [&](std::error_code e, std::size_t) {
        REQUIRE_FALSE(inline_call);
        REQUIRE(e == ec_of(errc::bad_state));
    });
    inline_call = false;
    io.run();
    REQUIRE(got == ec_of(errc::bad_state));

    io.restart();
    Handshaked h = handshake_pair(io);
    inline_call = true;
    std::optional<std::size_t> n;
    h.client.async_write_some(asio::const_buffer(), [&](std::error_code e, std::size_t k) {
        REQUIRE_FALSE(inline_call);
        REQUIRE_FALSE(e);
        n = k;
    });
    inline_call = false;
    io.run();
    REQUIRE(n == 0u);
    // Shutdown twice: the second completes at once, without sending anything.
    io.restart();
    int done = 0;
    h.client.async_shutdown([&](std::error_code e) { REQUIRE_FALSE(e); ++done; });
    io.run();
    io.restart();
    h.client.async_shutdown([&](std::error_code e) { REQUIRE_FALSE(e); ++done; });
    io.run();
    REQUIRE(done == 2);
    io.restart();
    h.client.async_write_some(asio::buffer(buf), [&](std::error_code e, std::size_t) {
        REQUIRE(e == ec_of(errc::bad_state));  // nothing after close
        ++done;
    });
    io.run();
    REQUIRE(done == 3);
}

TEST_CASE("stream early data: the first write leaves before the server's verdict", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    auto config = client_config(keys().alice, keys().host.public_key());
    config.early_data = true;
    Stream client(std::move(sk.client), config);

    // A server on the bare sans-I/O handshake that holds server_verdict back until it has read the
    // client's first record: it only gets that record if the client sent it without waiting. It gives up
    // after 5 s (SO_RCVTIMEO), which fails the test.
    std::string server_saw;
    std::thread server_thread([&] {
        const int fd = sk.server.native_handle();
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        auto send_all = [fd](const std::vector<std::byte>& b) {
            std::size_t off = 0;
            while (off < b.size()) {
                const ssize_t k = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
                if (k <= 0) return;
                off += static_cast<std::size_t>(k);
            }
        };
        std::array<std::byte, 4096> buf{};
        auto recv_some = [&]() -> std::span<const std::byte> {
            const ssize_t k = ::recv(fd, buf.data(), buf.size(), 0);
            return k > 0 ? std::span<const std::byte>(buf.data(), static_cast<std::size_t>(k)) : std::span<const std::byte>{};
        };
        twoway::ServerHandshake hs({keys().host}, twoway::system_rng());
        while (!std::holds_alternative<twoway::NeedClientVerdict>(hs.event())) {
            if (!std::holds_alternative<twoway::WantInput>(hs.event())) return;
            auto in = recv_some();
            if (in.empty() || !hs.feed(in)) return;
            send_all(hs.take_output());
        }
        if (!hs.authorize()) return;
        const std::vector<std::byte> verdict = hs.take_output();  // held back
        auto r = hs.take_result();
        if (!r) return;
        auto ch = twoway::Channel::create(*r);  // with the records that came with client_auth
        if (!ch) return;
        std::span<const std::byte> pending;
        while (server_saw.size() < 11) {
            auto got = ch->read();
            if (!got) return;
            if (got->kind == twoway::Channel::Received::Kind::data) {
                server_saw.append(reinterpret_cast<const char*>(got->data.data()), got->data.size());
                continue;
            }
            if (pending.empty()) pending = recv_some();
            if (pending.empty()) return;  // timed out: the client waited for the verdict
            auto fed = ch->feed(pending);
            if (!fed) return;
            pending = pending.subspan(*fed);
        }
        std::vector<std::byte> answer = verdict;
        const std::string reply = "hello again";
        if (!ch->seal(std::as_bytes(std::span(reply)), answer)) return;
        send_all(answer);
    });

    std::string client_got;
    std::error_code client_error;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto tuple = twoway::use_nothrow_awaitable;
        auto [ec] = co_await client.async_handshake(tuple);
        if (ec) {
            client_error = ec;
            co_return;
        }
        REQUIRE(client.verdict_pending());
        REQUIRE(client.peer_key() == keys().host.public_key());
        REQUIRE(client.exporter("label", {}, 16).error() == ec_of(errc::bad_state));
        const std::string hello = "hello early";
        co_await asio::async_write(client, asio::buffer(hello), asio::use_awaitable);
        std::array<char, 11> reply{};
        auto [rec, n] = co_await asio::async_read(client, asio::buffer(reply), tuple);
        client_error = rec;
        client_got.assign(reply.data(), n);
        REQUIRE_FALSE(client.verdict_pending());
        REQUIRE(client.exporter("label", {}, 16));
    }, asio::detached);
    io.run();
    server_thread.join();
    REQUIRE(server_saw == "hello early");
    REQUIRE(client_error == std::error_code{});
    REQUIRE(client_got == "hello again");
}

TEST_CASE("stream early data: a refused client learns it on its first read", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    Stream server(std::move(sk.server), server_config(keys().alice.public_key()));
    auto config = client_config(keys().mallory, keys().host.public_key());
    config.early_data = true;
    Stream client(std::move(sk.client), config);
    std::optional<std::error_code> se, ce, read1, read2;
    server.async_handshake([&](std::error_code e) { se = e; });
    client.async_handshake([&](std::error_code e) {
        ce = e;
        if (e) return;
        static const char secret[] = "not for a refused client";
        asio::async_write(client, asio::buffer(secret), [](std::error_code, std::size_t) {});
        static std::array<char, 16> buf{};
        client.async_read_some(asio::buffer(buf), [&](std::error_code e1, std::size_t) {
            read1 = e1;
            client.async_read_some(asio::buffer(buf), [&](std::error_code e2, std::size_t) { read2 = e2; });
        });
    });
    io.run();
    REQUIRE(se == ec_of(errc::auth_denied));
    REQUIRE(ce == std::error_code{});  // optimistic: the verdict comes with the first read
    REQUIRE(read1 == ec_of(errc::auth_denied));
    REQUIRE(read2 == ec_of(errc::auth_denied));  // sticky
    REQUIRE_FALSE(server.handshake_complete());
}

// ---- verdicts that wait, the pre-authentication cap, the server's hooks, views ----------------------

TEST_CASE("stream: asynchronous verdicts can be given later, while the loop runs on", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    std::optional<twoway::PendingVerdict> held_server, held_client;
    std::string asked_account;
    auto sc = server_config(keys().alice.public_key());
    sc.authorize = nullptr;
    sc.authorize_async = [&](const twoway::NeedClientVerdict& v, twoway::PendingVerdict pv) {
        asked_account = v.account;
        REQUIRE(v.client_key == keys().alice.public_key());
        held_server.emplace(std::move(pv));  // answered later, from a timer
    };
    auto cc = client_config(keys().alice, keys().host.public_key());
    cc.verify_server = nullptr;
    cc.verify_server_async = [&](const twoway::NeedServerVerdict& v, twoway::PendingVerdict pv) {
        REQUIRE(v.server_key == keys().host.public_key());
        REQUIRE_FALSE(v.server_certificate);
        REQUIRE(v.banner.empty());
        held_client.emplace(std::move(pv));
    };
    Stream server(std::move(sk.server), std::move(sc));
    Stream client(std::move(sk.client), std::move(cc));
    std::optional<std::error_code> se, ce;
    server.async_handshake([&](std::error_code e) { se = e; });
    client.async_handshake([&](std::error_code e) { ce = e; });
    // The client's verdict is pending: the loop keeps running other work (a timer fires meanwhile).
    asio::steady_timer later(io);
    int ticks = 0;
    later.expires_after(std::chrono::milliseconds(20));
    later.async_wait([&](std::error_code) {
        ++ticks;
        REQUIRE(held_client);
        REQUIRE(held_client->pending());
        REQUIRE_FALSE(ce);
        held_client->accept();
        REQUIRE_FALSE(held_client->pending());
        held_client->reject();  // a second answer does nothing
    });
    asio::steady_timer later2(io);
    std::function<void()> answer_server = [&] {
        if (!held_server) {  // not asked yet: look again shortly
            later2.expires_after(std::chrono::milliseconds(5));
            later2.async_wait([&](std::error_code) { answer_server(); });
            return;
        }
        ++ticks;
        REQUIRE_FALSE(se);
        held_server->accept();
    };
    answer_server();
    io.run();
    REQUIRE(ticks == 2);
    REQUIRE(asked_account == "alice");
    REQUIRE(se == std::error_code{});
    REQUIRE(ce == std::error_code{});
    REQUIRE(server.account() == "alice");
}

TEST_CASE("stream: the asynchronous verdicts see certificates, and the client the banner", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    twoway_test::DeterministicRng rng{7};
    const twoway::PrivateKey ca = twoway::PrivateKey::generate(rng);
    auto certify = [&](const twoway::PrivateKey& key, twoway::CertificateType type, std::string id) {
        twoway::CertificateFields f;
        f.key = key.public_key();
        f.type = type;
        f.key_id = std::move(id);
        f.principals = {type == twoway::CertificateType::host ? "server.example" : "alice"};
        auto c = twoway::sign_certificate(std::move(f), ca, rng);
        REQUIRE(c.has_value());
        return *c;
    };
    auto sc = server_config(keys().alice.public_key());
    sc.handshake.host_certificate = certify(keys().host, twoway::CertificateType::host, "host-1");
    sc.handshake.banner = "Authorized use only.\n";
    std::optional<twoway::Certificate> seen_by_server, seen_by_client;
    std::string banner;
    sc.authorize = nullptr;
    sc.authorize_async = [&](const twoway::NeedClientVerdict& v, twoway::PendingVerdict pv) {
        seen_by_server = v.client_certificate;
        v.client_key == keys().alice.public_key() ? pv.accept() : pv.reject();
    };
    auto cc = client_config(keys().alice, keys().host.public_key());
    cc.handshake.certificate = certify(keys().alice, twoway::CertificateType::user, "alice@laptop");
    cc.verify_server = nullptr;
    cc.verify_server_async = [&](const twoway::NeedServerVerdict& v, twoway::PendingVerdict pv) {
        seen_by_client = v.server_certificate;
        banner = v.banner;
        v.server_key == keys().host.public_key() ? pv.accept() : pv.reject();
    };
    Stream server(std::move(sk.server), std::move(sc));
    Stream client(std::move(sk.client), std::move(cc));
    std::optional<std::error_code> se, ce;
    server.async_handshake([&](std::error_code e) { se = e; });
    client.async_handshake([&](std::error_code e) { ce = e; });
    io.run();
    REQUIRE(se == std::error_code{});
    REQUIRE(ce == std::error_code{});
    REQUIRE(seen_by_server.has_value());
    REQUIRE(seen_by_server->key_id == "alice@laptop");
    REQUIRE(seen_by_server->key == keys().alice.public_key());
    REQUIRE(seen_by_client.has_value());
    REQUIRE(seen_by_client->key_id == "host-1");
    REQUIRE(seen_by_client->signature_key == ca.public_key());
    REQUIRE(banner == "Authorized use only.\n");
}

TEST_CASE("stream: a verdict dropped unanswered is a refusal", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    SECTION("server drops it: the client is denied, the reason is kept for the log") {
        auto sc = server_config(keys().alice.public_key());
        sc.authorize_async = [](const twoway::NeedClientVerdict&, twoway::PendingVerdict) {};  // dropped
        Stream server(std::move(sk.server), std::move(sc));
        Stream client(std::move(sk.client), client_config(keys().alice, keys().host.public_key()));
        std::optional<std::error_code> se, ce;
        server.async_handshake([&](std::error_code e) { se = e; });
        client.async_handshake([&](std::error_code e) { ce = e; });
        io.run();
        REQUIRE(se == ec_of(errc::auth_denied));
        REQUIRE(ce == ec_of(errc::auth_denied));
        REQUIRE(server.denial_reason() == "no verdict was given");
    }
    SECTION("client drops it: the server key is rejected") {
        auto cc = client_config(keys().alice, keys().host.public_key());
        cc.verify_server_async = [](const twoway::NeedServerVerdict&, twoway::PendingVerdict) {};
        Stream server(std::move(sk.server), server_config(keys().alice.public_key()));
        Stream client(std::move(sk.client), std::move(cc));
        std::optional<std::error_code> ce;
        server.async_handshake([&](std::error_code) {});
        client.async_handshake([&](std::error_code e) {
            ce = e;
            client.next_layer().close();  // the server then sees the end of the connection
        });
        io.run();
        REQUIRE(ce == ec_of(errc::host_key_rejected));
    }
    SECTION("server rejects with a reason") {
        auto sc = server_config(keys().alice.public_key());
        sc.authorize_async = [](const twoway::NeedClientVerdict&, twoway::PendingVerdict pv) { pv.reject("no such account"); };
        Stream server(std::move(sk.server), std::move(sc));
        Stream client(std::move(sk.client), client_config(keys().alice, keys().host.public_key()));
        std::optional<std::error_code> se;
        server.async_handshake([&](std::error_code e) { se = e; });
        client.async_handshake([&](std::error_code) {});
        io.run();
        REQUIRE(se == ec_of(errc::auth_denied));
        REQUIRE(server.denial_reason() == "no such account");
    }
}

TEST_CASE("stream: the pre-authentication byte cap stops a peer that never finishes", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    auto sc = server_config(keys().alice.public_key());
    sc.preauth_byte_cap = 1000;
    Stream server(std::move(sk.server), std::move(sc));
    // A client_hello header announcing a 4000-byte body (within the message's bounds, so the handshake
    // waits for it), then more bytes than the cap.
    std::vector<std::byte> flight(4 + 5000, std::byte{0x41});
    flight[0] = std::byte{0x01};
    flight[1] = std::byte{0x00};
    flight[2] = std::byte{0x0f};
    flight[3] = std::byte{0xa0};
    std::optional<std::error_code> se;
    std::size_t written = 0;
    server.async_handshake([&](std::error_code e) { se = e; });
    asio::async_write(sk.client, asio::buffer(flight), [&](std::error_code, std::size_t n) { written = n; });
    io.run();
    REQUIRE(written == flight.size());
    REQUIRE(se == ec_of(errc::preauth_limit));
    // It read one byte past the cap, no more: the rest is still in the socket.
    const std::size_t read = flight.size() - server.next_layer().available();
    REQUIRE(read == 1001);
}

TEST_CASE("stream: the server's first-flight hook and the paced denial", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    auto sc = server_config(keys().alice.public_key());  // mallory is not allowed
    int answers = 0;
    std::optional<std::chrono::steady_clock::time_point> proof_seen;
    const auto pace = std::chrono::milliseconds(150);
    sc.on_answer = [&] { ++answers; };
    sc.denial_time = [&](std::chrono::steady_clock::time_point proof) {
        proof_seen = proof;
        return proof + pace;
    };
    Stream server(std::move(sk.server), std::move(sc));
    Stream client(std::move(sk.client), client_config(keys().mallory, keys().host.public_key()));
    std::optional<std::error_code> se, ce;
    std::chrono::steady_clock::time_point denied_at{};
    server.async_handshake([&](std::error_code e) { se = e; });
    client.async_handshake([&](std::error_code e) {
        ce = e;
        denied_at = std::chrono::steady_clock::now();
    });
    io.run();
    REQUIRE(answers == 1);
    REQUIRE(se == ec_of(errc::auth_denied));
    REQUIRE(ce == ec_of(errc::auth_denied));
    REQUIRE(proof_seen);
    // The denial left no sooner than the deadline the hook gave.
    REQUIRE(denied_at - *proof_seen >= pace);
}

TEST_CASE("stream: several identities, the retry paced as a denial, the next one signed externally", "[stream]") {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    auto sc = server_config(keys().alice.public_key());  // mallory is not allowed
    sc.handshake.max_auth_tries = 3;
    std::vector<std::chrono::steady_clock::time_point> proofs;
    const auto pace = std::chrono::milliseconds(150);
    sc.denial_time = [&](std::chrono::steady_clock::time_point proof) { return proof + pace; };
    std::vector<twoway::PublicKey> judged;
    sc.authorize = [&](const std::string& account, const twoway::PublicKey& key) {
        judged.push_back(key);
        proofs.push_back(std::chrono::steady_clock::now());
        return account == "alice" && key == keys().alice.public_key();
    };
    auto cc = client_config(keys().mallory, keys().host.public_key());
    cc.handshake.auth_retry = true;
    cc.early_data = true;  // off while next_identity is set: records before a retry would end it
    int asked = 0;
    cc.next_identity = [&](const twoway::NeedAnotherIdentity& n) -> std::optional<twoway::StreamIdentity> {
        ++asked;
        CHECK(n.refused == 1);
        return twoway::StreamIdentity{twoway::IdentityRef::external(keys().alice.public_key())};
    };
    int signed_count = 0;
    cc.sign = [&](const twoway::NeedSignature& n) -> twoway::Result<std::array<std::byte, 64>> {
        ++signed_count;
        CHECK(n.key == keys().alice.public_key());
        return keys().alice.sign(n.payload);  // as an agent would
    };
    Stream server(std::move(sk.server), std::move(sc));
    Stream client(std::move(sk.client), std::move(cc));
    std::optional<std::error_code> se, ce;
    server.async_handshake([&](std::error_code e) { se = e; });
    client.async_handshake([&](std::error_code e) { ce = e; });
    io.run();
    REQUIRE(se == std::error_code{});
    REQUIRE(ce == std::error_code{});
    CHECK(asked == 1);
    CHECK(signed_count == 1);
    REQUIRE(judged == std::vector<twoway::PublicKey>{keys().mallory.public_key(), keys().alice.public_key()});
    CHECK(server.peer_key() == keys().alice.public_key());
    CHECK_FALSE(client.verdict_pending());
    // The second proof came after the retry verdict, which left no sooner than the pace.
    REQUIRE(proofs.size() == 2);
    CHECK(proofs[1] - proofs[0] >= pace);
}

TEST_CASE("stream: async_read_view hands out plaintext without a copy, in order, up to max", "[stream]") {
    asio::io_context io;
    Handshaked h = handshake_pair(io);
    const auto msg = pattern(200000);
    std::vector<std::byte> got;
    std::error_code end;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(h.client, asio::buffer(msg), asio::use_awaitable);
        co_await h.client.async_shutdown(asio::use_awaitable);
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto tuple = twoway::use_nothrow_awaitable;
        auto [z, none] = co_await h.server.async_read_view(0, tuple);
        REQUIRE_FALSE(z);
        REQUIRE(none.empty());
        for (;;) {
            auto [ec, view] = co_await h.server.async_read_view(7000, tuple);
            if (ec) {
                end = ec;
                break;
            }
            REQUIRE_FALSE(view.empty());
            REQUIRE(view.size() <= 7000);
            got.insert(got.end(), view.begin(), view.end());
        }
    }, asio::detached);
    io.run();
    REQUIRE(got == msg);
    REQUIRE(end == std::error_code(asio::error::eof));
}

TEST_CASE("stream: async_write_last sends the last data and the close in one write", "[stream]") {
    asio::io_context io;
    Handshaked h = handshake_pair(io);
    const auto msg = pattern(300000);  // more than max_write_size: all of it goes, then the close
    std::size_t wrote = 0;
    std::error_code after;
    std::vector<std::byte> got(msg.size());
    std::error_code end;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto tuple = twoway::use_nothrow_awaitable;
        auto [ec, n] = co_await h.server.async_write_last(asio::buffer(msg), tuple);
        REQUIRE_FALSE(ec);
        wrote = n;
        auto [ec2, n2] = co_await h.server.async_write_some(asio::buffer(msg.data(), 10), tuple);
        after = ec2;  // nothing can be written after the close
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto tuple = twoway::use_nothrow_awaitable;
        co_await asio::async_read(h.client, asio::buffer(got), asio::use_awaitable);
        std::array<std::byte, 16> more{};
        auto [ec, n] = co_await h.client.async_read_some(asio::buffer(more), tuple);
        REQUIRE(n == 0);
        end = ec;
    }, asio::detached);
    io.run();
    REQUIRE(wrote == msg.size());
    REQUIRE(got == msg);
    REQUIRE(end == std::error_code(asio::error::eof));
    REQUIRE(after == ec_of(errc::bad_state));
}
