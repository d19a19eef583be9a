#include "session/instance.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "core/fork_guard.h"
#include "core/unload.h"

namespace p11 {

namespace {

// Only atomics: constant-initialised and trivially destructible, so it is usable before and
// after every constructor and destructor of the library and gone with its mapping.
struct Instance {
  // True from the end of C_Initialize to the start of C_Finalize. A call that finds it false
  // never touches the library lock, so C_Finalize waits only for the calls already inside
  // (callers that keep coming would starve it otherwise: glibc's std::shared_mutex prefers
  // readers).
  std::atomic<bool> live{false};
  // Calls from their first look at `live` to the release of their shared hold. Together with
  // `live` (both sequentially consistent) it tells C_Finalize when no call can touch the lock
  // and the state any more.
  std::atomic<unsigned long> entered{0};
  std::atomic<std::uint64_t> generation{0};  // the fork generation C_Initialize ran in
  std::atomic<RwLock*> lock{nullptr};
  std::atomic<ModuleState*> state{nullptr};
};

constinit Instance g_instance;

// Constructed when the library is loaded, so destroyed when it is unloaded (or at exit): frees
// the process-wide caches unless the library is still initialised (core/unload.h).
struct ReleaseAtUnload {
  ReleaseAtUnload() = default;
  ReleaseAtUnload(const ReleaseAtUnload&) = delete;
  ReleaseAtUnload& operator=(const ReleaseAtUnload&) = delete;
  ~ReleaseAtUnload() {
    // A thread still inside C_Initialize/C_Finalize at exit keeps the caches (a leak at exit).
    std::unique_lock guard(init_mutex(), std::try_to_lock);
    if (guard.owns_lock() && !g_instance.live.load()) {
      run_unload_releases();
    }
  }
};
const ReleaseAtUnload g_release_at_unload;

bool is_current() noexcept {
  return g_instance.live.load() && g_instance.generation.load() == fork_generation();
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
  require(!is_current(), CKR_CRYPTOKI_ALREADY_INITIALIZED, "already initialised");
  // After the library's static destructors freed its caches (an atexit handler).
  require(!unload_released(), CKR_FUNCTION_FAILED, "C_Initialize after the library was unloaded");

  auto locks = choose_locks(args);
  std::unique_ptr<RwLock> lock = locks->make_rwlock();
  auto state = std::make_unique<ModuleState>(std::move(locks));
  if (g_instance.generation.load() != fork_generation()) {
    // A forked child: the parent's lock and state are abandoned without being touched (their
    // locks may be held by threads that do not exist here), and so is its count of callers.
    g_instance.entered.store(0);
    g_instance.generation.store(fork_generation());
  }
  g_instance.lock.store(lock.release());
  g_instance.state.store(state.release());
  g_instance.live.store(true);
}

void finalize_library() {
  std::lock_guard guard(init_mutex());
  require(is_current(), CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");

  // New calls stop at `live`; the exclusive hold waits for the calls in flight.
  g_instance.live.store(false);
  RwLock* lock = g_instance.lock.load();
  try {
    lock->lock();
  } catch (...) {  // an application LockMutex failed: still initialised
    g_instance.live.store(true);
    throw;
  }
  lock->unlock();
  // Calls that looked at `live` before it changed may still be on their way into the lock or
  // out of it: they find `live` false and leave at once. After that nothing reaches either.
  while (g_instance.entered.load() != 0) {
    std::this_thread::yield();
  }
  // Application mutexes go back to the application (DestroyMutex).
  std::unique_ptr<RwLock>(g_instance.lock.exchange(nullptr)).reset();
  std::unique_ptr<ModuleState>(g_instance.state.exchange(nullptr)).reset();
}

LibraryHold::LibraryHold() {
  require(is_current(), CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  // Announce, then look again: either C_Finalize sees this call in `entered` and waits for
  // it, or this call sees `live` false and touches nothing.
  g_instance.entered.fetch_add(1);
  if (!g_instance.live.load()) {
    g_instance.entered.fetch_sub(1);
    fail(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  }
  RwLock* lock = g_instance.lock.load();
  try {
    lock->lock_shared();
  } catch (...) {
    g_instance.entered.fetch_sub(1);
    throw;
  }
  if (!g_instance.live.load()) {  // C_Finalize started meanwhile
    lock->unlock_shared();
    g_instance.entered.fetch_sub(1);
    fail(CKR_CRYPTOKI_NOT_INITIALIZED, "not initialised");
  }
  lock_ = lock;
  state_ = g_instance.state.load();
}

LibraryHold::~LibraryHold() {
  lock_->unlock_shared();
  g_instance.entered.fetch_sub(1);
}

}  // namespace p11
