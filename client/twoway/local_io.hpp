// The two local ends a session can have: the process's stdin/stdout/stderr (a command, a shell, -W),
// and an accepted TCP connection (-L).
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "session_pump.hpp"

namespace twoway_client {

// Duplicates of descriptors 0, 1 and 2 (so closing them never closes the process's own), driven by
// the event loop. The loop makes them non-blocking; terminal::restore_all() undoes that at exit.
class StdioIo final : public LocalIo {
public:
    // stdin_null: read from /dev/null instead (-n). close_stdout_at_eof: when the remote ends its
    // output, close descriptor 1 too, so whatever reads our stdout sees the end (-W).
    StdioIo(const asio::any_io_executor& ex, bool stdin_null, bool close_stdout_at_eof);

    asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte> buf) override;
    asio::awaitable<std::error_code> write(twoway::session::Stream s, std::span<const std::byte> bytes) override;
    void end_of(twoway::session::Stream s) override;
    void cancel() noexcept override;

private:
    asio::posix::stream_descriptor in_;
    asio::posix::stream_descriptor out_;
    asio::posix::stream_descriptor err_;
    bool close_stdout_at_eof_;
};

class SocketIo final : public LocalIo {
public:
    explicit SocketIo(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

    asio::awaitable<std::pair<std::error_code, std::size_t>> read(std::span<std::byte> buf) override;
    asio::awaitable<std::error_code> write(twoway::session::Stream s, std::span<const std::byte> bytes) override;
    void end_of(twoway::session::Stream s) override;
    void cancel() noexcept override;

    [[nodiscard]] asio::ip::tcp::socket& socket() noexcept { return socket_; }

private:
    asio::ip::tcp::socket socket_;
};

}  // namespace twoway_client
