// Catch2's main, alone in its TU so the heavy header is compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
