// twoway::stream's client half of password mode (PROTOCOL.md 4.8) over real TCP sockets on 127.0.0.1,
// against a server driven here by the sans-I/O ServerHandshake (the stream's server half of password
// mode is not what is tested): PendingVerdict::accept_with_password / defer_to_password, the result's
// password and host_proven_by_password, a wrong password and an account without a record, answers that
// must fail closed, a stream with only the synchronous verify_server, and early data.
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/password.hpp>
#include "../support/deterministic_rng.hpp"

using asio::ip::tcp;
using twoway::errc;
using Stream = twoway::stream<tcp::socket>;

namespace {

std::error_code ec_of(errc e) { return twoway::make_error_code(e); }

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

constexpr twoway::PasswordKsf test_ksf{1, 8 * 1024};  // cheap: the tests are about the stream
constexpr std::string_view good_password = "correct horse battery staple";

// The server's keys and alice's record, made once.
struct Setup {
    twoway_test::DeterministicRng rng{17};
    twoway::PrivateKey host = twoway::PrivateKey::generate(rng);
    twoway::PrivateKey alice_key = twoway::PrivateKey::generate(rng);
    twoway::OpaqueKey opaque = twoway::generate_opaque_key(rng);
    twoway::PasswordServerKeys server_keys{opaque.oprf_seed.clone(), opaque.private_key.clone()};
    twoway::PasswordRecord alice = registered(opaque, rng);

    static twoway::PasswordRecord registered(const twoway::OpaqueKey& key, twoway::Rng& rng) {
        auto r = twoway::register_password(key, "alice", bytes_of(good_password), test_ksf, rng);
        if (!r) throw std::runtime_error("register_password: " + r.error().message());
        return std::move(*r);
    }
};

Setup& setup() {
    static Setup s;
    return s;
}

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

// What the test server saw.
struct ServerSaw {
    std::optional<std::error_code> error;  // the handshake's failure, if it failed
    bool completed = false;
    bool verdict_password = false;  // NeedClientVerdict::password
    std::string account;            // NeedPasswordRecord::account
    std::string received;           // the client's first application data
};

// A server on the sans-I/O ServerHandshake: alice has a record, every other account none (the fake
// response); a client that proves the password (or, in key mode, holds alice_key) is authorized. After
// the handshake it reads one chunk of application data and answers "reply: " + it.
asio::awaitable<void> serve(tcp::socket sock, ServerSaw& saw) {
    twoway_test::DeterministicRng rng{5};
    twoway::ServerConfig sc{.host_key = setup().host};
    sc.password_keys = &setup().server_keys;
    sc.password_default_ksf = test_ksf;
    twoway::ServerHandshake hs(sc, rng);
    std::array<std::byte, 4096> buf{};
    for (;;) {
        std::vector<std::byte> out = hs.take_output();
        if (!out.empty()) {
            auto [ec, n] = co_await asio::async_write(sock, asio::buffer(out), twoway::use_nothrow_awaitable);
            (void)n;
            if (ec && !hs.error()) {
                saw.error = ec;
                co_return;
            }
        }
        const twoway::ServerEvent ev = hs.event();
        if (std::holds_alternative<twoway::WantInput>(ev)) {
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), twoway::use_nothrow_awaitable);
            if (ec) {
                (void)hs.end_of_input();
            } else {
                (void)hs.feed(std::span<const std::byte>(buf.data(), n));
            }
            continue;
        }
        if (const auto* r = std::get_if<twoway::NeedPasswordRecord>(&ev)) {
            saw.account = r->account;
            if (r->account == "alice") {
                (void)hs.provide_password_record(setup().alice.registration.span(), setup().alice.ksf);
            } else {
                (void)hs.no_password_record();
            }
            continue;
        }
        if (const auto* v = std::get_if<twoway::NeedClientVerdict>(&ev)) {
            saw.verdict_password = v->password;
            const bool ok = v->password || v->client_key == setup().alice_key.public_key();
            (void)(ok ? hs.authorize() : hs.deny("not alice"));
            continue;
        }
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) {
            saw.error = f->error;
            co_return;
        }
        break;  // complete
    }
    saw.completed = true;
    auto result = hs.take_result();
    REQUIRE(result);
    auto ch = twoway::Channel::create(*result);
    REQUIRE(ch);
    for (;;) {
        auto r = ch->read();
        REQUIRE(r);
        if (r->kind == twoway::Channel::Received::Kind::data) {
            saw.received.assign(reinterpret_cast<const char*>(r->data.data()), r->data.size());
            break;
        }
        REQUIRE(r->kind == twoway::Channel::Received::Kind::need_more);
        const std::span<std::byte> room = ch->prepare();
        auto [ec, n] = co_await sock.async_read_some(asio::buffer(room.data(), room.size()), twoway::use_nothrow_awaitable);
        REQUIRE_FALSE(ec);
        REQUIRE(ch->commit(n));
    }
    const std::string reply = "reply: " + saw.received;
    std::vector<std::byte> sealed;
    REQUIRE(ch->seal(bytes_of(reply), sealed));
    co_await asio::async_write(sock, asio::buffer(sealed), asio::use_awaitable);
}

