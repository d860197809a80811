// One direction of the record layer: its traffic secret, the AEAD key and IV derived from it, the
// record sequence number and the payload bytes sealed under the current key. Records are sealed and
// opened in place, in the caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include <twoway/secret.hpp>

namespace twoway::channel {

enum class RecordType : std::uint8_t {
    data = 0x01,
    close = 0x02,
    key_update = 0x03,
};

inline constexpr std::uint64_t last_sequence = std::numeric_limits<std::uint64_t>::max();

class TrafficKeys {
public:
    explicit TrafficKeys(SecretBytes<64> secret);

    // S' = expand_label(S, "traffic upd", {}, 64); new key and IV; sequence and byte count back to 0.
    void update();

    // True when the next record would need the sequence number 2^64 - 1, i.e. the counter would wrap
    // after it: the direction is exhausted (2^64 - 1 records is the most one key may protect).
    [[nodiscard]] bool exhausted() const noexcept { return seq_ == last_sequence; }

    // record[0..4) must already hold the length L, record[4..4+L-16) the plaintext (type | payload);
    // record.size() == 4 + L. Encrypts in place and appends the tag. Precondition: !exhausted().
    void seal_in_place(std::span<std::byte> record);
    // record as received (4 + L bytes). On success the plaintext is in record[4..4+L-16). False when
    // authentication fails. Precondition: !exhausted().
    [[nodiscard]] bool open_in_place(std::span<std::byte> record);

    [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }
    [[nodiscard]] std::uint64_t bytes_under_key() const noexcept { return bytes_; }
    void count_payload(std::size_t n) noexcept { bytes_ += n; }

    // Test hook support only (see test_hook.hpp).
    void set_sequence(std::uint64_t seq) noexcept { seq_ = seq; }

private:
    void derive();
    [[nodiscard]] std::array<std::byte, 12> nonce() const noexcept;

    SecretBytes<64> secret_;
    SecretBytes<32> key_;
    SecretBytes<12> iv_;
    std::uint64_t seq_ = 0;
    std::uint64_t bytes_ = 0;
};

}  // namespace twoway::channel
