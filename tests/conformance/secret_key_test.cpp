// Secret key objects (PKCS#11 3.0 §4.10, §6.7 AES, §6.? generic secret) over CNG keys:
// C_GenerateKey, C_CreateObject, C_CopyObject, C_DestroyObject, persistence across
// C_Initialize, CKA_CHECK_VALUE and C_DigestKey. Expected values come from OpenSSL (AES-ECB
// of a zero block, SHA-1 / SHA-256 of the value).
#include <openssl/evp.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

Bytes AesCheckValue(const Bytes& key) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_ecb()
                             : key.size() == 24 ? EVP_aes_192_ecb()
                                                : EVP_aes_256_ecb();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(32);
  int len = 0;
  const Bytes zero(16, 0);
  EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), nullptr);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, out.data(), &len, zero.data(), 16);
  EVP_CIPHER_CTX_free(ctx);
  return Bytes(out.begin(), out.begin() + 3);
}

Bytes Sha1Prefix(const Bytes& value) {
  const Bytes d = Digest(EVP_sha1(), value);
  return Bytes(d.begin(), d.begin() + 3);
}

class SecretKeyTest : public P11Test {
 protected:
  // Secret keys are kept only where the provider keeps AES and generic-secret keys.
  void SetUp() override {
    P11Test::SetUp();
    if (IsSkipped()) {
      return;
    }
    REQUIRE_MECHANISM(CKM_AES_KEY_GEN);
    REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);
  }
  CK_OBJECT_HANDLE Generate(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_ULONG len, bool token,
                            bool sensitive, const std::string& label, CK_RV* rv = nullptr) {
    CK_MECHANISM m{mech, nullptr, 0};
    Template t;
    t.Ulong(CKA_VALUE_LEN, len).Bool(CKA_TOKEN, token).Bool(CKA_SENSITIVE, sensitive);
    t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_ENCRYPT, true).Bool(CKA_DECRYPT, true);
    t.Bool(CKA_SIGN, true).Bool(CKA_VERIFY, true).Str(CKA_LABEL, label);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const CK_RV r = f_->C_GenerateKey(s, &m, t.data(), t.size(), &h);
    if (rv != nullptr) {
      *rv = r;
    } else {
      EXPECT_CKR(CKR_OK, r);
    }
    return h;
  }
  CK_OBJECT_HANDLE Create(CK_SESSION_HANDLE s, CK_KEY_TYPE type, const Bytes& value, bool token,
                          bool sensitive, const std::string& label, CK_RV* rv = nullptr) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Raw(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, token).Bool(CKA_SENSITIVE, sensitive).Str(CKA_LABEL, label);
    t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_SIGN, true).Bool(CKA_ENCRYPT, true);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const CK_RV r = f_->C_CreateObject(s, t.data(), t.size(), &h);
    if (rv != nullptr) {
      *rv = r;
    } else {
      EXPECT_CKR(CKR_OK, r);
    }
    return h;
  }
};

TEST_F(SecretKeyTest, GeneratedAesKeysHaveTheirAttributesAndCheckValue) {
  const CK_SESSION_HANDLE s = OpenSession();
  for (const CK_ULONG len : {16UL, 24UL, 32UL}) {
    for (const bool token : {false, true}) {
      SCOPED_TRACE(std::to_string(len) + (token ? " token" : " session"));
      const CK_OBJECT_HANDLE h =
          Generate(s, CKM_AES_KEY_GEN, len, token, false, "aes-" + std::to_string(len));
      ASSERT_NE(h, CK_INVALID_HANDLE);
      EXPECT_EQ(GetUlong(s, h, CKA_CLASS), CKO_SECRET_KEY);
      EXPECT_EQ(GetUlong(s, h, CKA_KEY_TYPE), CKK_AES);
      EXPECT_EQ(GetUlong(s, h, CKA_VALUE_LEN), len);
      EXPECT_EQ(GetBool(s, h, CKA_TOKEN), token);
      EXPECT_TRUE(GetBool(s, h, CKA_LOCAL));
      EXPECT_EQ(GetUlong(s, h, CKA_KEY_GEN_MECHANISM), CKM_AES_KEY_GEN);
      EXPECT_FALSE(GetBool(s, h, CKA_ALWAYS_SENSITIVE));
      EXPECT_FALSE(GetBool(s, h, CKA_NEVER_EXTRACTABLE));
      const Bytes value = GetBytes(s, h, CKA_VALUE);
      ASSERT_EQ(value.size(), len);
      EXPECT_EQ(Hex(GetBytes(s, h, CKA_CHECK_VALUE)), Hex(AesCheckValue(value)));
    }
  }
}