twoway::ClientConfig password_handshake(std::string account = "alice") {
    twoway::ClientConfig cc{.account = std::move(account)};
    cc.password = true;
    return cc;
}

using Answer = std::function<void(const twoway::NeedServerVerdict&, twoway::PendingVerdict)>;

// What the client saw.
struct ClientSaw {
    std::optional<std::error_code> handshake;
    std::optional<std::error_code> read;
    std::string reply;
    bool password = false;
    bool host_proven = false;
    bool verdict_pending = false;
    std::optional<twoway::PublicKey> peer;
};

// One connection: the test server and a client stream with `config`; the client writes "hello" and
// reads the reply when the handshake succeeds.
ClientSaw run(twoway::StreamClientConfig config, ServerSaw& server_saw) {
    asio::io_context io;
    Sockets sk = connect_pair(io);
    asio::co_spawn(io, serve(std::move(sk.server), server_saw), asio::detached);
    Stream client(std::move(sk.client), std::move(config));
    ClientSaw saw;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto [ec] = co_await client.async_handshake(twoway::use_nothrow_awaitable);
        saw.handshake = ec;
        if (ec) {
            client.lowest_layer().close();  // what a client does next
            co_return;
        }
        saw.password = client.password_login();
        saw.host_proven = client.host_proven_by_password();
        saw.verdict_pending = client.verdict_pending();
        saw.peer = client.peer_key();
        co_await asio::async_write(client, asio::buffer(std::string_view("hello")), asio::use_awaitable);
        std::array<char, 100> buf{};
        auto [rec, n] = co_await client.async_read_some(asio::buffer(buf), twoway::use_nothrow_awaitable);
        saw.read = rec;
        saw.reply.assign(buf.data(), n);
        if (!rec) {
            // The final result (after early data's verdict) says the same.
            saw.password = saw.password && client.password_login();
            saw.host_proven = saw.host_proven && client.host_proven_by_password();
        }
        client.lowest_layer().close();
    }, asio::detached);
    io.run();
    return saw;
}

twoway::StreamClientConfig password_client(Answer answer, std::string account = "alice") {
    return {.handshake = password_handshake(std::move(account)), .verify_server_async = std::move(answer)};
}

}  // namespace

TEST_CASE("password stream: accept_with_password logs in to a known host", "[stream][password]") {
    ServerSaw ss;
    bool asked_password_mode = false;
    const ClientSaw cs = run(password_client([&](const twoway::NeedServerVerdict& v, twoway::PendingVerdict pv) {
        asked_password_mode = v.password_mode;
        REQUIRE(v.server_key == setup().host.public_key());
        pv.accept_with_password(bytes_of(good_password));
    }), ss);
    CHECK(asked_password_mode);
    REQUIRE(cs.handshake == std::error_code{});
    CHECK(cs.read == std::error_code{});
    CHECK(cs.reply == "reply: hello");
    CHECK(cs.password);
    CHECK_FALSE(cs.host_proven);  // the key was known: nothing was left for the password to prove
    CHECK(cs.peer == setup().host.public_key());
    CHECK(ss.completed);
    CHECK(ss.verdict_password);
    CHECK(ss.account == "alice");
}

TEST_CASE("password stream: defer_to_password logs in and proves the host", "[stream][password]") {
    ServerSaw ss;
    const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
        std::string typed(good_password);
        pv.defer_to_password(std::as_bytes(std::span(typed)));
        twoway::wipe(std::as_writable_bytes(std::span(typed)));  // the copy is the verdict's now
    }), ss);
    REQUIRE(cs.handshake == std::error_code{});
    CHECK(cs.reply == "reply: hello");
    CHECK(cs.password);
    CHECK(cs.host_proven);
    CHECK(cs.peer == setup().host.public_key());
}

