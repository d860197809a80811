// Writes the seed corpus of the `opaque` fuzz target from harness.hpp's real messages:
//   ninja -C build/<dir> fuzz/opaque/make_opaque_seeds &&
//   build/<dir>/fuzz/opaque/make_opaque_seeds fuzz/corpus/opaque
// The seeds depend on the protocol and on harness.hpp's fixed keys and randomness; regenerate after
// changing either.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "opaque/harness.hpp"

using namespace twoway;
using namespace twoway::opaque;
using namespace twoway::fuzz::opaque_harness;

namespace {

bool write(const std::filesystem::path& dir, const std::string& name, Mode mode, Bytes msg) {
    std::vector<char> out{static_cast<char>(mode)};
    for (std::byte b : msg) out.push_back(static_cast<char>(b));
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    const World& w = world();
    twoway_test::DeterministicRng rng(99);
    auto reg = create_registration_request(wire::as_bytes(password), random_scalar(rng));
    if (!reg) return 1;
    bool ok = true;
    ok &= write(dir, "ke1", server_ke1, encode(w.login.ke1));
    ok &= write(dir, "ke1-unknown", server_ke1_unknown, encode(w.login.ke1));
    ok &= write(dir, "ke3", server_ke3, encode(w.ke3));
    ok &= write(dir, "registration-request", server_registration, encode(reg->request));
    ok &= write(dir, "ke2", client_ke2, encode(w.server.ke2));
    ok &= write(dir, "registration-response", client_registration, encode(w.registration_response));
    ok &= write(dir, "record", record, encode(w.record));
    if (!ok) {
        std::fprintf(stderr, "cannot write the seeds\n");
        return 1;
    }
    return 0;
}
