// The one error type of cng_model: a SECURITY_STATUS plus a human-readable cause.
// Internal code throws CngError; every exported NCrypt function catches it at the boundary
// (api/boundary.h) and returns the status. Nothing thrown ever leaves the library.
#pragma once

#include <stdexcept>
#include <string>

#include "ncrypt.h"

namespace cng {

class CngError : public std::runtime_error {
 public:
  CngError(SECURITY_STATUS status, const std::string& cause)
      : std::runtime_error(cause), status_(status) {}
  [[nodiscard]] SECURITY_STATUS status() const noexcept { return status_; }

 private:
  SECURITY_STATUS status_;
};

[[noreturn]] inline void fail(SECURITY_STATUS status, const std::string& cause) {
  throw CngError(status, cause);
}

// Throws CngError(status, cause) unless cond holds.
inline void require(bool cond, SECURITY_STATUS status, const char* cause) {
  if (!cond) {
    fail(status, cause);
  }
}

// Symbolic name of a status ("NTE_EXISTS"), or "UNKNOWN" (status_names.cpp).
const char* status_name(SECURITY_STATUS status) noexcept;

// Foreign error spaces, one mapping table each (status_maps.cpp).
SECURITY_STATUS status_from_errno(int err) noexcept;
// Maps the first OpenSSL error on the queue (clearing it) to a status; fallback when empty.
SECURITY_STATUS status_from_openssl(SECURITY_STATUS fallback) noexcept;
// Throws CngError with the mapped errno and "what: strerror".
[[noreturn]] void fail_errno(int err, const std::string& what);
// Throws CngError with the mapped OpenSSL error (fallback when unknown) and the queue text.
[[noreturn]] void fail_openssl(SECURITY_STATUS fallback, const std::string& what);

}  // namespace cng
