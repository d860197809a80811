// The text of a twoway::errc value, shared by the error category (message()) and the C API
// (twoway_strerror, which needs static strings). Internal.
#pragma once

namespace twoway {

// A static string, or nullptr for a value that is not an errc.
[[nodiscard]] const char* errc_text(int value) noexcept;

}  // namespace twoway
