#include "abi/oracle.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "abi/allowed_returns.h"

namespace fuzz::abi {

namespace {

bool in(std::initializer_list<CK_RV> codes, CK_RV rv) {
  return std::find(codes.begin(), codes.end(), rv) != codes.end();
}

bool allowed(const AllowedReturns& row, CK_RV rv) {
  if (in({CKR_OK, CKR_GENERAL_ERROR, CKR_HOST_MEMORY, CKR_FUNCTION_FAILED, CKR_ARGUMENTS_BAD,
          CKR_FUNCTION_NOT_SUPPORTED},
         rv)) {
    return true;
  }
  if (rv == CKR_CRYPTOKI_NOT_INITIALIZED && row.function != "C_Initialize") {
    return true;
  }
  if (row.scope >= kToken &&
      in({CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT}, rv)) {
    return true;
  }
  if (row.scope >= kSession && in({CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED}, rv)) {
    return true;
  }
  return in(row.codes, rv);
}

}  // namespace

CK_RV check(std::string_view function, CK_RV rv) {
  for (const AllowedReturns& row : kAllowedReturns) {
    if (row.function == function) {
      if (!allowed(row, rv)) {
        std::fprintf(stderr, "%.*s returned 0x%lx, which the specification does not allow\n",
                     static_cast<int>(function.size()), function.data(), rv);
        __builtin_trap();
      }
      return rv;
    }
  }
  std::fprintf(stderr, "no allowed-return row for %.*s\n", static_cast<int>(function.size()),
               function.data());
  __builtin_trap();
}

}  // namespace fuzz::abi
