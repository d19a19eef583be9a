// Mechanisms that take no parameter refuse one (PKCS#11 3.0 §5.2: CKR_MECHANISM_PARAM_INVALID
// "an invalid or improper parameter was supplied"), and a template attribute with a length but
// no value is CKR_ARGUMENTS_BAD on every template-taking function, C_FindObjectsInit included.
// Which mechanisms take no parameter is the specification's knowledge (PKCS#11 3.0 Current
// Mechanisms, "parameter: none"), written here, not read from the module.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "p11_fixture.h"

namespace conf {
namespace {

enum class KeyKind { kNone, kRsa, kEc, kAes, kGenericSecret };

struct NoParamMechanism {
  CK_MECHANISM_TYPE type;
  const char* name;
  KeyKind key;
};

constexpr NoParamMechanism kNoParam[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN", KeyKind::kRsa},
    {CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN", KeyKind::kEc},
    {CKM_AES_KEY_GEN, "CKM_AES_KEY_GEN", KeyKind::kAes},
    {CKM_GENERIC_SECRET_KEY_GEN, "CKM_GENERIC_SECRET_KEY_GEN", KeyKind::kGenericSecret},
    {CKM_RSA_PKCS, "CKM_RSA_PKCS", KeyKind::kRsa},
    {CKM_RSA_X_509, "CKM_RSA_X_509", KeyKind::kRsa},
    {CKM_SHA1_RSA_PKCS, "CKM_SHA1_RSA_PKCS", KeyKind::kRsa},
    {CKM_SHA224_RSA_PKCS, "CKM_SHA224_RSA_PKCS", KeyKind::kRsa},
    {CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS", KeyKind::kRsa},
    {CKM_SHA384_RSA_PKCS, "CKM_SHA384_RSA_PKCS", KeyKind::kRsa},
    {CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS", KeyKind::kRsa},
    {CKM_ECDSA, "CKM_ECDSA", KeyKind::kEc},
    {CKM_ECDSA_SHA1, "CKM_ECDSA_SHA1", KeyKind::kEc},
    {CKM_ECDSA_SHA224, "CKM_ECDSA_SHA224", KeyKind::kEc},
    {CKM_ECDSA_SHA256, "CKM_ECDSA_SHA256", KeyKind::kEc},
    {CKM_ECDSA_SHA384, "CKM_ECDSA_SHA384", KeyKind::kEc},
    {CKM_ECDSA_SHA512, "CKM_ECDSA_SHA512", KeyKind::kEc},
    {CKM_SHA_1, "CKM_SHA_1", KeyKind::kNone},
    {CKM_SHA224, "CKM_SHA224", KeyKind::kNone},
    {CKM_SHA256, "CKM_SHA256", KeyKind::kNone},
    {CKM_SHA384, "CKM_SHA384", KeyKind::kNone},
    {CKM_SHA512, "CKM_SHA512", KeyKind::kNone},
    {CKM_AES_ECB, "CKM_AES_ECB", KeyKind::kAes},
    {CKM_SHA_1_HMAC, "CKM_SHA_1_HMAC", KeyKind::kGenericSecret},
    {CKM_SHA224_HMAC, "CKM_SHA224_HMAC", KeyKind::kGenericSecret},
    {CKM_SHA256_HMAC, "CKM_SHA256_HMAC", KeyKind::kGenericSecret},
    {CKM_SHA384_HMAC, "CKM_SHA384_HMAC", KeyKind::kGenericSecret},
    {CKM_SHA512_HMAC, "CKM_SHA512_HMAC", KeyKind::kGenericSecret},
};

class MechanismParamTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    s_ = OpenSession();
    rsa_ = GenerateRsa(s_, 2048);
    ec_ = GenerateEc(s_, EcParamsP256());
    ASSERT_TRUE(rsa_.ok() && ec_.ok());
    // Secret keys where the slot keeps them (not on the platform (TPM) slots, whose lists
    // have no AES or HMAC mechanism to use them with).
    if (Offers(CKM_AES_KEY_GEN)) {
      aes_ = GenerateSecret(CKM_AES_KEY_GEN, {CKA_ENCRYPT, CKA_DECRYPT});
    }
    if (Offers(CKM_GENERIC_SECRET_KEY_GEN)) {
      hmac_ = GenerateSecret(CKM_GENERIC_SECRET_KEY_GEN, {CKA_SIGN, CKA_VERIFY});
    }
  }

  CK_OBJECT_HANDLE GenerateSecret(CK_MECHANISM_TYPE type,
                                  std::initializer_list<CK_ATTRIBUTE_TYPE> usages) {
    Template t;
    t.Ulong(CKA_VALUE_LEN, 32).Bool(CKA_TOKEN, false);
    for (const CK_ATTRIBUTE_TYPE usage : usages) {
      t.Bool(usage, true);
    }
    CK_MECHANISM mech{type, nullptr, 0};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_GenerateKey(s_, &mech, t.data(), t.size(), &h));
    return h;
  }

  // The key an operation of this kind needs: the private half for sign/decrypt, the public
  // half for verify/encrypt, the one secret key for all four.
  [[nodiscard]] CK_OBJECT_HANDLE KeyFor(KeyKind kind, bool private_half) const {
    switch (kind) {
      case KeyKind::kRsa:
        return private_half ? rsa_.priv : rsa_.pub;
      case KeyKind::kEc:
        return private_half ? ec_.priv : ec_.pub;
      case KeyKind::kAes:
        return aes_;
      case KeyKind::kGenericSecret:
        return hmac_;
      case KeyKind::kNone:
        break;
    }
    return CK_INVALID_HANDLE;
  }

  // Calls every C_*Init the mechanism's flags name with mech on session s; returns
  // (function name, CK_RV) pairs.
  std::vector<std::pair<std::string, CK_RV>> InitAll(CK_SESSION_HANDLE s, const NoParamMechanism& m,
                                                     CK_FLAGS flags, CK_MECHANISM* mech) {
    std::vector<std::pair<std::string, CK_RV>> out;
    if ((flags & CKF_SIGN) != 0) {
      out.emplace_back("C_SignInit", f_->C_SignInit(s, mech, KeyFor(m.key, true)));
    }
    if ((flags & CKF_VERIFY) != 0) {
      out.emplace_back("C_VerifyInit", f_->C_VerifyInit(s, mech, KeyFor(m.key, false)));
    }
    if ((flags & CKF_ENCRYPT) != 0) {
      out.emplace_back("C_EncryptInit", f_->C_EncryptInit(s, mech, KeyFor(m.key, false)));
    }
    if ((flags & CKF_DECRYPT) != 0) {
      out.emplace_back("C_DecryptInit", f_->C_DecryptInit(s, mech, KeyFor(m.key, true)));
    }
    if ((flags & CKF_DIGEST) != 0) {
      out.emplace_back("C_DigestInit", f_->C_DigestInit(s, mech));
    }
    if ((flags & CKF_GENERATE) != 0) {
      Template t;
      t.Ulong(CKA_VALUE_LEN, 32).Bool(CKA_TOKEN, false);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      out.emplace_back("C_GenerateKey", f_->C_GenerateKey(s, mech, t.data(), t.size(), &h));
    }
    if ((flags & CKF_GENERATE_KEY_PAIR) != 0) {
      Template pub;
      Template priv;
      if (m.key == KeyKind::kRsa) {
        pub.Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1});
      } else {
        pub.Raw(CKA_EC_PARAMS, EcParamsP256());
      }
      CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
      CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
      out.emplace_back("C_GenerateKeyPair",
                       f_->C_GenerateKeyPair(s, mech, pub.data(), pub.size(), priv.data(),
                                             priv.size(), &hpub, &hpriv));
    }
    return out;
  }

  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  KeyPair rsa_;
  KeyPair ec_;
  CK_OBJECT_HANDLE aes_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE hmac_ = CK_INVALID_HANDLE;
};

