// Fuzz target: a listen session's out stream as a client reads it (session::parse_listen_records,
// docs/PROTOCOL.md 15 "Remote forwarding"). The first byte chooses how the rest is cut into reads (0: one
// read; n: reads of n bytes); the rest is the stream.
//
// Beyond "no crash": what is held back between reads stays below max_listen_record; the first record is
// the only ListenBound; every record re-encodes to the bytes it was read from; cutting the stream
// differently changes neither the records nor whether (and with which error) it fails.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <system_error>
#include <vector>

#include <twoway/session.hpp>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    std::vector<twoway::session::ListenRecord> records;
    std::vector<std::byte> encoded;  // the records' bytes, re-encoded
    std::error_code error;
    std::size_t held = 0;  // bytes of an incomplete record at the end
};

Outcome run(std::span<const std::byte> in, std::size_t chunk) {
    using namespace twoway::session;
    Outcome o;
    std::vector<std::byte> held;
    bool bound = false;
    for (std::size_t at = 0; at < in.size();) {
        const std::size_t n = chunk == 0 ? in.size() - at : std::min(chunk, in.size() - at);
        held.insert(held.end(), in.begin() + static_cast<std::ptrdiff_t>(at),
                    in.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
        auto r = parse_listen_records(held, bound);
        if (!r) {
            o.error = r.error();
            return o;
        }
        check(r->consumed <= held.size());
        check(held.size() - r->consumed < max_listen_record);
        std::size_t sum = 0;
        for (auto& rec : r->records) {
            const bool is_bound = std::holds_alternative<ListenBound>(rec);
            check(is_bound == !bound);  // bound first, and only first
            bound = true;
            auto bytes = encode_listen_record(rec);
            check(bytes.has_value());
            sum += bytes->size();
            o.encoded.insert(o.encoded.end(), bytes->begin(), bytes->end());
            o.records.push_back(std::move(rec));
        }
        check(sum == r->consumed);
        held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(r->consumed));
    }
    o.held = held.size();
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto all = std::as_bytes(std::span(data, size));
    const std::size_t chunk = data[0];
    const auto stream = all.subspan(1);
    const Outcome cut = run(stream, chunk);
    const Outcome whole = run(stream, 0);
    check(cut.error == whole.error);
    if (!whole.error) {
        // (after an error the records before it differ with the cut: a call that fails returns none)
        check(cut.records == whole.records);
        // the records are the stream's first bytes, exactly
        check(whole.encoded.size() + whole.held == stream.size());
        check(std::equal(whole.encoded.begin(), whole.encoded.end(), stream.begin()));
        check(cut.held == whole.held);
    }
    return 0;
}
