// CKA_TRUSTED: "can only be set to CK_TRUE by the SO user" (PKCS#11 3.0 §4.4 table footnote; on
// certificates, public keys and secret keys). Set to TRUE in the Security Officer's R/W session
// (at creation or with C_SetAttributeValue) it makes a wrapping key fit for keys with
// CKA_WRAP_WITH_TRUSTED (§4.10); in any other session TRUE is CKR_ATTRIBUTE_READ_ONLY (what
// SoftHSMv2 answers). The wrapped bytes are checked against OpenSSL's RFC 3394 key wrap.
// Secret keys only where the slot keeps them (not on the platform (TPM) slots); certificates
// and public keys on every slot.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

Bytes Random(size_t n) {
  Bytes b(n);
  RAND_bytes(b.data(), static_cast<int>(n));
  return b;
}

// RFC 3394 AES key wrap of key under kek (both 16 bytes) by OpenSSL.
Bytes OsslKeyWrap(const Bytes& kek, const Bytes& key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  EVP_EncryptInit_ex(ctx, EVP_aes_128_wrap(), nullptr, kek.data(), nullptr);
  Bytes out(key.size() + 16);
  int len = 0;
  EVP_EncryptUpdate(ctx, out.data(), &len, key.data(), static_cast<int>(key.size()));
  int total = len;
  EVP_EncryptFinal_ex(ctx, out.data() + total, &len);
  out.resize(static_cast<size_t>(total + len));
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

class TrustedTest : public P11Test {
 protected:
  CK_RV CreateAes(CK_SESSION_HANDLE s, const Bytes& value, std::optional<bool> trusted,
                  CK_OBJECT_HANDLE* h, bool token = false, const std::string& label = "k") {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, token).Bool(CKA_WRAP, true).Bool(CKA_EXTRACTABLE, true);
    t.Bool(CKA_WRAP_WITH_TRUSTED, !trusted.has_value()).Str(CKA_LABEL, label);
    if (trusted.has_value()) {
      t.Bool(CKA_TRUSTED, *trusted);
    }
    *h = CK_INVALID_HANDLE;
    return f_->C_CreateObject(s, t.data(), t.size(), h);
  }
  // A session or token RSA public key (the value of an OpenSSL key made once for the process).
  CK_RV CreatePublic(CK_SESSION_HANDLE s, bool trusted, CK_OBJECT_HANDLE* h, bool token = false) {
    static const RsaComponents c = [] {
      const PKey key = GenerateRsaKey(2048);
      return RsaComponentsOf(key.get());
    }();
    Template t;
    t.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, token);
    t.Raw(CKA_MODULUS, c.n).Raw(CKA_PUBLIC_EXPONENT, c.e).Str(CKA_LABEL, "trusted public key");
    t.Bool(CKA_TRUSTED, trusted);
    *h = CK_INVALID_HANDLE;
    return f_->C_CreateObject(s, t.data(), t.size(), h);
  }
  CK_RV SetTrusted(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, bool value) {
    CK_BBOOL v = value ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE a{CKA_TRUSTED, &v, sizeof v};
    return f_->C_SetAttributeValue(s, h, &a, 1);
  }
  Bytes Wrap(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE key, CK_RV* rv) {
    CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
    Bytes out(64);
    CK_ULONG len = static_cast<CK_ULONG>(out.size());
    *rv = f_->C_WrapKey(s, &m, kek, key, out.data(), &len);
    out.resize(*rv == CKR_OK ? len : 0);
    return out;
  }
  CK_SESSION_HANDLE SoSession() {
    const CK_SESSION_HANDLE s = OpenSession(kUserSlot, true);
    EXPECT_CKR(CKR_OK, f_->C_Login(s, CKU_SO, nullptr, 0));
    return s;
  }
};

