// Asio's separately compiled implementation (ASIO_SEPARATE_COMPILATION): every other TU that includes
// Asio only sees declarations, which keeps the slow Asio headers from being compiled into each one.
// A standard header first: Asio picks its allocation functions (aligned_alloc vs operator new) from
// what the library has already declared, and this TU must choose as every other Asio TU does, or
// memory allocated here is freed with the other function (ASan: alloc-dealloc-mismatch).
#include <cstddef>

#include <asio/impl/src.hpp>
