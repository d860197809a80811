// Fuzzes OPAQUE's message parsers (lib/src/opaque/messages.hpp) and both sides' processing of what a
// peer sends: byte 0 picks the mode (harness.hpp), the rest is one message. Fixed keys and state
// (harness.hpp), so every run is reproducible.
// Beyond "no crash": a message that parses re-encodes to the same bytes and has only valid elements;
// the client finishes only on the server's own KE2 (anything else is a forged MAC), the server only on
// the client's own KE3; a registration response is only made for a valid request.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "opaque/harness.hpp"

using namespace twoway;
using namespace twoway::opaque;
using namespace twoway::fuzz::opaque_harness;

namespace {

template <std::size_t N>
bool same(const std::array<std::byte, N>& a, Bytes b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

void server_answers(Bytes msg, bool unknown) {
    const World& w = world();
    auto ke1 = parse_ke1(msg);
    if (!ke1) return;
    check(same(encode(*ke1), msg));
    twoway_test::DeterministicRng rng(msg.size());
    const auto id = wire::as_bytes(unknown ? std::string_view("nobody") : account);
    auto r = server_init(w.keys, unknown ? w.fake : w.record, id, *ke1, Identities{}, wire::as_bytes(context),
                         server_login_random(rng));
    check(r.has_value());  // a KE1 that parsed is always answered
    check(parse_ke2(encode(r->ke2)).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Mode mode = static_cast<Mode>(data[0] % mode_count);
    const Bytes msg(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    const World& w = world();
    switch (mode) {
    case server_ke1:
        server_answers(msg, false);
        break;
    case server_ke1_unknown:
        server_answers(msg, true);
        break;
    case server_ke3: {
        auto ke3 = parse_ke3(msg);
        if (!ke3) break;
        check(same(encode(*ke3), msg));
        auto key = server_finish(w.server.state, *ke3);
        check(key.has_value() == same(encode(w.ke3), msg));
        break;
    }
    case server_registration: {
        auto req = parse_registration_request(msg);
        if (!req) break;
        check(same(encode(*req), msg));
        check(create_registration_response(*req, w.keys, wire::as_bytes(account)).has_value());
        break;
    }
    case client_ke2: {
        auto ke2 = parse_ke2(msg);
        if (!ke2) break;
        check(same(encode(*ke2), msg));
        auto r = client_finish(w.login.state, *ke2, Identities{}, wire::as_bytes(context), identity_ksf());
        check(r.has_value() == same(encode(w.server.ke2), msg));
        break;
    }
    case client_registration: {
        auto resp = parse_registration_response(msg);
        if (!resp) break;
        check(same(encode(*resp), msg));
        twoway_test::DeterministicRng rng(msg.size());
        auto r = finalize_registration_request(w.registration, *resp, Identities{}, identity_ksf(),
                                               crypto::random_array<Nn>(rng));
        check(r.has_value());  // any valid pair of elements makes some record
        check(check_element(r->record.client_public_key).has_value());
        break;
    }
    case record: {
        auto rec = parse_registration_record(msg);
        if (!rec) break;
        check(same(encode(*rec), msg));
        break;
    }
    default:
        break;
    }
    return 0;
}
