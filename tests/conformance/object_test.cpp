// C_FindObjects*, C_SetAttributeValue, C_DestroyObject, C_CopyObject, C_CreateObject of keys,
// C_GetObjectSize; object visibility between sessions and across C_Initialize.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

using ObjectTest = P11Test;

TEST_F(ObjectTest, FindObjectsStateMachine) {
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_TRUE(GenerateEc(s, EcParamsP256(), {.label = "a"}).ok());
  ASSERT_TRUE(GenerateEc(s, EcParamsP256(), {.label = "b"}).ok());
  CK_OBJECT_HANDLE h[8];
  CK_ULONG n = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjects(s, h, 8, &n));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjectsFinal(s));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjectsInit(s, nullptr, 1));
  ASSERT_CKR(CKR_OK, f_->C_FindObjectsInit(s, nullptr, 0));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_FindObjectsInit(s, nullptr, 0));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjects(s, nullptr, 8, &n));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjects(s, h, 8, nullptr));
  // One at a time, then the rest: four objects in all, no duplicates.
  std::vector<CK_OBJECT_HANDLE> all;
  ASSERT_CKR(CKR_OK, f_->C_FindObjects(s, h, 1, &n));
  ASSERT_EQ(n, 1u);
  all.push_back(h[0]);
  ASSERT_CKR(CKR_OK, f_->C_FindObjects(s, h, 8, &n));
  all.insert(all.end(), h, h + n);
  ASSERT_CKR(CKR_OK, f_->C_FindObjects(s, h, 8, &n));
  EXPECT_EQ(n, 0u);
  EXPECT_CKR(CKR_OK, f_->C_FindObjectsFinal(s));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), 4u);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_FindObjectsFinal(s));
}

TEST_F(ObjectTest, FindByClassLabelIdAndKeyType) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair ec = GenerateEc(s, EcParamsP256(), {.token = true, .label = "ec", .id = {7}});
  const KeyPair rsa = GenerateRsa(s, 2048, {.label = "rsa", .id = {8}});
  ASSERT_TRUE(ec.ok() && rsa.ok());
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, "ec"), std::vector<CK_OBJECT_HANDLE>{ec.priv});
  EXPECT_EQ(FindByLabel(s, CKO_PUBLIC_KEY, "rsa"), std::vector<CK_OBJECT_HANDLE>{rsa.pub});
  Template by_id;
  by_id.Raw(CKA_ID, {8});
  auto found = Find(s, by_id);
  std::sort(found.begin(), found.end());
  std::vector<CK_OBJECT_HANDLE> want{rsa.pub, rsa.priv};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(found, want);
  Template ec_keys;
  ec_keys.Ulong(CKA_KEY_TYPE, CKK_EC);
  EXPECT_EQ(Find(s, ec_keys).size(), 2u);
  Template tokens;
  tokens.Bool(CKA_TOKEN, true);
  EXPECT_EQ(Find(s, tokens).size(), 2u);
  Template sessions;
  sessions.Bool(CKA_TOKEN, false);
  EXPECT_EQ(Find(s, sessions).size(), 2u);
  Template none;
  none.Str(CKA_LABEL, "no such label");
  EXPECT_TRUE(Find(s, none).empty());
  // The other scope's slot has its own objects.
  const CK_SESSION_HANDLE m = OpenSession(kOtherScopeSlot);
  Template everything;
  EXPECT_TRUE(Find(m, everything).empty()) << "objects seen in the other scope's slot";
  EXPECT_TRUE(Find(m, tokens).empty());
}

TEST_F(ObjectTest, FindUnknownClassesAndAttributesFindsNothing) {
  const CK_SESSION_HANDLE s = OpenSession();
  ASSERT_TRUE(GenerateEc(s, EcParamsP256(), {.token = true}).ok());
  for (CK_OBJECT_CLASS cls : {kCkoNssTrust, kCkoTrust, kCkoProfile, kCkoNssBuiltinRootList,
                              static_cast<CK_OBJECT_CLASS>(CKO_HW_FEATURE)}) {
    Template t;
    t.Ulong(CKA_CLASS, cls);
    EXPECT_TRUE(Find(s, t).empty()) << "class 0x" << std::hex << cls;
  }
  Template unknown_attr;
  unknown_attr.Bool(kUnknownAttribute, true);
  EXPECT_TRUE(Find(s, unknown_attr).empty());
}