TEST_F(MechanismParamTest, NoParameterMechanismsRefuseAStrayParameter) {
  CK_BYTE stray[16] = {1, 2, 3, 4};
  struct Stray {
    const char* what;
    void* p;
    CK_ULONG len;
  };
  const Stray strays[] = {{"a 16-byte parameter", stray, sizeof stray},
                          {"a pointer with length 0", stray, 0},
                          {"a length without a pointer", nullptr, 8}};
  int initialised = 0;
  std::vector<CK_MECHANISM_TYPE> tested;
  for (const NoParamMechanism& m : kNoParam) {
    CK_MECHANISM_INFO info{};
    const CK_RV info_rv = f_->C_GetMechanismInfo(kUserSlot, m.type, &info);
    if (info_rv == CKR_MECHANISM_INVALID) {
      continue;  // not offered by the slot under test
    }
    ASSERT_CKR(CKR_OK, info_rv) << m.name;
    tested.push_back(m.type);
    for (const Stray& bad : strays) {
      const CK_SESSION_HANDLE s = OpenSession();
      CK_MECHANISM mech{m.type, bad.p, bad.len};
      const auto calls = InitAll(s, m, info.flags, &mech);
      EXPECT_FALSE(calls.empty()) << m.name << ": no function of its flags was tried";
      for (const auto& [function, rv] : calls) {
        EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, rv)
            << function << "(" << m.name << ") with " << bad.what;
        ++initialised;
      }
      EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
    }
    // The same calls without a parameter are accepted (operations only: generation is
    // covered by the key tests), so the refusal above is the parameter's.
    if ((info.flags & (CKF_GENERATE | CKF_GENERATE_KEY_PAIR)) == 0) {
      const CK_SESSION_HANDLE s = OpenSession();
      CK_MECHANISM mech{m.type, nullptr, 0};
      for (const auto& [function, rv] : InitAll(s, m, info.flags, &mech)) {
        // One session runs one operation of each kind at a time, so every kind starts once.
        EXPECT_CKR(CKR_OK, rv) << function << "(" << m.name << ") without a parameter";
      }
      EXPECT_CKR(CKR_OK, f_->C_CloseSession(s));
    }
  }
  if (!IsPlatformSlot(kUserSlot)) {
    // The software provider offers every row of the list: the loop must have tested them.
    EXPECT_EQ(tested.size(), std::size(kNoParam));
    EXPECT_GE(initialised, 3 * 40);
  } else {
    // A TPM offers what it implements; every TPM 2.0 of the PC Client platform profile has
    // RSA 2048, ECC P-256 and SHA-256, so at least these rows were tested.
    for (const CK_MECHANISM_TYPE needed :
         {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_ECDSA, CKM_SHA256}) {
      EXPECT_NE(std::find(tested.begin(), tested.end(), needed), tested.end())
          << "mechanism 0x" << std::hex << needed;
    }
  }
}

