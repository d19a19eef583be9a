// The initialised library: one published Instance per C_Initialize, reached by every call
// through a shared hold of its library lock. Instances are never freed once published (a late
// or racing caller may still hold the pointer; clients call C_Finalize from atexit handlers):
// C_Finalize destroys the instance's state (and returns application mutexes) and marks it dead,
// and a forked child abandons its parent's instance untouched.
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