TEST_F(TrustedTest, SoTrustedKeyWrapsWrapWithTrustedKeysAnUntrustedOneCannot) {
  SKIP_WITH_PIN("the SO cannot log in while the PIN run keeps the user logged in");
  REQUIRE_MECHANISM(CKM_AES_KEY_WRAP);  // the platform (TPM) slots keep no secret keys
  const CK_SESSION_HANDLE so = SoSession();
  const Bytes kek_value = Random(16);
  const Bytes key_value = Random(16);
  CK_OBJECT_HANDLE trusted = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE untrusted = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, CreateAes(so, kek_value, true, &trusted));
  ASSERT_CKR(CKR_OK, CreateAes(so, kek_value, false, &untrusted));
  ASSERT_CKR(CKR_OK, CreateAes(so, key_value, std::nullopt, &key));  // CKA_WRAP_WITH_TRUSTED
  EXPECT_TRUE(GetBool(so, trusted, CKA_TRUSTED));
  EXPECT_FALSE(GetBool(so, untrusted, CKA_TRUSTED));
  EXPECT_TRUE(GetBool(so, key, CKA_WRAP_WITH_TRUSTED));
  CK_RV rv = CKR_GENERAL_ERROR;
  EXPECT_EQ(Hex(Wrap(so, trusted, key, &rv)), Hex(OsslKeyWrap(kek_value, key_value)));
  EXPECT_CKR(CKR_OK, rv);
  Wrap(so, untrusted, key, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  // The SO may also make an existing key trusted; then it wraps the key too.
  ASSERT_CKR(CKR_OK, SetTrusted(so, untrusted, true));
  EXPECT_EQ(Hex(Wrap(so, untrusted, key, &rv)), Hex(OsslKeyWrap(kek_value, key_value)));
  EXPECT_CKR(CKR_OK, rv);
  // Trust works for whoever uses the key afterwards: the user's session wraps with it.
  ASSERT_CKR(CKR_OK, f_->C_Logout(so));
  EXPECT_EQ(Hex(Wrap(so, trusted, key, &rv)), Hex(OsslKeyWrap(kek_value, key_value)));
  EXPECT_CKR(CKR_OK, rv);
}

TEST_F(TrustedTest, OnlyTheSoSetsTrueOnSecretKeys) {
  SKIP_WITH_PIN("the SO cannot log in while the PIN run keeps the user logged in");
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  for (const bool user_login : {false, true}) {
    SCOPED_TRACE(user_login ? "user logged in" : "public session");
    const CK_SESSION_HANDLE s = OpenSession(kUserSlot, true);
    if (user_login) {
      ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_USER, nullptr, 0));
    }
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, CreateAes(s, Random(16), true, &h));
    EXPECT_EQ(h, CK_INVALID_HANDLE);
    ASSERT_CKR(CKR_OK, CreateAes(s, Random(16), false, &h));
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, SetTrusted(s, h, true));
    EXPECT_FALSE(GetBool(s, h, CKA_TRUSTED));
    EXPECT_CKR(CKR_OK, SetTrusted(s, h, false)) << "FALSE is anyone's to set";
    // Generated keys follow the same rule.
    Template gen;
    gen.Ulong(CKA_VALUE_LEN, 16).Bool(CKA_TRUSTED, true);
    CK_MECHANISM kg{CKM_AES_KEY_GEN, nullptr, 0};
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f_->C_GenerateKey(s, &kg, gen.data(), gen.size(), &h));
    if (user_login) {
      ASSERT_CKR(CKR_OK, f_->C_Logout(s));
    }
    ASSERT_CKR(CKR_OK, f_->C_CloseSession(s));
  }
  // The SO's session makes a trusted secret key.
  const CK_SESSION_HANDLE so = SoSession();
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, CreateAes(so, Random(16), true, &h));
  EXPECT_TRUE(GetBool(so, h, CKA_TRUSTED));
}

