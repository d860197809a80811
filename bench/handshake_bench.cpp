// The in-process cost of one full handshake per side, against the floor each side cannot avoid: one
// X25519 key generation, one X25519 DH, one Ed25519 signature and one Ed25519 verification. Both
// roles run in one process; the time spent inside each role's calls (construction, feed, verdict,
// result, destruction) is accumulated separately. Each figure is the median of several batches.
// The last line is `ratio to floor: R`, R the larger of the two sides' ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <vector>

#include <twoway/handshake.hpp>

#include "crypto/crypto.hpp"

using namespace twoway;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int batches = 9;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median over batches of the per-iteration time of f, in microseconds.
double per_op_us(int iterations, const std::function<void()>& f) {
    std::vector<double> t;
    for (int b = 0; b < batches; ++b) {
        const auto start = Clock::now();
        for (int i = 0; i < iterations; ++i) f();
        t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations);
    }
    return median(t);
}

template <class F>
auto timed(double& acc, F&& f) {
    const auto start = Clock::now();
    if constexpr (std::is_void_v<decltype(f())>) {
        f();
        acc += std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    } else {
        auto r = f();
        acc += std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        return r;
    }
}

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "bench: %s failed\n", what);
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
    Rng& rng = system_rng();
    const PrivateKey client_key = PrivateKey::generate(rng);
    const PrivateKey server_key = PrivateKey::generate(rng);

    // ---- the floor ------------------------------------------------------------------------------
    std::array<std::byte, 32> sk{}, peer_sk{}, shared{};
    rng.fill(sk);
    rng.fill(peer_sk);
    const auto peer = crypto::x25519_public(peer_sk);
    std::array<std::byte, 85> payload{};
    rng.fill(payload);
    const auto sig = server_key.sign(payload);
    volatile std::uint8_t sink = 0;
    const double keygen = per_op_us(iterations, [&] {
        sk[0] = static_cast<std::byte>(sink);
        sink = static_cast<std::uint8_t>(crypto::x25519_public(sk)[0]);
    });
    const double dh = per_op_us(iterations, [&] {
        require(bool(crypto::x25519(shared, sk, peer)), "x25519");
        sink = static_cast<std::uint8_t>(shared[0]);
    });
    const double sign = per_op_us(iterations, [&] { sink = static_cast<std::uint8_t>(server_key.sign(payload)[0]); });
    const double verify = per_op_us(iterations, [&] { require(server_key.public_key().verify(payload, sig), "verify"); });
    const double floor = keygen + dh + sign + verify;
    const double secure_alloc = per_op_us(iterations, [&] {
        SecretBytes<64> s;
        sink = static_cast<std::uint8_t>(s.data()[0]);
    });

    // ---- full handshakes --------------------------------------------------------------------------
    std::vector<double> client_t, server_t;
    for (int b = 0; b < batches; ++b) {
        double ct = 0, st = 0;
        for (int i = 0; i < iterations; ++i) {
            std::optional<ClientHandshake> c;
            std::optional<ServerHandshake> s;
            timed(ct, [&] { c.emplace(ClientConfig{.identity = client_key, .account = "bench"}, rng); });
            timed(st, [&] { s.emplace(ServerConfig{.host_key = server_key}, rng); });
            const auto m1 = timed(ct, [&] { return c->take_output(); });
            const auto m2 = timed(st, [&] {
                require(bool(s->feed(m1)), "server feed m1");
                return s->take_output();
            });
            const auto m3 = timed(ct, [&] {
                require(bool(c->feed(m2)) && bool(c->accept_server()), "client feed m2");
                return c->take_output();
            });
            const auto m4 = timed(st, [&] {
                require(bool(s->feed(m3)) && bool(s->authorize()), "server feed m3");
                return s->take_output();
            });
            timed(ct, [&] {
                require(bool(c->feed(m4)), "client feed m4");
                auto r = c->take_result();
                require(r.has_value(), "client result");
                c.reset();  // result and handshake destroyed: their secure memory is part of the cost
            });
            timed(st, [&] {
                auto r = s->take_result();
                require(r.has_value(), "server result");
                s.reset();
            });
        }
        client_t.push_back(ct / iterations);
        server_t.push_back(st / iterations);
    }
    const double client = median(client_t), server = median(server_t);
    const double rc = client / floor, rs = server / floor;

    // ---- stealth mode: what a client without the proof costs the server, what the proof costs --------
    // A first-contact client_hello (random host_key_mac) against a stealth server: parse, one X25519,
    // hashes, refusal. Against it, the server's full answer to client_hello (its first flight).
    ServerConfig stealth_config{.host_key = server_key};
    stealth_config.stealth = true;
    ClientHandshake unknowing(ClientConfig{.identity = client_key, .account = "bench"}, rng);
    const auto first_contact = unknowing.take_output();
    const double refusal = per_op_us(iterations, [&] {
        ServerHandshake s(stealth_config, rng);
        require(s.feed(first_contact).error() == errc::host_key_mac_invalid, "stealth refusal");
        require(s.take_output().empty(), "stealth silence");
    });
    const double answer = per_op_us(iterations, [&] {
        ServerHandshake s(ServerConfig{.host_key = server_key}, rng);
        require(bool(s.feed(first_contact)), "server answer");
        sink = static_cast<std::uint8_t>(s.take_output()[0]);
    });
    ClientConfig knowing{.identity = client_key, .account = "bench"};
    knowing.known_server_key = server_key.public_key();
    const double hello_proof = per_op_us(iterations, [&] {
        ClientHandshake c(knowing, rng);
        sink = static_cast<std::uint8_t>(c.take_output()[0]);
    });
    const double hello_plain = per_op_us(iterations, [&] {
        ClientHandshake c(ClientConfig{.identity = client_key, .account = "bench"}, rng);
        sink = static_cast<std::uint8_t>(c.take_output()[0]);
    });

    std::printf("floor per side: x25519 keygen %.1f us + x25519 dh %.1f us + ed25519 sign %.1f us + "
                "ed25519 verify %.1f us = %.1f us\n",
                keygen, dh, sign, verify, floor);
    std::printf("one secure allocation (SecretBytes<64> create+destroy): %.1f us; a handshake makes 3 per side\n",
                secure_alloc);
    std::printf("client handshake: %.1f us (%.3fx floor; %.3fx without its 3 secure allocations)\n", client, rc,
                (client - 3 * secure_alloc) / floor);
    std::printf("server handshake: %.1f us (%.3fx floor; %.3fx without its 3 secure allocations)\n", server, rs,
                (server - 3 * secure_alloc) / floor);
    std::printf("stealth server, client_hello without the proof: refused silently in %.1f us (%.2fx one X25519 DH); "
                "the full answer to client_hello costs %.1f us (%.2fx the refusal)\n",
                refusal, refusal / dh, answer, answer / refusal);
    std::printf("client_hello with the stealth proof: %.1f us; with the random stand-in: %.1f us\n", hello_proof,
                hello_plain);
    std::printf("ratio to floor: %.3f\n", std::max(rc, rs));
    return 0;
}
