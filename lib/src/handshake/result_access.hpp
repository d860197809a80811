// The handshake's way to fill the private part of a HandshakeResult.
#pragma once

#include <twoway/handshake.hpp>

namespace twoway::detail {

struct HandshakeResultAccess {
    static void set_exporter(HandshakeResult& r, SecretBuffer block) { r.exporter_secret_ = std::move(block); }
};

}  // namespace twoway::detail
