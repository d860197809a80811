// Unit tests only: moves a channel's sequence numbers close to the 2^64 wrap, which no test could reach
// by sealing records. Not part of the installed API (lib/src is internal); never used by the library.
#pragma once

#include <cstdint>

#include <twoway/channel.hpp>

#include "channel/channel_impl.hpp"

namespace twoway::detail {

struct ChannelTestHook {
    static void set_send_sequence(Channel& c, std::uint64_t seq) { c.impl_->send.set_sequence(seq); }
    static void set_recv_sequence(Channel& c, std::uint64_t seq) { c.impl_->recv.set_sequence(seq); }
    static std::uint64_t send_sequence(const Channel& c) { return c.impl_->send.sequence(); }
    static std::uint64_t recv_sequence(const Channel& c) { return c.impl_->recv.sequence(); }
};

}  // namespace twoway::detail
