// Helpers for the handshake tests: key pairs, a driver that plays both roles in one process (no
// sockets), a scripted Rng, and a test-side reader of encrypted handshake messages built from the
// protocol's internal primitives (not from the state machines), so tests can decrypt what they observe.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <twoway/handshake.hpp>

#include "crypto/crypto.hpp"
#include "handshake/framing.hpp"
#include "handshake/key_schedule.hpp"
#include "handshake/messages.hpp"
#include "support/hex.hpp"
#include "../../support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

// Own namespace: other modules' test helpers live in twoway::test, and two inline classes of the same
// name there would break the one-definition rule in the shared unit_tests binary.
namespace twoway::handshake_test {

using test::bytes;
using test::hex;
using test::unhex;

using ByteVec = std::vector<std::byte>;

inline ByteVec concat(std::initializer_list<wire::Bytes> parts) {
    ByteVec out;
    for (wire::Bytes p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Returns the queued byte strings in order (each must match the requested size), then falls back to
// a DeterministicRng.
class ScriptedRng final : public Rng {
public:
    explicit ScriptedRng(std::uint64_t fallback_seed = 0) : fallback_(fallback_seed) {}
    void push(ByteVec b) { queue_.push_back(std::move(b)); }
    void fill(std::span<std::byte> out) override {
        if (queue_.empty()) {
            fallback_.fill(out);
            return;
        }
        REQUIRE(queue_.front().size() == out.size());
        std::memcpy(out.data(), queue_.front().data(), out.size());
        queue_.pop_front();
    }

private:
    std::deque<ByteVec> queue_;
    DeterministicRng fallback_;
};

// Everything one in-process run observed, message by message.
struct Run {
    ByteVec m1;  // client_hello
    ByteVec m2;  // server_hello | server_auth (one flight)
    ByteVec m3;  // client_auth
    ByteVec m4;  // server_verdict
    std::optional<HandshakeResult> client_result;
    std::optional<HandshakeResult> server_result;
};

struct Endpoints {
    PrivateKey client_key;
    PrivateKey server_key;
    std::string account = "alice";
};

inline Endpoints make_endpoints(std::uint64_t seed) {
    DeterministicRng rng(seed * 2 + 1000);
    return {PrivateKey::generate(rng), PrivateKey::generate(rng)};
}

// Drives a full, successful handshake (the client accepts, the server authorizes), checking the
// events along the way.
inline Run run_handshake(ClientHandshake& client, ServerHandshake& server) {
    Run run;
    run.m1 = client.take_output();
    REQUIRE(std::holds_alternative<WantInput>(client.event()));
    REQUIRE(server.feed(run.m1));
    run.m2 = server.take_output();
    REQUIRE(std::holds_alternative<WantInput>(server.event()));
    REQUIRE(client.feed(run.m2));
    REQUIRE(client.take_output().empty());
    REQUIRE(std::holds_alternative<NeedServerVerdict>(client.event()));
    REQUIRE(client.accept_server());
    run.m3 = client.take_output();
    REQUIRE(server.feed(run.m3));
    REQUIRE(std::holds_alternative<NeedClientVerdict>(server.event()));
    REQUIRE(server.authorize());
    run.m4 = server.take_output();
    REQUIRE(server.complete());
    REQUIRE(client.feed(run.m4));
    REQUIRE(client.complete());
    REQUIRE(client.take_output().empty());
    auto cr = client.take_result();
    auto sr = server.take_result();
    REQUIRE(cr);
    REQUIRE(sr);
    run.client_result.emplace(std::move(*cr));
    run.server_result.emplace(std::move(*sr));
    return run;
}

// The keys a passive party holding the client's ephemeral secret can compute: lets tests open the
// encrypted handshake messages they observe.
struct ObservedKeys {
    handshake::SecretBlock block;
    handshake::Transcript transcript;
};

inline std::unique_ptr<ObservedKeys> observe(std::span<const std::byte, 32> client_ephemeral, wire::Bytes m1,
                                             wire::Bytes server_hello_msg) {
    auto k = std::make_unique<ObservedKeys>();
    handshake::Secrets& s = k->block.get();
    auto sh = handshake::parse_server_hello(server_hello_msg.subspan(handshake::header_size));
    REQUIRE(sh);
    REQUIRE(crypto::x25519(s.shared, client_ephemeral, sh->share.first<32>()));
    k->transcript.absorb(m1);
    k->transcript.absorb(server_hello_msg);
    handshake::derive_handshake_secrets(s, k->transcript.digest());
    return k;
}

// Splits a flight into its framed messages.
inline std::vector<ByteVec> split_messages(wire::Bytes flight) {
    std::vector<ByteVec> out;
    std::size_t pos = 0;
    while (pos + 4 <= flight.size()) {
        const std::size_t len = (static_cast<std::size_t>(flight[pos + 1]) << 16) |
                                (static_cast<std::size_t>(flight[pos + 2]) << 8) | static_cast<std::size_t>(flight[pos + 3]);
        out.emplace_back(flight.begin() + static_cast<std::ptrdiff_t>(pos),
                         flight.begin() + static_cast<std::ptrdiff_t>(pos + 4 + len));
        pos += 4 + len;
    }
    REQUIRE(pos == flight.size());
    return out;
}

inline std::optional<ByteVec> open(wire::Bytes msg, const handshake::TrafficKey& k, std::uint64_t seq) {
    handshake::Frame f{msg.first(4), msg.subspan(4), msg};
    auto r = handshake::open_message(f, k, seq);
    if (!r) return std::nullopt;
    return *r;
}

template <class Event>
std::error_code failure(const Event& e) {
    if (const auto* f = std::get_if<HandshakeFailed>(&e)) return f->error;
    return {};
}

}  // namespace twoway::handshake_test
