// Remote forwarding (ssh -R; docs/PROTOCOL.md 15, "Remote forwarding"): a listen request binds a port
// for the client and announces, on out, the port and then each connection that arrives, which waits in
// the server's Pickups under a one-time token; a pickup request on another connection of the same
// account takes it over and runs as a direct connection.
#include <asio/ip/v6_only.hpp>

#include "log.hpp"
#include "server.hpp"
#include "session.hpp"

namespace twowayd {

namespace ts = twoway::session;

namespace {

// "address:port", "[v6]:port": the destination form, as the listen records' originator is written.
std::string endpoint_text(const tcp::endpoint& ep) {
    return ts::destination_text(ts::Destination{ep.address().to_string(), ep.port()});
}

}  // namespace

std::optional<std::string> Session::remote_forwarding_refusal() const {
    const auto& p = config_;
    if (p.disable_forwarding.value) return "DisableForwarding yes (" + where_text(p.disable_forwarding.where) + ")";
    if (!p.allow_remote_forwarding.value) {
        return "AllowTcpForwarding (" + where_text(p.allow_remote_forwarding.where) + ")";
    }
    return std::nullopt;
}

std::optional<std::string> Session::listen_refusal(const ts::ListenAddress& a) const {
    if (auto why = remote_forwarding_refusal()) return why;
    const auto& p = config_;
    // As sshd: a privileged port only for the superuser's account (port 0 asks for an unprivileged one).
    if (a.port != 0 && a.port < 1024 && account_.uid != 0) return "port " + std::to_string(a.port) + " is privileged";
    const auto& listen = p.permit_listen.value;
    if (!listen) return std::nullopt;  // PermitListen any
    for (const auto& e : *listen) {
        if (ts::permit_listen_matches(e, a)) return std::nullopt;
    }
    return std::string(listen->empty() ? "PermitListen none" : "not listed in PermitListen") + " (" +
           where_text(p.permit_listen.where) + ")";
}

std::optional<asio::ip::address> Session::listen_bind_address(const ts::ListenAddress& a, std::string& why) const {
    const auto loopback = asio::ip::address(asio::ip::address_v4::loopback());
    const auto any = asio::ip::address(asio::ip::address_v6::any());  // both families (v6_only off)
    switch (config_.gateway_ports.value) {
        case GatewayPorts::no: return loopback;  // as sshd: whatever the client asked
        case GatewayPorts::yes: return any;
        case GatewayPorts::clientspecified: break;
    }
    if (a.host.empty() || a.host == "*") return any;
    if (a.host == "localhost") return loopback;
    std::error_code ec;
    const auto address = asio::ip::make_address(a.host, ec);
    if (ec) {
        // Only addresses: resolving a name here would hold the loop (and say little about which one).
        why = "not an address or localhost";
        return std::nullopt;
    }
    return address;
}

void Session::start_listen(const Request& req) {
    // The protocol took only a valid listen address.
    const auto asked = ts::parse_listen_address(req.command);
    const std::string shown = asked ? ts::listen_address_text(*asked) : log_safe(req.command);
    const auto refuse = [&](std::uint32_t code, const std::string& why) {
        log_info("Refused remote forwarding on ", shown, " for user ", account_.name, " ", peer_.text(), ": ", why);
        reject(code, code == ts::reject::prohibited ? "listen address not permitted" : "cannot listen");
    };
    if (!asked) {
        refuse(ts::reject::prohibited, "not a listen address");
        return;
    }
    if (!account_may_use_services()) {
        reject(ts::reject::prohibited, "forwarding is not permitted for this account");
        return;
    }
    if (auto why = listen_refusal(*asked)) {
        refuse(ts::reject::prohibited, *why);
        return;
    }
    if (auto why = twowayd::listen_refusal(key_policy_, *asked)) {
        refuse(ts::reject::prohibited, *why);
        return;
    }
    std::string why;
    const auto address = listen_bind_address(*asked, why);
    if (!address) {
        refuse(ts::reject::start_failed, why);
        return;
    }
    auto& l = backend_.emplace<Listener>(socket().get_executor());
    const tcp::endpoint at(*address, asked->port);
    std::error_code ec;
    (void)l.acceptor.open(at.protocol(), ec);
    if (!ec && at.address().is_v6() && at.address().is_unspecified()) {
        (void)l.acceptor.set_option(asio::ip::v6_only(false), ec);
    }
    if (!ec) (void)l.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) (void)l.acceptor.bind(at, ec);
    if (!ec) (void)l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    const auto bound = ec ? tcp::endpoint() : l.acceptor.local_endpoint(ec);
    if (ec) {
        backend_ = std::monostate{};
        refuse(ts::reject::start_failed, "bind " + endpoint_text(at) + ": " + ec.message());
        return;
    }
    l.id = server_.pickups().new_listener();
    l.port = bound.port();
    if (auto st = accept_request(); !st) {
        fail("cannot accept the session: " + st.error().message());
        return;
    }
    answered();
    log_info("Starting session: remote forwarding, listening on ", endpoint_text(bound), " for ", account_.name,
             " from ", peer_.text());
    end_output(Stream::err);  // a listener has one stream back
    // The window is fresh: the first record always fits.
    const auto record = ts::encode_listen_record(ts::ListenBound{l.port});
    if (!record || !proto_.send_data(Stream::out, *record)) {
        fail("cannot announce the listening port");
        return;
    }
    spawn(listen_loop());
    progress();
}

