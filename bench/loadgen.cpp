// Load generator for bench/run: embeds libtwoway (the sans-I/O ClientHandshake, the Channel and the
// session client) over plain Asio sockets, so what is measured is the daemon, not client process
// start-up. One event loop per thread; every connection is a coroutine.
//
//   loadgen handshakes -p PORT -i KEY -s HOST_PUB [-c CONCURRENCY] [-t SECONDS] [-T THREADS]
//       Full handshakes (through the server's verdict) back to back on CONCURRENCY connections for
//       SECONDS; each connection then sends the authenticated close and is dropped. Prints one line:
//       `handshakes N seconds S rate R median_us M p99_us P failures F round_trips K`.
//   loadgen rtt -p PORT -i KEY -s HOST_PUB -W SERVICE
//       Two connections, counted flight by flight: how many times the client had to wait for the
//       server after TCP connect before it sent its first application byte (the session request), and
//       until the service's ACCEPT; first sending after the server's verdict, then as early data right
//       behind client_auth. Prints `MODE round_trips_to_first_byte K round_trips_to_accept A` for
//       MODE after_verdict and early. (TCP's own SYN/SYN-ACK, one more round trip for every protocol
//       here, is not counted: the count starts once connect() has completed.)
//   loadgen hold -p PORT -i KEY -s HOST_PUB -W SERVICE -n N
//       Opens N authenticated forwarding sessions to SERVICE (accepted by the daemon; -E 0: request
//       sent after the verdict rather than as early data; SERVICE "-": no session, only the
//       authenticated connection), prints
//       `held N` and keeps them idle until its standard input reaches end of file.
//
// The server key is checked against HOST_PUB (a .pub line) exactly as a known_hosts entry would be.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <twoway/asio_stream.hpp>
#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key_file.hpp>
#include <twoway/key.hpp>
#include <twoway/session.hpp>

using namespace twoway;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

using twoway::use_nothrow_awaitable;

struct Args {
    std::string mode;
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::string key_path;
    std::string server_pub_path;
    std::string account = "bench";
    std::string service;
    int concurrency = 32;
    double seconds = 5;
    int threads = 1;
    int hold = 1000;
    bool early = true;  // hold: send the session request as early data
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "loadgen: %s\n", what.c_str());
    std::exit(2);
}

Args parse_args(int argc, char** argv) {
    if (argc < 2) die("usage: loadgen handshakes|rtt|hold -p PORT -i KEY -s HOST_PUB [options]");
    Args a;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string f = argv[i];
        if (i + 1 >= argc) die("missing value for " + f);
        const std::string v = argv[++i];
        if (f == "-p") a.port = static_cast<unsigned short>(std::stoi(v));
        else if (f == "-h") a.host = v;
        else if (f == "-i") a.key_path = v;
        else if (f == "-s") a.server_pub_path = v;
        else if (f == "-l") a.account = v;
        else if (f == "-W") a.service = v;
        else if (f == "-c") a.concurrency = std::max(1, std::stoi(v));
        else if (f == "-t") a.seconds = std::stod(v);
        else if (f == "-T") a.threads = std::max(1, std::stoi(v));
        else if (f == "-n") a.hold = std::max(1, std::stoi(v));
        else if (f == "-E") a.early = v != "0";
        else die("unknown option " + f);
    }
    if (a.port == 0 || a.key_path.empty() || a.server_pub_path.empty()) die("-p, -i and -s are required");
    return a;
}

// What every connection shares (read-only after start).
struct Shared {
    const PrivateKey* identity = nullptr;
    PublicKey server_key;
    std::string account;
    tcp::endpoint endpoint;
};

// One client connection: the socket and, once the handshake is done, the record layer.
struct Connection {
    explicit Connection(const asio::any_io_executor& ex) : socket(ex) {}
    tcp::socket socket;
    std::optional<Channel> channel;
    int round_trips = 0;  // times the client waited for the server after having sent a flight
    bool sent_since_wait = false;