TEST_F(SecretKeyTest, SensitiveValueIsNeverRevealed) {
  const CK_SESSION_HANDLE s = OpenSession();
  const CK_OBJECT_HANDLE h = Generate(s, CKM_AES_KEY_GEN, 32, true, true, "sensitive");
  CK_RV rv = CKR_OK;
  GetBytes(s, h, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  EXPECT_TRUE(GetBool(s, h, CKA_ALWAYS_SENSITIVE));
  EXPECT_EQ(GetBytes(s, h, CKA_CHECK_VALUE).size(), 3u);
  // CKA_SENSITIVE may only become TRUE; the value stays hidden in a new C_Initialize too.
  Template down;
  down.Bool(CKA_SENSITIVE, false);
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f_->C_SetAttributeValue(s, h, down.data(), down.size()));
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  const auto found = FindByLabel(s2, CKO_SECRET_KEY, "sensitive");
  ASSERT_EQ(found.size(), 1u);
  GetBytes(s2, found[0], CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
}

TEST_F(SecretKeyTest, CreatedKeysKeepTheirValueAndCheckValue) {
  const CK_SESSION_HANDLE s = OpenSession();
  const Bytes aes = ToBytes("0123456789abcdef0123456789abcdef");
  const CK_OBJECT_HANDLE a = Create(s, CKK_AES, aes, true, false, "created-aes");
  EXPECT_EQ(Hex(GetBytes(s, a, CKA_VALUE)), Hex(aes));
  EXPECT_EQ(Hex(GetBytes(s, a, CKA_CHECK_VALUE)), Hex(AesCheckValue(aes)));
  EXPECT_FALSE(GetBool(s, a, CKA_LOCAL));
  EXPECT_EQ(GetUlong(s, a, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);

  const Bytes secret = ToBytes("a generic secret of 29 bytes!");
  const CK_OBJECT_HANDLE g = Create(s, CKK_GENERIC_SECRET, secret, false, false, "created-gen");
  EXPECT_EQ(GetUlong(s, g, CKA_VALUE_LEN), secret.size());
  EXPECT_EQ(Hex(GetBytes(s, g, CKA_CHECK_VALUE)), Hex(Sha1Prefix(secret)));

  // The token key persists with its value and check value.
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  const auto found = FindByLabel(s2, CKO_SECRET_KEY, "created-aes");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetUlong(s2, found[0], CKA_KEY_TYPE), CKK_AES);
  EXPECT_EQ(Hex(GetBytes(s2, found[0], CKA_VALUE)), Hex(aes));
  EXPECT_EQ(Hex(GetBytes(s2, found[0], CKA_CHECK_VALUE)), Hex(AesCheckValue(aes)));
  EXPECT_TRUE(FindByLabel(s2, CKO_SECRET_KEY, "created-gen").empty()) << "a session key";
}

TEST_F(SecretKeyTest, TemplateErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  CK_RV rv = CKR_OK;
  Create(s, CKK_AES, Bytes(17, 1), false, false, "bad", &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, rv);
  Generate(s, CKM_AES_KEY_GEN, 20, false, true, "bad", &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, rv);
  // A check value that does not match the value.
  Template wrong_check;
  wrong_check.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  wrong_check.Raw(CKA_VALUE, Bytes(16, 7)).Raw(CKA_CHECK_VALUE, {1, 2, 3});
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID,
             f_->C_CreateObject(s, wrong_check.data(), wrong_check.size(), &h));
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  Template no_len;
  no_len.Bool(CKA_TOKEN, false);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_GenerateKey(s, &gen, no_len.data(), no_len.size(), &h));
  Template wrong_type;
  wrong_type.Ulong(CKA_VALUE_LEN, 16).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT,
             f_->C_GenerateKey(s, &gen, wrong_type.data(), wrong_type.size(), &h));
  Template with_value;
  with_value.Ulong(CKA_VALUE_LEN, 16).Raw(CKA_VALUE, Bytes(16, 0));
  EXPECT_CKR_ONE_OF(f_->C_GenerateKey(s, &gen, with_value.data(), with_value.size(), &h),
                    CKR_ATTRIBUTE_READ_ONLY, CKR_TEMPLATE_INCONSISTENT);
  CK_ULONG param = 0;
  CK_MECHANISM with_param{CKM_AES_KEY_GEN, &param, sizeof param};
  Template ok;
  ok.Ulong(CKA_VALUE_LEN, 16);
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID,
             f_->C_GenerateKey(s, &with_param, ok.data(), ok.size(), &h));
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GenerateKey(s, &sha, ok.data(), ok.size(), &h));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKey(s, &gen, ok.data(), ok.size(), nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKey(s, nullptr, ok.data(), ok.size(), &h));
  // A read-only session makes session keys but no token keys.
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  EXPECT_CKR(CKR_OK, f_->C_GenerateKey(ro, &gen, ok.data(), ok.size(), &h));
  Template token;
  token.Ulong(CKA_VALUE_LEN, 16).Bool(CKA_TOKEN, true);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_GenerateKey(ro, &gen, token.data(), token.size(), &h));
}

