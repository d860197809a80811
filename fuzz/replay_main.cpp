// Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer, so `meson test` (with gcc, and
// under ASan/UBSan) runs every corpus and regression input. Arguments are files or directories; a
// missing directory is skipped (regressions/<target>/ exists only once something was found), but at
// least one input must be found in all, so a target whose corpus went missing fails loudly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

static bool run_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
        return false;
    }
    std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Copy into an exact-size heap block so ASan catches reads one past the end, as libFuzzer would.
    std::vector<std::uint8_t> exact(buf.begin(), buf.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
    return true;
}

int main(int argc, char** argv) {
    std::size_t ran = 0;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        fs::path arg(argv[i]);
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> files;
            for (const auto& e : fs::directory_iterator(arg)) {
                if (e.is_regular_file()) files.push_back(e.path());
            }
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                ok = run_file(f) && ok;
                ++ran;
            }
        } else if (fs::is_regular_file(arg, ec)) {
            ok = run_file(arg) && ok;
            ++ran;
        }
    }
    std::printf("replayed %zu inputs\n", ran);
    if (ran == 0) {
        std::fprintf(stderr, "replay: no inputs found (is the corpus missing?)\n");
        return 1;
    }
    return ok ? 0 : 1;
}
