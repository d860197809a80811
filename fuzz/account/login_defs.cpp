// Fuzz target: /etc/login.defs text through parse_login_defs_umask, and the same bytes as /etc/shells
// through parse_shells (account_policy.hpp).
//
// Beyond "no crash": the umask is a permission mask (at most 0777); an unusable UMASK leaves 022 and says
// why in a bounded message; every shell found is an absolute path of more than "/", without white space
// or '#', and no line gives more than one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "account_policy.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twowayd;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const auto umask = parse_login_defs_umask(text);
    check(umask.mask <= 0777);
    if (umask.problem) {
        check(umask.mask == default_session_umask);
        check(!umask.problem->empty() && umask.problem->size() < 128);
    }
    if (text.find("UMASK") == std::string_view::npos) check(umask.mask == default_session_umask && !umask.problem);

    const auto shells = parse_shells(text);
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    check(shells.size() <= lines);
    for (const auto& s : shells) {
        check(s.size() > 1 && s.front() == '/');
        check(s.find_first_of(" \t\r\v\f\n#") == std::string_view::npos);
        check(text.find(s) != std::string_view::npos);
    }
    return 0;
}
