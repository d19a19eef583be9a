// The ABI fuzzer's operations: each reads its arguments from the input and makes one C_* call
// (or a short fixed sequence), checking every CK_RV against the specification's table.
#pragma once

#include <span>

#include "abi/input.h"

namespace fuzz::abi {

using Op = void (*)(State&);

std::span<const Op> general_ops();  // init, slots, sessions, login, objects (ops_general.cpp)
std::span<const Op> crypto_ops();   // cipher, digest, sign, keys, random, messages (ops_crypto.cpp)

}  // namespace fuzz::abi
