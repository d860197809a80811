// Fuzzes SessionClient with server bytes (see fuzz_session.hpp for the input layout). The client
// behaves like a real one meanwhile: it consumes (or holds) what it receives, sends stdin while the
// window allows, resizes, signals, sends EOF. Checked: no crash or sanitizer report, windows never
// overrun, failures sticky, every frame the client writes parses, and every frame that parses
// re-encodes to the same bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_session.hpp"

using namespace twoway;
using namespace twoway::session;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t config = data[0];
    const std::uint8_t chunk = data[1];
    const wire::Bytes peer(reinterpret_cast<const std::byte*>(data + 2), size - 2);
    fuzz::check_canonical(peer);

    const Request request = fuzz::request_for(config);
    const Options options = fuzz::options_for(config);
    auto started = SessionClient::start(request, options);
    if (!started) std::abort();
    SessionClient& c = *started;
    if ((config & fuzz::host_keys) && !c.allow_host_keys()) std::abort();
    fuzz::OutputChecker out;
    fuzz::keep_alive_step(c, config);
    out.add(c.take_output());

    const std::vector<std::byte> stdin_bytes(1200, std::byte{'i'});
    std::size_t held[3] = {0, 0, 0};
    unsigned step = 0;
    for (std::size_t off = 0; off < peer.size(); ++step) {
        const std::size_t n = fuzz::next_feed(peer, off, chunk);
        auto events = c.feed(peer.subspan(off, n));
        off += n;
        if (!events) {
            // Sticky: the same error again, and nothing more is produced.
            if (c.feed(peer.subspan(0, std::min<std::size_t>(1, peer.size()))).error() != events.error()) std::abort();
            if (c.close().error() != events.error()) std::abort();
            break;
        }
        for (auto& e : *events) {
            if (auto* d = std::get_if<Data>(&e)) {
                const auto s = static_cast<std::size_t>(d->stream);
                if (d->stream == Stream::in || d->bytes.empty()) std::abort();
                held[s] += d->bytes.size();
                if (held[s] > options.window) std::abort();  // the window bounds what we ever hold
                if (!(config & fuzz::hold_data)) {
                    if (!c.consumed(d->stream, held[s])) std::abort();
                    held[s] = 0;
                }
            } else if (auto* hk = std::get_if<HostKeysAnnounced>(&e)) {
                // Only when allowed; the proofs are checked against a session id they were not made
                // for (the seeds' is all zero): any verdict but a crash is fine, a pass is not.
                if (!(config & fuzz::host_keys) || hk->keys.empty() || hk->keys.size() > max_host_keys) std::abort();
                const std::array<std::byte, 32> other_session{std::byte{1}};
                if (verify_host_keys(*hk, other_session)) std::abort();
            } else if (std::holds_alternative<Closed>(e) || std::holds_alternative<Rejected>(e)) {
                if (!c.finished()) std::abort();
            }
        }
        if (c.accepted() && !c.finished()) {
            const std::size_t cap = c.send_capacity(Stream::in);
            if (step < 40) {
                auto sent = c.send_data(Stream::in, stdin_bytes);
                if (sent && *sent != std::min(cap, stdin_bytes.size())) std::abort();
            }
            if (step % 5 == 1 && request.pty) (void)c.send_window_change(TermSize{100 + step, 40, 0, 0});
            if (step % 7 == 2 && request.kind != RequestKind::service) (void)c.send_signal("INT");
            if (step == 40) (void)c.send_eof(Stream::in);
            if (step == 60) (void)c.close();
        }
        fuzz::keep_alive_step(c, config);
        out.add(c.take_output());
    }
    return 0;
}
