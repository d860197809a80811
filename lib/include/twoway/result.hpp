/// @file
/// Result<T>: a value or a std::error_code, in the shape of std::expected (which needs C++23).
/// Result<void> carries only success or an error. Failing functions return these and are `[[nodiscard]]`.
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <twoway/error.hpp>

namespace twoway {

/// Tag wrapper so an error can be returned from any Result<T> without naming T.
struct Failure {
    std::error_code ec;  ///< the error; never empty
};
/// A Failure from an error code, which must not be empty (a Result asserts it).
[[nodiscard]] inline Failure fail(std::error_code ec) { return {ec}; }
/// A Failure from a twoway error.
[[nodiscard]] inline Failure fail(errc e) { return {make_error_code(e)}; }

/// A value of type T, or the error that prevented it. Check it (`if (r)`, has_value()) before reading the
/// value: value(), `*` and `->` on an error are a bug (they assert in debug builds).
template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;  ///< the type of the value

    /// Success, holding value (implicit, so a function returns its value as it is).
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    /// Failure with f.ec (implicit: `return fail(ec);`).
    Result(Failure f) : v_(std::in_place_index<1>, f.ec) { assert(f.ec); }
    /// Failure with a twoway error (implicit: `return errc::bad_state;`).
    Result(errc e) : Result(fail(e)) {}

    /// True when this holds a value.
    bool has_value() const noexcept { return v_.index() == 0; }
    /// has_value().
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; only when has_value().
    T& value() & { assert(has_value()); return std::get<0>(v_); }
    /// @copydoc value()
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    /// The value, moved out; only when has_value().
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }

    /// value().
    T& operator*() & { return value(); }
    /// value().
    const T& operator*() const& { return value(); }
    /// The value, moved out (value() &&).
    T&& operator*() && { return std::move(*this).value(); }
    /// Member access to the value; only when has_value().
    T* operator->() { return &value(); }
    /// @copydoc operator->()
    const T* operator->() const { return &value(); }

    /// The error; an empty std::error_code when this holds a value.
    std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(v_);
    }

private:
    std::variant<T, std::error_code> v_;
};

/// Success or the error that prevented it, for functions with nothing to return (see Status).
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;  ///< no value

    /// Success.
    Result() = default;
    /// Failure with f.ec.
    Result(Failure f) : ec_(f.ec) { assert(f.ec); }
    /// Failure with a twoway error.
    Result(errc e) : ec_(make_error_code(e)) {}

    /// True on success.
    bool has_value() const noexcept { return !ec_; }
    /// has_value().
    explicit operator bool() const noexcept { return has_value(); }
    /// The error; an empty std::error_code on success.
    std::error_code error() const noexcept { return ec_; }

private:
    std::error_code ec_;
};

/// What a function that can only succeed or fail returns.
using Status = Result<void>;

}  // namespace twoway
