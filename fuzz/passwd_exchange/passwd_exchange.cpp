// Fuzzes the messages of twoway-passwd's remote exchange (PROTOCOL.md 16). Byte 0 picks the side:
//   0 mod 3: the server's first step (answer_password_register) on a REGISTER from the rest;
//   1 mod 3: the client's parse of a RESPONSE (parse_password_response), then, when the cost it names
//            is small enough for a fuzzer, the client's finish() and the server's parse of the RECORD;
//   2 mod 3: the server's second step (password_record_from_message) on a RECORD.
// Beyond "no crash": what the server answers parses back to the account and cost it was given; a
// RESPONSE that parses names a valid account and cost; a RECORD the client made is one the server
// takes; a record the server takes formats to a record line that parses to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

#include <twoway/password.hpp>

#include "../../tests/support/deterministic_rng.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

const twoway::PasswordKsf tiny{1, 8};

struct Fixture {
    twoway_test::DeterministicRng rng{23};
    twoway::OpaqueKey key = twoway::generate_opaque_key(rng);
};

Fixture& fixture() {
    static Fixture f;
    return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& f = fixture();
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0: {
            auto r = twoway::answer_password_register(f.key, "alice", tiny, in);
            if (!r) return 0;
            auto p = twoway::parse_password_response(*r);
            check(p.has_value() && p->account == "alice" && p->ksf.opslimit == tiny.opslimit &&
                  p->ksf.memlimit_kib == tiny.memlimit_kib);
            return 0;
        }
        case 1: {
            auto p = twoway::parse_password_response(in);
            if (!p) return 0;
            check(twoway::valid_password_account(p->account) && twoway::valid_password_ksf(p->ksf));
            if (p->ksf.opslimit > 2 || p->ksf.memlimit_kib > 64) return 0;
            const std::string pw = "fuzz";
            auto c = twoway::PasswordRegistrationClient::start(std::as_bytes(std::span(pw)), f.rng);
            check(c.has_value());
            auto m = c->finish(*p, f.rng);
            check(m.has_value());
            check(twoway::password_record_from_message(p->ksf, m->span()).has_value());
            return 0;
        }
        default: {
            auto r = twoway::password_record_from_message(tiny, in);
            if (!r) return 0;
            auto line = twoway::format_password_record(*r);
            check(line.has_value());
            auto back = twoway::parse_password_record(*line);
            check(back.has_value() && back->registration.span().size() == r->registration.span().size());
            for (std::size_t i = 0; i < r->registration.span().size(); ++i) {
                check(back->registration.span()[i] == r->registration.span()[i]);
            }
            return 0;
        }
    }
}
