// C_GetFunctionList, C_GetInterfaceList, C_GetInterface, C_Initialize / C_Finalize variants,
// C_GetInfo, fork safety and late teardown.
#include <atomic>
#include <cstddef>
#include <mutex>

#include "p11_fixture.h"
#include "subprocess.h"

namespace conf {
namespace {

// The 3.0 function list layout (PKCS#11 3.0 §5.1.?): version, the 68 functions of 2.40,
// then C_GetInterfaceList ... C_MessageVerifyFinal. Checked against the header we build with.
static_assert(offsetof(CK_FUNCTION_LIST_3_0, C_Initialize) == sizeof(void*));
static_assert(offsetof(CK_FUNCTION_LIST_3_0, C_GetInterfaceList) ==
              offsetof(CK_FUNCTION_LIST, C_WaitForSlotEvent) + sizeof(void*));
static_assert(offsetof(CK_FUNCTION_LIST_3_0, C_MessageVerifyFinal) ==
              offsetof(CK_FUNCTION_LIST_3_0, C_GetInterfaceList) + 23 * sizeof(void*));
static_assert(sizeof(CK_FUNCTION_LIST_3_0) ==
              offsetof(CK_FUNCTION_LIST_3_0, C_MessageVerifyFinal) + sizeof(void*));

class Uninitialized : public P11Test {
 protected:
  bool InitializeInSetUp() override { return false; }
};

// Every slot of a function list must be a callable pointer.
template <class List>
void ExpectAllPointersSet(const List* list, size_t first_offset) {
  const auto* base = reinterpret_cast<const unsigned char*>(list);
  for (size_t off = first_offset; off < sizeof(List); off += sizeof(void*)) {
    void* p = nullptr;
    std::memcpy(&p, base + off, sizeof p);
    EXPECT_NE(p, nullptr) << "function pointer #" << (off - first_offset) / sizeof(void*)
                          << " is NULL";
  }
}

TEST_F(Uninitialized, GetFunctionListRejectsNullAndGivesVersion240Or30) {
  EXPECT_CKR(CKR_ARGUMENTS_BAD, Module().get_function_list(nullptr));
  CK_FUNCTION_LIST* list = nullptr;
  ASSERT_CKR(CKR_OK, Module().get_function_list(&list));
  ASSERT_NE(list, nullptr);
  EXPECT_TRUE((list->version.major == 2 && list->version.minor == 40) ||
              (list->version.major == 3 && list->version.minor == 0))
      << int{list->version.major} << "." << int{list->version.minor};
  ExpectAllPointersSet(list, offsetof(CK_FUNCTION_LIST, C_Initialize));
}

TEST_F(Uninitialized, GetInterfaceListSizeQueryAndBufferTooSmall) {
  ASSERT_NE(Module().get_interface_list, nullptr) << "C_GetInterfaceList not exported";
  EXPECT_CKR(CKR_ARGUMENTS_BAD, Module().get_interface_list(nullptr, nullptr));
  CK_ULONG count = 0;
  ASSERT_CKR(CKR_OK, Module().get_interface_list(nullptr, &count));
  ASSERT_GE(count, 1u);
  std::vector<CK_INTERFACE> ifaces(count + 1);
  if (count > 1) {
    CK_ULONG small = 1;
    EXPECT_CKR(CKR_BUFFER_TOO_SMALL, Module().get_interface_list(ifaces.data(), &small));
    EXPECT_EQ(small, count);
  }
  CK_ULONG zero = 0;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, Module().get_interface_list(ifaces.data(), &zero));
  EXPECT_EQ(zero, count);
  CK_ULONG n = count + 1;
  ASSERT_CKR(CKR_OK, Module().get_interface_list(ifaces.data(), &n));
  ASSERT_EQ(n, count);
  bool has_30 = false;
  for (CK_ULONG i = 0; i < n; ++i) {
    ASSERT_NE(ifaces[i].pInterfaceName, nullptr);
    ASSERT_NE(ifaces[i].pFunctionList, nullptr);
    const std::string name = reinterpret_cast<const char*>(ifaces[i].pInterfaceName);
    const auto* v = static_cast<const CK_VERSION*>(ifaces[i].pFunctionList);
    if (name == "PKCS 11" && v->major == 3 && v->minor == 0) {
      has_30 = true;
      ExpectAllPointersSet(static_cast<const CK_FUNCTION_LIST_3_0*>(ifaces[i].pFunctionList),
                           offsetof(CK_FUNCTION_LIST_3_0, C_Initialize));
    }
    // Each listed interface must be obtainable by name and version.
    CK_VERSION want = *v;
    CK_INTERFACE* got = nullptr;
    EXPECT_CKR(CKR_OK,
               Module().get_interface(ifaces[i].pInterfaceName, &want, &got, ifaces[i].flags));
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->pFunctionList, ifaces[i].pFunctionList);
  }
  EXPECT_TRUE(has_30) << "no \"PKCS 11\" 3.0 interface listed";
}

