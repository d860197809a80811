// host_key_mac (PROTOCOL.md 4.1.1).
#include "handshake/host_key_mac.hpp"

#include <algorithm>

#include "crypto/crypto.hpp"
#include "handshake/framing.hpp"
#include "handshake/messages.hpp"
#include "proto/labels.hpp"
#include "wire/reader.hpp"

namespace twoway::handshake {

namespace {
std::array<std::byte, host_key_mac_size> mac_over(std::span<const std::byte> covered, const HostKeyMacKey& key) {
    const SecretBytes<64> full = crypto::hmac_sha512(key, covered);
    std::array<std::byte, host_key_mac_size> out{};
    std::copy_n(full.data(), out.size(), out.begin());
    return out;
}
}  // namespace

HostKeyMacKey host_key_mac_key(const PublicKey& server) {
    const crypto::Sha512Digest h = crypto::sha512(server.blob());
    HostKeyMacKey key{};
    proto::expand_label(h, "host key mac", {}, key);
    return key;
}

void seal_host_key_mac(std::span<std::byte> message, const HostKeyMacKey& key) {
    const std::size_t covered = message.size() - host_key_mac_size;
    const auto mac = mac_over(message.first(covered), key);
    std::copy(mac.begin(), mac.end(), message.begin() + static_cast<std::ptrdiff_t>(covered));
}

bool check_host_key_mac(std::span<const std::byte> message, const HostKeyMacKey& key) {
    if (message.size() < header_size) return false;
    Result<ClientHello> ch = parse_client_hello(message.subspan(header_size));
    if (!ch || ch->extensions.empty()) return false;
    const Extension& last = ch->extensions.back();
    // The extension list is the message's last field, so the last extension's data ends the message.
    if (last.type != ext_host_key_mac || last.data.size() != host_key_mac_size) return false;
    if (last.data.data() + last.data.size() != message.data() + message.size()) return false;
    const std::size_t covered = message.size() - host_key_mac_size;
    const auto expected = mac_over(message.first(covered), key);
    return crypto::ct_equal(std::span<const std::byte>(expected), message.last(host_key_mac_size));
}

}  // namespace twoway::handshake