TEST_F(ObjectTest, SessionObjectsAreSharedBetweenSessionsAndDieWithTheirSession) {
  const CK_SESSION_HANDLE a = OpenSession();
  const CK_SESSION_HANDLE b = OpenSession(kUserSlot, false);
  const KeyPair kp = GenerateEc(a, EcParamsP256(), {.label = "ephemeral"});
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(FindByLabel(b, CKO_PRIVATE_KEY, "ephemeral").size(), 1u);
  Bytes hash(32, 1);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_FALSE(Sign(b, &ecdsa, kp.priv, hash).empty()) << "usable from another session";
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(a));
  EXPECT_TRUE(FindByLabel(b, CKO_PRIVATE_KEY, "ephemeral").empty());
  CK_ATTRIBUTE attr{CKA_CLASS, nullptr, 0};
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(b, kp.priv, &attr, 1));
}

TEST_F(ObjectTest, TokenObjectsPersistAcrossReinitialize) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048, {.token = true, .label = "persist", .id = {9, 9}});
  const KeyPair eph = GenerateEc(s, EcParamsP256(), {.label = "persist-session"});
  ASSERT_TRUE(kp.ok() && eph.ok());
  const Bytes modulus = GetBytes(s, kp.pub, CKA_MODULUS);
  Reinitialize();
  s = OpenSession(kUserSlot, false);
  const auto privs = FindByLabel(s, CKO_PRIVATE_KEY, "persist");
  ASSERT_EQ(privs.size(), 1u);
  EXPECT_EQ(GetBytes(s, privs[0], CKA_MODULUS), modulus);
  EXPECT_EQ(GetBytes(s, privs[0], CKA_ID), (Bytes{9, 9}));
  EXPECT_TRUE(GetBool(s, privs[0], CKA_TOKEN));
  EXPECT_EQ(FindByLabel(s, CKO_PUBLIC_KEY, "persist").size(), 1u);
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "persist-session").empty());
  // Not visible in the other scope's slot.
  const CK_SESSION_HANDLE m = OpenSession(kOtherScopeSlot, false);
  EXPECT_TRUE(FindByLabel(m, CKO_PRIVATE_KEY, "persist").empty());
}

TEST_F(ObjectTest, SetAttributeValueLabelAndIdPersist) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "before"});
  ASSERT_TRUE(kp.ok());
  for (CK_OBJECT_HANDLE o : {kp.priv, kp.pub}) {
    Template t;
    t.Str(CKA_LABEL, "after").Raw(CKA_ID, {0xCA, 0xFE});
    EXPECT_CKR(CKR_OK, f_->C_SetAttributeValue(s, o, t.data(), t.size()));
    EXPECT_EQ(GetBytes(s, o, CKA_LABEL), ToBytes("after"));
    EXPECT_EQ(GetBytes(s, o, CKA_ID), (Bytes{0xCA, 0xFE}));
  }
  Reinitialize();
  s = OpenSession();
  const auto found = FindByLabel(s, CKO_PRIVATE_KEY, "after");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_ID), (Bytes{0xCA, 0xFE}));
  EXPECT_EQ(FindByLabel(s, CKO_PUBLIC_KEY, "after").size(), 1u);
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "before").empty());
}

TEST_F(ObjectTest, SetAttributeValueErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048, {.token = true});
  ASSERT_TRUE(kp.ok());
  auto set = [&](CK_OBJECT_HANDLE o, Template& t) {
    return f_->C_SetAttributeValue(s, o, t.data(), t.size());
  };
  Template cls;
  cls.Ulong(CKA_CLASS, CKO_SECRET_KEY);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, cls));
  Template type;
  type.Ulong(CKA_KEY_TYPE, CKK_EC);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, type));
  Template modulus;
  modulus.Raw(CKA_MODULUS, Bytes(256, 0xFF));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.pub, modulus));
  Template token;
  token.Bool(CKA_TOKEN, false);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, token));
  Template unsensitive;
  unsensitive.Bool(CKA_SENSITIVE, false);  // may only go FALSE -> TRUE
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, unsensitive));
  Template extractable;
  extractable.Bool(CKA_EXTRACTABLE, true);  // may only go TRUE -> FALSE
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, extractable));
  Template local;
  local.Bool(CKA_LOCAL, false);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, set(kp.priv, local));
  Template unknown;
  unknown.Str(kUnknownAttribute, "x");
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, set(kp.priv, unknown));
  CK_ULONG eight = 0;
  Template bad_len;
  bad_len.Verbatim(CKA_SIGN, &eight, sizeof eight);
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, set(kp.priv, bad_len));
  Template label;
  label.Str(CKA_LABEL, "x");
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_SetAttributeValue(s, 0x7FFF1234, label.data(), 1));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SetAttributeValue(s, kp.priv, nullptr, 1));
  // A read-only session may not modify token objects.
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_SetAttributeValue(ro, kp.priv, label.data(), 1));
  // Nothing above changed the key.
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_CLASS), CKO_PRIVATE_KEY);
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_SENSITIVE));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_TOKEN));
}

