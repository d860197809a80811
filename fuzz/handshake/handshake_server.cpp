// Fuzzes ServerHandshake through whole handshakes (input format: harness.hpp). Mode 0 feeds raw
// bytes (to a server in stealth mode when the first byte's top bit is set); modes 1 and 2 play a genuine client from the protocol's pieces and let the input decide the
// plaintext of client_auth, which is then sealed under the session's real key, so the parser, the
// identity and signature checks, the Finished check and the verdict paths are all reachable.
#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "handshake/harness.hpp"
#include "../../tests/support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

using namespace twoway;
using namespace twoway::fuzz;

namespace {
// Password mode: the record for `account` (or, with flag_refuse, none: the fake response).
void record(ServerHandshake& s, std::uint8_t flags) {
    if (!std::holds_alternative<NeedPasswordRecord>(s.event())) return;
    if ((flags & flag_refuse) != 0) {
        static_cast<void>(s.no_password_record());
    } else {
        static_cast<void>(s.provide_password_record(password_fixture().record, password_ksf));
    }
}
// The verdict; with flag_auth_retry the first client_auth is always denied (a retry verdict).
void judge(ServerHandshake& s, std::uint8_t flags) {
    const ServerEvent ev = s.event();
    const auto* v = std::get_if<NeedClientVerdict>(&ev);
    if (v == nullptr) return;
    const bool deny = (flags & flag_refuse) != 0 || ((flags & flag_auth_retry) != 0 && v->attempt == 1);
    static_cast<void>(deny ? s.deny("fuzz") : s.authorize());
}
void finish(ServerHandshake& s, std::uint8_t flags) {
    record(s, flags);
    judge(s, flags);
    if ((flags & flag_end_input) != 0) static_cast<void>(s.end_of_input());
    static_cast<void>(s.take_output());
    if (auto r = s.take_result()) static_cast<void>(r->exporter("fuzz", r->leftover, 16));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const wire::Bytes in(reinterpret_cast<const std::byte*>(data), size);
    const int mode = static_cast<int>(in[0]) % 3;
    const auto flags = static_cast<std::uint8_t>(in[1]);
    const bool trickle = (flags & flag_trickle) != 0;
    Chunks chunks(in.subspan(2));

    DeterministicRng rng(server_rng_seed);
    ServerConfig config{.host_key = server_key()};
    // Raw mode with the first byte's top bit set runs the server in stealth mode (host_key_mac first).
    config.stealth = mode == 0 && (static_cast<unsigned>(in[0]) & 0x80U) != 0;
    const bool certificates = (flags & flag_certificate) != 0;
    if (certificates) {
        config.host_certificate = host_certificate();
        config.banner = std::string(banner);
    }
    if (mode == 0 && (flags & flag_password) != 0) {
        config.password_keys = &password_fixture().keys;
        config.password_default_ksf = password_ksf;
    }
    if (mode == 0 && (flags & flag_auth_retry) != 0) config.max_auth_tries = fuzz_max_auth_tries;
    ServerHandshake server(config, rng);
    if (mode == 0) {
        while (!chunks.empty()) {
            feed(server, chunks.next(), trickle);
            record(server, flags);
            judge(server, flags);
        }
        finish(server, flags);
        return 0;
    }

    // With fixed randomness on both sides the exchange up to server_auth is the same in every run, so
    // the simulated client (its key exchange, its opening of server_auth and its signature) is
    // computed once and reused: only the real server's work remains per run.
    // One simulated client per configuration (plain keys; certificates and a banner).
    static std::array<std::unique_ptr<SimClient>, 2> sims;
    static std::array<std::optional<std::pair<ByteVec, ByteVec>>, 2> flights;
    auto& sim = sims[certificates ? 1 : 0];
    if (!sim) sim = std::make_unique<SimClient>();
    feed(server, sim->hello(), trickle);
    const ByteVec m2 = server.take_output();
    auto& flight = flights[certificates ? 1 : 0];
    if (!flight) {
        if (!sim->server_flight(m2)) std::abort();  // the genuine server flight must open
        flight.emplace(m2, sim->genuine_auth(certificates));
    }
    if (m2 != flight->first) std::abort();  // the server's randomness is no longer fixed
    SimClient& client = *sim;
    ByteVec plain;
    if (mode == 1) {
        const wire::Bytes p = chunks.next();
        plain.assign(p.begin(), p.end());
    } else {
        plain = flight->second;
        apply_edits(plain, chunks.next());
    }
    ByteVec msg = client.seal_auth(plain);
    const wire::Bytes after = chunks.next();  // pipelined bytes behind client_auth
    msg.insert(msg.end(), after.begin(), after.end());
    feed(server, msg, trickle);
    finish(server, flags);
    return 0;
}
