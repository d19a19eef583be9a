// The C boundary of every exported NCrypt function: `return boundary([&] { ... });`.
// Nothing thrown inside ever crosses it: CngError → its status, std::bad_alloc → NTE_NO_MEMORY,
// anything else → NTE_INTERNAL_ERROR. The cause of the last failure is kept per thread for
// diagnostics (tests print it).
#pragma once

#include <new>
#include <type_traits>

#include "core/cng_error.h"
#include "ncrypt.h"

namespace cng::api {

// Records the cause of a failure on this thread (truncated; never allocates).
void record_failure_cause(const char* cause) noexcept;
// The cause of this thread's last failed NCrypt call ("" when none yet).
const char* last_failure_cause() noexcept;

template <class Body>
SECURITY_STATUS boundary(Body&& body) noexcept {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
      body();
      return ERROR_SUCCESS;
    } else {
      return body();
    }
  } catch (const CngError& e) {
    record_failure_cause(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    record_failure_cause("out of memory");
    return NTE_NO_MEMORY;
  } catch (...) {
    record_failure_cause("internal error");
    return NTE_INTERNAL_ERROR;
  }
}

// NTE_BAD_FLAGS unless every bit of flags is in allowed (each function has its own set).
inline void check_flags(DWORD flags, DWORD allowed) {
  require((flags & ~allowed) == 0, NTE_BAD_FLAGS, "unsupported flag bits for this function");
}

// NTE_INVALID_PARAMETER when a required pointer is NULL.
inline void require_arg(const void* p, const char* what) {
  require(p != nullptr, NTE_INVALID_PARAMETER, what);
}

}  // namespace cng::api
