// Asio's separately compiled implementation (ASIO_SEPARATE_COMPILATION): every other TU that includes
// Asio only sees declarations, which keeps the slow Asio headers from being compiled into each one.
#include <asio/impl/src.hpp>
