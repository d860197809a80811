#include "crypto/labels.hpp"

#include <cstdlib>

#include "crypto/crypto.hpp"
#include "wire/writer.hpp"

namespace twoway::crypto {

void LabelExpander::operator()(std::string_view label, std::span<const std::byte> context,
                               std::span<std::byte> out) const {
    const std::size_t full_label = label_prefix.size() + label.size();
    // Sizes are chosen by our own code, never by a peer: a violation is a bug.
    if (full_label > 255 || context.size() > 255 || out.size() > 0xffff) std::abort();
    wire::Writer info(2 + 1 + full_label + 1 + context.size());
    info.u16(static_cast<std::uint16_t>(out.size()))
        .u8(static_cast<std::uint8_t>(full_label))
        .bytes(label_prefix)
        .bytes(label)
        .u8(static_cast<std::uint8_t>(context.size()))
        .bytes(context);
    key_.hkdf_expand(info.view(), out);
}

void expand_label(std::span<const std::byte, 64> secret, std::string_view label, std::span<const std::byte> context,
                  std::span<std::byte> out) {
    const LabelExpander expand{secret};
    expand(label, context, out);
}

}  // namespace twoway::crypto
