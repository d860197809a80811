#include "handshake/framing.hpp"

#include <cstdlib>

namespace twoway::handshake {

BodyBounds body_bounds(MsgType t) noexcept {
    switch (t) {
        // Clear messages: anything too short fails in the parser (malformed), like any bad structure.
        case MsgType::client_hello: return {0, 4096};
        case MsgType::server_hello: return {0, 2048};
        // server_auth's maximum is its largest plaintext (identity 8192, banner 8192, signature 1024, each
        // with its u32 length, and Finished: 17484 bytes) plus the tag; client_auth's is a round figure
        // above its own (4 + 256 + 4 + 8192 + 4 + 1024 + 64 = 9548).
        case MsgType::server_auth: return {aead_tag_size + 1, 17500};
        case MsgType::client_auth: return {aead_tag_size + 1, 10240};
        case MsgType::server_verdict: return {aead_tag_size + 1, aead_tag_size + 1};
        // client_password: string account (1..256) | KE1; the others have one size each.
        case MsgType::client_password:
            return {aead_tag_size + 4 + 1 + ke1_wire_size, aead_tag_size + 4 + max_account_size + ke1_wire_size};
        case MsgType::server_password:
            return {aead_tag_size + ksf_header_size + ke2_wire_size, aead_tag_size + ksf_header_size + ke2_wire_size};
        case MsgType::client_password_finish:
            return {aead_tag_size + ke3_wire_size + finished_size, aead_tag_size + ke3_wire_size + finished_size};
    }
    return {0, 0};
}

bool sent_by(MsgType t, Role r) noexcept {
    switch (t) {
        case MsgType::client_hello:
        case MsgType::client_auth:
        case MsgType::client_password:
        case MsgType::client_password_finish: return r == Role::client;
        case MsgType::server_hello:
        case MsgType::server_auth:
        case MsgType::server_verdict:
        case MsgType::server_password: return r == Role::server;
    }
    return false;
}

bool sent_by(std::uint8_t type, Role r) noexcept {
    if (type < 1 || type > 8) return false;
    return sent_by(static_cast<MsgType>(type), r);
}

std::array<std::byte, header_size> make_header(MsgType t, std::size_t body_size) {
    const BodyBounds b = body_bounds(t);
    if (body_size < b.min || body_size > b.max) std::abort();  // our own message: a bug, not input
    return {static_cast<std::byte>(t), static_cast<std::byte>(body_size >> 16), static_cast<std::byte>(body_size >> 8),
            static_cast<std::byte>(body_size)};
}

void Deframer::append(wire::Bytes bytes) {
    // Reclaim consumed space first so the buffer never holds more than one partial message plus
    // what the caller has just handed over.
    if (pos_ > 0) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
        pos_ = 0;
    }
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Frame>> Deframer::next(MsgType expected, Role self) const {
    wire::Reader r(wire::Bytes(buf_).subspan(pos_));
    if (r.empty()) return std::optional<Frame>{};
    // The type byte is judged as soon as it is here, before the length: garbage (an HTTP request, an SSH
    // banner, zeros) is refused at its first byte.
    const std::uint8_t type = r.u8();
    if (type != static_cast<std::uint8_t>(expected)) {
        return fail(sent_by(type, self) ? errc::reflected_message : errc::unexpected_message);
    }
    if (r.remaining() < header_size - 1) return std::optional<Frame>{};
    const std::uint32_t hi = r.u8();
    const std::uint32_t len = (hi << 16) | r.u16();
    const BodyBounds b = body_bounds(expected);
    if (len > b.max) return fail(errc::length_too_large);
    if (len < b.min) return fail(errc::malformed);
    if (r.remaining() < len) return std::optional<Frame>{};
    wire::Bytes whole = wire::Bytes(buf_).subspan(pos_, header_size + len);
    return std::optional<Frame>{Frame{whole.first(header_size), whole.subspan(header_size), whole}};
}

void Deframer::consume(const Frame& f) { pos_ += f.whole.size(); }

std::vector<std::byte> Deframer::take_rest() {
    std::vector<std::byte> rest(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.end());
    buf_.clear();
    pos_ = 0;
    return rest;
}

}  // namespace twoway::handshake
