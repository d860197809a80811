// Fuzzes SessionServer with client bytes (see fuzz_session.hpp for the input layout). The server
// behaves like the daemon meanwhile: it accepts (or rejects) the request, sends output while the
// client's window allows, consumes (or holds) stdin, and ends with EOFs, an exit and CLOSE. Checked:
// no crash or sanitizer report, windows never overrun, failures sticky, every frame the server writes
// parses, and every frame that parses re-encodes to the same bytes.
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

    const Options options = fuzz::options_for(config);
    auto created = SessionServer::create(options);
    if (!created) std::abort();
    SessionServer& s = *created;
    fuzz::OutputChecker out;
    fuzz::keep_alive_step(s, config);
    out.add(s.take_output());

    const std::vector<std::byte> output(1500, std::byte{'o'});
    std::size_t held = 0;
    bool is_service = false;
    unsigned step = 0;
    for (std::size_t off = 0; off < peer.size(); ++step) {
        const std::size_t n = fuzz::next_feed(peer, off, chunk);
        auto events = s.feed(peer.subspan(off, n));
        off += n;
        if (s.buffered_input() > max_frame_size) std::abort();
        if (!events) {
            if (s.feed(peer.subspan(0, std::min<std::size_t>(1, peer.size()))).error() != events.error()) std::abort();
            if (s.accept().error() != events.error()) std::abort();
            break;
        }
        for (auto& e : *events) {
            if (auto* r = std::get_if<RequestReceived>(&e)) {
                if (!valid_request(r->request)) std::abort();  // what the parser let through is valid
                is_service = r->request.kind == RequestKind::service;
                if (config & fuzz::reject_request) {
                    if (!s.reject(reject::prohibited, "not for you")) std::abort();
                } else {
                    if (!s.accept()) std::abort();
                }
            } else if (auto* d = std::get_if<Data>(&e)) {
                if (d->stream != Stream::in || d->bytes.empty()) std::abort();
                held += d->bytes.size();
                if (held > options.window) std::abort();
                if (!(config & fuzz::hold_data)) {
                    if (!s.consumed(Stream::in, held)) std::abort();
                    held = 0;
                }
            } else if (std::holds_alternative<Closed>(e)) {
                if (!s.finished()) std::abort();
            }
        }
        if (s.accepted() && !s.finished()) {
            if (step < 30) {
                const std::size_t cap = s.send_capacity(Stream::out);
                auto sent = s.send_data(step % 3 ? Stream::out : Stream::err, output);
                if (sent && step % 3 && *sent != std::min(cap, output.size())) std::abort();
            }
            if (step == 30) {
                (void)s.send_eof(Stream::out);
                (void)s.send_eof(Stream::err);
                if (!is_service) (void)(config & 1 ? s.send_exit_signal("TERM", false, "") : s.send_exit_status(step));
            }
            if (step == 31) (void)s.close();
        }
        fuzz::keep_alive_step(s, config);
        out.add(s.take_output());
    }
    return 0;
}
