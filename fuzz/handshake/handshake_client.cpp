// Fuzzes ClientHandshake through whole handshakes (input format: harness.hpp). Mode 0 feeds raw bytes
// after client_hello; modes 1 and 2 play a genuine server from the protocol's pieces and let the input
// decide the plaintext of server_auth (then of server_verdict), sealed under the session's real keys,
// so identity, signature and Finished checks, the verdict and the leftover paths are all reachable.
#include <memory>
#include <tuple>

#include "handshake/harness.hpp"
#include "../../tests/support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

using namespace twoway;
using namespace twoway::fuzz;

namespace {
void verdict(ClientHandshake& c, std::uint8_t flags) {
    const ClientEvent ev = c.event();
    const auto* v = std::get_if<NeedServerVerdict>(&ev);
    if (v == nullptr) return;
    if ((flags & flag_refuse) != 0) {
        static_cast<void>(c.reject_server());
    } else if (!v->password_mode) {
        static_cast<void>(c.accept_server());
    } else if ((flags & flag_certificate) != 0) {
        static_cast<void>(c.defer_server_to_password(wire::as_bytes(password_text)));
    } else {
        static_cast<void>(c.accept_server_with_password(wire::as_bytes(password_text)));
    }
}
// flag_auth_retry: after a retry verdict, the second identity; give up after three refusals.
void next_identity(ClientHandshake& c) {
    const ClientEvent ev = c.event();
    const auto* n = std::get_if<NeedAnotherIdentity>(&ev);
    if (n == nullptr) return;
    static_cast<void>(n->refused < 3 ? c.offer_identity(second_client_key()) : c.give_up());
}
void finish(ClientHandshake& c, std::uint8_t flags) {
    verdict(c, flags);
    next_identity(c);
    if ((flags & flag_end_input) != 0) static_cast<void>(c.end_of_input());
    static_cast<void>(c.take_output());
    if (auto r = c.take_result()) static_cast<void>(r->exporter("fuzz", r->leftover, 16));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const wire::Bytes in(reinterpret_cast<const std::byte*>(data), size);
    const int mode = static_cast<int>(in[0]) % 3;
    const auto flags = static_cast<std::uint8_t>(in[1]);
    const bool trickle = (flags & flag_trickle) != 0;
    Chunks chunks(in.subspan(2));

    DeterministicRng rng(client_rng_seed);
    const bool certificates = (flags & flag_certificate) != 0;
    ClientConfig config{.identity = client_key(), .account = std::string(account)};
    if (certificates) config.certificate = user_certificate();
    if (mode == 0 && (flags & flag_password) != 0) {
        config = ClientConfig{.account = std::string(account)};
        config.password = true;
    }
    if (mode == 0 && (flags & flag_auth_retry) != 0) config.auth_retry = true;
    ClientHandshake client(config, rng);
    const ByteVec m1 = client.take_output();
    if (mode == 0) {
        while (!chunks.empty()) {
            feed(client, chunks.next(), trickle);
            verdict(client, flags);
            next_identity(client);
        }
        finish(client, flags);
        return 0;
    }

    // With fixed randomness the client_hello is the same in every run, so the simulated server (its
    // key exchange and its signature) is computed once and reused: only the real client's work
    // remains per run, which roughly doubles the executions per second.
    static const auto sim = [&m1] {
        auto s = std::make_unique<SimServer>();
        if (!s->hello(m1)) std::abort();  // the genuine client_hello must be usable
        ByteVec genuine = s->genuine_auth(false);
        ByteVec certified = s->genuine_auth(true);  // a host certificate and a banner
        return std::tuple{std::move(s), m1, std::move(genuine), std::move(certified)};
    }();
    const SimServer& server = *std::get<0>(sim);
    if (m1 != std::get<1>(sim)) std::abort();  // the client's randomness is no longer fixed
    ByteVec plain;
    if (mode == 1) {
        const wire::Bytes p = chunks.next();
        plain.assign(p.begin(), p.end());
    } else {
        plain = certificates ? std::get<3>(sim) : std::get<2>(sim);
        apply_edits(plain, chunks.next());
    }
    ByteVec flight = server.server_hello();
    const ByteVec auth = server.seal(handshake::MsgType::server_auth, 0, plain);
    flight.insert(flight.end(), auth.begin(), auth.end());
    feed(client, flight, trickle);
    verdict(client, flags);
    static_cast<void>(client.take_output());

    const wire::Bytes v = chunks.next();  // server_verdict plaintext (1 byte; 0 accept, 1 deny)
    ByteVec m4 = server.seal(handshake::MsgType::server_verdict, 1, v);
    const wire::Bytes after = chunks.next();  // the server's records behind server_verdict
    m4.insert(m4.end(), after.begin(), after.end());
    feed(client, m4, trickle);
    finish(client, flags);
    return 0;
}
