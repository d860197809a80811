// The fixed world of the `opaque` fuzz target and of its seed generator: a server with fixed keys and
// one registered account, a client that has sent a fixed KE1 and a fixed registration request, all
// from a deterministic Rng, so that the seeds make_opaque_seeds writes replay exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>

#include "opaque/opaque.hpp"
#include "wire/reader.hpp"
#include "../../tests/support/deterministic_rng.hpp"

namespace twoway::fuzz::opaque_harness {

using namespace twoway::opaque;

// Input modes (the first byte of a fuzz input; the rest is the message).
enum Mode : std::uint8_t {
    server_ke1 = 0,               // the server parses KE1 and answers it (real record)
    server_ke1_unknown = 1,       // the same for an unknown account (fake record)
    server_ke3 = 2,               // the server parses KE3 and finishes the fixed login
    server_registration = 3,      // the server parses a RegistrationRequest and answers it
    client_ke2 = 4,               // the client parses KE2 and finishes its fixed login
    client_registration = 5,      // the client parses a RegistrationResponse and finalizes
    record = 6,                   // a stored RegistrationRecord
    mode_count = 7,
};

inline void check(bool ok) {
    if (!ok) std::abort();
}

inline constexpr std::string_view password = "fuzz password";
inline constexpr std::string_view account = "fuzz-account";
inline constexpr std::string_view context = "twoway opaque fuzz";

struct World {
    ServerKeys keys;
    RegistrationRecord record;
    RegistrationRecord fake;
    ClientRegistrationState registration;  // a client that sent a RegistrationRequest
    RegistrationResponse registration_response;
    LoginStart login;                       // a client that sent KE1
    ServerInitResult server;                // the server's answer to it
    KE3 ke3;                                // the client's honest KE3
};

inline World make_world() {
    twoway_test::DeterministicRng rng(0x0fa9e);
    const auto pw = wire::as_bytes(password);
    const auto id = wire::as_bytes(account);
    ServerKeys keys = generate_server_keys(rng);
    auto start = create_registration_request(pw, random_scalar(rng));
    check(start.has_value());
    auto response = create_registration_response(start->request, keys, id);
    check(response.has_value());
    auto reg = finalize_registration_request(start->state, *response, Identities{}, identity_ksf(),
                                             crypto::random_array<Nn>(rng));
    check(reg.has_value());
    RegistrationRecord fake = fake_record(rng);

    auto again = create_registration_request(pw, random_scalar(rng));
    check(again.has_value());
    auto again_response = create_registration_response(again->request, keys, id);
    check(again_response.has_value());

    auto login = client_init(pw, client_login_random(rng));
    check(login.has_value());
    auto server = server_init(keys, reg->record, id, login->ke1, Identities{}, wire::as_bytes(context),
                              server_login_random(rng));
    check(server.has_value());
    auto client = client_finish(login->state, server->ke2, Identities{}, wire::as_bytes(context), identity_ksf());
    check(client.has_value());
    return World{std::move(keys),
                 std::move(reg->record),
                 std::move(fake),
                 std::move(again->state),
                 *again_response,
                 std::move(*login),
                 std::move(*server),
                 client->ke3};
}

inline const World& world() {
    static const World w = make_world();
    return w;
}

}  // namespace twoway::fuzz::opaque_harness
