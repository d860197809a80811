// Channel's private state, shared by channel.cpp and the unit-test hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include <twoway/channel.hpp>

#include "channel/traffic_keys.hpp"

namespace twoway {

struct Channel::Impl {
    Impl(Suite s, SecretBytes<64> send_secret, SecretBytes<64> recv_secret, Options o)
        : suite(s), options(o), send(std::move(send_secret)), recv(std::move(recv_secret)) {}
    ~Impl();

    Suite suite;
    Options options;
    channel::TrafficKeys send;
    channel::TrafficKeys recv;
    std::error_code failed;  // sticky
    bool close_sent = false;
    bool close_received = false;
    bool eof = false;

    // Receive buffer (allocated on first use, never resized). Layout, by offsets:
    //   [plain_begin, plain_end)  plaintext of the last data record not yet handed out (inside an
    //                             already consumed record, so before `start`)
    //   [start, scan)             complete records whose length field has been checked
    //   [scan, end)               the start of the next record, incomplete (its length checked once known)
    //   [end, capacity)           free space handed out by prepare()
    std::unique_ptr<std::byte[]> rbuf;
    std::size_t plain_begin = 0;
    std::size_t plain_end = 0;
    std::size_t start = 0;
    std::size_t scan = 0;
    std::size_t end = 0;
    std::size_t high_water = 0;  // bytes of rbuf ever written (what the destructor wipes)

    // Bytes that arrived with the handshake's last message, not yet in rbuf: they come before anything
    // the transport brings later.
    std::vector<std::byte> leftover;
    std::size_t leftover_pos = 0;

    // Advances `scan` over every complete record in [scan, end), checking each length field, including
    // that of a trailing incomplete record once its 4 bytes are in.
    Status scan_records();
    // Bytes still missing from the incomplete record at `scan` (its length field already checked).
    [[nodiscard]] std::size_t missing_bytes() const;
    // Free space at the end of rbuf, moving what must survive to the front first when it runs short.
    [[nodiscard]] std::span<std::byte> room();
    // Moves as much of the leftover into rbuf as fits. True once none is waiting; false while some is,
    // or on failure.
    [[nodiscard]] bool drain_leftover();
    [[nodiscard]] bool leftover_waiting() const noexcept { return leftover_pos < leftover.size(); }

    Failure fail(errc e) {
        if (!failed) failed = make_error_code(e);
        return Failure{failed};
    }
};

}  // namespace twoway
