#include "objects/object.h"

#include <atomic>

namespace p11::objects {

namespace {
// Constant-initialised and trivially destructible: usable from atexit handlers after static
// destructors, and nothing on the heap to lose at unload.
constinit std::atomic<CK_OBJECT_HANDLE> g_next_handle{1};
}  // namespace

CK_OBJECT_HANDLE next_object_handle() noexcept {
  return g_next_handle.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace p11::objects
