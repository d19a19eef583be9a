// Functions outside the module's mechanism set answer with a documented code, never a crash:
// wrapping, secret-key generation, the 3.0 message-based and login-user functions.
#include "p11_fixture.h"

namespace conf {
namespace {

class UnsupportedTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    s_ = OpenSession();
    kp_ = GenerateRsa(s_, 2048);
    ASSERT_TRUE(kp_.ok());
  }
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  KeyPair kp_;
};

// Key wrapping is offered with the AES key-wrap mechanisms only (wrap_test.cpp): RSA
// wrapping mechanisms are not.
TEST_F(UnsupportedTest, RsaKeyWrapping) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  CK_OBJECT_HANDLE h = 0;
  CK_MECHANISM rsa{CKM_RSA_PKCS, nullptr, 0};
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_WrapKey(s_, &rsa, kp_.pub, kp_.priv, nullptr, &len));
  CK_BYTE blob[256] = {};
  EXPECT_CKR(CKR_MECHANISM_INVALID,
             f_->C_UnwrapKey(s_, &rsa, kp_.priv, blob, sizeof blob, t.data(), t.size(), &h));
  CK_MECHANISM oaep{CKM_RSA_PKCS_OAEP, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_WrapKey(s_, &oaep, kp_.pub, kp_.priv, nullptr, &len));
}

TEST_F(UnsupportedTest, DualFunctionUpdates) {
  CK_BYTE in[16] = {};
  CK_BYTE out[512];
  CK_ULONG len = sizeof out;
  EXPECT_CKR_ONE_OF(f_->C_DigestEncryptUpdate(s_, in, sizeof in, out, &len),
                    CKR_FUNCTION_NOT_SUPPORTED, CKR_OPERATION_NOT_INITIALIZED);
  len = sizeof out;
  EXPECT_CKR_ONE_OF(f_->C_DecryptDigestUpdate(s_, in, sizeof in, out, &len),
                    CKR_FUNCTION_NOT_SUPPORTED, CKR_OPERATION_NOT_INITIALIZED);
  len = sizeof out;
  EXPECT_CKR_ONE_OF(f_->C_SignEncryptUpdate(s_, in, sizeof in, out, &len),
                    CKR_FUNCTION_NOT_SUPPORTED, CKR_OPERATION_NOT_INITIALIZED);
  len = sizeof out;
  EXPECT_CKR_ONE_OF(f_->C_DecryptVerifyUpdate(s_, in, sizeof in, out, &len),
                    CKR_FUNCTION_NOT_SUPPORTED, CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(UnsupportedTest, RsaMultiPartEncryptIsNotDefined) {
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_EncryptInit(s_, &mech, kp_.pub));
  CK_BYTE in[16] = {};
  CK_BYTE out[512];
  CK_ULONG len = sizeof out;
  // RSA encryption is single-part only (PKCS#11 3.0 §2.1.6 table).
  EXPECT_CKR_ONE_OF(f_->C_EncryptUpdate(s_, in, sizeof in, out, &len), CKR_FUNCTION_NOT_SUPPORTED,
                    CKR_MECHANISM_INVALID, CKR_OPERATION_NOT_INITIALIZED);
}

// Message-based signing and verification are not offered (no mechanism has CKF_MESSAGE_SIGN /
// CKF_MESSAGE_VERIFY). Message-based encryption exists for CKM_AES_GCM only
// (message_gcm_test.cpp): RSA is refused at the Init, and without an Init nothing runs.
TEST_F(UnsupportedTest, MessageBasedFunctions30) {
  ASSERT_NE(f3_, nullptr) << "no PKCS#11 3.0 function list";
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_MessageSignInit(s_, &mech, kp_.priv));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_MessageVerifyInit(s_, &mech, kp_.pub));
  CK_MECHANISM rsa{CKM_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_MessageEncryptInit(s_, &rsa, kp_.pub));
  EXPECT_CKR(CKR_MECHANISM_INVALID, f3_->C_MessageDecryptInit(s_, &rsa, kp_.priv));
  CK_BYTE data[8] = {};
  CK_BYTE out[512];
  CK_ULONG len = sizeof out;
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED,
             f3_->C_SignMessage(s_, nullptr, 0, data, sizeof data, out, &len));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED,
             f3_->C_VerifyMessage(s_, nullptr, 0, data, sizeof data, out, 256));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_SignMessageBegin(s_, nullptr, 0));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED,
             f3_->C_SignMessageNext(s_, nullptr, 0, data, sizeof data, out, &len));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_MessageSignFinal(s_));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_VerifyMessageBegin(s_, nullptr, 0));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED,
             f3_->C_VerifyMessageNext(s_, nullptr, 0, data, sizeof data, out, 256));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f3_->C_MessageVerifyFinal(s_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_EncryptMessage(s_, nullptr, 0, nullptr, 0, data, sizeof data, out, &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_EncryptMessageBegin(s_, nullptr, 0, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_EncryptMessageNext(s_, nullptr, 0, data, sizeof data, out, &len, 0));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageEncryptFinal(s_));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_DecryptMessage(s_, nullptr, 0, nullptr, 0, data, sizeof data, out, &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_DecryptMessageBegin(s_, nullptr, 0, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f3_->C_DecryptMessageNext(s_, nullptr, 0, data, sizeof data, out, &len, 0));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f3_->C_MessageDecryptFinal(s_));
}

TEST_F(UnsupportedTest, SessionCancelAndLoginUser30) {
  ASSERT_NE(f3_, nullptr) << "no PKCS#11 3.0 function list";
  // The 3.0 list reaches the same implementation as the 2.40 one.
  CK_SESSION_INFO info;
  EXPECT_CKR(CKR_OK, f3_->C_GetSessionInfo(s_, &info));
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  ASSERT_CKR(CKR_OK, f3_->C_SignInit(s_, &mech, kp_.priv));
  const CK_RV cancel = f3_->C_SessionCancel(s_, CKF_SIGN);
  EXPECT_CKR_ONE_OF(cancel, CKR_OK, CKR_FUNCTION_NOT_SUPPORTED);
  if (cancel == CKR_OK) {
    EXPECT_CKR(CKR_OK, f3_->C_SignInit(s_, &mech, kp_.priv)) << "sign operation was cancelled";
  }
  CK_UTF8CHAR pin[] = "1234";
  CK_UTF8CHAR user[] = "someone";
  const CK_RV login = f3_->C_LoginUser(s_, CKU_USER, pin, 4, user, 7);
  EXPECT_CKR_ONE_OF(login, CKR_OK, CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_CKR_ONE_OF(f3_->C_SessionCancel(0x7FFF1234, CKF_SIGN), CKR_SESSION_HANDLE_INVALID,
                    CKR_FUNCTION_NOT_SUPPORTED);
}

}  // namespace
}  // namespace conf
