// Functions outside the module's mechanism set answer with a documented code, never a crash:
// RSA wrapping of private keys, secret keys where the slot keeps none, the 3.0 message-based and
// login-user functions.
#include <string>

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

// RSA key wrapping (rsa_wrap_test.cpp) is of secret keys: PKCS#11 defines no RSA wrapping of a
// private key (CKR_KEY_NOT_WRAPPABLE), and an RSA unwrap makes no private key. A slot that
// keeps no secret keys (the platform (TPM) slots) has no CKF_WRAP / CKF_UNWRAP on the RSA
// mechanisms, so both calls are CKR_MECHANISM_INVALID there (§5.2: a mechanism the token does
// not offer for the function).
TEST_F(UnsupportedTest, RsaWrappingOfPrivateKeys) {
  Template pub;
  pub.Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1}).Bool(CKA_WRAP, true);
  Template priv;
  priv.Bool(CKA_EXTRACTABLE, true).Bool(CKA_UNWRAP, true);
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  KeyPair kp;
  ASSERT_CKR(CKR_OK, f_->C_GenerateKeyPair(s_, &gen, pub.data(), pub.size(), priv.data(),
                                           priv.size(), &kp.pub, &kp.priv));
  CK_RSA_PKCS_OAEP_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM mechs[] = {{CKM_RSA_PKCS, nullptr, 0}, {CKM_RSA_PKCS_OAEP, &params, sizeof params}};
  for (CK_MECHANISM& m : mechs) {
    CK_MECHANISM_INFO info{};
    ASSERT_CKR(CKR_OK, f_->C_GetMechanismInfo(kUserSlot, m.mechanism, &info));
    const bool wraps = (info.flags & CKF_WRAP) != 0;
    const bool unwraps = (info.flags & CKF_UNWRAP) != 0;
    SCOPED_TRACE("mechanism " + std::to_string(m.mechanism) + (wraps ? " wraps" : "") +
                 (unwraps ? " unwraps" : ""));
    CK_ULONG len = 0;
    const CK_RV not_wrappable = wraps ? CKR_KEY_NOT_WRAPPABLE : CKR_MECHANISM_INVALID;
    EXPECT_CKR(not_wrappable, f_->C_WrapKey(s_, &m, kp.pub, kp.priv, nullptr, &len));
    EXPECT_CKR(not_wrappable, f_->C_WrapKey(s_, &m, kp.pub, kp_.priv, nullptr, &len));
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA);
    CK_OBJECT_HANDLE h = 0;
    CK_BYTE blob[256] = {};
    EXPECT_CKR(unwraps ? CKR_TEMPLATE_INCONSISTENT : CKR_MECHANISM_INVALID,
               f_->C_UnwrapKey(s_, &m, kp.priv, blob, sizeof blob, t.data(), t.size(), &h));
  }
}

// Secret keys exist only on a slot that lists their generation mechanism (not on the platform
// (TPM) slots). Elsewhere generating one is CKR_MECHANISM_INVALID (PKCS#11 3.0 §5.2: a
// mechanism the token does not support) and creating one is CKR_ATTRIBUTE_VALUE_INVALID (a
// CKA_KEY_TYPE the token cannot hold; C_CreateObject has no mechanism to be invalid).
TEST_F(UnsupportedTest, SecretKeysOnlyWhereTheSlotKeepsThem) {
  const struct {
    CK_MECHANISM_TYPE generate;
    CK_KEY_TYPE key_type;
  } kinds[] = {{CKM_AES_KEY_GEN, CKK_AES}, {CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET}};
  for (const auto& kind : kinds) {
    const bool kept = Offers(kind.generate);
    SCOPED_TRACE("key type " + std::to_string(kind.key_type) + (kept ? " kept" : " not kept"));
    EXPECT_EQ(kept, !IsPlatformSlot(kUserSlot));
    for (const bool token : {false, true}) {
      Template gen;
      gen.Ulong(CKA_VALUE_LEN, 32).Bool(CKA_TOKEN, token);
      CK_MECHANISM m{kind.generate, nullptr, 0};
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      EXPECT_CKR(kept ? CKR_OK : CKR_MECHANISM_INVALID,
                 f_->C_GenerateKey(s_, &m, gen.data(), gen.size(), &h));
      Template create;
      create.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, kind.key_type);
      create.Raw(CKA_VALUE, Bytes(32, 0x5A)).Bool(CKA_TOKEN, token);
      h = CK_INVALID_HANDLE;
      EXPECT_CKR(kept ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID,
                 f_->C_CreateObject(s_, create.data(), create.size(), &h));
      EXPECT_EQ(h != CK_INVALID_HANDLE, kept);
    }
  }
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
  if (ConfPin().empty()) {
    EXPECT_CKR_ONE_OF(login, CKR_OK, CKR_FUNCTION_NOT_SUPPORTED);
  } else {  // the fixture keeps the user logged in
    EXPECT_CKR_ONE_OF(login, CKR_USER_ALREADY_LOGGED_IN, CKR_FUNCTION_NOT_SUPPORTED);
  }
  EXPECT_CKR_ONE_OF(f3_->C_SessionCancel(0x7FFF1234, CKF_SIGN), CKR_SESSION_HANDLE_INVALID,
                    CKR_FUNCTION_NOT_SUPPORTED);
}

}  // namespace
}  // namespace conf
