// The initialised library: one instance per process, reached by every call through a shared
// hold of its library lock. The instance record itself lives in static storage and is never
// destroyed (a late or racing caller may still look at it; clients call C_Finalize from
// atexit handlers), so unloading the library leaves nothing behind. C_Finalize first turns new
// calls away (so callers that keep coming cannot starve it), waits for the calls in flight,
// then frees the instance's state and library lock (returning application mutexes). A forked
// child abandons its parent's lock and state untouched.
#pragma once

#include "session/module_state.h"

namespace p11 {

// C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_ARGUMENTS_BAD for a partial set of
// mutex callbacks, or whatever opening the slots fails with.
void initialize_library(const CK_C_INITIALIZE_ARGS* args);
// C_Finalize: CKR_CRYPTOKI_NOT_INITIALIZED when not initialised (in this process).
void finalize_library();

class RwLock;

// A shared hold of the live instance for the duration of one call.
class LibraryHold {
 public:
  // CKR_CRYPTOKI_NOT_INITIALIZED when not initialised, finalised or in a forked child.
  LibraryHold();
  LibraryHold(const LibraryHold&) = delete;
  LibraryHold& operator=(const LibraryHold&) = delete;
  ~LibraryHold();
  [[nodiscard]] ModuleState& state() const noexcept { return *state_; }

 private:
  RwLock* lock_ = nullptr;
  ModuleState* state_ = nullptr;
};

}  // namespace p11
