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
  // The PIN a context login needs: the user PIN in the PIN run, else the PIN LoginUser gives
  // (any PIN is consent on the software slots; the TPM slots make it the key's authValue).
  static std::string KeyPin() { return ConfPin().empty() ? "1234" : ConfPin(); }
  // Logs the user in with KeyPin() (the PIN run's fixture has done so already).
  void LoginUser(CK_SESSION_HANDLE s) {
    if (ConfPin().empty()) {
      std::string pin = KeyPin();
      ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                                     static_cast<CK_ULONG>(pin.size())));
    }
  }
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
  // priv refuses C_Sign without a context login, signs once after one (OpenSSL verifies it
  // with pub), and refuses again after that signature.
  void ExpectSignsOncePerContextLogin(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, EVP_PKEY* pub) {
    CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
    const Bytes data = ToBytes("signed by a copy");
    Bytes sig;
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, priv));
    EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, SignNow(s, data, sig));
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, priv));
    ASSERT_CKR(CKR_OK, ContextLogin(s, KeyPin()));
    ASSERT_CKR(CKR_OK, SignNow(s, data, sig));
    EXPECT_TRUE(VerifyEcdsa(pub, EVP_sha256(), data, sig, false));
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, priv));
    EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, SignNow(s, data, sig));
  }
  // C_DeriveKey(CKM_ECDH1_DERIVE, CKD_NULL) of a generic secret of the whole Z; rv its result.
  Bytes DeriveZ(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, Bytes peer_point, std::size_t size,
                CK_RV* rv) {
    CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(peer_point.size()),
                                peer_point.data()};
    CK_MECHANISM mech{CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh};
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    t.Ulong(CKA_VALUE_LEN, size).Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
    CK_OBJECT_HANDLE secret = CK_INVALID_HANDLE;
    *rv = f_->C_DeriveKey(s, &mech, priv, t.data(), t.size(), &secret);
    return *rv == CKR_OK ? GetBytes(s, secret, CKA_VALUE) : Bytes{};
  }
};

TEST_F(AlwaysAuthTest, EachSignatureNeedsAContextLogin) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDSA_SHA256);
  const CK_SESSION_HANDLE s = OpenSession();
  LoginUser(s);
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
  CK_TOKEN_INFO info{};
  Bytes sig;
  if (IsPlatformSlot(kUserSlot)) {
    // The key's PIN is its TPM authValue: the TPM refuses a wrong one when the key is used.
    ASSERT_CKR(CKR_OK, ContextLogin(s, "not-the-pin"));
    EXPECT_CKR(CKR_PIN_INCORRECT, SignNow(s, ToBytes("user pin"), sig));
    ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  } else {
    EXPECT_CKR(CKR_PIN_INCORRECT, ContextLogin(s, "not-the-pin"));
    // Counted as a wrong user PIN (PKCS#11 3.0 §5.4: CKF_USER_PIN_COUNT_LOW).
    ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(kUserSlot, &info));
    EXPECT_NE(info.flags & CKF_USER_PIN_COUNT_LOW, 0u);
  }
  ASSERT_CKR(CKR_OK, ContextLogin(s, user_pin));
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
  LoginUser(s);
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

// C_CopyObject (PKCS#11 3.0 §5.7) may change only attributes C_SetAttributeValue may change,
// plus CKA_TOKEN/CKA_PRIVATE/CKA_MODIFIABLE/CKA_DESTROYABLE; CKA_ALWAYS_AUTHENTICATE is not
// modifiable (§4.9), so a copy keeps it (FALSE in the template: CKR_ATTRIBUTE_READ_ONLY), and
// the copy's CNG key keeps the UI policy: each signature needs its context login.
TEST_F(AlwaysAuthTest, CopiesStayAlwaysAuthenticate) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDSA_SHA256);
  const CK_SESSION_HANDLE s = OpenSession();
  LoginUser(s);
  for (const bool token : {false, true}) {
    SCOPED_TRACE(token ? "token source" : "session source");
    KeyOptions o;
    o.token = token;
    o.extractable = true;  // a token copy of a private key is an export + import
    o.always_authenticate = true;
    const KeyPair kp = GenerateEc(s, EcParamsP256(), o);
    ASSERT_TRUE(kp.ok());
    const PKey pub = EcPublic(s, kp);
    ASSERT_NE(pub, nullptr);

    Template drop;
    drop.Bool(CKA_ALWAYS_AUTHENTICATE, false);
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
               f_->C_CopyObject(s, kp.priv, drop.data(), drop.size(), &copy));

    for (const bool to_token : {false, true}) {
      SCOPED_TRACE(to_token ? "copy to the token" : "copy to the session");
      const std::string label = to_token ? "aa token copy" : "aa session copy";
      Template t;
      t.Bool(CKA_TOKEN, to_token).Str(CKA_LABEL, label);
      copy = CK_INVALID_HANDLE;
      const CK_RV rv = f_->C_CopyObject(s, kp.priv, t.data(), t.size(), &copy);
      if (to_token && IsHardwareSlot(kUserSlot)) {
        // No private key leaves the TPM (copy_key_test.cpp): a token copy is refused.
        EXPECT_CKR(CKR_ACTION_PROHIBITED, rv);
        continue;
      }
      ASSERT_CKR(CKR_OK, rv);
      EXPECT_EQ(GetBool(s, copy, CKA_TOKEN), to_token);
      EXPECT_EQ(GetBytes(s, copy, CKA_LABEL), ToBytes(label));
      EXPECT_TRUE(GetBool(s, copy, CKA_ALWAYS_AUTHENTICATE));
      ExpectSignsOncePerContextLogin(s, copy, pub.get());
      EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, copy));
    }
    // The original is unchanged by its copies.
    ExpectSignsOncePerContextLogin(s, kp.priv, pub.get());
  }
}

