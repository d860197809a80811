// Fuzz target: what a SOCKS client sends to -D's listener. The first byte chooses how the rest is cut
// into reads (0: one read; n: reads of n bytes); the rest is the stream, fed to socks::Parser.
//
// Beyond "no crash": a decision comes within max_request bytes; a done request has a valid destination
// (destination_text() reads back as itself), consumed + rest is everything fed, and the bytes to send are
// a method choice and at most one reply; cutting the stream differently changes none of the outcome.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include <twoway/session.hpp>

#include "../../client/twoway/socks.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    twoway_client::socks::Step::Kind kind{};
    std::vector<std::byte> sent;
    std::optional<twoway::session::Destination> destination;
    std::size_t consumed = 0;
    std::vector<std::byte> rest;
};

Outcome run(std::span<const std::byte> in, std::size_t chunk) {
    using namespace twoway_client::socks;
    Parser p;
    Outcome o;
    std::size_t fed = 0;
    Step s;
    while (fed < in.size() || fed == 0) {
        const std::size_t n = chunk == 0 ? in.size() - fed : std::min(chunk, in.size() - fed);
        s = p.feed(in.subspan(fed, n));
        fed += n;
        check(s.send.size() <= 2 + 10);
        o.sent.insert(o.sent.end(), s.send.begin(), s.send.end());
        if (s.kind != Step::Kind::need_more) break;
        check(fed < max_request);  // undecided only while under the bound
        if (in.empty()) break;
    }
    o.kind = s.kind;
    if (s.kind == Step::Kind::done) {
        check(s.destination.has_value());
        check(s.consumed > 0 && s.consumed <= fed && s.consumed <= max_request);
        check(s.consumed + s.rest.size() == fed);
        const auto again = twoway::session::parse_destination(twoway::session::destination_text(*s.destination));
        check(again && *again == *s.destination);
        check(s.destination->port != 0);
        check(p.reply(Reply::succeeded).size() == (p.version() == Version::v4 ? 8u : 10u));
        // the rest is exactly what followed the request
        check(std::equal(s.rest.begin(), s.rest.end(), in.begin() + static_cast<std::ptrdiff_t>(s.consumed)));
        o.destination = s.destination;
        o.consumed = s.consumed;
        o.rest = s.rest;
    } else {
        check(!s.destination.has_value());
    }
    check(o.sent.size() <= 2 + 10);
    if (s.kind != Step::Kind::need_more) check(p.feed(in.first(0)).kind == Step::Kind::failed);
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = data[0];
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    const Outcome cut = run(in, chunk);
    const Outcome whole = run(in, 0);
    // Where the reads fall changes nothing but how much trailing data a done step carries.
    check(cut.kind == whole.kind);
    check(cut.sent == whole.sent);
    check(cut.destination == whole.destination);
    check(cut.consumed == whole.consumed);
    return 0;
}