TEST_F(Uninitialized, GetInterfaceDefaultAndByName) {
  ASSERT_NE(Module().get_interface, nullptr) << "C_GetInterface not exported";
  CK_INTERFACE* iface = nullptr;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, Module().get_interface(nullptr, nullptr, nullptr, 0));

  ASSERT_CKR(CKR_OK, Module().get_interface(nullptr, nullptr, &iface, 0));
  ASSERT_NE(iface, nullptr);
  ASSERT_NE(iface->pFunctionList, nullptr);
  EXPECT_GE(static_cast<const CK_VERSION*>(iface->pFunctionList)->major, 2);

  CK_UTF8CHAR name[] = "PKCS 11";
  iface = nullptr;
  ASSERT_CKR(CKR_OK, Module().get_interface(name, nullptr, &iface, 0));
  ASSERT_NE(iface, nullptr);
  ASSERT_NE(iface->pFunctionList, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(iface->pInterfaceName), "PKCS 11");

  CK_VERSION v30{3, 0};
  iface = nullptr;
  ASSERT_CKR(CKR_OK, Module().get_interface(name, &v30, &iface, 0));
  ASSERT_NE(iface, nullptr);
  const auto* list = static_cast<const CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->version.major, 3);
  EXPECT_EQ(list->version.minor, 0);
  EXPECT_NE(list->C_GetInterface, nullptr);
}

TEST_F(Uninitialized, GetInterfaceRefusesWhatItCannotHonour) {
  ASSERT_NE(Module().get_interface, nullptr);
  CK_UTF8CHAR pkcs11[] = "PKCS 11";
  CK_UTF8CHAR nss_fips[] = "Vendor NSS FIPS Interface";
  CK_VERSION v99{9, 9};
  CK_INTERFACE* iface = nullptr;
  // NSS asks for this name and crashes if it gets CKR_OK with nothing behind it.
  EXPECT_NE(Rv{CKR_OK}, Rv{Module().get_interface(nss_fips, nullptr, &iface, 0)});
  iface = nullptr;
  EXPECT_NE(Rv{CKR_OK}, Rv{Module().get_interface(pkcs11, &v99, &iface, 0)});
  // A library that is not fork-safe must not claim the flag.
  iface = nullptr;
  const CK_RV rv = Module().get_interface(pkcs11, nullptr, &iface, kCkfInterfaceForkSafe);
  if (rv == CKR_OK) {
    ASSERT_NE(iface, nullptr);
    EXPECT_TRUE(iface->flags & kCkfInterfaceForkSafe) << "returned an interface without the flag";
  }
  EXPECT_NE(Rv{CKR_OK}, Rv{rv}) << "CKF_INTERFACE_FORK_SAFE requested";
}

TEST_F(Uninitialized, CallsBeforeInitializeAnswerNotInitialized) {
  CK_INFO info;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetInfo(&info));
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetSlotList(CK_FALSE, nullptr, &n));
  CK_SESSION_HANDLE s = 0;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED,
             f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_CloseAllSessions(kUserSlot));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_CloseSession(1));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
}

