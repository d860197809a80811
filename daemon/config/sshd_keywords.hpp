// sshd_config's keywords that twowayd does not implement (OpenSSH 9.2 as Debian 12 ships it, Debian's
// own ones included): each is either accepted with one note because it has no meaning for twoway, or
// refused because ignoring it would grant more than the administrator wrote (unless its value is one
// that grants nothing). docs/CONFIG.md has the same table.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace twowayd {

struct ForeignKeyword {
    std::string_view name;
    // Empty: any value is accepted (with the note). Otherwise the values (any case) that are accepted;
    // any other value is refused with `why`.
    std::span<const std::string_view> accepted;
    bool match_ok;        // sshd allows it inside a Match block (SSHCFG_ALL)
    std::string_view why;  // why it means nothing for twoway, or why another value is refused
};

// The keyword (any case), or nothing when sshd does not know it either.
[[nodiscard]] const ForeignKeyword* find_foreign_keyword(std::string_view name) noexcept;

}  // namespace twowayd
