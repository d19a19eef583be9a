// C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo, C_Login, C_Logout,
// C_GetOperationState / C_SetOperationState.
#include "p11_fixture.h"

namespace conf {
namespace {

using SessionTest = P11Test;

TEST_F(SessionTest, OpenSessionArgumentChecks) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION, nullptr, nullptr, nullptr));
  EXPECT_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED,
             f_->C_OpenSession(kUserSlot, 0, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_SESSION_PARALLEL_NOT_SUPPORTED,
             f_->C_OpenSession(kUserSlot, CKF_RW_SESSION, nullptr, nullptr, &s));
  EXPECT_CKR(CKR_SLOT_ID_INVALID,
             f_->C_OpenSession(9999, CKF_SERIAL_SESSION, nullptr, nullptr, &s));
}

TEST_F(SessionTest, SessionInfoReflectsSlotAndMode) {
  SKIP_WITH_PIN("public session states; the PIN run keeps the user logged in");
  for (CK_SLOT_ID slot : {kUserSlot, kOtherScopeSlot}) {
    const CK_SESSION_HANDLE ro = OpenSession(slot, false);
    const CK_SESSION_HANDLE rw = OpenSession(slot, true);
    ASSERT_NE(ro, CK_INVALID_HANDLE);
    ASSERT_NE(rw, CK_INVALID_HANDLE);
    EXPECT_NE(ro, rw);
    CK_SESSION_INFO info;
    EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetSessionInfo(ro, nullptr));
    ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(ro, &info));
    EXPECT_EQ(info.slotID, slot);
    EXPECT_EQ(info.state, CKS_RO_PUBLIC_SESSION);
    EXPECT_EQ(info.flags, CKF_SERIAL_SESSION);
    ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(rw, &info));
    EXPECT_EQ(info.slotID, slot);
    EXPECT_EQ(info.state, CKS_RW_PUBLIC_SESSION);
    EXPECT_EQ(info.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  }
}

TEST_F(SessionTest, CloseSessionInvalidatesHandle) {
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_NE(s, CK_INVALID_HANDLE);
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
  CK_SESSION_INFO info;
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(s, &info));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(s));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_CloseSession(CK_INVALID_HANDLE));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(0x7FFF1234, &info));
  // Handles are not reused right away.
  const CK_SESSION_HANDLE s2 = OpenSession();
  EXPECT_NE(s2, s);
}

TEST_F(SessionTest, CloseAllSessionsIsPerSlot) {
  const CK_SESSION_HANDLE u1 = OpenSession(kUserSlot);
  const CK_SESSION_HANDLE u2 = OpenSession(kUserSlot, false);
  const CK_SESSION_HANDLE m1 = OpenSession(kOtherScopeSlot);
  EXPECT_CKR(CKR_SLOT_ID_INVALID, f_->C_CloseAllSessions(9999));
  EXPECT_CKR(CKR_OK, f_->C_CloseAllSessions(kUserSlot));
  CK_SESSION_INFO info;
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(u1, &info));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetSessionInfo(u2, &info));
  EXPECT_CKR(CKR_OK, f_->C_GetSessionInfo(m1, &info));
  EXPECT_CKR(CKR_OK, f_->C_CloseAllSessions(kUserSlot));  // nothing left: still fine
}

TEST_F(SessionTest, LoginAnyPinLogoutAndStates) {
  SKIP_WITH_PIN("any PIN logs in only without a scope PIN (pin_test.cpp covers the PIN)");
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  const CK_SESSION_HANDLE rw = OpenSession(kUserSlot, true);
  CK_UTF8CHAR pin[] = "any pin at all";
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Logout(rw));
  EXPECT_CKR(CKR_USER_TYPE_INVALID, f_->C_Login(rw, 77, pin, 4));
  EXPECT_CKR(CKR_OK, f_->C_Login(rw, CKU_USER, pin, sizeof pin - 1));
  CK_SESSION_INFO info;
  ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(rw, &info));
  EXPECT_EQ(info.state, CKS_RW_USER_FUNCTIONS);
  // Login state is per application (token), so the other session is logged in as well.
  ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(ro, &info));
  EXPECT_EQ(info.state, CKS_RO_USER_FUNCTIONS);
  EXPECT_CKR(CKR_USER_ALREADY_LOGGED_IN, f_->C_Login(ro, CKU_USER, pin, 4));
  // Objects stay usable while logged in.
  EXPECT_TRUE(GenerateEc(rw, EcParamsP256()).ok());
  EXPECT_CKR(CKR_OK, f_->C_Logout(ro));
  ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(rw, &info));
  EXPECT_EQ(info.state, CKS_RW_PUBLIC_SESSION);
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Logout(rw));
  // An empty PIN is accepted too; a NULL one either accepted or refused as bad arguments.
  CK_UTF8CHAR empty[] = "";
  EXPECT_CKR(CKR_OK, f_->C_Login(rw, CKU_USER, empty, 0));
  EXPECT_CKR(CKR_OK, f_->C_Logout(rw));
  if (f_->C_Login(rw, CKU_USER, nullptr, 0) == CKR_OK) {
    EXPECT_CKR(CKR_OK, f_->C_Logout(rw));
  }
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_Login(0x7FFF1234, CKU_USER, pin, 4));
}

TEST_F(SessionTest, LoginStateEndsWhenLastSessionCloses) {
  SKIP_WITH_PIN("the PIN run keeps a session of its own logged in");
  CK_UTF8CHAR pin[] = "1234";
  CK_SESSION_HANDLE s = OpenSession();
  ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_USER, pin, 4));
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
  s = OpenSession();
  CK_SESSION_INFO info;
  ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(s, &info));
  EXPECT_EQ(info.state, CKS_RW_PUBLIC_SESSION);
}

TEST_F(SessionTest, OperationStateIsUnsupportedOrWorks) {
  const CK_SESSION_HANDLE s = OpenSession();
  CK_ULONG len = 0;
  const CK_RV rv = f_->C_GetOperationState(s, nullptr, &len);
  EXPECT_CKR_ONE_OF(rv, CKR_FUNCTION_NOT_SUPPORTED, CKR_OPERATION_NOT_INITIALIZED, CKR_OK,
                    CKR_STATE_UNSAVEABLE);
  CK_BYTE state[8] = {};
  EXPECT_CKR_ONE_OF(
      f_->C_SetOperationState(s, state, sizeof state, CK_INVALID_HANDLE, CK_INVALID_HANDLE),
      CKR_FUNCTION_NOT_SUPPORTED, CKR_SAVED_STATE_INVALID);
}

TEST_F(SessionTest, LegacyParallelFunctions) {
  const CK_SESSION_HANDLE s = OpenSession();
  EXPECT_CKR(CKR_FUNCTION_NOT_PARALLEL, f_->C_GetFunctionStatus(s));
  EXPECT_CKR(CKR_FUNCTION_NOT_PARALLEL, f_->C_CancelFunction(s));
}

}  // namespace
}  // namespace conf
