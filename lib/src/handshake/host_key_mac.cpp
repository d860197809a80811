// host_key_mac (PROTOCOL.md 4.1.1).
#include "handshake/host_key_mac.hpp"

#include <algorithm>

#include "crypto/crypto.hpp"
#include "handshake/framing.hpp"
#include "crypto/labels.hpp"

namespace twoway::handshake {

namespace {
constexpr std::array<std::byte, 64> zeros{};
}  // namespace

HostKeyMac host_key_mac(Secrets& s, const PublicKey& server, std::span<const std::byte> covered) {
    auto& stealth_secret = s.scratch;
    const auto key = std::span<std::byte>(s.exporter).first<32>();
    crypto::hkdf_sha512_extract(stealth_secret, zeros, s.shared);
    crypto::wipe(s.shared);
    const crypto::Sha512Digest identity_hash = crypto::sha512(server.blob());
    crypto::expand_label(stealth_secret, "host key mac", identity_hash, key);
    crypto::hmac_sha512(stealth_secret, key, covered);  // the full HMAC, of which the MAC is the start
    HostKeyMac mac{};
    std::copy_n(stealth_secret.begin(), mac.size(), mac.begin());
    crypto::wipe(s.exporter);
    crypto::wipe(stealth_secret);
    return mac;
}

Status seal_host_key_mac(std::span<std::byte> message, const PublicKey& server, Secrets& s) {
    Result<std::array<std::byte, 32>> server_x = crypto::ed25519_public_to_x25519(server.raw());
    if (!server_x) return Failure{server_x.error()};
    if (Status st = crypto::x25519(s.shared, s.ephemeral, *server_x); !st) return st;
    const std::size_t covered = message.size() - host_key_mac_size;
    const HostKeyMac mac = host_key_mac(s, server, message.first(covered));
    std::copy(mac.begin(), mac.end(), message.begin() + static_cast<std::ptrdiff_t>(covered));
    return {};
}

bool check_host_key_mac(std::span<const std::byte> message, const ClientHello& hello, const PrivateKey& host_key,
                        Secrets& s) {
    if (hello.extensions.empty()) return false;
    const Extension& last = hello.extensions.back();
    // The extension list is the message's last field, so the last extension's data ends the message.
    if (last.type != ext_host_key_mac || last.data.size() != host_key_mac_size) return false;
    if (last.data.data() + last.data.size() != message.data() + message.size()) return false;
    const auto share = std::find_if(hello.shares.begin(), hello.shares.end(),
                                    [](const KeyShare& k) { return k.group == group_x25519; });
    if (share == hello.shares.end()) return false;

    if (!host_key.agree(s.shared, share->data.first<x25519_share_size>())) return false;
    const std::size_t covered = message.size() - host_key_mac_size;
    const HostKeyMac expected = host_key_mac(s, host_key.public_key(), message.first(covered));
    return crypto::ct_equal(std::span<const std::byte>(expected), message.last(host_key_mac_size));
}

}  // namespace twoway::handshake
