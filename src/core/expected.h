// std::expected for the one compiler medvault builds with that lacks it: clang 14, used only
// for the libFuzzer build (CMake preset `fuzz`). libstdc++ 12 hides <expected> unless
// __cpp_concepts >= 202002L, which clang 14 does not reach (it lacks the conditionally
// trivial special members std::expected is written with). With g++ 12, every other build,
// this header is just <expected>.
//
// The fallback is not a general std::expected: it covers what medvault uses, which is
// construction from a value, from std::unexpected or by default, has_value / operator bool,
// *, ->, value(), error(), value_or, and expected<void, E>. Storage is a std::variant, so
// copying, moving and destruction are the variant's. Delete this file when the fuzz build
// moves to a clang that compiles libstdc++'s <expected>.
#pragma once

#include <expected>

#if !defined(__cpp_lib_expected)

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

// Declaring these in std is what lets every call site stay standard C++23.
// clang-format 14 cannot lay out requires-clauses readably.
// clang-format off
namespace std {

template <class E>
class unexpected {
 public:
  template <class Err = E>
    requires(!is_same_v<remove_cvref_t<Err>, unexpected> &&
             !is_same_v<remove_cvref_t<Err>, in_place_t> && is_constructible_v<E, Err>)
  constexpr explicit unexpected(Err&& error) : error_(std::forward<Err>(error)) {}

  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

// Thrown by value() on an expected that holds an error.
template <class E>
class bad_expected_access : public exception {
 public:
  explicit bad_expected_access(E error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return "bad access to std::expected without value"; }
  const E& error() const& noexcept { return error_; }

 private:
  E error_;
};

namespace medvault_expected_detail {
template <class T>
inline constexpr bool kIsUnexpected = false;
template <class E>
inline constexpr bool kIsUnexpected<unexpected<E>> = true;
}  // namespace medvault_expected_detail

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;
  using unexpected_type = unexpected<E>;

  constexpr expected()
    requires is_default_constructible_v<T>
      : storage_(in_place_index<0>) {}

  template <class U = T>
    requires(!is_same_v<remove_cvref_t<U>, expected> &&
             !is_same_v<remove_cvref_t<U>, in_place_t> &&
             !medvault_expected_detail::kIsUnexpected<remove_cvref_t<U>> &&
             is_constructible_v<T, U>)
  constexpr explicit(!is_convertible_v<U, T>) expected(U&& value)
      : storage_(in_place_index<0>, std::forward<U>(value)) {}

  template <class G>
    requires is_constructible_v<E, const G&>
  constexpr explicit(!is_convertible_v<const G&, E>) expected(const unexpected<G>& error)
      : storage_(in_place_index<1>, error.error()) {}

  template <class G>
    requires is_constructible_v<E, G>
  constexpr explicit(!is_convertible_v<G, E>) expected(unexpected<G>&& error)
      : storage_(in_place_index<1>, std::move(error).error()) {}

  constexpr bool has_value() const noexcept { return storage_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  // Like the standard's, these do not check: the caller tested has_value() first.
  constexpr const T& operator*() const& noexcept { return *get_if<0>(&storage_); }
  constexpr T& operator*() & noexcept { return *get_if<0>(&storage_); }
  constexpr T&& operator*() && noexcept { return std::move(*get_if<0>(&storage_)); }
  constexpr const T* operator->() const noexcept { return get_if<0>(&storage_); }
  constexpr T* operator->() noexcept { return get_if<0>(&storage_); }

  constexpr const T& value() const& {
    ThrowIfError();
    return **this;
  }
  constexpr T& value() & {
    ThrowIfError();
    return **this;
  }
  constexpr T&& value() && {
    ThrowIfError();
    return std::move(**this);
  }

  constexpr const E& error() const& noexcept { return *get_if<1>(&storage_); }
  constexpr E& error() & noexcept { return *get_if<1>(&storage_); }
  constexpr E&& error() && noexcept { return std::move(*get_if<1>(&storage_)); }

  template <class U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  constexpr T value_or(U&& fallback) && {
    return has_value() ? std::move(**this) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  constexpr void ThrowIfError() const {
    if (!has_value()) throw bad_expected_access<E>(error());
  }

  variant<T, E> storage_;
};

template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;
  using unexpected_type = unexpected<E>;

  constexpr expected() noexcept : storage_(in_place_index<0>) {}

  template <class G>
    requires is_constructible_v<E, const G&>
  constexpr explicit(!is_convertible_v<const G&, E>) expected(const unexpected<G>& error)
      : storage_(in_place_index<1>, error.error()) {}

  template <class G>
    requires is_constructible_v<E, G>
  constexpr explicit(!is_convertible_v<G, E>) expected(unexpected<G>&& error)
      : storage_(in_place_index<1>, std::move(error).error()) {}

  constexpr bool has_value() const noexcept { return storage_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}

  constexpr void value() const {
    if (!has_value()) throw bad_expected_access<E>(error());
  }

  constexpr const E& error() const& noexcept { return *get_if<1>(&storage_); }
  constexpr E& error() & noexcept { return *get_if<1>(&storage_); }
  constexpr E&& error() && noexcept { return std::move(*get_if<1>(&storage_)); }

 private:
  variant<monostate, E> storage_;
};

}  // namespace std
// clang-format on

#endif  // !defined(__cpp_lib_expected)
