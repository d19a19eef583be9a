// C_Initialize / C_Finalize variants (clients.md §2, §3; practices.md P8) and the
// not-initialised answers.
#include <atomic>
#include <mutex>

#include "module_test_support.h"

namespace module_test {
namespace {

// Application mutex callbacks that count their calls (real mutexes underneath).
struct MutexCounters {
  std::atomic<int> created{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> locked{0};
  std::atomic<int> unlocked{0};
};
MutexCounters g_counts;

void reset_counts() {
  g_counts.created = 0;
  g_counts.destroyed = 0;
  g_counts.locked = 0;
  g_counts.unlocked = 0;
}

CK_RV create_mutex(CK_VOID_PTR_PTR out) {
  *out = new std::mutex;
  ++g_counts.created;
  return CKR_OK;
}
CK_RV destroy_mutex(CK_VOID_PTR m) {
  delete static_cast<std::mutex*>(m);
  ++g_counts.destroyed;
  return CKR_OK;
}
CK_RV lock_mutex(CK_VOID_PTR m) {
  static_cast<std::mutex*>(m)->lock();
  ++g_counts.locked;
  return CKR_OK;
}
CK_RV unlock_mutex(CK_VOID_PTR m) {
  ++g_counts.unlocked;
  static_cast<std::mutex*>(m)->unlock();
  return CKR_OK;
}

CK_C_INITIALIZE_ARGS with_callbacks(CK_FLAGS flags) {
  CK_C_INITIALIZE_ARGS args{};
  args.CreateMutex = &create_mutex;
  args.DestroyMutex = &destroy_mutex;
  args.LockMutex = &lock_mutex;
  args.UnlockMutex = &unlock_mutex;
  args.flags = flags;
  return args;
}

class Initialize : public ::testing::Test {
 protected:
  void SetUp() override {
    p11 = list30();
    ASSERT_NE(p11, nullptr);
  }
  // A few calls that need the library, a slot and a session.
  void exercise() {
    CK_ULONG count = 0;
    ASSERT_EQ(p11->C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
    ASSERT_GE(count, 2U);
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    ASSERT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_OK);
    CK_SESSION_INFO info{};
    ASSERT_EQ(p11->C_GetSessionInfo(h, &info), CKR_OK);
    ASSERT_EQ(p11->C_CloseSession(h), CKR_OK);
  }
  CK_FUNCTION_LIST_3_0* p11 = nullptr;
};

TEST_F(Initialize, NullArguments) {
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  exercise();
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

TEST_F(Initialize, OsLockingWithoutCallbacks) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_EQ(p11->C_Initialize(&args), CKR_OK);
  exercise();
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

TEST_F(Initialize, NssStyleCallbacksWithOsLockingUseOsLocks) {
  reset_counts();
  CK_C_INITIALIZE_ARGS args =
      with_callbacks(CKF_OS_LOCKING_OK | CKF_LIBRARY_CANT_CREATE_OS_THREADS);
  ASSERT_EQ(p11->C_Initialize(&args), CKR_OK);
  exercise();
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(g_counts.created.load(), 0);
  EXPECT_EQ(g_counts.locked.load(), 0);
}

TEST_F(Initialize, ApplicationMutexesAreUsedWithoutOsLockingFlag) {
  reset_counts();
  CK_C_INITIALIZE_ARGS args = with_callbacks(0);
  ASSERT_EQ(p11->C_Initialize(&args), CKR_OK);
  const int created_by_init = g_counts.created.load();
  EXPECT_GE(created_by_init, 2);  // library lock, session table, slot locks
  exercise();
  EXPECT_GT(g_counts.created.load(), created_by_init);  // the session's own mutex
  EXPECT_GT(g_counts.locked.load(), 0);
  EXPECT_EQ(g_counts.locked.load(), g_counts.unlocked.load());
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(g_counts.destroyed.load(), g_counts.created.load());
  EXPECT_EQ(g_counts.locked.load(), g_counts.unlocked.load());
}

TEST_F(Initialize, PartialCallbackSetIsRejected) {
  CK_C_INITIALIZE_ARGS args = with_callbacks(CKF_OS_LOCKING_OK);
  args.UnlockMutex = nullptr;
  EXPECT_EQ(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  args = with_callbacks(0);
  args.CreateMutex = nullptr;
  EXPECT_EQ(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  CK_ULONG count = 0;
  EXPECT_EQ(p11->C_GetSlotList(CK_TRUE, nullptr, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST_F(Initialize, NonNullReservedIsArgumentsBad) {
  char config[] = "x-init-reserved=something";
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  args.pReserved = config;
  EXPECT_EQ(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  CK_ULONG count = 0;
  EXPECT_EQ(p11->C_GetSlotList(CK_TRUE, nullptr, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
  args.pReserved = nullptr;
  ASSERT_EQ(p11->C_Initialize(&args), CKR_OK);
  exercise();
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

TEST_F(Initialize, SecondInitializeIsAlreadyInitialized) {
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  EXPECT_EQ(p11->C_Initialize(nullptr), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  EXPECT_EQ(list240()->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

TEST_F(Initialize, FinalizeRules) {
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  int reserved = 0;
  EXPECT_EQ(p11->C_Finalize(&reserved), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
  // Re-initialisable after finalisation.
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  exercise();
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

TEST_F(Initialize, EveryLibraryFunctionAnswersNotInitialized) {
  CK_ULONG count = 0;
  CK_INFO info{};
  CK_SLOT_INFO slot_info{};
  CK_TOKEN_INFO token_info{};
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  CK_SLOT_ID slot = 0;
  CK_BYTE buf[16] = {};
  EXPECT_EQ(p11->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_GetSlotList(CK_FALSE, nullptr, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_GetSlotInfo(0, &slot_info), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_GetTokenInfo(0, &token_info), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h),
            CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_CloseAllSessions(0), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_GenerateRandom(1, buf, sizeof buf), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_InitToken(0, nullptr, 0, nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_SignMessageBegin(1, nullptr, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_SessionCancel(1, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
}

}  // namespace
}  // namespace module_test
