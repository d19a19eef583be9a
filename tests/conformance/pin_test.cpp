// The optional scope PIN through PKCS#11 (PKCS#11 3.0 §4.4, §5.6, CK_TOKEN_INFO flags):
// C_InitPIN by the SO sets it, the token then needs a login, CKA_PRIVATE objects are invisible
// and unusable until C_Login(CKU_USER) (shared by all sessions of the application), wrong PINs
// are counted across processes (COUNT_LOW, FINAL_TRY, LOCKED), C_SetPIN changes it.
// Each test sets its own PIN on a fresh store, so the PIN run (CNG_CONF_PIN) skips them.
#include "p11_fixture.h"
#include "subprocess.h"

namespace conf {
namespace {

constexpr char kPin[] = "pin-test 2468";

class PinTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    SKIP_WITH_PIN("sets a PIN of its own on the slot under test");
  }

  static CK_UTF8CHAR_PTR Utf8(const char* text) {
    return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(text));
  }
  static CK_ULONG Len(const char* text) { return static_cast<CK_ULONG>(std::strlen(text)); }

  CK_RV Login(CK_SESSION_HANDLE s, const char* pin) {
    return f_->C_Login(s, CKU_USER, Utf8(pin), Len(pin));
  }

  // The SO sets the user PIN (the SO logs in without a PIN of its own).
  void SetPin(const char* pin) {
    const CK_SESSION_HANDLE s = OpenSession();
    ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, Utf8("so"), 2));
    ASSERT_CKR(CKR_OK, f_->C_InitPIN(s, Utf8(pin), Len(pin)));
    ASSERT_CKR(CKR_OK, f_->C_Logout(s));
    ASSERT_CKR(CKR_OK, f_->C_CloseSession(s));
  }

  CK_FLAGS TokenFlags() {
    CK_TOKEN_INFO info{};
    EXPECT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
    return info.flags;
  }

  std::size_t CountClass(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls) {
    Template t;
    t.Ulong(CKA_CLASS, cls);
    return Find(s, t).size();
  }

  // A C_Login in a fresh process; returns its CK_RV's name.
  static std::string LoginInChild(const char* pin) {
    const ChildOutcome out = RunHelper({"login", std::to_string(kUserSlot), pin});
    const auto kv = ParseKeyValues(out.output);
    return kv.count("login") != 0 ? kv.at("login") : out.Describe();
  }
};

TEST_F(PinTest, TokenNeedsLoginOnceAPinIsSet) {
  EXPECT_EQ(TokenFlags() & (CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED), 0u);
  SetPin(kPin);
  EXPECT_EQ(TokenFlags() & (CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED),
            CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED);
  CK_TOKEN_INFO info{};
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
  EXPECT_EQ(info.ulMinPinLen, 4u);
  EXPECT_EQ(info.ulMaxPinLen, 255u);
  // Once set, the SO may not replace it (it has no PIN of its own to prove anything).
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, Utf8("so"), 2));
  EXPECT_CKR(CKR_ACTION_PROHIBITED, f_->C_InitPIN(s, Utf8("other pin"), 9));
}

TEST_F(PinTest, InitPinChecksStateAndLength) {
  const CK_SESSION_HANDLE s = OpenSession();
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_InitPIN(s, Utf8(kPin), Len(kPin)));
  ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, Utf8("so"), 2));
  EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_InitPIN(s, Utf8("123"), 3));
  const std::string long_pin(256, 'p');
  EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_InitPIN(s, Utf8(long_pin.c_str()), 256));
  EXPECT_CKR(CKR_PIN_INVALID, f_->C_InitPIN(s,
                                            Utf8("ab\xC3\x28"
                                                 "cd"),
                                            6));  // not UTF-8
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_InitPIN(s, nullptr, 4));
  EXPECT_EQ(TokenFlags() & CKF_USER_PIN_INITIALIZED, 0u);
}