    asio::awaitable<std::error_code> send(std::span<const std::byte> bytes) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()), use_nothrow_awaitable);
        sent_since_wait = true;
        co_return ec;
    }

    // Reads some transport bytes into `into`; counts a round trip when this read waits for an answer.
    asio::awaitable<std::pair<std::error_code, std::size_t>> receive(std::span<std::byte> into) {
        if (sent_since_wait) {
            ++round_trips;
            sent_since_wait = false;
        }
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(into.data(), into.size()), use_nothrow_awaitable);
        co_return std::pair{ec, n};
    }
};

// TCP connect plus the full handshake (through the server's verdict); leaves conn.channel set. With
// `early` set (non-null), its bytes are sealed and sent as the first application records right behind
// client_auth (early data), and first_byte_round_trips records the round trips waited until then;
// without it the caller sends its first bytes only after the verdict.
asio::awaitable<std::error_code> connect_and_handshake(Connection& conn, const Shared& sh, Rng& rng,
                                                       const std::vector<std::byte>* early = nullptr,
                                                       int* first_byte_round_trips = nullptr) {
    auto [cec] = co_await conn.socket.async_connect(sh.endpoint, use_nothrow_awaitable);
    if (cec) co_return cec;
    conn.socket.set_option(tcp::no_delay(true));
    ClientHandshake hs(ClientConfig{*sh.identity, sh.account}, rng);
    std::array<std::byte, 8192> buf{};
    for (;;) {
        std::vector<std::byte> out = hs.take_output();
        if (early != nullptr && !conn.channel && hs.early_data_ready()) {
            // client_auth is in `out`: the channel exists now, and the first records ride along.
            auto r = hs.take_early_result();
            if (!r) co_return r.error();
            auto ch = Channel::create(*r);
            if (!ch) co_return ch.error();
            conn.channel.emplace(std::move(*ch));
            if (auto s = conn.channel->seal(*early, out); !s) co_return s.error();
            if (first_byte_round_trips != nullptr) *first_byte_round_trips = conn.round_trips;
        }
        if (!out.empty()) {
            if (auto ec = co_await conn.send(out)) co_return ec;
        }
        const ClientEvent ev = hs.event();
        if (std::holds_alternative<WantInput>(ev)) {
            auto [ec, n] = co_await conn.receive(buf);
            if (ec) co_return ec;
            if (auto s = hs.feed(std::span(buf.data(), n)); !s) co_return s.error();
        } else if (const auto* v = std::get_if<NeedServerVerdict>(&ev)) {
            const Status s = v->server_key == sh.server_key ? hs.accept_server() : hs.reject_server();
            if (!s) co_return s.error();
        } else if (std::holds_alternative<HandshakeComplete>(ev)) {
            auto r = hs.take_result();
            if (!r) co_return r.error();
            if (conn.channel) {
                if (auto st = conn.channel->take_leftover(*r); !st) co_return st.error();
            } else {
                auto ch = Channel::create(*r);
                if (!ch) co_return ch.error();
                conn.channel.emplace(std::move(*ch));
            }
            co_return std::error_code{};
        } else {
            co_return std::get<HandshakeFailed>(ev).error;
        }
    }
}

// The session client for a service and its opening messages (REQUEST), sealed by the caller.
Result<session::SessionClient> service_request(const std::string& service, std::vector<std::byte>& opening) {
    session::Request req;
    req.kind = session::RequestKind::service;
    req.command = service;
    auto sc = session::SessionClient::start(req);
    if (!sc) return fail(sc.error());
    opening = sc->take_output();
    return sc;
}

