// The published vectors (docs/test-vectors/handshake.json) must be exactly what the implementation and
// the straight-line derivation from the spec both compute today.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "vectors/vectors.hpp"
#include "vectors/vectors_config.h"

namespace twoway::vectors {

namespace {
void require_file_matches(const char* path, const std::vector<Vector>& computed) {
    std::ifstream f(path);
    REQUIRE(f.good());
    std::stringstream ss;
    ss << f.rdbuf();
    const Parsed file = parse_json(ss.str());
    REQUIRE(file.size() == computed.size());
    for (const Vector& v : computed) {
        INFO("vector " << v.name);
        REQUIRE(file.count(v.name) == 1);
        const auto& fields = file.at(v.name);
        REQUIRE(fields.size() == v.fields.size());
        for (const auto& [key, value] : v.fields) {
            INFO("field " << key);
            REQUIRE(fields.count(key) == 1);
            REQUIRE(fields.at(key) == value);
        }
    }
    // The file is exactly what the generator prints (formatting included), so regenerating it is a
    // no-op unless the protocol changed.
    REQUIRE(to_json(computed) == ss.str());
}
}  // namespace

TEST_CASE("the published handshake test vectors are reproduced exactly", "[handshake]") {
    // compute() throws where the implementation and the straight-line derivation disagree.
    require_file_matches(TWOWAY_HANDSHAKE_VECTORS, compute());
}

TEST_CASE("the published Ed25519 edge cases are reproduced, and only the valid one verifies", "[handshake]") {
    // compute_ed25519() throws where the implementation's verifier accepts an edge case.
    require_file_matches(TWOWAY_ED25519_VECTORS, compute_ed25519());
}

TEST_CASE("the vector reader refuses what is not the vectors' JSON subset", "[handshake]") {
    REQUIRE(parse_json("{}").empty());
    REQUIRE(parse_json(R"({"a": {"k": "v\"w"}})").at("a").at("k") == "v\"w");
    for (const char* bad : {"", "{", R"({"a": "x"})", R"({"a": {"k": 1}})", R"({"a": {"k": "v"}} x)",
                            R"({"a": {"k": "\n"}})", R"x({"a": {"k": "v)x"}) {
        INFO(bad);
        REQUIRE_THROWS_AS(parse_json(bad), std::runtime_error);
    }
}

}  // namespace twoway::vectors
