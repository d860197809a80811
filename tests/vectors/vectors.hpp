// The published handshake test vectors (docs/test-vectors/handshake.json): computed twice, by the
// implementation (ClientHandshake / ServerHandshake fed fixed randomness) and by a straight-line
// derivation from PROTOCOL.md written here with nothing but the crypto primitives. compute() throws
// std::runtime_error where the two disagree; the vector test then compares both with the file, and
// make_handshake_vectors prints the file.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace twoway::vectors {

struct Vector {
    std::string name;
    std::vector<std::pair<std::string, std::string>> fields;  // in protocol order
};

[[nodiscard]] std::vector<Vector> compute();

// docs/test-vectors/ed25519.json: one valid signature and the Ed25519 edge cases a lenient verifier
// accepts and PROTOCOL.md 7.3 requires refusing, for the server's key and an 85-byte payload of the
// server signature's shape. Each case is checked against the implementation's verifier.
[[nodiscard]] std::vector<Vector> compute_ed25519();

// The file format: one JSON object of vectors, each an object of string fields (hex unless named
// *_text or expected_error), nothing else, so that a few lines can read it.
[[nodiscard]] std::string to_json(const std::vector<Vector>& vs);
using Parsed = std::map<std::string, std::map<std::string, std::string>>;
[[nodiscard]] Parsed parse_json(const std::string& text);  // throws std::runtime_error

}  // namespace twoway::vectors
