// The argument list of a traced C_* call (CNG_PKCS11_DEBUG), formatted from the entry point's
// own parameters by their types, before the call:
//   numbers (handles, lengths, flags, user and mechanism types)  decimal
//   CK_BBOOL                                                     TRUE / FALSE
//   CK_MECHANISM_PTR                                             {mech=0x…, param_len=N}
//   CK_ATTRIBUTE_PTR followed by its count                       [{type=0x…, len=N}, …]
//   any other pointer (PIN, data, output buffers, structures)    its address or NULL
// Never a pointee's bytes: attribute values, PINs and data buffers cannot appear in a trace.
#pragma once

#include <string>
#include <tuple>
#include <type_traits>

#include "core/log.h"

namespace p11::trace {

void append_number(std::string& out, unsigned long value);
void append_pointer(std::string& out, const volatile void* pointer);
void append_mechanism(std::string& out, const CK_MECHANISM* mechanism);
void append_template(std::string& out, const CK_ATTRIBUTE* attributes, CK_ULONG count);

template <class T>
void append_one(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, CK_MECHANISM_PTR>) {
    append_mechanism(out, value);
  } else if constexpr (std::is_same_v<T, CK_BBOOL>) {
    out += value ? "TRUE" : "FALSE";
  } else if constexpr (std::is_integral_v<T>) {
    append_number(out, static_cast<unsigned long>(value));
  } else if constexpr (std::is_pointer_v<T> && std::is_function_v<std::remove_pointer_t<T>>) {
    out += value != nullptr ? "callback" : "NULL";
  } else if constexpr (std::is_pointer_v<T>) {
    append_pointer(out, value);
  } else {
    out += '?';
  }
}

inline void append_all(std::string&) {}

template <class A, class... Rest>
void append_all(std::string& out, const A& first, const Rest&... rest) {
  if constexpr (std::is_same_v<A, CK_ATTRIBUTE_PTR> && sizeof...(Rest) > 0) {
    using Next = std::tuple_element_t<0, std::tuple<Rest...>>;
    if constexpr (std::is_same_v<Next, CK_ULONG>) {
      append_template(out, first, std::get<0>(std::tie(rest...)));
    } else {
      append_one(out, first);
    }
  } else {
    append_one(out, first);
  }
  if constexpr (sizeof...(Rest) > 0) {
    out += ", ";
    append_all(out, rest...);
  }
}

// "" when tracing is off (nothing is formatted then).
template <class... Args>
std::string format_args(const Args&... args) {
  std::string out;
  if (log_enabled()) {
    append_all(out, args...);
  }
  return out;
}

}  // namespace p11::trace
