// Prints docs/test-vectors/handshake.json, or with the argument `ed25519`, docs/test-vectors/ed25519.json.
// Regenerate with
//   ninja -C build/<dir> tests/vectors/make_handshake_vectors &&
//   build/<dir>/tests/vectors/make_handshake_vectors > docs/test-vectors/handshake.json &&
//   build/<dir>/tests/vectors/make_handshake_vectors ed25519 > docs/test-vectors/ed25519.json
// (only when the protocol itself changes: the vectors are a published contract).
#include <cstdio>
#include <exception>
#include <string_view>

#include "vectors/vectors.hpp"

int main(int argc, char** argv) {
    try {
        const bool ed25519 = argc > 1 && std::string_view(argv[1]) == "ed25519";
        const auto vectors = ed25519 ? twoway::vectors::compute_ed25519() : twoway::vectors::compute();
        std::fputs(twoway::vectors::to_json(vectors).c_str(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
