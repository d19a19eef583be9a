// Sessions and login: the session state machine of PKCS#11 §6.7 as this module implements it.
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "module_test_support.h"

namespace module_test {
namespace {

class Sessions : public InitializedTest {
 protected:
  CK_STATE state_of(CK_SESSION_HANDLE h) {
    CK_SESSION_INFO info{};
    EXPECT_EQ(p11->C_GetSessionInfo(h, &info), CKR_OK);
    return info.state;
  }
  CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE user) {
    CK_UTF8CHAR pin[] = "any pin at all";
    return p11->C_Login(h, user, pin, sizeof pin - 1);
  }
};

TEST_F(Sessions, OpenSessionArguments) {
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_EQ(p11->C_OpenSession(0, CKF_RW_SESSION, nullptr, nullptr, &h),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, nullptr),
            CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_OpenSession(42, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_SLOT_ID_INVALID);
}

TEST_F(Sessions, HandlesAreUniqueAcrossSlotsAndNeverReused) {
  std::set<CK_SESSION_HANDLE> seen;
  CK_SESSION_HANDLE last = CK_INVALID_HANDLE;
  for (int round = 0; round < 3; ++round) {
    for (const CK_SLOT_ID slot : {CK_SLOT_ID{0}, CK_SLOT_ID{1}}) {
      const CK_SESSION_HANDLE h = open(slot, round % 2 == 0);
      EXPECT_NE(h, CK_INVALID_HANDLE);
      EXPECT_GT(h, last);
      EXPECT_TRUE(seen.insert(h).second);
      last = h;
      EXPECT_EQ(p11->C_CloseSession(h), CKR_OK);
    }
    // Not even across C_Finalize / C_Initialize.
    ASSERT_EQ(p11->C_Finalize(nullptr), CKR_OK);
    ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  }
}

TEST_F(Sessions, SessionInfo) {
  const CK_SESSION_HANDLE ro = open(0, false);
  const CK_SESSION_HANDLE rw = open(1, true);
  CK_SESSION_INFO info{};
  ASSERT_EQ(p11->C_GetSessionInfo(ro, &info), CKR_OK);
  EXPECT_EQ(info.slotID, 0U);
  EXPECT_EQ(info.state, CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(info.flags, CKF_SERIAL_SESSION);
  EXPECT_EQ(info.ulDeviceError, 0U);
  ASSERT_EQ(p11->C_GetSessionInfo(rw, &info), CKR_OK);
  EXPECT_EQ(info.slotID, 1U);
  EXPECT_EQ(info.state, CKS_RW_PUBLIC_SESSION);
  EXPECT_EQ(info.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  EXPECT_EQ(p11->C_GetSessionInfo(ro, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_GetSessionInfo(rw + 1000, &info), CKR_SESSION_HANDLE_INVALID);
}

TEST_F(Sessions, CloseSessionAndCloseAllSessions) {
  const CK_SESSION_HANDLE a = open(0, false);
  const CK_SESSION_HANDLE b = open(0, true);
  const CK_SESSION_HANDLE c = open(1, true);
  EXPECT_EQ(p11->C_CloseSession(a), CKR_OK);
  EXPECT_EQ(p11->C_CloseSession(a), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(p11->C_CloseSession(CK_INVALID_HANDLE), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(p11->C_CloseAllSessions(0), CKR_OK);
  CK_SESSION_INFO info{};
  EXPECT_EQ(p11->C_GetSessionInfo(b, &info), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(p11->C_GetSessionInfo(c, &info), CKR_OK) << "other slot untouched";
  EXPECT_EQ(p11->C_CloseAllSessions(0), CKR_OK);
  EXPECT_EQ(p11->C_CloseAllSessions(5), CKR_SLOT_ID_INVALID);
}

TEST_F(Sessions, UserLoginIsPerSlotAndSharedBySessions) {
  const CK_SESSION_HANDLE ro = open(0, false);
  const CK_SESSION_HANDLE rw = open(0, true);
  const CK_SESSION_HANDLE other = open(1, false);
  EXPECT_EQ(login(ro, CKU_USER), CKR_OK);
  EXPECT_EQ(state_of(ro), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(state_of(rw), CKS_RW_USER_FUNCTIONS);
  EXPECT_EQ(state_of(other), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(login(rw, CKU_USER), CKR_USER_ALREADY_LOGGED_IN);
  EXPECT_EQ(login(rw, CKU_SO), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
  // New sessions of the slot are logged in as well.
  const CK_SESSION_HANDLE late = open(0, false);
  EXPECT_EQ(state_of(late), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(p11->C_Logout(rw), CKR_OK);
  EXPECT_EQ(state_of(ro), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(p11->C_Logout(rw), CKR_USER_NOT_LOGGED_IN);
}

TEST_F(Sessions, LoginArguments) {
  const CK_SESSION_HANDLE h = open(0, true);
  EXPECT_EQ(p11->C_Login(h, CKU_USER, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_Login(h, 77, nullptr, 0), CKR_USER_TYPE_INVALID);
  EXPECT_EQ(p11->C_Login(h, CKU_CONTEXT_SPECIFIC, nullptr, 0), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_Login(h, CKU_USER, nullptr, 0), CKR_OK) << "no PIN (protected path) is fine";
  EXPECT_EQ(p11->C_Logout(h), CKR_OK);
  CK_UTF8CHAR name[] = "someone";
  EXPECT_EQ(p11->C_LoginUser(h, CKU_USER, nullptr, 0, name, sizeof name - 1), CKR_OK);
  EXPECT_EQ(state_of(h), CKS_RW_USER_FUNCTIONS);
  EXPECT_EQ(p11->C_Login(h + 1000, CKU_USER, nullptr, 0), CKR_SESSION_HANDLE_INVALID);
}

TEST_F(Sessions, SecurityOfficerNeedsReadWriteSessionsOnly) {
  const CK_SESSION_HANDLE ro = open(0, false);
  const CK_SESSION_HANDLE rw = open(0, true);
  EXPECT_EQ(login(rw, CKU_SO), CKR_SESSION_READ_ONLY_EXISTS);
  EXPECT_EQ(p11->C_CloseSession(ro), CKR_OK);
  EXPECT_EQ(login(rw, CKU_SO), CKR_OK);
  EXPECT_EQ(state_of(rw), CKS_RW_SO_FUNCTIONS);
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h),
            CKR_SESSION_READ_WRITE_SO_EXISTS);
  EXPECT_EQ(login(rw, CKU_USER), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
  EXPECT_EQ(p11->C_Logout(rw), CKR_OK);
  EXPECT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_OK);
}

TEST_F(Sessions, ClosingTheLastSessionLogsOut) {
  const CK_SESSION_HANDLE a = open(0, true);
  ASSERT_EQ(login(a, CKU_USER), CKR_OK);
  ASSERT_EQ(p11->C_CloseSession(a), CKR_OK);
  const CK_SESSION_HANDLE b = open(0, true);
  EXPECT_EQ(state_of(b), CKS_RW_PUBLIC_SESSION);
}

TEST_F(Sessions, RefusedFunctionsByDecision) {
  const CK_SESSION_HANDLE h = open(0, true);
  CK_BYTE buf[8] = {};
  CK_ULONG len = sizeof buf;
  EXPECT_EQ(p11->C_InitToken(0, nullptr, 0, nullptr), CKR_FUNCTION_NOT_SUPPORTED);
  // Implemented (the optional scope PIN): C_InitPIN needs the R/W SO functions state, C_SetPIN
  // a PIN to change (PKCS#11 3.0 §5.6).
  EXPECT_EQ(p11->C_InitPIN(h, nullptr, 0), CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(p11->C_SetPIN(h, nullptr, 0, nullptr, 0), CKR_PIN_INCORRECT);
  EXPECT_EQ(p11->C_GetOperationState(h, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_GetFunctionStatus(h), CKR_FUNCTION_NOT_PARALLEL);
  EXPECT_EQ(p11->C_CancelFunction(h), CKR_FUNCTION_NOT_PARALLEL);
  EXPECT_EQ(p11->C_SignRecoverInit(h, nullptr, 0), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_DigestEncryptUpdate(h, buf, 1, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_GenerateKey(h, nullptr, nullptr, 0, nullptr), CKR_ARGUMENTS_BAD)
      << "implemented: the arguments are checked";
  EXPECT_EQ(p11->C_WrapKey(h, nullptr, 0, 0, buf, &len), CKR_ARGUMENTS_BAD)
      << "implemented (AES key wrap): the arguments are checked";
  EXPECT_EQ(p11->C_UnwrapKey(h, nullptr, 0, buf, 1, nullptr, 0, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_MessageEncryptInit(h, nullptr, 0), CKR_ARGUMENTS_BAD)
      << "implemented (AES-GCM): a NULL mechanism with nothing to end is a bad argument";
  EXPECT_EQ(p11->C_EncryptMessage(h, nullptr, 0, nullptr, 0, buf, 1, buf, &len),
            CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_SignMessage(h, nullptr, 0, buf, 1, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(p11->C_VerifyMessageNext(h, nullptr, 0, buf, 1, buf, 1), CKR_FUNCTION_NOT_SUPPORTED);
  // The session is still checked first.
  EXPECT_EQ(p11->C_InitPIN(h + 1000, nullptr, 0), CKR_SESSION_HANDLE_INVALID);
}

TEST(LateTeardown, CallsAfterFinalizeAnswerNotInitialized) {
  CK_FUNCTION_LIST_3_0* p11 = list30();
  ASSERT_EQ(p11->C_Initialize(nullptr), CKR_OK);
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_EQ(p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_OK);
  ASSERT_EQ(p11->C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(p11->C_CloseSession(h), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_CloseAllSessions(0), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
}

// Child: finalise from an atexit handler, as pkcs11-provider does from OpenSSL's.
CK_SESSION_HANDLE g_atexit_session = CK_INVALID_HANDLE;
void finalize_at_exit() {
  CK_FUNCTION_LIST_3_0* p11 = list30();
  const bool ok = p11->C_CloseSession(g_atexit_session) == CKR_OK &&
                  p11->C_CloseAllSessions(0) == CKR_OK && p11->C_Finalize(nullptr) == CKR_OK;
  ::_exit(ok ? 0 : 3);
}
int finalize_from_atexit(void*) {
  // Registered before the module builds any static state, so everything the module constructs
  // during C_Initialize is torn down before the handler runs (atexit order is LIFO).
  std::atexit(&finalize_at_exit);
  CK_FUNCTION_LIST_3_0* p11 = list30();
  if (p11->C_Initialize(nullptr) != CKR_OK ||
      p11->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &g_atexit_session) != CKR_OK) {
    ::_exit(2);
  }
  std::exit(4);  // runs static destructors, then the handler, which exits 0 on success
}

TEST(LateTeardown, FinalizeFromAnAtexitHandler) {
  EXPECT_EQ(run_in_child(&finalize_from_atexit, nullptr), 0);
}

}  // namespace
}  // namespace module_test