TEST_F(ObjectTest, DestroyObject) {
  CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "doomed"});
  ASSERT_TRUE(kp.ok());
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_DestroyObject(s, 0x7FFF1234));
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_DestroyObject(ro, kp.priv));
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.priv));
  CK_ATTRIBUTE a{CKA_CLASS, nullptr, 0};
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(s, kp.priv, &a, 1));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_DestroyObject(s, kp.priv));
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "doomed").empty());
  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "doomed").empty()) << "deleted from the store";
}

TEST_F(ObjectTest, PrivateAndPublicKeyObjectsAreDestroyedIndependently) {
  // PKCS#11 objects are independent: destroying the private key leaves the public key object
  // (pkcs11-tool --delete-object --type privkey, then --type pubkey, relies on it).
  CK_SESSION_HANDLE s = OpenSession();
  for (bool token : {false, true}) {
    SCOPED_TRACE(token ? "token key" : "session key");
    const std::string label = token ? "indep-token" : "indep-session";
    const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = token, .label = label});
    ASSERT_TRUE(kp.ok());
    const Bytes point = GetBytes(s, kp.pub, CKA_EC_POINT);
    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.priv));
    CK_RV rv = CKR_OK;
    EXPECT_EQ(GetBytes(s, kp.pub, CKA_EC_POINT, &rv), point);
    EXPECT_CKR(CKR_OK, rv) << "public key object gone with its private key";
    EXPECT_EQ(FindByLabel(s, CKO_PUBLIC_KEY, label).size(), 1u);
    EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, label).empty());
    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.pub));
    EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, label).empty());
  }
  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(FindByLabel(s, CKO_PUBLIC_KEY, "indep-token").empty());
}

TEST_F(ObjectTest, GetObjectSize) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  CK_ULONG size = 0;
  EXPECT_CKR_ONE_OF(f_->C_GetObjectSize(s, kp.pub, &size), CKR_OK, CKR_FUNCTION_NOT_SUPPORTED,
                    CKR_INFORMATION_SENSITIVE);
  EXPECT_CKR_ONE_OF(f_->C_GetObjectSize(s, 0x7FFF1234, &size), CKR_OBJECT_HANDLE_INVALID,
                    CKR_FUNCTION_NOT_SUPPORTED);
}

TEST_F(ObjectTest, CopyTokenKeyToSessionAndSessionKeyToToken) {
  CK_SESSION_HANDLE s = OpenSession();
  // pkcs11-provider: token -> session copy.
  const KeyPair tok = GenerateEc(s, EcParamsP256(), {.token = true, .label = "tok"});
  ASSERT_TRUE(tok.ok());
  Template to_session;
  to_session.Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CopyObject(s, tok.priv, to_session.data(), to_session.size(), &copy));
  EXPECT_NE(copy, tok.priv);
  EXPECT_FALSE(GetBool(s, copy, CKA_TOKEN));
  EXPECT_EQ(GetBytes(s, copy, CKA_EC_PARAMS), EcParamsP256());
  Bytes hash(32, 3);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  const Bytes sig = Sign(s, &ecdsa, copy, hash);
  PKey pub = EcPublicKey(GetBytes(s, tok.pub, CKA_EC_PARAMS), GetBytes(s, tok.pub, CKA_EC_POINT));
  ASSERT_NE(pub, nullptr);
  EXPECT_TRUE(VerifyEcdsa(pub.get(), nullptr, hash, sig, true)) << "copy is the same key";

  // keytool: session key -> token copy with a new CKA_ID.
  const KeyPair eph = GenerateRsa(s, 2048, {.label = "eph", .extractable = true});
  ASSERT_TRUE(eph.ok());
  Template to_token;
  to_token.Bool(CKA_TOKEN, true).Raw(CKA_ID, {0x42}).Str(CKA_LABEL, "kept");
  CK_OBJECT_HANDLE kept = CK_INVALID_HANDLE;
  if (IsHardwareSlot(kUserSlot)) {
    // A key of a hardware slot (the TPM) never leaves its device: no export makes the token
    // copy. C_CopyObject has no CKR_KEY_UNEXTRACTABLE; CKR_ACTION_PROHIBITED is its code for
    // the token's policy (PKCS#11 3.0 section 5.7).
    EXPECT_CKR(CKR_ACTION_PROHIBITED,
               f_->C_CopyObject(s, eph.priv, to_token.data(), to_token.size(), &kept));
    EXPECT_TRUE(FindByLabel(s, CKO_PRIVATE_KEY, "kept").empty());
    GTEST_SKIP() << "session -> token copy needs a key that may leave its device; the keys of "
                    "a hardware slot (CKF_HW_SLOT) never do";
  }
  ASSERT_CKR(CKR_OK, f_->C_CopyObject(s, eph.priv, to_token.data(), to_token.size(), &kept));
  EXPECT_TRUE(GetBool(s, kept, CKA_TOKEN));
  const Bytes modulus = GetBytes(s, eph.pub, CKA_MODULUS);
  Template bad;
  bad.Ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  CK_OBJECT_HANDLE unused = 0;
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY,
             f_->C_CopyObject(s, eph.priv, bad.data(), bad.size(), &unused));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID,
             f_->C_CopyObject(s, 0x7FFF1234, to_session.data(), to_session.size(), &unused));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_CopyObject(s, eph.priv, to_session.data(), to_session.size(), nullptr));
  Reinitialize();
  s = OpenSession();
  const auto found = FindByLabel(s, CKO_PRIVATE_KEY, "kept");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_ID), (Bytes{0x42}));
  EXPECT_EQ(GetBytes(s, found[0], CKA_MODULUS), modulus);
}

