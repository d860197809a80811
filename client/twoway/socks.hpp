// -D's SOCKS server, the protocol part: a bounded, incremental parser of one SOCKS 4, 4a or 5 CONNECT
// request (RFC 1928 for 5; no authentication, method 0x00 only, as ssh), and the replies. No I/O: the
// caller feeds what it read, writes what the parser says to write, and opens the direct connection the
// request names. Facts as in OpenSSH's channels.c (channel_decode_socks4/5); the code is our own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <twoway/session.hpp>

namespace twoway_client::socks {

inline constexpr std::size_t max_user_id = 255;  // SOCKS4 USERID bytes (without the NUL)
inline constexpr std::size_t max_domain = 255;   // a SOCKS4a / SOCKS5 domain name
// The most a request can take (SOCKS4a: 8 fixed bytes, user id and domain with their NULs); the parser
// never holds more before it decides.
inline constexpr std::size_t max_request = 8 + (max_user_id + 1) + (max_domain + 1);

enum class Version : std::uint8_t { none = 0, v4 = 4, v5 = 5 };

// What the reply to a parsed request says (mapped to each version's codes by reply()).
enum class Reply : std::uint8_t {
    succeeded,                // 4: 0x5A, 5: 0x00
    general_failure,          // 4: 0x5B, 5: 0x01
    not_allowed,              // 4: 0x5B, 5: 0x02 (the server refused the destination: PermitOpen)
    command_not_supported,    // 4: 0x5B, 5: 0x07
    address_not_supported,    // 4: 0x5B, 5: 0x08
};

struct Step {
    enum class Kind { need_more, failed, done };
    Kind kind = Kind::need_more;
    // Bytes to write to the SOCKS client now: SOCKS5's method choice (05 00) the first time the greeting
    // is complete (whatever the kind), then with failed the refusal (empty: just close). The reply to
    // a done request waits for the server's answer: reply().
    std::vector<std::byte> send;
    std::string error;  // failed: why, for the log
    // done: where to connect, the request's size in the stream (from its first byte), and what the
    // client sent after the request (data for the tunnel).
    std::optional<twoway::session::Destination> destination;
    std::size_t consumed = 0;
    std::vector<std::byte> rest;
};

class Parser {
public:
    // The next bytes read from the client. After failed or done, feed() must not be called again.
    [[nodiscard]] Step feed(std::span<const std::byte> bytes);
    // The version the client speaks (none until its first byte).
    [[nodiscard]] Version version() const noexcept { return version_; }
    // The reply to a request (after done, or for a failure found by the caller), in the client's version.
    [[nodiscard]] std::vector<std::byte> reply(Reply r) const;

private:
    [[nodiscard]] Step parse();
    [[nodiscard]] Step parse_v4();
    [[nodiscard]] Step parse_v5();
    [[nodiscard]] Step fail(Reply r, std::string why) const;

    std::vector<std::byte> buf_;   // at most max_request bytes
    std::vector<std::byte> tail_;  // bytes of the last feed beyond the bound (only ever data for the tunnel)
    Version version_ = Version::none;
    bool greeted_ = false;         // SOCKS5: the method choice was sent
    std::size_t greeting_size_ = 0;
    bool over_ = false;
};

}  // namespace twoway_client::socks
