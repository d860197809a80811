// Session messages on the wire: `u8 type | u32 length | body`, big-endian, at most 65536 bytes in all
// so that one message always fits one channel record. Each message has a parse (body -> struct, with
// wire::Reader, expect_end) and a write (struct -> whole frame) side by side in one file per group:
//   msg_open.cpp     ENV, REQUEST, ACCEPT, REJECT
//   msg_stream.cpp   DATA, EOF, WINDOW_ADJUST
//   msg_control.cpp  WINDOW_CHANGE, SIGNAL, EXIT_STATUS, EXIT_SIGNAL, CLOSE
//   msg_alive.cpp    PING, PONG
//   msg_hostkeys.cpp HOSTKEYS (and the host key proof it carries)
// Parsers check everything that can be checked without knowing the state (field ranges, character
// sets, stream numbers); the state machines check the rest (direction, order, windows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <twoway/result.hpp>
#include <twoway/session.hpp>

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway::session {

enum class MsgType : std::uint8_t {
    env = 0x01,
    request = 0x02,
    accept = 0x03,
    reject = 0x04,
    data = 0x10,
    eof = 0x11,
    window_adjust = 0x12,
    window_change = 0x13,
    signal = 0x14,
    exit_status = 0x15,
    exit_signal = 0x16,
    close = 0x17,
    ping = 0x18,
    pong = 0x19,
    hostkeys = 0x1a,
};
[[nodiscard]] bool is_known_type(std::uint8_t t) noexcept;

inline constexpr std::size_t frame_header_size = 5;                         // u8 type | u32 length
inline constexpr std::size_t max_frame_size = max_message_size;             // = a channel record's payload
inline constexpr std::size_t max_body_size = max_frame_size - frame_header_size;  // 65531
inline constexpr std::size_t max_data_size = max_body_size - 1;             // DATA: u8 stream | bytes

// The field limits (max_command, ...) are public: <twoway/session.hpp>.

// A complete frame; `body` views the receiver's buffer and is valid only during the callback.
struct Frame {
    MsgType type{};
    wire::Bytes body;
};

struct FrameHeader {
    MsgType type{};
    std::uint32_t length = 0;
};
// The 5 header bytes: an unknown type is unexpected_message, a length above max_body_size is
// length_too_large, so a receiver knows before it buffers anything whether the frame is acceptable.
[[nodiscard]] Result<FrameHeader> parse_frame_header(wire::Bytes header);
void write_frame(wire::Writer& out, MsgType type, wire::Bytes body);

// The validators shared by the parsers (peer input -> malformed) and the senders (invalid_argument) are
// public, valid_request() and the others in <twoway/session.hpp>: a caller checks with the same rules.

// ---- message bodies ----
struct RequestMsg {
    std::uint32_t window = 0;  // the client's receive window for each of out and err
    Request request;           // env is not part of REQUEST (it travels in ENV messages before it)
};
struct AcceptMsg {
    std::uint32_t window = 0;  // the server's receive window for in
};
struct RejectMsg {
    std::uint32_t code = 0;
    std::string text;
};
struct DataMsg {
    Stream stream{};
    wire::Bytes bytes;  // views the frame body
};
struct EofMsg {
    Stream stream{};
};
struct WindowAdjustMsg {
    Stream stream{};
    std::uint32_t increment = 0;
};
struct ExitSignalMsg {
    std::string name;
    bool core_dumped = false;
    std::string message;
};

// msg_open.cpp
[[nodiscard]] Result<EnvVar> parse_env(wire::Bytes body);
void write_env(wire::Writer& out, const EnvVar& v);
[[nodiscard]] Result<RequestMsg> parse_request(wire::Bytes body);
void write_request(wire::Writer& out, const RequestMsg& m);
[[nodiscard]] Result<AcceptMsg> parse_accept(wire::Bytes body);
void write_accept(wire::Writer& out, const AcceptMsg& m);
[[nodiscard]] Result<RejectMsg> parse_reject(wire::Bytes body);
void write_reject(wire::Writer& out, const RejectMsg& m);

// msg_stream.cpp
[[nodiscard]] Result<DataMsg> parse_data(wire::Bytes body);
void write_data(wire::Writer& out, Stream s, wire::Bytes bytes);  // 1..max_data_size bytes
[[nodiscard]] Result<EofMsg> parse_eof(wire::Bytes body);
void write_eof(wire::Writer& out, const EofMsg& m);
[[nodiscard]] Result<WindowAdjustMsg> parse_window_adjust(wire::Bytes body);
void write_window_adjust(wire::Writer& out, const WindowAdjustMsg& m);

// msg_control.cpp
[[nodiscard]] Result<TermSize> parse_window_change(wire::Bytes body);
void write_window_change(wire::Writer& out, const TermSize& m);
[[nodiscard]] Result<std::string> parse_signal(wire::Bytes body);
void write_signal(wire::Writer& out, std::string_view name);
[[nodiscard]] Result<std::uint32_t> parse_exit_status(wire::Bytes body);
void write_exit_status(wire::Writer& out, std::uint32_t status);
[[nodiscard]] Result<ExitSignalMsg> parse_exit_signal(wire::Bytes body);
void write_exit_signal(wire::Writer& out, const ExitSignalMsg& m);
[[nodiscard]] Status parse_close(wire::Bytes body);
void write_close(wire::Writer& out);

// msg_alive.cpp: PING and PONG share one body, the u32 cookie.
inline constexpr std::size_t ping_frame_size = frame_header_size + 4;
[[nodiscard]] Result<std::uint32_t> parse_ping(wire::Bytes body);
void write_ping(wire::Writer& out, std::uint32_t cookie);
[[nodiscard]] Result<std::uint32_t> parse_pong(wire::Bytes body);
void write_pong(wire::Writer& out, std::uint32_t cookie);

// msg_hostkeys.cpp: HOSTKEYS, u8 count (1..max_host_keys) then count x (string[255] key blob, string[255]
// signature blob). The parse checks the shapes (plain Ed25519 key blobs, distinct, Ed25519 signature
// blobs); verify_host_keys (public) checks the signatures.
inline constexpr std::size_t max_host_key_field = 255;
[[nodiscard]] Result<HostKeysAnnounced> parse_hostkeys(wire::Bytes body);
void write_hostkeys(wire::Writer& out, const HostKeysAnnounced& m);
// "twoway v1 host key proof" | 0x00 | SHA-512(session_id | string key blob): 89 bytes (PROTOCOL.md 6.5).
[[nodiscard]] std::vector<std::byte> host_key_proof_payload(std::span<const std::byte, 32> session_id,
                                                            const PublicKey& key);

// Helpers for the parsers: a Reader's failure as a Result, and a u8 that must be a boolean.
[[nodiscard]] inline Failure fail_from(const wire::Reader& r) { return fail(r.error()); }
[[nodiscard]] bool read_bool(wire::Reader& r) noexcept;
[[nodiscard]] Stream read_stream(wire::Reader& r) noexcept;  // 0..2, else the reader fails (malformed)

}  // namespace twoway::session
