// Writes fuzz/corpus/opaque_record/'s seeds into the directory given: real record lines and key files
// made by the library (from a fixed seed, so the corpus is reproducible), and near misses of each.
//   make_opaque_record_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>

#include <twoway/password.hpp>

#include "../../tests/support/deterministic_rng.hpp"

namespace {
void seed(const std::string& dir, const std::string& name, char mode, const std::string& text) {
    std::ofstream(dir + "/" + name, std::ios::binary) << mode << text;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_opaque_record_seeds DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    twoway_test::DeterministicRng rng(17);
    const auto key = twoway::generate_opaque_key(rng);
    const std::string key_text = twoway::encode_opaque_key(key);
    const std::string pw = "fuzz password";
    auto rec = twoway::register_password(key, "alice", std::as_bytes(std::span(pw)), twoway::PasswordKsf{1, 8}, rng);
    if (!rec) return 1;
    auto line = twoway::format_password_record(*rec);
    if (!line) return 1;
    seed(dir, "record", '\0', *line);
    seed(dir, "record-no-newline", '\0', line->substr(0, line->size() - 1));
    seed(dir, "record-v2", '\0', "twoway-opaque-v2" + line->substr(16));
    seed(dir, "record-short", '\0', line->substr(0, line->size() - 10) + "\n");
    std::string big = *line;
    big.replace(big.find("ops=1"), 5, "ops=64");
    seed(dir, "record-ops64", '\0', big);
    seed(dir, "key", '\1', key_text);
    std::string damaged = key_text;
    damaged[40] = damaged[40] == 'A' ? 'B' : 'A';
    seed(dir, "key-damaged", '\1', damaged);
    return 0;
}