awaitable<void> Session::listen_loop() {
    auto& l = *listener();
    for (;;) {
        // Accept only while an announcement fits the client's window (and our output cap): a client that
        // does not read its listen session leaves connections in the kernel's backlog, not with us.
        while (!output_over() && proto_.send_capacity(Stream::out) < ts::max_listen_record) co_await changed_.wait();
        if (output_over()) break;
        auto [ec, peer] = co_await l.acceptor.async_accept(use_nothrow_awaitable);
        if (output_over() || stopped()) break;
        if (ec) {
            // Closed by stop(), or a failure that would only repeat: the listener ends.
            if (ec != asio::error::operation_aborted) log_error("remote forwarding for ", account_.name, ": accept: ", ec.message());
            break;
        }
        std::error_code rec;
        const auto from = peer.remote_endpoint(rec);
        const std::string origin = rec ? std::string("unknown") : endpoint_text(from);
        auto token = server_.pickups().add(l.id, account_.uid, std::move(peer), server_.rng());
        if (!token) {
            log_info("Remote forwarding for ", account_.name, " on port ", l.port, ": ", pickups_per_listener,
                     " connections wait for their pickup already; connection from ", origin, " closed");
            continue;
        }
        const auto record = ts::encode_listen_record(ts::ListenConnection{*token, origin});
        if (!record || !proto_.send_data(Stream::out, *record)) break;
        log_verbose("Remote forwarding for ", account_.name, " on port ", l.port, ": connection from ", origin);
        progress();
    }
    end_output(Stream::out);
    progress();
}

void Session::start_pickup(const Request& req) {
    const auto token = ts::parse_pickup(req.command);
    // The key's options and the configuration must allow forwarding on this connection too.
    auto why = remote_forwarding_refusal();
    if (!why) why = twowayd::remote_forwarding_refusal(key_policy_);
    if (!why && !account_may_use_services()) why = "the account's shell does not permit forwarding";
    std::optional<tcp::socket> peer;
    if (!why && token) peer = server_.pickups().take(account_.uid, *token);
    if (!why && !peer) why = "no such connection waits for this account";
    if (why) {
        log_info("Refused pickup of a remote forwarded connection for user ", account_.name, " ", peer_.text(), ": ", *why);
        reject(ts::reject::prohibited, "no such connection");
        return;
    }
    auto& svc = backend_.emplace<Service>(socket().get_executor());
    svc.socket = std::move(*peer);
    std::error_code ec;
    (void)svc.socket.set_option(tcp::no_delay(true), ec);
    if (auto st = accept_request(); !st) {
        fail("cannot accept the session: " + st.error().message());
        return;
    }
    answered();
    log_info("Starting session: remote forwarded connection for ", account_.name, " from ", peer_.text());
    run_service_pumps();
    progress();
}

}  // namespace twowayd
