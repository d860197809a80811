// Fuzzes private key files: twoway's own format and OpenSSH's openssh-key-v1, through the same entry
// points the tools use. An input starting with 'T' or 'O' is the binary inside the armor (the rest of
// the input), armored here as a twoway or an OpenSSH key, so the fuzzer reaches the binary parsers
// without having to keep base64 intact; anything else is taken as the file's text.
//
// Decryption is tried with the passphrase "fuzz" but only for files asking for libsodium's minimum
// Argon2id cost (1 pass, 8 KiB): the limits refuse anything dearer before deriving, so every
// execution stays fast. Seeds with that cost are in fuzz/corpus/private_key/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include <twoway/key_file.hpp>
#include <twoway/key.hpp>

#include "keys/armor.hpp"
#include "../../tests/support/deterministic_rng.hpp"

namespace {
constexpr twoway::KdfLimits fuzz_limits{1, 8192};
constexpr std::string_view passphrase = "fuzz";

void check_round_trip(const twoway::DecodedPrivateKey& d) {
    twoway_test::DeterministicRng rng(1);
    auto text = d.format == twoway::KeyFileFormat::twoway
                    ? twoway::encode_private_key(d.key, d.comment, passphrase, {1, 8192}, rng)
                    : twoway::encode_openssh_private_key(d.key, d.comment, rng);
    if (!text) std::abort();  // anything we read, we can write
    auto again = twoway::decode_private_key(*text, passphrase, fuzz_limits);
    if (!again || !(again->key.seed() == d.key.seed()) || again->comment != d.comment) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string text;
    if (!input.empty() && (input[0] == 'T' || input[0] == 'O')) {
        const auto bin = std::as_bytes(std::span(data + 1, size - 1));
        text = twoway::keys::armor(bin, input[0] == 'T' ? twoway::keys::twoway_armor_label
                                                        : twoway::keys::openssh_armor_label);
    } else {
        text = std::string(input);
    }

    auto info = twoway::inspect_private_key(text);
    auto decoded = twoway::decode_private_key(text, passphrase, fuzz_limits);
    if (!decoded) return 0;

    // What decodes must also inspect, and both must agree on the clear parts.
    if (!info || info->public_key != decoded->key.public_key() || info->comment != decoded->comment ||
        info->format != decoded->format) {
        std::abort();
    }
    if (twoway::randomart(decoded->key.public_key()).size() != 11 * 20 - 1) std::abort();
    check_round_trip(*decoded);
    return 0;
}
