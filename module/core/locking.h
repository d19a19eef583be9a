// The module's concurrency model (shared/reference/practices.md P8).
//
// Locks, in the only order a thread may take them (a thread holding a lock of some level takes
// only locks of a higher level; debug builds assert it):
//   1. Library  (RwLock)  shared by every call; exclusive only inside C_Initialize/C_Finalize,
//                         never across a backend (NCrypt) call by any other function.
//   2. Session  (Mutex)   one per session: a call on a session owns it for the whole call, so
//                         operations, find state and the session's objects are never shared.
//   3. Slot     (Mutex)   login state and session counters of one slot; held only briefly.
//   4. Table    (Mutex)   the session handle table; a leaf, held only for a lookup/insert/erase.
// The object layer and cng_model keep their own internal locks below all of these.
// C_Initialize/C_Finalize themselves are serialised by the fork guard's init mutex (level 0).
//
// Two lock implementations, chosen by C_Initialize's arguments: OS locks (std::shared_mutex /
// std::mutex) for NULL args or CKF_OS_LOCKING_OK, or the application's CreateMutex/DestroyMutex/
// LockMutex/UnlockMutex callbacks when it supplies them without CKF_OS_LOCKING_OK.
#pragma once

#include <memory>

#include "pkcs11/pkcs11_all.h"

namespace p11 {

enum class LockLevel : int { kLibrary = 1, kSession = 2, kSlot = 3, kTable = 4 };

// A BasicLockable mutex (usable with std::lock_guard / std::unique_lock). lock() throws
// P11Error with the callback's CK_RV when an application LockMutex fails; unlock() never throws.
class Mutex {
 public:
  explicit Mutex(LockLevel level) noexcept : level_(level) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  virtual ~Mutex() = default;
  void lock();
  void unlock() noexcept;

 protected:
  virtual void do_lock() = 0;
  virtual void do_unlock() noexcept = 0;

 private:
  LockLevel level_;
};

// Reader/writer lock for the library level. With application mutexes it is built from one
// application mutex guarding a reader count (writers, which only C_Initialize/C_Finalize are,
// wait by yielding).
class RwLock {
 public:
  RwLock() = default;
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;
  virtual ~RwLock() = default;
  void lock_shared();
  void unlock_shared() noexcept;
  void lock();
  void unlock() noexcept;

 protected:
  virtual void do_lock_shared() = 0;
  virtual void do_unlock_shared() noexcept = 0;
  virtual void do_lock() = 0;
  virtual void do_unlock() noexcept = 0;
};

class LockFactory {
 public:
  LockFactory() = default;
  LockFactory(const LockFactory&) = delete;
  LockFactory& operator=(const LockFactory&) = delete;
  virtual ~LockFactory() = default;
  // Both throw P11Error with the callback's CK_RV when an application CreateMutex fails.
  [[nodiscard]] virtual std::unique_ptr<Mutex> make_mutex(LockLevel level) = 0;
  [[nodiscard]] virtual std::unique_ptr<RwLock> make_rwlock() = 0;
  [[nodiscard]] virtual bool uses_application_mutexes() const noexcept = 0;
};

std::unique_ptr<LockFactory> make_os_lock_factory();
// args must carry all four callbacks (checked by the caller).
std::unique_ptr<LockFactory> make_application_lock_factory(const CK_C_INITIALIZE_ARGS& args);

// RAII shared hold of an RwLock.
class SharedHold {
 public:
  explicit SharedHold(RwLock& lock) : lock_(&lock) { lock_->lock_shared(); }
  SharedHold(const SharedHold&) = delete;
  SharedHold& operator=(const SharedHold&) = delete;
  ~SharedHold() { lock_->unlock_shared(); }

 private:
  RwLock* lock_;
};

}  // namespace p11
