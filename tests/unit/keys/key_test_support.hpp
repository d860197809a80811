// Helpers for the [keys] tests: a scripted Rng, and opening up armored files to damage or rebuild them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/random.hpp>

#include "crypto/crypto.hpp"
#include "keys/armor.hpp"

namespace twoway::test {

// Hands out the given bytes in order (then zeros), so a test knows every "random" value an encoder drew.
class ScriptedRng final : public Rng {
public:
    explicit ScriptedRng(std::vector<std::byte> script) : script_(std::move(script)) {}
    void fill(std::span<std::byte> out) override {
        for (std::byte& b : out) b = pos_ < script_.size() ? script_[pos_++] : std::byte{0};
    }
    [[nodiscard]] std::size_t used() const { return pos_; }

private:
    std::vector<std::byte> script_;
    std::size_t pos_ = 0;
};

inline std::vector<std::byte> unarmor_bytes(std::string_view text, std::string_view label) {
    auto r = keys::unarmor(text, label, 1 << 20);
    if (!r) throw std::runtime_error("unarmor failed: " + r.error().message());
    return {r->data(), r->data() + r->size()};
}

// twoway key files end in SHA-256 of everything before: recompute it after deliberate tampering, so
// the damage reaches the checks behind the checksum.
inline std::vector<std::byte> with_fresh_checksum(std::vector<std::byte> bin) {
    if (bin.size() < 32) throw std::runtime_error("too short for a checksum");
    const auto sum = crypto::sha256(std::span(bin).first(bin.size() - 32));
    std::copy(sum.begin(), sum.end(), bin.end() - 32);
    return bin;
}

inline std::string rearmor_twoway(std::span<const std::byte> bin) { return keys::armor(bin, keys::twoway_armor_label); }
inline std::string rearmor_openssh(std::span<const std::byte> bin) {
    return keys::armor(bin, keys::openssh_armor_label);
}

}  // namespace twoway::test
