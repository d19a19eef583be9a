// The module's one error type: a CK_RV plus a cause. Implementation code throws P11Error;
// the ABI dispatcher (abi/) catches everything and returns the CK_RV. Nothing crosses the ABI.
#pragma once

#include <stdexcept>
#include <string>

#include "pkcs11/pkcs11_all.h"

namespace p11 {

class P11Error : public std::runtime_error {
 public:
  P11Error(CK_RV rv, const std::string& cause) : std::runtime_error(cause), rv_(rv) {}
  [[nodiscard]] CK_RV rv() const noexcept { return rv_; }

 private:
  CK_RV rv_;
};

[[noreturn]] inline void fail(CK_RV rv, const std::string& cause) { throw P11Error(rv, cause); }

inline void require(bool cond, CK_RV rv, const char* cause) {
  if (!cond) {
    fail(rv, cause);
  }
}

}  // namespace p11
