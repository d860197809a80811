// Result<T>: a value or a std::error_code, in the shape of std::expected (which needs C++23).
// Result<void> carries only success or an error. Failing functions return these and are [[nodiscard]].
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <twoway/error.hpp>

namespace twoway {

// Tag wrapper so an error can be returned from any Result<T> without naming T.
struct Failure {
    std::error_code ec;
};
[[nodiscard]] inline Failure fail(std::error_code ec) { return {ec}; }
[[nodiscard]] inline Failure fail(errc e) { return {make_error_code(e)}; }

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Failure f) : v_(std::in_place_index<1>, f.ec) { assert(f.ec); }
    Result(errc e) : Result(fail(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(v_); }
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(v_);
    }

private:
    std::variant<T, std::error_code> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;

    Result() = default;
    Result(Failure f) : ec_(f.ec) { assert(f.ec); }
    Result(errc e) : ec_(make_error_code(e)) {}

    bool has_value() const noexcept { return !ec_; }
    explicit operator bool() const noexcept { return has_value(); }
    std::error_code error() const noexcept { return ec_; }

private:
    std::error_code ec_;
};

using Status = Result<void>;

}  // namespace twoway
