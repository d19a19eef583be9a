// CKA_ALWAYS_AUTHENTICATE and C_Login(CKU_CONTEXT_SPECIFIC), PKCS#11 3.0 §4.9 (table of private
// key attributes), §5.5 (C_Login: CKU_CONTEXT_SPECIFIC outside an operation that needs it is
// CKR_OPERATION_NOT_INITIALIZED) and §5.13 (the key needs the context login between C_SignInit
// and C_Sign; without it CKR_USER_NOT_LOGGED_IN). Signatures are checked with OpenSSL on the
// public key's attributes; plaintexts against the data OpenSSL encrypted. Runs on every slot.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class AlwaysAuthTest : public P11Test {
 protected:
  // The PIN a context login needs: the user PIN in the PIN run, else any PIN (consent).
  static std::string KeyPin() { return ConfPin().empty() ? "1234" : ConfPin(); }
  CK_RV ContextLogin(CK_SESSION_HANDLE s, const std::string& pin) {
    std::string copy = pin;
    return f_->C_Login(s, CKU_CONTEXT_SPECIFIC, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()),
                       static_cast<CK_ULONG>(copy.size()));
  }
  // C_Sign with a size query first (which must not use up the context login).
  CK_RV SignNow(CK_SESSION_HANDLE s, const Bytes& data, Bytes& sig) {
    Bytes in = data;
    CK_ULONG len = 0;
    CK_RV rv = f_->C_Sign(s, in.data(), static_cast<CK_ULONG>(in.size()), nullptr, &len);
    if (rv != CKR_OK) {
      return rv;
    }
    sig.assign(len, 0);
    rv = f_->C_Sign(s, in.data(), static_cast<CK_ULONG>(in.size()), sig.data(), &len);
    sig.resize(rv == CKR_OK ? len : 0);
    return rv;
  }
  PKey EcPublic(CK_SESSION_HANDLE s, const KeyPair& kp) {
    return EcPublicKey(GetBytes(s, kp.pub, CKA_EC_PARAMS), GetBytes(s, kp.pub, CKA_EC_POINT));
  }
};

TEST_F(AlwaysAuthTest, EachSignatureNeedsAContextLogin) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDSA_SHA256);
  const CK_SESSION_HANDLE s = OpenSession();
  for (const bool token : {false, true}) {
    SCOPED_TRACE(token ? "token key" : "session key");
    KeyOptions o;
    o.token = token;
    o.always_authenticate = true;
    const KeyPair kp = GenerateEc(s, EcParamsP256(), o);
    ASSERT_TRUE(kp.ok());
    EXPECT_TRUE(GetBool(s, kp.priv, CKA_ALWAYS_AUTHENTICATE));
    const PKey pub = EcPublic(s, kp);
    ASSERT_NE(pub, nullptr);
    CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
    const Bytes data = ToBytes("signed after a context login");
    Bytes sig;

    // No operation waits for it.
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));
    // Without the context login the signature is refused (and the operation ends).
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
    EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, SignNow(s, data, sig));
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));

    // With it: one signature, which OpenSSL verifies.
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
    ASSERT_CKR(CKR_OK, ContextLogin(s, KeyPin()));
    ASSERT_CKR(CKR_OK, SignNow(s, data, sig));
    EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), data, sig, false));
    // The operation used the login up.
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));

    // Multi-part: the login is made after C_SignInit and used by C_SignFinal.
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
    Bytes part = ToBytes("multi-part ");
    ASSERT_CKR(CKR_OK, f_->C_SignUpdate(s, part.data(), static_cast<CK_ULONG>(part.size())));
    ASSERT_CKR(CKR_OK, ContextLogin(s, KeyPin()));
    CK_ULONG len = 0;
    ASSERT_CKR(CKR_OK, f_->C_SignFinal(s, nullptr, &len));
    sig.assign(len, 0);
    ASSERT_CKR(CKR_OK, f_->C_SignFinal(s, sig.data(), &len));
    sig.resize(len);
    EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), part, sig, false));

    // Verification uses the public key: nothing to log in to.
    ASSERT_CKR(CKR_OK, f_->C_VerifyInit(s, &mech, kp.pub));
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));
    Bytes in = part;
    EXPECT_CKR(CKR_OK, f_->C_Verify(s, in.data(), static_cast<CK_ULONG>(in.size()), sig.data(),
                                    static_cast<CK_ULONG>(sig.size())));
  }
}

