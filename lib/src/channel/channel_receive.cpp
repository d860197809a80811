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

std::span<std::byte> Channel::Impl::room() {
    if (!rbuf) rbuf.reset(new std::byte[receive_buffer_size]);  // uninitialised on purpose: it is overwritten
    const bool pending_plain = plain_begin < plain_end;
    const std::size_t keep = pending_plain ? plain_begin : start;
    if (keep == end) {
        plain_begin = plain_end = start = scan = end = 0;
    } else if (keep > 0 && receive_buffer_size - end < std::max(missing_bytes(), min_read_room)) {
        // Move what must survive (unread plaintext, unopened records, the partial record) to the front.
        std::memmove(rbuf.get(), rbuf.get() + keep, end - keep);
        plain_begin -= pending_plain ? keep : plain_begin;
        plain_end -= pending_plain ? keep : plain_end;
        start -= keep;
        scan -= keep;
        end -= keep;
    }
    return {rbuf.get() + end, receive_buffer_size - end};
}

bool Channel::Impl::drain_leftover() {
    if (!leftover_waiting()) return !failed;
    if (close_received) {  // nothing may follow the peer's close
        fail(errc::unexpected_message);
        return false;
    }
    const std::span<std::byte> r = room();
    const std::size_t n = std::min(r.size(), leftover.size() - leftover_pos);
    if (n > 0) std::memcpy(r.data(), leftover.data() + leftover_pos, n);
    leftover_pos += n;
    end += n;
    high_water = std::max(high_water, end);
    if (!leftover_waiting()) leftover = {};
    if (!scan_records()) return false;
    return !leftover_waiting();
}

std::span<std::byte> Channel::prepare() {
    Impl& s = *impl_;
    if (s.failed) return {};
    if (!s.drain_leftover()) return {};
    return s.room();
}

Status Channel::commit(std::size_t n) {
    Impl& s = *impl_;
    if (s.failed) return fail(s.failed);
    if (n == 0) return {};
    if (s.eof || s.leftover_waiting()) return errc::bad_state;
    if (!s.rbuf || n > receive_buffer_size - s.end) return errc::invalid_argument;
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
            if (s.leftover_waiting()) {
                // Room is made for at least the rest of the partial record, so each pass completes a
                // record or takes in all that is left.
                const std::size_t before = s.leftover_pos;
                if (!s.drain_leftover() && s.failed) return fail(s.failed);
                if (s.leftover_pos == before) return s.fail(errc::internal);
                continue;
            }
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
                if (s.start != s.end || s.leftover_waiting()) return s.fail(errc::unexpected_message);
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
    if (s.close_received || s.start != s.scan || s.plain_begin < s.plain_end || s.leftover_waiting()) return {};
    return s.fail(errc::truncated);
}

}  // namespace twoway
