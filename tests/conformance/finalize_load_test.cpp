// C_Finalize under load: worker threads sign and search in a loop while another thread calls
// C_Finalize. It must return within a generous bound (not a benchmark: the bound only tells a
// starved C_Finalize from a working one), and afterwards every worker gets
// CKR_CRYPTOKI_NOT_INITIALIZED, never a crash or another code (PKCS#11 3.0 §5.4). Run with
// the module's own locks (CKF_OS_LOCKING_OK) and with application mutexes that notice any use
// after DestroyMutex.
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "p11_fixture.h"

namespace conf {
namespace {

constexpr int kWorkers = 6;
constexpr auto kFinalizeBound = std::chrono::seconds(10);

// Application mutexes that are never freed while the test runs: DestroyMutex only marks them,
// so a call on a destroyed one is counted instead of touching freed memory.
struct AppMutex {
  std::mutex m;
  std::atomic<bool> destroyed{false};
};
std::mutex g_app_mutexes_guard;
std::deque<std::unique_ptr<AppMutex>> g_app_mutexes;
std::atomic<long> g_use_after_destroy{0};

CK_RV CreateAppMutex(CK_VOID_PTR_PTR out) {
  if (out == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  const std::lock_guard lock(g_app_mutexes_guard);
  g_app_mutexes.push_back(std::make_unique<AppMutex>());
  *out = g_app_mutexes.back().get();
  return CKR_OK;
}

CK_RV DestroyAppMutex(CK_VOID_PTR m) {
  auto* mutex = static_cast<AppMutex*>(m);
  if (mutex->destroyed.exchange(true)) {
    ++g_use_after_destroy;
    return CKR_MUTEX_BAD;
  }
  return CKR_OK;
}

CK_RV LockAppMutex(CK_VOID_PTR m) {
  auto* mutex = static_cast<AppMutex*>(m);
  if (mutex->destroyed.load()) {
    ++g_use_after_destroy;
    return CKR_MUTEX_BAD;
  }
  mutex->m.lock();
  return CKR_OK;
}

CK_RV UnlockAppMutex(CK_VOID_PTR m) {
  auto* mutex = static_cast<AppMutex*>(m);
  if (mutex->destroyed.load()) {
    ++g_use_after_destroy;
    return CKR_MUTEX_BAD;
  }
  mutex->m.unlock();
  return CKR_OK;
}

enum class Locking { kOs, kApplication };

class FinalizeUnderLoad : public P11Test, public ::testing::WithParamInterface<Locking> {
 protected:
  bool InitializeInSetUp() override { return false; }

  // One worker: loops until it sees CKR_CRYPTOKI_NOT_INITIALIZED (or stop_), then checks that
  // later calls see it too. Returns a description of the first unexpected result.
  std::string Work();

  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
  std::atomic<int> busy_{0};  // workers that have completed at least one round
  std::atomic<bool> stop_{false};
};

std::string FinalizeUnderLoad::Work() {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
  if (rv != CKR_OK) {
    return "C_OpenSession: " + RvName(rv);
  }
  const auto ok = [&](CK_RV r) { return (rv = r) == CKR_OK; };
  bool counted = false;
  while (!stop_.load()) {
    CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
    CK_BYTE data[32] = {1, 2, 3};
    CK_BYTE sig[128];
    CK_ULONG len = sizeof sig;
    Template find;
    find.Ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 0;
    CK_TOKEN_INFO info;
    if (ok(f_->C_SignInit(s, &mech, key_)) && ok(f_->C_Sign(s, data, sizeof data, sig, &len)) &&
        ok(f_->C_FindObjectsInit(s, find.data(), find.size())) &&
        ok(f_->C_FindObjects(s, found, 4, &n)) && ok(f_->C_FindObjectsFinal(s)) &&
        ok(f_->C_GetTokenInfo(kUserSlot, &info))) {
      if (!counted) {
        counted = true;
        ++busy_;
      }
      continue;
    }
    if (rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
      return "a call failed with " + RvName(rv);
    }
    // Finalised: every later call says so, on the session and without one.
    CK_SESSION_HANDLE s2 = CK_INVALID_HANDLE;
    const CK_RV later[] = {f_->C_SignInit(s, &mech, key_), f_->C_FindObjectsInit(s, nullptr, 0),
                           f_->C_GetTokenInfo(kUserSlot, &info),
                           f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s2),
                           f_->C_CloseSession(s)};
    for (const CK_RV r : later) {
      if (r != CKR_CRYPTOKI_NOT_INITIALIZED) {
        return "after C_Finalize a call returned " + RvName(r);
      }
    }
    return "";
  }
  return "stopped before C_Finalize took effect";
}

TEST_P(FinalizeUnderLoad, FinalizeCompletesAndLaterCallsSeeNotInitialized) {
  CK_C_INITIALIZE_ARGS args{};
  if (GetParam() == Locking::kOs) {
    args.flags = CKF_OS_LOCKING_OK;
  } else {
    args.CreateMutex = CreateAppMutex;
    args.DestroyMutex = DestroyAppMutex;
    args.LockMutex = LockAppMutex;
    args.UnlockMutex = UnlockAppMutex;
  }
  g_use_after_destroy = 0;
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair ec = GenerateEc(s, EcParamsP256(), {.token = true, .label = "finalize-load"});
  ASSERT_TRUE(ec.ok());
  key_ = ec.priv;

  std::mutex failures_guard;
  std::vector<std::string> failures;
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      const std::string err = Work();
      if (!err.empty()) {
        const std::lock_guard lock(failures_guard);
        failures.push_back("worker " + std::to_string(i) + ": " + err);
      }
    });
  }
  // Every worker is in its loop before C_Finalize starts (bounded, in case one fails early).
  const auto start_limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (busy_.load() < kWorkers && std::chrono::steady_clock::now() < start_limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(busy_.load(), kWorkers) << "not every worker got going";

  std::atomic<bool> finalized{false};
  CK_RV finalize_rv = CKR_GENERAL_ERROR;
  const auto started = std::chrono::steady_clock::now();
  std::thread finalizer([&] {
    finalize_rv = f_->C_Finalize(nullptr);
    finalized.store(true);
  });
  while (!finalized.load() && std::chrono::steady_clock::now() - started < kFinalizeBound) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool in_time = finalized.load();
  EXPECT_TRUE(in_time) << "C_Finalize did not return within "
                       << std::chrono::seconds(kFinalizeBound).count()
                       << " s while other threads kept calling the module";
  stop_.store(true);  // lets a starved C_Finalize through, so the test ends either way
  finalizer.join();
  for (auto& t : workers) {
    t.join();
  }
  EXPECT_CKR(CKR_OK, finalize_rv);
  if (in_time) {
    for (const auto& f : failures) {
      ADD_FAILURE() << f;
    }
  }
  EXPECT_EQ(g_use_after_destroy.load(), 0) << "an application mutex was used after DestroyMutex";
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
}

INSTANTIATE_TEST_SUITE_P(Locks, FinalizeUnderLoad,
                         ::testing::Values(Locking::kOs, Locking::kApplication),
                         [](const ::testing::TestParamInfo<Locking>& param) {
                           return param.param == Locking::kOs ? "OsLocking" : "AppMutexes";
                         });

}  // namespace
}  // namespace conf
