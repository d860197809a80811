#include "local_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <asio/write.hpp>

#include "async.hpp"
#include "log.hpp"

namespace twoway_client {

namespace session = twoway::session;

namespace {

// A private duplicate of fd (close-on-exec), or of /dev/null when fd is closed.
int duplicate(int fd) {
    int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0) d = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    return d;
}

int dev_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

StdioIo::StdioIo(const asio::any_io_executor& ex, bool stdin_null, bool close_stdout_at_eof)
    : in_(ex, stdin_null ? dev_null() : duplicate(STDIN_FILENO)),
      out_(ex, duplicate(STDOUT_FILENO)),
      err_(ex, duplicate(STDERR_FILENO)),
      close_stdout_at_eof_(close_stdout_at_eof) {}

asio::awaitable<std::pair<std::error_code, std::size_t>> StdioIo::read(std::span<std::byte> buf) {
    auto [ec, n] = co_await in_.async_read_some(asio::buffer(buf.data(), buf.size()), use_nothrow_awaitable);
    co_return std::pair{ec, n};
}

asio::awaitable<std::error_code> StdioIo::write(session::Stream s, std::span<const std::byte> bytes) {
    auto& d = s == session::Stream::err ? err_ : out_;
    if (!d.is_open()) co_return std::error_code(asio::error::bad_descriptor);
    auto [ec, n] = co_await asio::async_write(d, asio::buffer(bytes.data(), bytes.size()), use_nothrow_awaitable);
    (void)n;
    co_return ec;
}

void StdioIo::end_of(session::Stream s) {
    if (s != session::Stream::out || !close_stdout_at_eof_) return;
    // Our duplicate and descriptor 1 itself: with both gone, the reader of our stdout sees its end.
    std::error_code ignored;
    out_.close(ignored);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        (void)::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
}

void StdioIo::cancel() noexcept {
    // Writes too: a session that ends on a failure (ServerAliveInterval's timeout, a broken connection)
    // does not wait on a stdout nobody reads; a clean end has written everything before it gets here.
    std::error_code ignored;
    in_.cancel(ignored);
    out_.cancel(ignored);
    err_.cancel(ignored);
}

asio::awaitable<std::pair<std::error_code, std::size_t>> SocketIo::read(std::span<std::byte> buf) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_nothrow_awaitable);
    co_return std::pair{ec, n};
}

asio::awaitable<std::error_code> SocketIo::write(session::Stream s, std::span<const std::byte> bytes) {
    if (s == session::Stream::err) {
        // A service has no stderr; anything that comes is shown, not mixed into the connection.
        log::debug(1, "-L: " + std::to_string(bytes.size()) + " bytes on the error stream dropped");
        co_return std::error_code{};
    }
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), use_nothrow_awaitable);
    (void)n;
    co_return ec;
}

void SocketIo::end_of(session::Stream s) {
    if (s != session::Stream::out) return;
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void SocketIo::cancel() noexcept {
    std::error_code ignored;
    socket_.cancel(ignored);
}

}  // namespace twoway_client
