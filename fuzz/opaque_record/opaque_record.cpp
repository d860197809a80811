// Fuzzes the password record parser and the OPAQUE key file decoder (<twoway/password.hpp>). Byte 0
// picks the parser: even, the rest is a record file's text; odd, an OPAQUE key file's text.
// Beyond "no crash": a record that parses is within the documented bounds and formats back to the
// canonical line, which parses to the same record; a key that decodes encodes and decodes to the same
// key, so that what is stored is exactly what was read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <twoway/password.hpp>

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    if ((data[0] & 1U) == 0) {
        auto rec = twoway::parse_password_record(text);
        if (!rec) return 0;
        check(twoway::valid_password_ksf(rec->ksf));
        check(text.size() <= twoway::max_password_record_file);
        auto line = twoway::format_password_record(*rec);
        check(static_cast<bool>(line));
        // The canonical line is the text, with its final line break.
        check(*line == text || *line == std::string(text) + "\n");
        auto again = twoway::parse_password_record(*line);
        check(static_cast<bool>(again));
        check(again->ksf.opslimit == rec->ksf.opslimit && again->ksf.memlimit_kib == rec->ksf.memlimit_kib);
        check(again->registration == rec->registration);
    } else {
        auto key = twoway::decode_opaque_key(text);
        if (!key) return 0;
        auto back = twoway::decode_opaque_key(twoway::encode_opaque_key(*key));
        check(static_cast<bool>(back));
        check(back->oprf_seed == key->oprf_seed && back->private_key == key->private_key);
        check(back->public_key == key->public_key);
    }
    return 0;
}