TEST_F(Uninitialized, InitializeNullThenDoubleInitThenFinalize) {
  ASSERT_CKR(CKR_OK, f_->C_Initialize(nullptr));
  EXPECT_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED, f_->C_Initialize(nullptr));
  int dummy = 0;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Finalize(&dummy));
  EXPECT_CKR(CKR_OK, f_->C_Finalize(nullptr));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
  // And again: the library can be initialised any number of times.
  ASSERT_CKR(CKR_OK, f_->C_Initialize(nullptr));
  EXPECT_CKR(CKR_OK, f_->C_Finalize(nullptr));
}

TEST_F(Uninitialized, InitializeWithOsLockingOk) {
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  EXPECT_NE(OpenSession(), CK_INVALID_HANDLE);
}

TEST_F(Uninitialized, InitializeWithZeroedArgs) {
  CK_C_INITIALIZE_ARGS args{};
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  EXPECT_NE(OpenSession(), CK_INVALID_HANDLE);
}

TEST_F(Uninitialized, InitializeRejectsReservedPointer) {
  // PKCS#11 3.0 §5.4: pReserved must be NULL_PTR; otherwise CKR_ARGUMENTS_BAD and the library
  // is left uninitialised.
  char config[] = "configdir='/nonexistent' certPrefix='' flags=readOnly";
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  args.pReserved = config;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Initialize(&args));
  CK_ULONG count = 0;
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_GetSlotList(CK_TRUE, nullptr, &count));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
  args.pReserved = nullptr;
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  EXPECT_NE(OpenSession(), CK_INVALID_HANDLE);
}

TEST_F(Uninitialized, InitializeRejectsPartialMutexFunctions) {
  CK_C_INITIALIZE_ARGS args{};
  args.CreateMutex = [](CK_VOID_PTR_PTR m) -> CK_RV {
    *m = new std::mutex;
    return CKR_OK;
  };
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Initialize(&args));
  EXPECT_CKR(CKR_CRYPTOKI_NOT_INITIALIZED, f_->C_Finalize(nullptr));
}

// Caller-supplied mutex functions, counted.
struct MutexCounters {
  std::atomic<long> created{0}, destroyed{0}, locked{0}, unlocked{0};
};
MutexCounters g_mutex_counters;

CK_C_INITIALIZE_ARGS CountingMutexArgs(CK_FLAGS flags) {
  g_mutex_counters.created = 0;
  g_mutex_counters.destroyed = 0;
  g_mutex_counters.locked = 0;
  g_mutex_counters.unlocked = 0;
  CK_C_INITIALIZE_ARGS args{};
  args.CreateMutex = [](CK_VOID_PTR_PTR m) -> CK_RV {
    if (m == nullptr) {
      return CKR_ARGUMENTS_BAD;
    }
    *m = new std::mutex;
    ++g_mutex_counters.created;
    return CKR_OK;
  };
  args.DestroyMutex = [](CK_VOID_PTR m) -> CK_RV {
    delete static_cast<std::mutex*>(m);
    ++g_mutex_counters.destroyed;
    return CKR_OK;
  };
  args.LockMutex = [](CK_VOID_PTR m) -> CK_RV {
    static_cast<std::mutex*>(m)->lock();
    ++g_mutex_counters.locked;
    return CKR_OK;
  };
  args.UnlockMutex = [](CK_VOID_PTR m) -> CK_RV {
    static_cast<std::mutex*>(m)->unlock();
    ++g_mutex_counters.unlocked;
    return CKR_OK;
  };
  args.flags = flags;
  return args;
}