// PKCS#11 3.0 §5.7: a template attribute whose pValue is NULL_PTR while ulValueLen is not 0 is
// CKR_ARGUMENTS_BAD wherever a template is read (C_GetAttributeValue, where it asks for the
// length, is the one exception).
TEST_F(MechanismParamTest, TemplateValueWithLengthButNoPointerIsArgumentsBad) {
  Template find;
  find.Verbatim(CKA_LABEL, nullptr, 5);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_FindObjectsInit(s_, find.data(), find.size()));
  // No search was started by the refused call.
  Template all;
  EXPECT_CKR(CKR_OK, f_->C_FindObjectsInit(s_, all.data(), all.size()));
  EXPECT_CKR(CKR_OK, f_->C_FindObjectsFinal(s_));

  Template data;
  data.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, false).Verbatim(CKA_VALUE, nullptr, 4);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CreateObject(s_, data.data(), data.size(), &h));

  Template label;
  label.Verbatim(CKA_LABEL, nullptr, 3);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SetAttributeValue(s_, rsa_.priv, label.data(), label.size()));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_CopyObject(s_, rsa_.priv, label.data(), label.size(), &h));

  if (Offers(CKM_AES_KEY_GEN)) {  // not on the platform (TPM) slots
    Template secret;
    secret.Ulong(CKA_VALUE_LEN, 32).Verbatim(CKA_LABEL, nullptr, 3);
    CK_MECHANISM aes_gen{CKM_AES_KEY_GEN, nullptr, 0};
    EXPECT_CKR(CKR_ARGUMENTS_BAD,
               f_->C_GenerateKey(s_, &aes_gen, secret.data(), secret.size(), &h));
  }

  Template pub;
  pub.Raw(CKA_EC_PARAMS, EcParamsP256());
  CK_MECHANISM ec_gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE h2 = CK_INVALID_HANDLE;
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKeyPair(s_, &ec_gen, pub.data(), pub.size(),
                                                      label.data(), label.size(), &h, &h2));
}

}  // namespace
}  // namespace conf