// Certificates and public keys: every slot keeps both.
TEST_F(TrustedTest, OnlyTheSoSetsTrueOnCertificatesAndPublicKeys) {
  SKIP_WITH_PIN("the SO cannot log in while the PIN run keeps the user logged in");
  for (const bool user_login : {false, true}) {
    SCOPED_TRACE(user_login ? "user logged in" : "public session");
    const CK_SESSION_HANDLE s = OpenSession(kUserSlot, true);
    if (user_login) {
      ASSERT_CKR(CKR_OK, f_->C_Login(s, CKU_USER, nullptr, 0));
    }
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const TestCert cert = MakeSelfSignedCert("trusted cert");
    Template c;
    c.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
    c.Raw(CKA_VALUE, cert.der).Bool(CKA_TRUSTED, true);
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f_->C_CreateObject(s, c.data(), c.size(), &h));
    EXPECT_EQ(h, CK_INVALID_HANDLE);
    h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, CreatePublic(s, true, &h));
    EXPECT_EQ(h, CK_INVALID_HANDLE);
    ASSERT_CKR(CKR_OK, CreatePublic(s, false, &h));
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, SetTrusted(s, h, true));
    EXPECT_FALSE(GetBool(s, h, CKA_TRUSTED));
    EXPECT_CKR(CKR_OK, SetTrusted(s, h, false)) << "FALSE is anyone's to set";
    if (user_login) {
      ASSERT_CKR(CKR_OK, f_->C_Logout(s));
    }
    ASSERT_CKR(CKR_OK, f_->C_CloseSession(s));
  }
  // The SO's session: both work, and a certificate becomes trusted.
  const CK_SESSION_HANDLE so = SoSession();
  const TestCert cert = MakeSelfSignedCert("trusted cert");
  Template c;
  c.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  c.Raw(CKA_VALUE, cert.der).Bool(CKA_TRUSTED, true);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(so, c.data(), c.size(), &h));
  EXPECT_TRUE(GetBool(so, h, CKA_TRUSTED));
  ASSERT_CKR(CKR_OK, CreatePublic(so, true, &h));
  EXPECT_TRUE(GetBool(so, h, CKA_TRUSTED));
  ASSERT_CKR(CKR_OK, CreatePublic(so, false, &h));
  ASSERT_CKR(CKR_OK, SetTrusted(so, h, true));
  EXPECT_TRUE(GetBool(so, h, CKA_TRUSTED));
}

TEST_F(TrustedTest, TrustOfTokenObjectsSurvivesReinitialize) {
  SKIP_WITH_PIN("the SO cannot log in while the PIN run keeps the user logged in");
  // Secret keys where the slot keeps them (not on the platform (TPM) slots); a certificate and
  // a public key on every slot.
  const bool secret_keys = Offers(CKM_AES_KEY_WRAP);
  const CK_SESSION_HANDLE so = SoSession();
  const Bytes kek_value = Random(16);
  if (secret_keys) {
    CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE set_later = CK_INVALID_HANDLE;
    ASSERT_CKR(CKR_OK, CreateAes(so, kek_value, true, &created, true, "trusted at creation"));
    ASSERT_CKR(CKR_OK, CreateAes(so, kek_value, false, &set_later, true, "trusted later"));
    ASSERT_CKR(CKR_OK, SetTrusted(so, set_later, true));
  }
  const TestCert cert = MakeSelfSignedCert("trusted token cert");
  Template c;
  c.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  c.Raw(CKA_VALUE, cert.der).Bool(CKA_TOKEN, true).Str(CKA_LABEL, "trusted cert");
  CK_OBJECT_HANDLE ch = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(so, c.data(), c.size(), &ch));
  ASSERT_CKR(CKR_OK, SetTrusted(so, ch, true));
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, CreatePublic(so, true, &pub, true));

  Reinitialize();
  const CK_SESSION_HANDLE s = OpenSession();  // no login: trust is read by anyone
  const auto certs = FindByLabel(s, CKO_CERTIFICATE, "trusted cert");
  ASSERT_EQ(certs.size(), 1U);
  EXPECT_TRUE(GetBool(s, certs[0], CKA_TRUSTED));
  const auto pubs = FindByLabel(s, CKO_PUBLIC_KEY, "trusted public key");
  ASSERT_EQ(pubs.size(), 1U);
  EXPECT_TRUE(GetBool(s, pubs[0], CKA_TRUSTED));
  if (!secret_keys) {
    return;
  }
  for (const char* label : {"trusted at creation", "trusted later"}) {
    const auto found = FindByLabel(s, CKO_SECRET_KEY, label);
    ASSERT_EQ(found.size(), 1U) << label;
    EXPECT_TRUE(GetBool(s, found[0], CKA_TRUSTED)) << label;
  }
  // And the reloaded trusted key still wraps a CKA_WRAP_WITH_TRUSTED key.
  const Bytes key_value = Random(16);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, CreateAes(s, key_value, std::nullopt, &key));
  CK_RV rv = CKR_GENERAL_ERROR;
  const auto kek = FindByLabel(s, CKO_SECRET_KEY, "trusted later");
  EXPECT_EQ(Hex(Wrap(s, kek[0], key, &rv)), Hex(OsslKeyWrap(kek_value, key_value)));
  EXPECT_CKR(CKR_OK, rv);
}

}  // namespace
}  // namespace conf
