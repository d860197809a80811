// Writing KRLs (<twoway/krl.hpp>, write_krl) as `ssh-keygen -k` (OpenSSH 9.2) does, so that a KRL from
// twoway-keygen -k is the file ssh-keygen would have made: the header, then one certificates section
// per CA in order, then the explicit keys, the SHA-1 hashes and the SHA-256 hashes, each list in byte
// order. Within a certificates section the serials go out as lists, ranges and bitmaps chosen run by
// run by ssh-keygen's estimate of the bits each choice costs, then the key ids.
#include <twoway/krl.hpp>

#include <algorithm>

#include "trust/krl_format.hpp"
#include "wire/writer.hpp"

namespace twoway {

namespace {

using namespace krl_format;
// max_bitmap_bits: the widest bitmap OpenSSH can read back. ssh-keygen does not stop there, and writes
// KRLs its own reader then refuses; here a bitmap that would grow past it ends.

struct Choice {
    std::uint8_t kind = 0;
    bool restart = false;  // a new bitmap section, even if the current one is a bitmap
};

// ssh-keygen's cost model: for the next run of `run` serials, `gap_before` after the previous run and
// `gap_after` before the next (none when `last_run`), the bits each way of writing it costs, including
// starting a new subsection; the cheapest in bytes wins, ties going bitmap, range, list, new bitmap.
Choice choose(std::uint8_t current, std::uint64_t run, bool last_run, std::uint64_t gap_before,
              std::uint64_t gap_after) {
    constexpr std::uint64_t cap = std::uint64_t{1} << 31;  // keeps the sums far from overflowing
    run = std::min(run, cap);
    gap_before = std::min(gap_before, cap);
    gap_after = std::min(gap_after, cap);
    constexpr std::uint64_t header = 8 + 64;  // a subsection's type byte and length, roughly
    const std::uint64_t next_section = last_run ? 0 : header;

    std::uint64_t list = current == cert_serial_list ? 0 : 8;
    std::uint64_t bitmap = current == cert_serial_bitmap ? 0 : header;
    std::uint64_t restart = header;
    std::uint64_t range = 8;

    list += 64 * run + next_section;
    range += 2 * 64 + next_section;
    const std::uint64_t bitmap_tail = last_run ? 0 : std::min(gap_after, header);
    bitmap += gap_before + run + bitmap_tail;
    restart += run + bitmap_tail;

    const auto bytes = [](std::uint64_t bits) { return (bits + 7) / 8; };
    Choice best{cert_serial_bitmap, false};
    std::uint64_t cost = bytes(bitmap);
    if (bytes(range) < cost) {
        best = {cert_serial_range, false};
        cost = bytes(range);
    }
    if (bytes(list) < cost) {
        best = {cert_serial_list, false};
        cost = bytes(list);
    }
    if (bytes(restart) < cost) best = {cert_serial_bitmap, true};
    return best;
}

// The bits as an mpint: big-endian bytes up to the highest set bit, a zero byte first when the top bit
// is set (so that it does not read as negative).
void put_bitmap(wire::Writer& w, const std::vector<std::uint64_t>& set_bits) {
    const std::uint64_t top = set_bits.empty() ? 0 : set_bits.back();
    std::vector<std::byte> bytes(set_bits.empty() ? 0 : static_cast<std::size_t>(top / 8 + 1));
    for (auto b : set_bits) bytes[bytes.size() - 1 - static_cast<std::size_t>(b / 8)] |= std::byte(1u << (b % 8));
    if (!bytes.empty() && (bytes[0] & std::byte{0x80}) != std::byte{0}) bytes.insert(bytes.begin(), std::byte{0});
    w.string(bytes);
}

class SerialWriter {
public:
    explicit SerialWriter(wire::Writer& out) : out_(out) {}

    void add(const KrlSerialRange& r, const KrlSerialRange* next, std::uint64_t gap_before) {
        const std::uint64_t run = r.last - r.first + 1;  // 0 for the whole space: wraps, as in ssh-keygen
        const std::uint64_t gap_after = next == nullptr ? 0 : next->first - r.last;
        Choice c = choose(state_, run, next == nullptr, state_ == 0 ? 0 : gap_before, gap_after);
        if (c.kind == cert_serial_bitmap && run > max_bitmap_bits) c = {cert_serial_range, false};
        if (c.kind == cert_serial_bitmap && state_ == cert_serial_bitmap && !c.restart &&
            r.last - bitmap_start_ >= max_bitmap_bits) {
            c.restart = true;
        }
        if (state_ != 0 && (c.restart || c.kind != state_ || state_ == cert_serial_range)) flush();
        if (c.kind != state_ || c.restart) {
            state_ = c.kind;
            section_ = wire::Writer();
            bits_.clear();
            if (state_ == cert_serial_bitmap) {
                bitmap_start_ = r.first;
                section_.u64(bitmap_start_);
            }
        }
        switch (state_) {
        case cert_serial_list:
            for (std::uint64_t s = r.first;; ++s) {
                section_.u64(s);
                if (s == r.last) break;
            }
            break;
        case cert_serial_range: section_.u64(r.first).u64(r.last); break;
        default:
            for (std::uint64_t s = r.first;; ++s) {
                bits_.push_back(s - bitmap_start_);
                if (s == r.last) break;
            }
            break;
        }
    }

    void flush() {
        if (state_ == 0) return;
        if (state_ == cert_serial_bitmap) put_bitmap(section_, bits_);
        out_.u8(state_).string(section_.view());
        section_ = wire::Writer();
        bits_.clear();
    }

private:
    wire::Writer& out_;
    std::uint8_t state_ = 0;
    wire::Writer section_;
    std::uint64_t bitmap_start_ = 0;
    std::vector<std::uint64_t> bits_;
};

std::vector<std::byte> certificates_section(const KrlCertificates& c) {
    wire::Writer w;
    w.string(c.ca_key).string(std::string_view{});  // CA key (empty: any CA), reserved
    SerialWriter serials(w);
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < c.serials.size(); ++i) {
        const auto& r = c.serials[i];
        serials.add(r, i + 1 < c.serials.size() ? &c.serials[i + 1] : nullptr, r.first - last);
        last = r.last;
    }
    serials.flush();
    wire::Writer ids;
    for (const auto& id : c.key_ids) ids.string(id);
    if (ids.size() != 0) w.u8(cert_key_id).string(ids.view());
    return w.take();
}

template <class List>
void blob_section(wire::Writer& w, std::uint8_t type, const List& list) {
    wire::Writer s;
    for (const auto& item : list) s.string(std::span<const std::byte>(item.data(), item.size()));
    if (s.size() != 0) w.u8(type).string(s.view());
}

}  // namespace

std::vector<std::byte> write_krl(const Krl& in) {
    Krl krl = in;
    krl.normalize();
    wire::Writer w;
    w.bytes(krl_magic).u32(format_version).u64(krl.version).u64(krl.generated_date).u64(krl.flags);
    w.string(std::string_view{}).string(krl.comment);  // reserved, comment
    for (const auto& c : krl.certificates) w.u8(section_certificates).string(certificates_section(c));
    blob_section(w, section_explicit_key, krl.keys);
    blob_section(w, section_sha1, krl.sha1);
    blob_section(w, section_sha256, krl.sha256);
    return w.take();
}

}  // namespace twoway
