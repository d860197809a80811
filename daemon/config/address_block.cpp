// The per-source key of PerSourceNetBlockSize, from the library's address blocks (<twoway/pattern.hpp>).
#include <algorithm>

#include "daemon_config.hpp"

namespace twowayd {

std::string source_key(const IpAddress& a, std::uint32_t bits4, std::uint32_t bits6) {
    const std::uint32_t bits = std::min(a.v6 ? bits6 : bits4, a.v6 ? 128U : 32U);
    return format_address_block(AddressBlock{twoway::masked_address(a, bits), bits});
}

}  // namespace twowayd
