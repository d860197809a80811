// Fuzz target: a Channel's receiving side with fixed secrets. Input: byte 0 = chunk size for feeding
// (0: all at once), byte 1 = read() limit (0: unlimited), then the transport bytes. Seeds (made by
// make_seeds.py) hold real records, including key_update and close, so mutations reach every state.
//
// Beyond "no crash", it checks the channel's promises: the outcome does not depend on how the input
// was chunked (one run feeds it all at once), nor on how much of it came as the handshake's leftover
// (a third run builds the channel through the seam, Channel::create(HandshakeResult&), with a prefix of
// the input as leftover bytes, of a length derived from the first two bytes, and feeds the rest);
// plaintext never exceeds the input, and errors are sticky.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include <twoway/channel.hpp>
#include <twoway/handshake.hpp>

namespace {

using twoway::Channel;

struct Run {
    std::vector<std::byte> data;
    bool closed = false;
    std::error_code ec;
};

twoway::SecretBytes<64> secret(std::uint8_t first) {
    twoway::SecretBytes<64> s;
    for (std::size_t i = 0; i < 64; ++i) s.data()[i] = static_cast<std::byte>(first + i);
    return s;
}

void check(bool ok) {
    if (!ok) std::abort();
}

void require_sticky(Channel& c, std::error_code ec) {
    check(c.error() == ec);
    check(c.read().error() == ec);
    check(c.feed(std::span<const std::byte>()).error() == ec);
    check(c.end_of_input().error() == ec);
    std::vector<std::byte> out;
    check(c.seal(std::span<const std::byte>(), out).error() == ec);
    check(out.empty());
}

// leftover: how many bytes of wire come as the handshake result's leftover (0: a channel from raw secrets).
Run run(std::span<const std::byte> wire, std::size_t chunk, std::size_t read_max, std::size_t leftover = 0) {
    // The receiver's secret is the sender's in make_seeds.py: 00 01 02 .. 3f.
    const std::size_t total = wire.size();
    twoway::Result<Channel> made = twoway::errc::internal;
    if (leftover == 0) {
        made = Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, secret(0x40), secret(0x00));
    } else {
        twoway::HandshakeResult result;
        result.send_secret = secret(0x40);
        result.recv_secret = secret(0x00);
        result.leftover.assign(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(leftover));
        made = Channel::create(result);
        check(result.leftover.empty());  // moved in
        wire = wire.subspan(leftover);
    }
    check(made.has_value());
    Channel c = std::move(*made);
    Run r;

    auto drain = [&]() -> bool {
        for (;;) {
            auto got = c.read(read_max);
            if (!got) {
                r.ec = got.error();
                return false;
            }
            if (got->kind == Channel::Received::Kind::need_more) return true;
            if (got->kind == Channel::Received::Kind::closed) {
                r.closed = true;
                return true;
            }
            check(!got->data.empty() && got->data.size() <= read_max);
            r.data.insert(r.data.end(), got->data.begin(), got->data.end());
        }
    };
    std::size_t pos = 0;
    bool going = true;
    if (leftover > 0) going = drain();  // the leftover is read before anything the transport brings
    while (going && pos < wire.size()) {
        const std::size_t want = std::min(chunk, wire.size() - pos);
        auto n = c.feed(wire.subspan(pos, want));
        if (!n) {
            r.ec = n.error();
            break;
        }
        check(*n > 0);  // after read() said need_more (or closed) there is always room
        pos += *n;
        if (!drain()) break;
    }
    if (!r.ec) {
        if (auto st = c.end_of_input(); !st) r.ec = st.error();
    }
    if (!r.ec) drain();
    if (r.ec) {
        require_sticky(c, r.ec);
    } else {
        check(r.closed);  // a clean end of input needs the close
    }
    check(r.data.size() <= total);
    return r;
}

bool is_prefix(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
    return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t chunk = data[0] == 0 ? size : data[0];
    const std::size_t read_max = data[1] == 0 ? SIZE_MAX : data[1];
    const std::span<const std::byte> wire(reinterpret_cast<const std::byte*>(data) + 2, size - 2);

    const Run chunked = run(wire, chunk, read_max);
    const Run whole = run(wire, wire.size() + 1, SIZE_MAX);
    const std::size_t leftover = wire.empty() ? 0 : 1 + (std::size_t{data[0]} * 256 + data[1]) % wire.size();
    const Run seam = run(wire, chunk, read_max, leftover);
    // Chunking may change which error is seen first (all length fields of a chunk are checked before
    // any record is opened), never whether there is one; without errors the results are identical.
    check(static_cast<bool>(chunked.ec) == static_cast<bool>(whole.ec));
    check(is_prefix(chunked.data, whole.data) || is_prefix(whole.data, chunked.data));
    if (!chunked.ec) check(chunked.data == whole.data && chunked.closed == whole.closed);
    check(static_cast<bool>(seam.ec) == static_cast<bool>(whole.ec));
    check(is_prefix(seam.data, whole.data) || is_prefix(whole.data, seam.data));
    if (!seam.ec) check(seam.data == whole.data && seam.closed == whole.closed);
    return 0;
}