TEST_CASE("password stream: a wrong password and an account without a record are denied alike", "[stream][password]") {
    SECTION("wrong password, key known") {
        ServerSaw ss;
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.accept_with_password(bytes_of("Tr0ub4dor&3"));
        }), ss);
        CHECK(cs.handshake == ec_of(errc::auth_denied));
        CHECK_FALSE(ss.completed);
    }
    SECTION("wrong password, key deferred") {
        ServerSaw ss;
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.defer_to_password(bytes_of("Tr0ub4dor&3"));
        }), ss);
        CHECK(cs.handshake == ec_of(errc::auth_denied));
        CHECK_FALSE(ss.completed);
    }
    SECTION("no record (the server's fake response)") {
        ServerSaw ss;
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.accept_with_password(bytes_of(good_password));
        }, "bob"), ss);
        CHECK(cs.handshake == ec_of(errc::auth_denied));
        CHECK(ss.account == "bob");
        CHECK_FALSE(ss.completed);
    }
}

TEST_CASE("password stream: answers that cannot log in fail closed", "[stream][password]") {
    ServerSaw ss;
    SECTION("reject") {
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.reject("no");
        }), ss);
        CHECK(cs.handshake == ec_of(errc::host_key_rejected));
    }
    SECTION("the verdict dropped unanswered") {
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict) {}), ss);
        CHECK(cs.handshake == ec_of(errc::host_key_rejected));
    }
    SECTION("accept() without a password") {
        const ClientSaw cs = run(password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.accept();
        }), ss);
        CHECK(cs.handshake == ec_of(errc::host_key_rejected));
    }
    SECTION("a waiter that takes no password refuses it") {
        struct Plain final : twoway::PendingVerdict::Waiter {
            std::optional<bool>& got;
            explicit Plain(std::optional<bool>& g) : got(g) {}
            void give(bool accepted, std::string) override { got = accepted; }
        };
        std::optional<bool> got;
        twoway::PendingVerdict pv(std::make_unique<Plain>(got));
        pv.accept_with_password(bytes_of(good_password));
        CHECK(got == false);
        CHECK_FALSE(pv.pending());
    }
    CHECK_FALSE(ss.completed);
}

TEST_CASE("password stream: only the synchronous verify_server fails at once", "[stream][password]") {
    ServerSaw ss;
    bool called = false;
    twoway::StreamClientConfig config{.handshake = password_handshake(), .verify_server = [&](const twoway::PublicKey&) {
        called = true;
        return true;
    }};
    const ClientSaw cs = run(std::move(config), ss);
    CHECK(cs.handshake == ec_of(errc::invalid_argument));
    CHECK_FALSE(called);
    CHECK_FALSE(ss.completed);
}

TEST_CASE("password answers in key mode fail closed", "[stream][password]") {
    ServerSaw ss;
    twoway::StreamClientConfig config{.handshake = twoway::ClientConfig{.identity = setup().alice_key, .account = "alice"},
                                      .verify_server_async = [](const twoway::NeedServerVerdict& v,
                                                                twoway::PendingVerdict pv) {
                                          CHECK_FALSE(v.password_mode);
                                          pv.accept_with_password(bytes_of(good_password));
                                      }};
    const ClientSaw cs = run(std::move(config), ss);
    CHECK(cs.handshake == ec_of(errc::host_key_rejected));
    CHECK_FALSE(ss.completed);
}

TEST_CASE("password stream: early data goes right behind client_password_finish", "[stream][password]") {
    SECTION("accepted") {
        ServerSaw ss;
        twoway::StreamClientConfig config = password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.defer_to_password(bytes_of(good_password));
        });
        config.early_data = true;
        const ClientSaw cs = run(std::move(config), ss);
        REQUIRE(cs.handshake == std::error_code{});
        CHECK(cs.verdict_pending);  // complete before the server's verdict
        CHECK(cs.read == std::error_code{});
        CHECK(cs.reply == "reply: hello");
        CHECK(ss.received == "hello");
        CHECK(cs.password);
        CHECK(cs.host_proven);
    }
    SECTION("a wrong password fails before any early data leaves") {
        ServerSaw ss;
        twoway::StreamClientConfig config = password_client([](const twoway::NeedServerVerdict&, twoway::PendingVerdict pv) {
            pv.accept_with_password(bytes_of("wrong"));
        });
        config.early_data = true;
        const ClientSaw cs = run(std::move(config), ss);
        CHECK(cs.handshake == ec_of(errc::auth_denied));
        CHECK(ss.received.empty());
    }
}