TEST_F(PinTest, PrivateObjectsOnlyWhileLoggedIn) {
  SetPin(kPin);
  const CK_SESSION_HANDLE s = OpenSession();
  const CK_SESSION_HANDLE other = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_OK, Login(s, kPin));
  EXPECT_CKR(CKR_USER_ALREADY_LOGGED_IN, Login(other, kPin));  // shared by the application
  KeyOptions token;
  token.token = true;
  token.label = "pin-key";
  const KeyPair kp = GenerateEc(s, EcParamsP256(), token);
  ASSERT_TRUE(kp.ok());
  CK_SESSION_INFO info{};
  ASSERT_CKR(CKR_OK, f_->C_GetSessionInfo(other, &info));
  EXPECT_EQ(info.state, CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(CountClass(other, CKO_PRIVATE_KEY), 1u);

  ASSERT_CKR(CKR_OK, f_->C_Logout(other));  // logs out every session of the application
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_Logout(s));
  EXPECT_EQ(CountClass(s, CKO_PRIVATE_KEY), 0u);
  EXPECT_EQ(CountClass(s, CKO_PUBLIC_KEY), 1u);  // public objects stay visible
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_SignInit(s, &ecdsa, kp.priv));
  CK_BYTE value[64];
  CK_ATTRIBUTE label{CKA_LABEL, value, sizeof value};
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_GetAttributeValue(s, kp.priv, &label, 1));
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, f_->C_DestroyObject(s, kp.priv));
  {  // a new private key needs the user too
    Template pub;
    pub.Raw(CKA_EC_PARAMS, EcParamsP256());
    Template priv;
    priv.Bool(CKA_SIGN, true);
    CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE hpub = 0;
    CK_OBJECT_HANDLE hpriv = 0;
    EXPECT_CKR(CKR_USER_NOT_LOGGED_IN,
               f_->C_GenerateKeyPair(s, &gen, pub.data(), pub.size(), priv.data(), priv.size(),
                                     &hpub, &hpriv));
  }

  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, "not the PIN"));
  EXPECT_EQ(CountClass(s, CKO_PRIVATE_KEY), 0u);
  ASSERT_CKR(CKR_OK, Login(s, kPin));
  EXPECT_EQ(CountClass(other, CKO_PRIVATE_KEY), 1u);
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &ecdsa, kp.priv));
  // Closing the last session logs the application out.
  ASSERT_CKR(CKR_OK, f_->C_CloseAllSessions(kUserSlot));
  const CK_SESSION_HANDLE again = OpenSession();
  EXPECT_EQ(CountClass(again, CKO_PRIVATE_KEY), 0u);
}

TEST_F(PinTest, WrongPinsCountAcrossProcessesToLocked) {
  SetPin(kPin);
  constexpr CK_FLAGS kRetryFlags =
      CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;
  EXPECT_EQ(TokenFlags() & kRetryFlags, 0u);
  for (int i = 1; i <= 8; ++i) {
    ASSERT_EQ(LoginInChild("wrong pin"), "CKR_PIN_INCORRECT") << "attempt " << i;
    EXPECT_EQ(TokenFlags() & kRetryFlags, CKF_USER_PIN_COUNT_LOW) << "after " << i;
  }
  ASSERT_EQ(LoginInChild("wrong pin"), "CKR_PIN_INCORRECT");
  EXPECT_EQ(TokenFlags() & kRetryFlags, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  ASSERT_EQ(LoginInChild("wrong pin"), "CKR_PIN_INCORRECT");
  EXPECT_EQ(TokenFlags() & kRetryFlags, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
  // Locked: the right PIN is refused here and in a fresh process, also after a restart.
  const CK_SESSION_HANDLE s = OpenSession();
  EXPECT_CKR(CKR_PIN_LOCKED, Login(s, kPin));
  EXPECT_EQ(LoginInChild(kPin), "CKR_PIN_LOCKED");
  Reinitialize();
  EXPECT_EQ(TokenFlags() & kRetryFlags, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED);
}

TEST_F(PinTest, RightPinClearsTheCount) {
  SetPin(kPin);
  ASSERT_EQ(LoginInChild("wrong pin"), "CKR_PIN_INCORRECT");
  EXPECT_NE(TokenFlags() & CKF_USER_PIN_COUNT_LOW, 0u);
  ASSERT_EQ(LoginInChild(kPin), "CKR_OK");
  EXPECT_EQ(TokenFlags() & CKF_USER_PIN_COUNT_LOW, 0u);
}

TEST_F(PinTest, SetPinNeedsTheOldPin) {
  SetPin(kPin);
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_SetPIN(ro, Utf8(kPin), Len(kPin), Utf8("new 1"), 5));
  ASSERT_CKR(CKR_OK, f_->C_CloseSession(ro));
  const CK_SESSION_HANDLE s = OpenSession();
  EXPECT_CKR(CKR_PIN_INCORRECT, f_->C_SetPIN(s, Utf8("wrong pin"), 9, Utf8("new 1"), 5));
  EXPECT_CKR(CKR_PIN_LEN_RANGE, f_->C_SetPIN(s, Utf8(kPin), Len(kPin), Utf8("new"), 3));
  EXPECT_CKR(CKR_PIN_INVALID, f_->C_SetPIN(s, Utf8(kPin), Len(kPin), Utf8("n\xFFw 1"), 5));
  ASSERT_CKR(CKR_OK, f_->C_SetPIN(s, Utf8(kPin), Len(kPin), Utf8("new 1"), 5));
  EXPECT_CKR(CKR_PIN_INCORRECT, Login(s, kPin));
  EXPECT_CKR(CKR_OK, Login(s, "new 1"));
  // Logged in, C_SetPIN changes the user's own PIN.
  EXPECT_CKR(CKR_OK, f_->C_SetPIN(s, Utf8("new 1"), 5, Utf8("newer 2"), 7));
  EXPECT_CKR(CKR_OK, f_->C_Logout(s));
  EXPECT_CKR(CKR_OK, Login(s, "newer 2"));
  EXPECT_CKR(CKR_OK, f_->C_Logout(s));
  // The SO has no PIN to change.
  ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, Utf8("so"), 2));
  EXPECT_CKR(CKR_FUNCTION_NOT_SUPPORTED, f_->C_SetPIN(s, Utf8("so"), 2, Utf8("so 12"), 5));
}

}  // namespace
}  // namespace conf
