// Channel: the receiving side. Transport bytes land in one fixed buffer (prepare/commit or feed);
// record lengths are checked as soon as their 4 bytes are there; records are authenticated and
// decrypted in place and their plaintext handed out as views, so the steady state allocates nothing
// and copies only the tail of a partial record when the buffer wraps around.
#include <twoway/channel.hpp>

#include <algorithm>
#include <cstring>

#include "channel/channel_impl.hpp"
#include "wire/reader.hpp"

namespace twoway {

using channel::RecordType;

namespace {

// Below this much free space at the end of the buffer, prepare() moves the unread bytes to the front
// first, so that transport reads are never tiny.
constexpr std::size_t min_read_room = 16 * 1024;

// Reads and checks the length field of the record at `at` (4 bytes must be there).
Result<std::size_t> record_length(const std::byte* at) {
    wire::Reader r(std::span<const std::byte>(at, Channel::header_size));
    const std::uint32_t len = r.u32();
    if (!r.ok()) return errc::internal;  // four bytes were promised by the caller
    if (len > Channel::max_ciphertext) return errc::record_too_large;
    if (len < Channel::min_ciphertext) return errc::malformed;
    return std::size_t{len};
}

}  // namespace

Status Channel::Impl::scan_records() {
    while (end - scan >= header_size) {
        Result<std::size_t> len = record_length(rbuf.get() + scan);
        if (!len) return fail(static_cast<errc>(len.error().value()));
        if (end - scan < header_size + *len) break;
        scan += header_size + *len;
    }
    return {};
}

std::size_t Channel::Impl::missing_bytes() const {
    const std::size_t have = end - scan;
    if (have < header_size) return header_size - have;
    Result<std::size_t> len = record_length(rbuf.get() + scan);
    return len ? header_size + *len - have : 0;
}

std::span<std::byte> Channel::prepare() {
    Impl& s = *impl_;
    if (s.failed) return {};
    if (!s.rbuf) s.rbuf.reset(new std::byte[receive_buffer_size]);  // uninitialised on purpose: it is overwritten
    const bool pending_plain = s.plain_begin < s.plain_end;
    const std::size_t keep = pending_plain ? s.plain_begin : s.start;
    if (keep == s.end) {
        s.plain_begin = s.plain_end = s.start = s.scan = s.end = 0;
    } else if (keep > 0 && receive_buffer_size - s.end < std::max(s.missing_bytes(), min_read_room)) {
        // Move what must survive (unread plaintext, unopened records, the partial record) to the front.
        std::memmove(s.rbuf.get(), s.rbuf.get() + keep, s.end - keep);
        s.plain_begin -= pending_plain ? keep : s.plain_begin;
        s.plain_end -= pending_plain ? keep : s.plain_end;
        s.start -= keep;
        s.scan -= keep;
        s.end -= keep;
    }
    return {s.rbuf.get() + s.end, receive_buffer_size - s.end};
}

Status Channel::commit(std::size_t n) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (n == 0) return {};
    if (!s.rbuf || n > receive_buffer_size - s.end) return errc::invalid_argument;
    if (s.eof) return errc::bad_state;
    s.end += n;
    s.high_water = std::max(s.high_water, s.end);
    // Nothing may follow the peer's close.
    if (s.close_received) return s.fail(errc::unexpected_message);
    return s.scan_records();
}

Result<std::size_t> Channel::feed(std::span<const std::byte> bytes) {
    if (impl_->failed) return fail(impl_->failed);
    const std::span<std::byte> room = prepare();
    const std::size_t n = std::min(room.size(), bytes.size());
    if (n > 0) std::memcpy(room.data(), bytes.data(), n);
    if (Status st = commit(n); !st) return fail(st.error());
    return n;
}

Result<Channel::Received> Channel::read(std::size_t max) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (max == 0) return errc::invalid_argument;
    for (;;) {
        if (s.plain_begin < s.plain_end) {
            const std::size_t n = std::min(max, s.plain_end - s.plain_begin);
            Received r{Received::Kind::data, std::span<const std::byte>(s.rbuf.get() + s.plain_begin, n)};
            s.plain_begin += n;
            return r;
        }
        if (s.close_received) return Received{Received::Kind::closed, {}};
        if (s.start == s.scan) {
            if (s.eof) return s.fail(errc::truncated);
            return Received{};
        }

        // A complete record with a checked length is at `start`.
        std::byte* rec = s.rbuf.get() + s.start;
        Result<std::size_t> len = record_length(rec);
        if (!len) return s.fail(errc::internal);
        const std::size_t total = header_size + *len;
        if (s.recv.exhausted()) return s.fail(errc::counter_exhausted);
        if (!s.recv.open_in_place(std::span<std::byte>(rec, total))) return s.fail(errc::decrypt_failed);
        s.start += total;

        const std::size_t payload_begin = static_cast<std::size_t>(rec - s.rbuf.get()) + header_size + 1;
        const std::size_t payload_size = *len - 1 - tag_size;
        switch (static_cast<RecordType>(rec[header_size])) {
            case RecordType::data:
                s.plain_begin = payload_begin;  // an empty record leaves nothing pending: skipped
                s.plain_end = payload_begin + payload_size;
                break;
            case RecordType::close:
                if (payload_size != 0) return s.fail(errc::malformed);
                s.close_received = true;
                if (s.start != s.end) return s.fail(errc::unexpected_message);
                break;
            case RecordType::key_update:
                if (payload_size != 0) return s.fail(errc::malformed);
                s.recv.update();
                break;
            default:
                return s.fail(errc::unexpected_message);
        }
    }
}

Status Channel::end_of_input() {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    s.eof = true;
    // Whatever authenticated data is still buffered is delivered first; read() gives the verdict after.
    if (s.close_received || s.start != s.scan || s.plain_begin < s.plain_end) return {};
    return s.fail(errc::truncated);
}

}  // namespace twoway
