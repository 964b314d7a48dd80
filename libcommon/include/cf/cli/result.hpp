#pragma once
// What a parser of untrusted input returns: a value, or the reason there is
// none. Parsers never throw; the caller decides whether a reason is fatal.
#include <optional>
#include <string>
#include <utility>

namespace cf {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  static Result failure(std::string reason) { return Result(std::move(reason), 0); }

  explicit operator bool() const noexcept { return value_.has_value(); }
  bool ok() const noexcept { return value_.has_value(); }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  const T* operator->() const { return &*value_; }
  const std::string& error() const noexcept { return error_; }

 private:
  Result(std::string reason, int) : error_(std::move(reason)) {}
  std::optional<T> value_;
  std::string error_;
};

}  // namespace cf
