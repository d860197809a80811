// Fuzzes the public key line parser (the one behind .pub files, authorized_keys and known_hosts).
// Whatever parses must format back to a line that parses to the same key and comment, and must have a
// fingerprint and a well-formed randomart picture.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <twoway/key.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    auto parsed = twoway::parse_public_key_line(line);
    if (!parsed) return 0;

    const std::string formatted = twoway::format_public_key_line(parsed->key, parsed->comment);
    auto again = twoway::parse_public_key_line(formatted);
    if (!again || again->key != parsed->key || again->comment != parsed->comment) std::abort();
    if (!twoway::fingerprint_sha256(parsed->key).starts_with("SHA256:")) std::abort();
    if (twoway::randomart(parsed->key).size() != 11 * 20 - 1) std::abort();
    return 0;
}
