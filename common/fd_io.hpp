// Whole reads and writes on a blocking descriptor, for the programs' pipes: write(2) and read(2) until
// the span is done, again after EINTR. The twoway-passwd exchange uses them on both sides (the client's
// pipes to twoway, twowayd's helper on its standard input and output), where every message has a size
// its type fixes.
#pragma once

#include <cstddef>
#include <span>

namespace twoway_common {

// False when write(2) fails or writes nothing (the reader is gone: EPIPE with SIGPIPE ignored).
[[nodiscard]] bool write_all(int fd, std::span<const std::byte> bytes) noexcept;

// Exactly to.size() bytes; false at end of file first or on an error.
[[nodiscard]] bool read_exact(int fd, std::span<std::byte> to) noexcept;

}  // namespace twoway_common