// Waits for the service's ACCEPT (the request has been sent, early or not).
asio::awaitable<std::error_code> await_accept(Connection& conn, session::SessionClient& sc) {
    for (;;) {
        for (;;) {
            auto r = conn.channel->read();
            if (!r) co_return r.error();
            if (r->kind == Channel::Received::Kind::need_more) break;
            if (r->kind == Channel::Received::Kind::closed) co_return make_error_code(errc::peer_closed);
            auto events = sc.feed(r->data);
            if (!events) co_return events.error();
            for (const auto& e : *events) {
                if (std::holds_alternative<session::Rejected>(e)) co_return make_error_code(errc::auth_denied);
                if (std::holds_alternative<session::Accepted>(e)) co_return std::error_code{};
            }
        }
        auto [ec, n] = co_await conn.receive(conn.channel->prepare());
        if (ec) co_return ec;
        if (auto s = conn.channel->commit(n); !s) co_return s.error();
    }
}

// Handshake, then a forwarding session to `service`, accepted. With `early`, the request rides along
// with client_auth; otherwise it is sent after the verdict.
asio::awaitable<std::error_code> open_service(Connection& conn, const Shared& sh, const std::string& service, bool early,
                                              int& first_byte_round_trips, std::optional<session::SessionClient>& out) {
    std::vector<std::byte> opening;
    auto sc = service_request(service, opening);
    if (!sc) co_return sc.error();
    std::error_code ec = co_await connect_and_handshake(conn, sh, system_rng(), early ? &opening : nullptr,
                                                        &first_byte_round_trips);
    if (ec) co_return ec;
    if (!early) {
        std::vector<std::byte> wire;
        if (auto s = conn.channel->seal(opening, wire); !s) co_return s.error();
        first_byte_round_trips = conn.round_trips;
        if (auto e2 = co_await conn.send(wire)) co_return e2;
    }
    ec = co_await await_accept(conn, *sc);
    if (!ec) out.emplace(std::move(*sc));
    co_return ec;
}

// ---- handshakes -----------------------------------------------------------------------------------
struct WorkerStats {
    std::vector<double> latency_us;
    long failures = 0;
    int round_trips = 0;
    std::string first_error;
};

asio::awaitable<void> handshake_worker(const Shared& sh, Clock::time_point until, WorkerStats& st) {
    Rng& rng = system_rng();
    auto ex = co_await asio::this_coro::executor;
    while (Clock::now() < until) {
        Connection conn(ex);
        const auto t0 = Clock::now();
        const std::error_code ec = co_await connect_and_handshake(conn, sh, rng);
        if (ec) {
            if (st.first_error.empty()) st.first_error = ec.message();
            ++st.failures;
            continue;
        }
        st.latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        st.round_trips = conn.round_trips;
        // The authenticated close, so the daemon ends the connection cleanly (not as truncated).
        std::vector<std::byte> close;
        if (conn.channel->close(close)) (void)co_await conn.send(close);
        std::error_code ignored;
        conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
        conn.socket.close(ignored);
    }
}

int run_handshakes(const Args& a, const Shared& sh) {
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
    std::vector<WorkerStats> stats(static_cast<std::size_t>(a.concurrency));
    std::vector<std::unique_ptr<asio::io_context>> ios;
    for (int t = 0; t < a.threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
    for (int i = 0; i < a.concurrency; ++i)
        asio::co_spawn(*ios[static_cast<std::size_t>(i % a.threads)], handshake_worker(sh, until, stats[static_cast<std::size_t>(i)]),
                       asio::detached);
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (auto& io : ios) threads.emplace_back([&io] { io->run(); });
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> lat;
    long failures = 0;
    int rt = 0;
    std::string err;
    for (const auto& s : stats) {
        lat.insert(lat.end(), s.latency_us.begin(), s.latency_us.end());
        failures += s.failures;
        rt = std::max(rt, s.round_trips);
        if (err.empty()) err = s.first_error;
    }
    std::sort(lat.begin(), lat.end());
    const double median = lat.empty() ? 0 : lat[lat.size() / 2];
    const double p99 = lat.empty() ? 0 : lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
    std::printf("handshakes %zu seconds %.3f rate %.1f median_us %.1f p99_us %.1f failures %ld round_trips %d\n",
                lat.size(), secs, static_cast<double>(lat.size()) / secs, median, p99, failures, rt);
    if (!err.empty()) std::fprintf(stderr, "loadgen: first failure: %s\n", err.c_str());
    return lat.empty() ? 1 : 0;
}

// ---- rtt ----------------------------------------------------------------------------------------
int run_rtt(const Args& a, const Shared& sh) {
    for (const bool early : {false, true}) {
        asio::io_context io(1);
        int first = -1, accept = -1;
        std::error_code result;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            Connection conn(co_await asio::this_coro::executor);
            std::optional<session::SessionClient> sc;
            result = co_await open_service(conn, sh, a.service, early, first, sc);
            accept = conn.round_trips;
        }, asio::detached);
        io.run();
        if (result) die(std::string("rtt") + (early ? " (early data): " : ": ") + result.message());
        std::printf("%s round_trips_to_first_byte %d round_trips_to_accept %d\n", early ? "early" : "after_verdict",
                    first, accept);
    }
    return 0;
}

