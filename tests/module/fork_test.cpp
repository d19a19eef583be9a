// Fork: a child answers CKR_CRYPTOKI_NOT_INITIALIZED until it calls C_Initialize, which then
// works; the parent is unaffected.
#include <atomic>
#include <thread>

#include "module_test_support.h"

namespace module_test {
namespace {

int child_after_fork(void*) {
  CK_FUNCTION_LIST_3_0* p11 = list30();  // C_GetInterface works without initialisation
  if (p11 == nullptr || list240() == nullptr) {
    return 2;
  }
  CK_ULONG count = 0;
  CK_INFO info{};
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  if (p11->C_GetSlotList(CK_TRUE, nullptr, &count) != CKR_CRYPTOKI_NOT_INITIALIZED ||
      p11->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED ||
      p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h) !=
          CKR_CRYPTOKI_NOT_INITIALIZED ||
      p11->C_CloseSession(1) != CKR_CRYPTOKI_NOT_INITIALIZED ||
      p11->C_Finalize(nullptr) != CKR_CRYPTOKI_NOT_INITIALIZED) {
    return 3;
  }
  if (p11->C_Initialize(nullptr) != CKR_OK) {
    return 4;
  }
  if (p11->C_Initialize(nullptr) != CKR_CRYPTOKI_ALREADY_INITIALIZED ||
      p11->C_GetSlotList(CK_TRUE, nullptr, &count) != CKR_OK || count < 2 ||
      p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h) != CKR_OK ||
      p11->C_CloseSession(h) != CKR_OK) {
    return 5;
  }
  return p11->C_Finalize(nullptr) == CKR_OK ? 0 : 6;
}

class Fork : public InitializedTest {};

TEST_F(Fork, ChildMustReinitialize) {
  const CK_SESSION_HANDLE h = open(0, true);
  EXPECT_EQ(run_in_child(&child_after_fork, nullptr), 0);
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11->C_GetSessionInfo(h, &info), CKR_OK) << "the parent keeps its session";
}

// GCC's AddressSanitizer runtime (libasan 8, GCC 12) does not make its allocator fork-safe:
// when another thread holds the runtime's SizeClassAllocator lock at the moment of fork(), the
// child's first operator new blocks forever on a lock no thread of the child owns (seen as a
// hang in __sanitizer::SizeClassAllocator64::GetFromAllocator). glibc's malloc takes its
// arenas' locks around fork(), so the test keeps running in the normal build.
#if defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define CNG_FORK_UNSAFE_ALLOCATOR 1
#endif

TEST_F(Fork, ForkWhileOtherThreadsUseTheLibrary) {
#ifdef CNG_FORK_UNSAFE_ALLOCATOR
  GTEST_SKIP() << "GCC libasan's allocator is not fork-safe with other threads allocating";
#endif
  // Threads hold library and session locks at arbitrary moments of the fork; the child must
  // still initialise (it never touches the parent's locks).
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        if (p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &s) == CKR_OK) {
          CK_BYTE buf[16];
          (void)p11->C_GenerateRandom(s, buf, sizeof buf);
          (void)p11->C_CloseSession(s);
        }
      }
    });
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(run_in_child(&child_after_fork, nullptr), 0);
  }
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
}

TEST(Concurrency, SessionsOnManyThreads) {
  CK_FUNCTION_LIST_3_0* p11 = list30();
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_EQ(p11->C_Initialize(&args), CKR_OK);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        const CK_SLOT_ID slot = static_cast<CK_SLOT_ID>(t % 2);
        CK_MECHANISM mech{CKM_SHA256, nullptr, 0};
        CK_BYTE data[8] = {1, 2, 3};
        CK_BYTE out[32];
        CK_ULONG len = sizeof out;
        CK_TOKEN_INFO info{};
        if (p11->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK ||
            p11->C_DigestInit(s, &mech) != CKR_OK ||
            p11->C_Digest(s, data, sizeof data, out, &len) != CKR_OK ||
            p11->C_GetTokenInfo(slot, &info) != CKR_OK || p11->C_CloseSession(s) != CKR_OK) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_OK);
}

}  // namespace
}  // namespace module_test
