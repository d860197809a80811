// The receive side both roles share: a role's table says, once and as data, which message each of its
// states expects and which handler takes it; pump() deframes and dispatches by it. A state with no row
// expects nothing from the peer (it waits for the caller, or the handshake is over), and the pump stops.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <variant>

#include <twoway/result.hpp>

#include "handshake/framing.hpp"

namespace twoway::handshake {

// One row: in the state for which in_state is true, a message of type `type` is expected, and `handler`
// takes it. Owner is a role's Impl: it has `State state`, `Deframer in`, `static constexpr Role role`,
// status() and fail(std::error_code).
template <class Owner>
struct Receive {
    bool (*in_state)(const typename Owner::State&);
    MsgType type;
    Status (Owner::*handler)(const Frame&);
};

// The row for state S.
template <class S, class Owner>
constexpr Receive<Owner> expect(MsgType type, Status (Owner::*handler)(const Frame&)) {
    return {[](const typename Owner::State& s) { return std::holds_alternative<S>(s); }, type, handler};
}

// Processes buffered messages until one is incomplete or the current state has no row. A framing error
// or a failed handler fails the handshake (Owner::fail, which is sticky).
template <class Owner, std::size_t N>
Status pump(Owner& owner, const std::array<Receive<Owner>, N>& table) {
    for (;;) {
        const auto row = std::find_if(table.begin(), table.end(),
                                      [&](const Receive<Owner>& r) { return r.in_state(owner.state); });
        if (row == table.end()) return owner.status();
        Result<std::optional<Frame>> next = owner.in.next(row->type, Owner::role);
        if (!next) return owner.fail(next.error());
        if (!next->has_value()) return {};
        const Status st = (owner.*row->handler)(**next);
        if (!st) return owner.fail(st.error());
    }
}

}  // namespace twoway::handshake