// ---- hold -----------------------------------------------------------------------------------------
struct Held {
    explicit Held(const asio::any_io_executor& ex) : conn(ex) {}
    Connection conn;
    std::optional<session::SessionClient> session;
};

int run_hold(const Args& a, const Shared& sh) {
    asio::io_context io(1);
    std::vector<std::unique_ptr<Held>> held;
    long failures = 0;
    std::string err;
    int next = 0;
    // A bounded number of opens in flight, so the daemon's MaxStartups is not what limits us.
    const int parallel = std::min(a.hold, 32);
    auto opener = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        while (next < a.hold) {
            ++next;
            auto h = std::make_unique<Held>(ex);
            int first = 0;
            // "-": authenticated connections without a session (what the session itself costs is the
            // difference).
            const std::error_code ec = a.service == "-" ? co_await connect_and_handshake(h->conn, sh, system_rng())
                                                        : co_await open_service(h->conn, sh, a.service, a.early, first, h->session);
            if (ec) {
                ++failures;
                if (err.empty()) err = ec.message();
                continue;
            }
            held.push_back(std::move(h));
        }
    };
    for (int i = 0; i < parallel; ++i) asio::co_spawn(io, opener(), asio::detached);
    io.run();
    io.restart();
    std::printf("held %zu failures %ld\n", held.size(), failures);
    std::fflush(stdout);
    if (!err.empty()) std::fprintf(stderr, "loadgen: first failure: %s\n", err.c_str());
    // Idle until stdin ends; the sessions sit untouched (nothing to read, nothing sent).
    asio::posix::stream_descriptor in(io, ::dup(0));
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        std::array<char, 256> buf{};
        for (;;) {
            auto [ec, n] = co_await in.async_read_some(asio::buffer(buf), use_nothrow_awaitable);
            if (ec) break;
        }
    }, asio::detached);
    io.run();
    for (auto& h : held) {
        std::error_code ignored;
        h->conn.socket.close(ignored);
    }
    return held.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse_args(argc, argv);
    auto key = load_private_key(a.key_path, "");
    if (!key) die(a.key_path + ": " + key.error().message());
    std::ifstream pub_file(a.server_pub_path);
    const std::string pub_text((std::istreambuf_iterator<char>(pub_file)), std::istreambuf_iterator<char>());
    auto pub = parse_public_key_line(pub_text.substr(0, pub_text.find('\n')));
    if (!pub) die(a.server_pub_path + ": " + pub.error().message());
    Shared sh{&key->key, pub->key, a.account, tcp::endpoint(asio::ip::make_address(a.host), a.port)};
    if (a.mode == "handshakes") return run_handshakes(a, sh);
    if (a.service.empty()) die("-W SERVICE is required for " + a.mode);
    if (a.mode == "rtt") return run_rtt(a, sh);
    if (a.mode == "hold") return run_hold(a, sh);
    die("unknown mode " + a.mode);
}