TEST_F(SecretKeyTest, CopyToTokenAndDestroy) {
  const CK_SESSION_HANDLE s = OpenSession();
  const CK_OBJECT_HANDLE session_key = Generate(s, CKM_GENERIC_SECRET_KEY_GEN, 40, false, true, "");
  const Bytes check = GetBytes(s, session_key, CKA_CHECK_VALUE);
  ASSERT_EQ(check.size(), 3u) << "a session key's value is known inside the module";
  Template to_token;
  to_token.Bool(CKA_TOKEN, true).Str(CKA_LABEL, "copied");
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CopyObject(s, session_key, to_token.data(), to_token.size(), &copy));
  EXPECT_TRUE(GetBool(s, copy, CKA_TOKEN));
  EXPECT_EQ(GetBytes(s, copy, CKA_CHECK_VALUE), check) << "the same value";
  EXPECT_TRUE(GetBool(s, copy, CKA_SENSITIVE));
  Reinitialize();
  CK_SESSION_HANDLE s2 = OpenSession();
  auto found = FindByLabel(s2, CKO_SECRET_KEY, "copied");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s2, found[0], CKA_CHECK_VALUE), check);
  EXPECT_EQ(GetUlong(s2, found[0], CKA_VALUE_LEN), 40u);
  ASSERT_CKR(CKR_OK, f_->C_DestroyObject(s2, found[0]));
  Reinitialize();
  s2 = OpenSession();
  EXPECT_TRUE(FindByLabel(s2, CKO_SECRET_KEY, "copied").empty());
}

TEST_F(SecretKeyTest, DigestKeyDigestsAValueThatMayLeaveInTheClear) {
  const CK_SESSION_HANDLE s = OpenSession();
  const Bytes secret = ToBytes("digest me, I am not sensitive");
  const CK_OBJECT_HANDLE open_key = Create(s, CKK_GENERIC_SECRET, secret, true, false, "d1");
  CK_MECHANISM sha256{CKM_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &sha256));
  Bytes prefix = ToBytes("prefix");
  ASSERT_CKR(CKR_OK, f_->C_DigestUpdate(s, prefix.data(), static_cast<CK_ULONG>(prefix.size())));
  ASSERT_CKR(CKR_OK, f_->C_DigestKey(s, open_key));
  Bytes out(32);
  CK_ULONG len = 32;
  ASSERT_CKR(CKR_OK, f_->C_DigestFinal(s, out.data(), &len));
  Bytes both = prefix;
  both.insert(both.end(), secret.begin(), secret.end());
  EXPECT_EQ(Hex(out), Hex(Digest(EVP_sha256(), both)));

  const CK_OBJECT_HANDLE hidden = Generate(s, CKM_AES_KEY_GEN, 16, true, true, "d2");
  ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &sha256));
  EXPECT_CKR(CKR_KEY_INDIGESTIBLE, f_->C_DigestKey(s, hidden));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_DigestFinal(s, out.data(), &len))
      << "an error ends the digest";
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_DigestKey(s, open_key));
}

TEST_F(SecretKeyTest, EcdhDerivesATokenAesKey) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  PKey peer = GenerateEcKey("P-256");
  Bytes point = EcRawPoint(peer.get());
  PKey token_pub = EcPublicKey(EcParamsP256(), GetBytes(s, kp.pub, CKA_EC_POINT));
  const Bytes z = EcdhSecret(peer.get(), token_pub.get());
  ASSERT_EQ(z.size(), 32u);
  CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(point.size()),
                              point.data()};
  CK_MECHANISM mech{CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh};
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Ulong(CKA_VALUE_LEN, 32);
  t.Bool(CKA_TOKEN, true).Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
  t.Str(CKA_LABEL, "derived");
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_DeriveKey(s, &mech, kp.priv, t.data(), t.size(), &h));
  EXPECT_EQ(GetUlong(s, h, CKA_KEY_GEN_MECHANISM), CKM_ECDH1_DERIVE);
  EXPECT_FALSE(GetBool(s, h, CKA_LOCAL));
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  const auto found = FindByLabel(s2, CKO_SECRET_KEY, "derived");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Hex(GetBytes(s2, found[0], CKA_VALUE)), Hex(z));
  EXPECT_EQ(Hex(GetBytes(s2, found[0], CKA_CHECK_VALUE)), Hex(AesCheckValue(z)));
}

}  // namespace
}  // namespace conf
