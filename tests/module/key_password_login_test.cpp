// C_Login(CKU_CONTEXT_SPECIFIC) on a key that has its own password (a CNG key given
// NCRYPT_PIN_PROPERTY and a FORCE_HIGH_PROTECTION UI policy before NCryptFinalizeKey, made
// through NCrypt as a Windows application would): a wrong password is CKR_PIN_INCORRECT
// (NCrypt's NTE_INCORRECT_PASSWORD), counted per key; the right one signs once (OpenSSL
// verifies the signature with the public key's CKA_EC_POINT) and resets the count; after 10
// consecutive wrong passwords the key is locked: CKR_PIN_LOCKED (SCARD_W_CHV_BLOCKED), the
// right password too (PKCS#11 3.0 §5.5 C_Login return values).
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstring>
#include <string>
#include <vector>

#include "module_test_support.h"
#include "ncrypt.h"

namespace module_test {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr char16_t kKeyName[] = u"pw-p11";
constexpr char kPassword[] = "correct horse 7391";

// Makes the persisted P-256 key kKeyName with kPassword (replacing one left by a test), with
// a FORCE_HIGH_PROTECTION UI policy or none.
bool make_password_key(bool with_policy) {
  NCRYPT_PROV_HANDLE prov = 0;
  NCRYPT_KEY_HANDLE key = 0;
  bool ok = NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0) == ERROR_SUCCESS &&
            NCryptCreatePersistedKey(prov, &key, u"ECDSA_P256", kKeyName, 0,
                                     NCRYPT_OVERWRITE_KEY_FLAG) == ERROR_SUCCESS;
  NCRYPT_UI_POLICY policy{1, NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG, nullptr, nullptr, nullptr};
  std::u16string pin(kPassword, kPassword + std::strlen(kPassword));
  ok = ok &&
       (!with_policy ||
        NCryptSetProperty(key, NCRYPT_UI_POLICY_PROPERTY, reinterpret_cast<PBYTE>(&policy),
                          sizeof policy, 0) == ERROR_SUCCESS) &&
       NCryptSetProperty(key, NCRYPT_PIN_PROPERTY, reinterpret_cast<PBYTE>(pin.data()),
                         static_cast<DWORD>((pin.size() + 1) * sizeof(char16_t)),
                         0) == ERROR_SUCCESS &&
       NCryptFinalizeKey(key, 0) == ERROR_SUCCESS;
  NCryptFreeObject(key);
  NCryptFreeObject(prov);
  return ok;
}

// OpenSSL's ECDSA verification of a raw r||s signature over SHA-256(data) with the P-256 point.
bool verify_p256(const Bytes& point, const Bytes& data, const Bytes& sig) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 && sig.size() == 64;
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  unsigned char* der = nullptr;
  int der_len = 0;
  if (ok) {
    ECDSA_SIG_set0(ecdsa, BN_bin2bn(sig.data(), 32, nullptr),
                   BN_bin2bn(sig.data() + 32, 32, nullptr));
    der_len = i2d_ECDSA_SIG(ecdsa, &der);
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ok = ok && der_len > 0 && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
       EVP_DigestVerify(md, der, static_cast<std::size_t>(der_len), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(ecdsa);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return ok;
}

class KeyPasswordLogin : public InitializedTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_password_key(GetParam()));
    InitializedTest::SetUp();
    s_ = open(0, true);
    priv_ = find(CKO_PRIVATE_KEY);
    pub_ = find(CKO_PUBLIC_KEY);
    ASSERT_NE(priv_, CK_INVALID_HANDLE);
    ASSERT_NE(pub_, CK_INVALID_HANDLE);
  }
  CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls) {
    const std::string label = "pw-p11";
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                        {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    EXPECT_EQ(p11->C_FindObjectsInit(s_, t, 2), CKR_OK);
    EXPECT_EQ(p11->C_FindObjects(s_, &h, 1, &n), CKR_OK);
    EXPECT_EQ(p11->C_FindObjectsFinal(s_), CKR_OK);
    return n == 1 ? h : CK_INVALID_HANDLE;
  }
  CK_RV context_login(const std::string& pin) {
    std::string copy = pin;
    return p11->C_Login(s_, CKU_CONTEXT_SPECIFIC, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()),
                        static_cast<CK_ULONG>(copy.size()));
  }
  CK_RV sign(const Bytes& data, Bytes& sig) {
    Bytes in = data;
    sig.assign(64, 0);
    CK_ULONG len = static_cast<CK_ULONG>(sig.size());
    const CK_RV rv = p11->C_Sign(s_, in.data(), static_cast<CK_ULONG>(in.size()), sig.data(), &len);
    sig.resize(rv == CKR_OK ? len : 0);
    return rv;
  }
  Bytes ec_point() {
    Bytes der(128);
    CK_ATTRIBUTE a{CKA_EC_POINT, der.data(), static_cast<CK_ULONG>(der.size())};
    EXPECT_EQ(p11->C_GetAttributeValue(s_, pub_, &a, 1), CKR_OK);
    der.resize(a.ulValueLen);
    return Bytes(der.begin() + 2, der.end());  // DER OCTET STRING (04 41) around 04||X||Y
  }

  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE pub_ = CK_INVALID_HANDLE;
};

// With or without a UI policy, a key with a password needs it before each use: it shows
// CKA_ALWAYS_AUTHENTICATE (cng_model records the protection with the password).
TEST_P(KeyPasswordLogin, WrongPasswordsAreCountedUntilTheKeyLocks) {
  CK_BBOOL always = CK_FALSE;
  CK_ATTRIBUTE a{CKA_ALWAYS_AUTHENTICATE, &always, sizeof always};
  ASSERT_EQ(p11->C_GetAttributeValue(s_, priv_, &a, 1), CKR_OK);
  EXPECT_EQ(always, CK_TRUE);
  CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
  const Bytes data = {'p', 'w'};
  Bytes sig;
  ASSERT_EQ(p11->C_SignInit(s_, &mech, priv_), CKR_OK);
  EXPECT_EQ(context_login("wrong horse"), CKR_PIN_INCORRECT);
  EXPECT_EQ(context_login("wrong horse"), CKR_PIN_INCORRECT);
  ASSERT_EQ(context_login(kPassword), CKR_OK);  // resets the count
  ASSERT_EQ(sign(data, sig), CKR_OK);
  EXPECT_TRUE(verify_p256(ec_point(), data, sig));

  ASSERT_EQ(p11->C_SignInit(s_, &mech, priv_), CKR_OK);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(context_login("wrong horse"), CKR_PIN_INCORRECT) << i;
  }
  EXPECT_EQ(context_login(kPassword), CKR_PIN_LOCKED);
  EXPECT_EQ(context_login("wrong horse"), CKR_PIN_LOCKED);
  EXPECT_EQ(sign(data, sig), CKR_USER_NOT_LOGGED_IN);
}

INSTANTIATE_TEST_SUITE_P(UiPolicy, KeyPasswordLogin, ::testing::Bool(), [](const auto& param_info) {
  return param_info.param ? "ForceHigh" : "None";
});

}  // namespace
}  // namespace module_test
