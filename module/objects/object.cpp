#include "objects/object.h"

#include <atomic>

namespace p11::objects {

CK_OBJECT_HANDLE next_object_handle() noexcept {
  // Leaky on purpose: usable from atexit handlers (helper-common.md).
  static auto* counter = new std::atomic<CK_OBJECT_HANDLE>(1);
  return counter->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace p11::objects
