// Turning an OpenSSL failure into a CngError with a status chosen by the caller.
#pragma once

#include <string>

#include "ncrypt.h"

namespace cng::soft {

// Throws CngError(status, what + the OpenSSL error queue text) and empties the queue.
// Only an allocation failure overrides the status (NTE_NO_MEMORY): a failed operation on
// caller data must report the status the NCrypt contract documents for it, whatever
// OpenSSL's reason code says.
[[noreturn]] void fail_ossl(SECURITY_STATUS status, const std::string& what);

// Throws fail_ossl(status, what) unless ok.
inline void check_ossl(bool ok, SECURITY_STATUS status, const char* what) {
  if (!ok) {
    fail_ossl(status, what);
  }
}

}  // namespace cng::soft
