// The ABI fuzzer's oracle: every CK_RV must be one allowed_returns.h lists for the function.
#pragma once

#include <string_view>

#include "pkcs11/pkcs11_all.h"

namespace fuzz::abi {

// Traps (so libFuzzer reports the input) when rv is not allowed for function; returns rv.
CK_RV check(std::string_view function, CK_RV rv);

}  // namespace fuzz::abi

// Calls st.f->name(args...) and checks its return value.
#define ABI_CALL(st, name, ...) ::fuzz::abi::check(#name, (st).f->name(__VA_ARGS__))