// CKM_ECDH1_DERIVE with a CKA_ALWAYS_AUTHENTICATE key. PKCS#11 3.0 §4.9 asks for the PIN at
// each "use (sign or decrypt)" of such a key, and the context-specific login (§5.5) exists
// only between an operation's C_*Init and its completion: C_DeriveKey has no init, so no
// context login can precede it (C_Login(CKU_CONTEXT_SPECIFIC) says
// CKR_OPERATION_NOT_INITIALIZED). The CNG key's secret agreement still needs the key's PIN
// (NCryptSecretAgreement on a UI-protected key: NTE_SILENT_CONTEXT without one): the module
// gives it the user's login PIN, so a derive needs the user logged in
// (CKR_USER_NOT_LOGGED_IN) and works after C_Login(CKU_USER), each time. The secret is
// checked against OpenSSL's ECDH.
TEST_F(AlwaysAuthTest, EcdhDeriveTakesTheUserLoginPin) {
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  REQUIRE_MECHANISM(CKM_ECDH1_DERIVE);
  REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);
  const CK_SESSION_HANDLE s = OpenSession();
  LoginUser(s);
  for (const bool token : {false, true}) {
    SCOPED_TRACE(token ? "token key" : "session key");
    KeyOptions o;
    o.token = token;
    o.always_authenticate = true;
    const KeyPair kp = GenerateEc(s, EcParamsP256(), o);
    ASSERT_TRUE(kp.ok());
    const PKey pub = EcPublic(s, kp);
    ASSERT_NE(pub, nullptr);
    const PKey peer = GenerateEcKey("P-256");
    const Bytes expected = EcdhSecret(peer.get(), pub.get());
    ASSERT_EQ(expected.size(), 32u);
    const Bytes peer_point = EcRawPoint(peer.get());

    CK_RV rv = CKR_GENERAL_ERROR;
    if (ConfPin().empty()) {  // the PIN run's fixture keeps the user logged in
      ASSERT_CKR(CKR_OK, f_->C_Logout(s));
      DeriveZ(s, kp.priv, peer_point, expected.size(), &rv);
      EXPECT_CKR(CKR_USER_NOT_LOGGED_IN, rv);
      EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));
      LoginUser(s);
    }
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, ContextLogin(s, KeyPin()));
    for (int i = 0; i < 2; ++i) {  // not used up: each derive runs under the login
      const Bytes z = DeriveZ(s, kp.priv, peer_point, expected.size(), &rv);
      ASSERT_CKR(CKR_OK, rv);
      EXPECT_EQ(Hex(z), Hex(expected));
    }
    // Signing still needs its context login.
    ExpectSignsOncePerContextLogin(s, kp.priv, pub.get());
  }
}

TEST_F(AlwaysAuthTest, TpmKeysTakeTheLoginPinAsTheirAuthValue) {
  if (!IsPlatformSlot(kUserSlot)) {
    GTEST_SKIP() << "only the TPM slots give a key an authValue";
  }
  SKIP_WITH_PIN("the PIN run's fixture keeps the user logged in");
  REQUIRE_MECHANISM(CKM_EC_KEY_PAIR_GEN);
  const CK_SESSION_HANDLE s = OpenSession();
  Template pub;
  Template priv;
  pub.Bool(CKA_TOKEN, false).Bool(CKA_VERIFY, true).Raw(CKA_EC_PARAMS, EcParamsP256());
  priv.Bool(CKA_TOKEN, false).Bool(CKA_SIGN, true).Bool(CKA_ALWAYS_AUTHENTICATE, true);
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub_h = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_h = CK_INVALID_HANDLE;
  // No login: no PIN to give the key.
  EXPECT_CKR(CKR_USER_NOT_LOGGED_IN,
             f_->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(),
                                   &pub_h, &priv_h));
  LoginUser(s);
  EXPECT_CKR(CKR_OK, f_->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(),
                                           priv.size(), &pub_h, &priv_h));
}

}  // namespace
}  // namespace conf
