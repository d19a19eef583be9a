#include "core/locking.h"

#include <cassert>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "core/p11_error.h"

namespace p11 {

namespace {

// Debug check of the lock order: the levels this thread holds, as a bit set.
thread_local unsigned held_levels = 0;

unsigned bit(LockLevel level) { return 1U << static_cast<int>(level); }

void note_acquire([[maybe_unused]] LockLevel level) {
  // Every held level must be lower than the one being taken.
  assert((held_levels & ~(bit(level) - 1U)) == 0 && "lock order violated (see core/locking.h)");
  held_levels |= bit(level);
}

void note_release(LockLevel level) { held_levels &= ~bit(level); }

// ---- OS locks ----------------------------------------------------------------------------------

class OsMutex final : public Mutex {
 public:
  using Mutex::Mutex;

 protected:
  void do_lock() override { m_.lock(); }
  void do_unlock() noexcept override { m_.unlock(); }

 private:
  std::mutex m_;
};

class OsRwLock final : public RwLock {
 protected:
  void do_lock_shared() override { m_.lock_shared(); }
  void do_unlock_shared() noexcept override { m_.unlock_shared(); }
  void do_lock() override { m_.lock(); }
  void do_unlock() noexcept override { m_.unlock(); }

 private:
  std::shared_mutex m_;
};

class OsLockFactory final : public LockFactory {
 public:
  std::unique_ptr<Mutex> make_mutex(LockLevel level) override {
    return std::make_unique<OsMutex>(level);
  }
  std::unique_ptr<RwLock> make_rwlock() override { return std::make_unique<OsRwLock>(); }
  [[nodiscard]] bool uses_application_mutexes() const noexcept override { return false; }
};

// ---- Application-supplied mutexes ---------------------------------------------------------------

struct Callbacks {
  CK_CREATEMUTEX create;
  CK_DESTROYMUTEX destroy;
  CK_LOCKMUTEX lock;
  CK_UNLOCKMUTEX unlock;
};

// One application mutex; destroyed with DestroyMutex.
class AppMutexHandle {
 public:
  explicit AppMutexHandle(const Callbacks& cb) : cb_(cb) {
    const CK_RV rv = cb_.create(&handle_);
    if (rv != CKR_OK) {
      fail(rv, "application CreateMutex failed");
    }
  }
  AppMutexHandle(const AppMutexHandle&) = delete;
  AppMutexHandle& operator=(const AppMutexHandle&) = delete;
  ~AppMutexHandle() { (void)cb_.destroy(handle_); }
  void lock() {
    const CK_RV rv = cb_.lock(handle_);
    if (rv != CKR_OK) {
      fail(rv, "application LockMutex failed");
    }
  }
  void unlock() noexcept { (void)cb_.unlock(handle_); }

 private:
  Callbacks cb_;
  void* handle_ = nullptr;
};

class AppMutex final : public Mutex {
 public:
  AppMutex(LockLevel level, const Callbacks& cb) : Mutex(level), m_(cb) {}

 protected:
  void do_lock() override { m_.lock(); }
  void do_unlock() noexcept override { m_.unlock(); }

 private:
  AppMutexHandle m_;
};

// Readers register under the mutex; a writer marks itself, then yields until readers drain.
class AppRwLock final : public RwLock {
 public:
  explicit AppRwLock(const Callbacks& cb) : m_(cb) {}

 protected:
  void do_lock_shared() override {
    for (;;) {
      m_.lock();
      if (!writer_) {
        ++readers_;
        m_.unlock();
        return;
      }
      m_.unlock();
      std::this_thread::yield();
    }
  }
  void do_unlock_shared() noexcept override {
    // LockMutex failing here would leave the count high; the callbacks of real applications
    // (NSS: PR_Lock) cannot fail, so retry rather than lose the release.
    for (;;) {
      try {
        m_.lock();
        break;
      } catch (...) {
        std::this_thread::yield();
      }
    }
    --readers_;
    m_.unlock();
  }
  void do_lock() override {
    for (;;) {  // claim the writer slot
      m_.lock();
      if (!writer_) {
        writer_ = true;
        m_.unlock();
        break;
      }
      m_.unlock();
      std::this_thread::yield();
    }
    for (;;) {  // wait for readers to leave
      m_.lock();
      const bool drained = readers_ == 0;
      m_.unlock();
      if (drained) {
        return;
      }
      std::this_thread::yield();
    }
  }
  void do_unlock() noexcept override {
    for (;;) {
      try {
        m_.lock();
        break;
      } catch (...) {
        std::this_thread::yield();
      }
    }
    writer_ = false;
    m_.unlock();
  }

 private:
  AppMutexHandle m_;
  unsigned long readers_ = 0;
  bool writer_ = false;
};

class AppLockFactory final : public LockFactory {
 public:
  explicit AppLockFactory(const Callbacks& cb) : cb_(cb) {}
  std::unique_ptr<Mutex> make_mutex(LockLevel level) override {
    return std::make_unique<AppMutex>(level, cb_);
  }
  std::unique_ptr<RwLock> make_rwlock() override { return std::make_unique<AppRwLock>(cb_); }
  [[nodiscard]] bool uses_application_mutexes() const noexcept override { return true; }

 private:
  Callbacks cb_;
};

}  // namespace

void Mutex::lock() {
  note_acquire(level_);
  try {
    do_lock();
  } catch (...) {
    note_release(level_);
    throw;
  }
}

void Mutex::unlock() noexcept {
  do_unlock();
  note_release(level_);
}

void RwLock::lock_shared() {
  note_acquire(LockLevel::kLibrary);
  try {
    do_lock_shared();
  } catch (...) {
    note_release(LockLevel::kLibrary);
    throw;
  }
}

void RwLock::unlock_shared() noexcept {
  do_unlock_shared();
  note_release(LockLevel::kLibrary);
}

void RwLock::lock() {
  note_acquire(LockLevel::kLibrary);
  try {
    do_lock();
  } catch (...) {
    note_release(LockLevel::kLibrary);
    throw;
  }
}

void RwLock::unlock() noexcept {
  do_unlock();
  note_release(LockLevel::kLibrary);
}

std::unique_ptr<LockFactory> make_os_lock_factory() { return std::make_unique<OsLockFactory>(); }

std::unique_ptr<LockFactory> make_application_lock_factory(const CK_C_INITIALIZE_ARGS& args) {
  return std::make_unique<AppLockFactory>(
      Callbacks{args.CreateMutex, args.DestroyMutex, args.LockMutex, args.UnlockMutex});
}

}  // namespace p11