TEST_F(ObjectTest, CreateRsaPrivateKeyImportsAndSigns) {
  if (IsPlatformSlot(kUserSlot)) {
    GTEST_SKIP() << "the platform provider imports no private keys (they are made in the TPM)";
  }
  const CK_SESSION_HANDLE s = OpenSession();
  PKey ossl = GenerateRsaKey(2048);
  ASSERT_NE(ossl, nullptr);
  const RsaComponents c = RsaComponentsOf(ossl.get());
  Template t;
  t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, true);
  t.Str(CKA_LABEL, "imported").Raw(CKA_ID, {0x11}).Bool(CKA_SIGN, true).Bool(CKA_SENSITIVE, true);
  t.Raw(CKA_MODULUS, c.n).Raw(CKA_PUBLIC_EXPONENT, c.e).Raw(CKA_PRIVATE_EXPONENT, c.d);
  t.Raw(CKA_PRIME_1, c.p).Raw(CKA_PRIME_2, c.q).Raw(CKA_EXPONENT_1, c.dp);
  t.Raw(CKA_EXPONENT_2, c.dq).Raw(CKA_COEFFICIENT, c.qinv);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s, t.data(), t.size(), &key));
  EXPECT_EQ(GetBytes(s, key, CKA_MODULUS), c.n);
  EXPECT_FALSE(GetBool(s, key, CKA_LOCAL));
  CK_RV rv = CKR_OK;
  GetBytes(s, key, CKA_PRIVATE_EXPONENT, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  const Bytes data = ToBytes("imported key signs");
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_TRUE(VerifyRsaPkcs1(ossl.get(), EVP_sha256(), data, Sign(s, &mech, key, data)));

  Template incomplete;
  incomplete.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Raw(CKA_MODULUS, c.n);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE,
             f_->C_CreateObject(s, incomplete.data(), incomplete.size(), &key));
  Template no_class;
  no_class.Str(CKA_LABEL, "classless");
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE,
             f_->C_CreateObject(s, no_class.data(), no_class.size(), &key));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CreateObject(s, nullptr, 1, &key));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CreateObject(s, t.data(), t.size(), nullptr));
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_CreateObject(ro, t.data(), t.size(), &key));
}

TEST_F(ObjectTest, CreateRsaPublicKey) {
  const CK_SESSION_HANDLE s = OpenSession();
  PKey ossl = GenerateRsaKey(2048);
  const RsaComponents c = RsaComponentsOf(ossl.get());
  Template t;
  t.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_VERIFY, true);
  t.Raw(CKA_MODULUS, c.n).Raw(CKA_PUBLIC_EXPONENT, c.e);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s, t.data(), t.size(), &key));
  EXPECT_EQ(GetUlong(s, key, CKA_MODULUS_BITS), 2048u);
}

}  // namespace
}  // namespace conf
