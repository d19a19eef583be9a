#include "api/boundary.h"

#include <atomic>
#include <cstring>

#include "api/testing_hooks.h"

namespace cng::api {

namespace {
// A fixed array: trivially destructible, so calls from atexit handlers stay safe.
thread_local char t_last_cause[256] = {};
std::atomic<bool> g_fail_allocations{false};
}  // namespace

void record_failure_cause(const char* cause) noexcept {
  std::strncpy(t_last_cause, cause != nullptr ? cause : "", sizeof t_last_cause - 1);
  t_last_cause[sizeof t_last_cause - 1] = '\0';
}

const char* last_failure_cause() noexcept { return t_last_cause; }

namespace testing {

void set_allocation_failure(bool enabled) noexcept {
  g_fail_allocations.store(enabled, std::memory_order_relaxed);
}

void maybe_fail_allocation() {
  if (g_fail_allocations.load(std::memory_order_relaxed)) {
    throw std::bad_alloc();
  }
}

}  // namespace testing

}  // namespace cng::api