TEST_F(AlwaysAuthTest, OrdinaryKeysNeedNoContextLogin) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDSA_SHA256);
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  EXPECT_FALSE(GetBool(s, kp.priv, CKA_ALWAYS_AUTHENTICATE));
  CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));
  Bytes sig;
  ASSERT_CKR(CKR_OK, SignNow(s, ToBytes("no login"), sig));
  const PKey pub = EcPublic(s, kp);
  EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), ToBytes("no login"), sig, false));
}

TEST_F(AlwaysAuthTest, ContextPinIsTheUserPinWhenTheTokenHasOne) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDSA_SHA256);
  const CK_SESSION_HANDLE s = OpenSession();
  std::string user_pin = ConfPin();
  if (user_pin.empty()) {
    // Give the token a user PIN (the SO needs none: DESIGN.md §2), then log the user in.
    user_pin = "user-pin-7";
    ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, nullptr, 0));
    ASSERT_CKR(CKR_OK, f_->C_InitPIN(s, reinterpret_cast<CK_UTF8CHAR_PTR>(user_pin.data()),
                                     static_cast<CK_ULONG>(user_pin.size())));
    ASSERT_CKR(CKR_OK, f_->C_Logout(s));
    ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(user_pin.data()),
                                   static_cast<CK_ULONG>(user_pin.size())));
  }
  KeyOptions o;
  o.always_authenticate = true;
  const KeyPair kp = GenerateEc(s, EcParamsP256(), o);
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  EXPECT_CKR(CKR_PIN_INCORRECT, ContextLogin(s, "not-the-pin"));
  // Counted as a wrong user PIN (PKCS#11 3.0 §5.4: CKF_USER_PIN_COUNT_LOW).
  CK_TOKEN_INFO info{};
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
  EXPECT_NE(info.flags & CKF_USER_PIN_COUNT_LOW, 0u);
  ASSERT_CKR(CKR_OK, ContextLogin(s, user_pin));
  Bytes sig;
  ASSERT_CKR(CKR_OK, SignNow(s, ToBytes("user pin"), sig));
  const PKey pub = EcPublic(s, kp);
  EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), ToBytes("user pin"), sig, false));
  // The right one reset the count.
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
  EXPECT_EQ(info.flags & CKF_USER_PIN_COUNT_LOW, 0u);
}

TEST_F(AlwaysAuthTest, EachDecryptionNeedsAContextLogin) {
  REQUIRE_MECHANISM_SIZE(CKM_RSA_PKCS_KEY_PAIR_GEN, 2048);
  REQUIRE_MECHANISM(CKM_RSA_PKCS);
  const CK_SESSION_HANDLE s = OpenSession();
  KeyOptions o;
  o.always_authenticate = true;
  const KeyPair kp = GenerateRsa(s, 2048, o);
  ASSERT_TRUE(kp.ok());
  const PKey pub =
      RsaPublicKey(GetBytes(s, kp.pub, CKA_MODULUS), GetBytes(s, kp.pub, CKA_PUBLIC_EXPONENT));
  const Bytes plain = ToBytes("decrypted after a context login");
  const Bytes cipher = RsaEncrypt(pub.get(), RSA_PKCS1_PADDING, nullptr, plain);
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_DecryptInit(s, &mech, kp.priv));
  Bytes in = cipher;
  Bytes out(256);
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN,
             f_->C_Decrypt(s, in.data(), static_cast<CK_ULONG>(in.size()), out.data(), &len));
  ASSERT_CKR(CKR_OK, f_->C_DecryptInit(s, &mech, kp.priv));
  ASSERT_CKR(CKR_OK, ContextLogin(s, KeyPin()));
  len = static_cast<CK_ULONG>(out.size());
  ASSERT_CKR(CKR_OK,
             f_->C_Decrypt(s, in.data(), static_cast<CK_ULONG>(in.size()), out.data(), &len));
  out.resize(len);
  EXPECT_EQ(Hex(out), Hex(plain));
}

}  // namespace
}  // namespace conf
