#include "session/instance.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "core/fork_guard.h"

namespace p11 {

namespace {

struct Instance {
  std::uint64_t generation = 0;
  std::unique_ptr<RwLock> library_lock;
  std::atomic<bool> live{false};
  std::unique_ptr<ModuleState> state;
};

std::atomic<Instance*> g_instance{nullptr};

// Instances no longer current (finalised, or abandoned by a forked child). Kept reachable so
// late callers never touch freed memory (and leak checkers see them as reachable).
std::vector<Instance*>& retired() {
  static auto* list = new std::vector<Instance*>;
  return *list;
}

bool is_current(const Instance* instance) noexcept {
  return instance != nullptr && instance->generation == fork_generation() &&
         instance->live.load(std::memory_order_acquire);
}

std::unique_ptr<LockFactory> choose_locks(const CK_C_INITIALIZE_ARGS* args) {
  if (args == nullptr) {
    return make_os_lock_factory();
  }
  // PKCS#11 3.0 §5.4 (C_Initialize): pReserved "must be NULL_PTR"; anything else is
  // CKR_ARGUMENTS_BAD and the library stays uninitialised.
  require(args->pReserved == nullptr, CKR_ARGUMENTS_BAD, "C_Initialize: pReserved must be NULL");
  const int supplied = (args->CreateMutex != nullptr) + (args->DestroyMutex != nullptr) +
                       (args->LockMutex != nullptr) + (args->UnlockMutex != nullptr);
  require(supplied == 0 || supplied == 4, CKR_ARGUMENTS_BAD,
          "mutex callbacks must be supplied all four or none");
  // CKF_OS_LOCKING_OK: our own locks. Callbacks without it: the application's mutexes.
  // Neither: the application is single-threaded; OS locks are as good as none.
  // CKF_LIBRARY_CANT_CREATE_OS_THREADS needs nothing: the module never starts threads.
  if (supplied == 4 && (args->flags & CKF_OS_LOCKING_OK) == 0) {
    return make_application_lock_factory(*args);
  }
  return make_os_lock_factory();
}

}  // namespace

void initialize_library(const CK_C_INITIALIZE_ARGS* args) {
  install_fork_handlers();
  std::lock_guard guard(init_mutex());
  Instance* current = g_instance.load(std::memory_order_acquire);
  require(!is_current(current), CKR_CRYPTOKI_ALREADY_INITIALIZED, "already initialised");

  auto locks = choose_locks(args);
  auto instance = std::make_unique<Instance>();
  instance->generation = fork_generation();
  instance->library_lock = locks->make_rwlock();
  instance->state = std::make_unique<ModuleState>(std::move(locks));
  instance->live.store(true, std::memory_order_release);

  retired().reserve(retired().size() + 1);  // the push_back below cannot throw
  if (current != nullptr && current->generation != instance->generation) {
    // Inherited from the parent across fork(): its locks may be held by threads that do not
    // exist here, so it is abandoned without being touched.
    retired().push_back(current);
  }
  g_instance.store(instance.release(), std::memory_order_release);
}

void finalize_library() {
  std::lock_guard guard(init_mutex());
  Instance* current = g_instance.load(std::memory_order_acquire);
  require(is_current(current), CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");

  retired().reserve(retired().size() + 1);
  // Wait for calls in flight, then make the instance unreachable for new ones.
  current->library_lock->lock();
  current->live.store(false, std::memory_order_release);
  g_instance.store(nullptr, std::memory_order_release);
  std::unique_ptr<ModuleState> state = std::move(current->state);
  current->library_lock->unlock();
  retired().push_back(current);
  // An application mutex goes back to the application (DestroyMutex). Our own lock stays with
  // the retired instance, so even a call racing C_Finalize (undefined by PKCS#11 §5.4) finds a
  // valid lock and answers CKR_CRYPTOKI_NOT_INITIALIZED.
  if (state->locks().uses_application_mutexes()) {
    current->library_lock.reset();
  }
  // Destroyed outside the library lock: nothing can reach it any more.
  state.reset();
}

LibraryHold::LibraryHold() {
  Instance* instance = g_instance.load(std::memory_order_acquire);
  require(instance != nullptr && instance->generation == fork_generation(),
          CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  instance->library_lock->lock_shared();
  if (!instance->live.load(std::memory_order_acquire)) {  // finalised meanwhile
    instance->library_lock->unlock_shared();
    fail(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  }
  lock_ = instance->library_lock.get();
  state_ = instance->state.get();
}

LibraryHold::~LibraryHold() { lock_->unlock_shared(); }

}  // namespace p11
