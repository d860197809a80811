// Prints docs/test-vectors/handshake.json. Regenerate with
//   ninja -C build/<dir> tests/vectors/make_handshake_vectors &&
//   build/<dir>/tests/vectors/make_handshake_vectors > docs/test-vectors/handshake.json
// (only when the protocol itself changes: the vectors are a published contract).
#include <cstdio>
#include <exception>

#include "vectors/vectors.hpp"

int main() {
    try {
        std::fputs(twoway::vectors::to_json(twoway::vectors::compute()).c_str(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