TEST_F(Uninitialized, InitializeWithCallerMutexesUsesThem) {
  CK_C_INITIALIZE_ARGS args = CountingMutexArgs(0);  // flags 0: the library MUST use them
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  LoginSession();
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  EXPECT_TRUE(GenerateEc(s, EcParamsP256()).ok());
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
  EXPECT_GT(g_mutex_counters.created.load(), 0) << "CreateMutex never called";
  EXPECT_GT(g_mutex_counters.locked.load(), 0) << "LockMutex never called";
  EXPECT_EQ(g_mutex_counters.locked.load(), g_mutex_counters.unlocked.load());
  EXPECT_CKR(CKR_OK, f_->C_Finalize(nullptr));
  EXPECT_EQ(g_mutex_counters.created.load(), g_mutex_counters.destroyed.load())
      << "mutexes created through the callbacks were not destroyed by C_Finalize";
}

TEST_F(Uninitialized, InitializeLikeNssWithMutexesAndCantCreateThreads) {
  CK_C_INITIALIZE_ARGS args =
      CountingMutexArgs(CKF_OS_LOCKING_OK | CKF_LIBRARY_CANT_CREATE_OS_THREADS);
  ASSERT_CKR(CKR_OK, f_->C_Initialize(&args));
  LoginSession();
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  EXPECT_TRUE(GenerateEc(s, EcParamsP256()).ok());
  EXPECT_EQ(g_mutex_counters.locked.load(), g_mutex_counters.unlocked.load());
}

TEST_F(P11Test, GetInfo) {
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetInfo(nullptr));
  CK_INFO info;
  std::memset(&info, 0, sizeof info);
  ASSERT_CKR(CKR_OK, f_->C_GetInfo(&info));
  EXPECT_GE(info.cryptokiVersion.major, 2);
  EXPECT_EQ(info.flags, 0u);
  EXPECT_TRUE(IsBlankPaddedText(info.manufacturerID, sizeof info.manufacturerID));
  EXPECT_TRUE(IsBlankPaddedText(info.libraryDescription, sizeof info.libraryDescription));
  EXPECT_FALSE(Trimmed(info.manufacturerID, sizeof info.manufacturerID).empty());
}

TEST_F(P11Test, SessionsDoNotSurviveReinitialize) {
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  Reinitialize();
  CK_SESSION_INFO si;
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &si));
}

TEST_F(P11Test, ForkedChildMustReinitialize) {
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  CK_FUNCTION_LIST* f = f_;
  ChildOutcome child = RunForked([f, s]() -> std::string {
    CK_ULONG n = 0;
    CK_RV rv = f->C_GetSlotList(CK_FALSE, nullptr, &n);
    if (rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
      return "child C_GetSlotList before C_Initialize: " + RvName(rv);
    }
    CK_SESSION_INFO si;
    rv = f->C_GetSessionInfo(s, &si);
    if (rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
      return "child C_GetSessionInfo(parent session): " + RvName(rv);
    }
    if ((rv = f->C_Initialize(nullptr)) != CKR_OK) {
      return "child C_Initialize: " + RvName(rv);
    }
    CK_SESSION_HANDLE cs = 0;
    rv = f->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &cs);
    if (rv != CKR_OK) {
      return "child C_OpenSession: " + RvName(rv);
    }
    CK_BYTE buf[16];
    if ((rv = f->C_GenerateRandom(cs, buf, sizeof buf)) != CKR_OK) {
      return "child C_GenerateRandom: " + RvName(rv);
    }
    if ((rv = f->C_Finalize(nullptr)) != CKR_OK) {
      return "child C_Finalize: " + RvName(rv);
    }
    return "";
  });
  EXPECT_TRUE(child.exited && child.exit_code == 0) << child.Describe();
  // The parent is unaffected.
  CK_SESSION_INFO si;
  EXPECT_CKR(CKR_OK, f_->C_GetSessionInfo(s, &si));
  EXPECT_TRUE(GenerateEc(s, EcParamsP256()).ok());
}

TEST_F(Uninitialized, FinalizeFromAtexitAfterStaticDestructors) {
  const ChildOutcome child = RunHelper({"atexit"});
  EXPECT_TRUE(child.exited) << child.Describe();
  EXPECT_EQ(child.exit_code, 42) << child.Describe();
}

}  // namespace
}  // namespace conf
