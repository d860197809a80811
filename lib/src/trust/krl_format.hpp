// The numbers of OpenSSH's KRL format (PROTOCOL.krl) that the reader (krl.cpp) and the writer
// (krl_write.cpp) share: section and certificate sub-section types, the format version, and the widest
// serial bitmap OpenSSH reads back (an mpint of at most 16384 bits, SSHBUF_MAX_BIGNUM).
#pragma once

#include <cstddef>
#include <cstdint>

namespace twoway::krl_format {

enum : std::uint8_t {
    section_certificates = 1,
    section_explicit_key = 2,
    section_sha1 = 3,
    section_signature = 4,
    section_sha256 = 5,
    section_extension = 255,
    cert_serial_list = 0x20,
    cert_serial_range = 0x21,
    cert_serial_bitmap = 0x22,
    cert_key_id = 0x23,
    cert_extension = 0x39,
};

inline constexpr std::uint32_t format_version = 1;
inline constexpr std::uint64_t max_bitmap_bits = 16384;
inline constexpr std::size_t max_bitmap_bytes = max_bitmap_bits / 8;

}  // namespace twoway::krl_format
