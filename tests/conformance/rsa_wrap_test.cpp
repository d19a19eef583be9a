// C_WrapKey / C_UnwrapKey with CKM_RSA_PKCS (PKCS#1 v1.5) and CKM_RSA_PKCS_OAEP of AES and
// generic secret keys. Oracle: OpenSSL, with an RSA key OpenSSL generated and the module got
// through C_CreateObject: OpenSSL decrypts what the module wraps (same hash and label) to the
// value the key was created with; the module unwraps what OpenSSL encrypts, and the key
// encrypts as OpenSSL's AES-ECB under that value.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <functional>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

Bytes Random(std::size_t n) {
  Bytes b(n);
  EXPECT_EQ(RAND_bytes(b.data(), static_cast<int>(n)), 1);
  return b;
}

// Adds attributes to a template.
using Extra = std::function<void(Template&)>;

// OpenSSL's RSA decryption: PKCS#1 v1.5 (md null) or OAEP with md for the hash and MGF1.
Bytes OsslDecrypt(EVP_PKEY* key, const Bytes& cipher, const EVP_MD* md, const Bytes& label) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_decrypt_init(ctx) == 1;
  if (ok && md == nullptr) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  } else if (ok) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1;
    if (ok && !label.empty()) {
      auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(label.data(), label.size()));
      ok = EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, static_cast<int>(label.size())) == 1;
    }
  }
  Bytes out(static_cast<std::size_t>(EVP_PKEY_get_size(key)));
  std::size_t len = out.size();
  ok = ok && EVP_PKEY_decrypt(ctx, out.data(), &len, cipher.data(), cipher.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  EXPECT_TRUE(ok) << "OpenSSL RSA decryption";
  out.resize(ok ? len : 0);
  return out;
}

Bytes OsslAesEcb(const Bytes& key, const Bytes& block) {
  const EVP_CIPHER* c = key.size() == 16   ? EVP_aes_128_ecb()
                        : key.size() == 24 ? EVP_aes_192_ecb()
                                           : EVP_aes_256_ecb();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(block.size() + 16);
  int n = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx, c, nullptr, key.data(), nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
      EVP_EncryptUpdate(ctx, out.data(), &n, block.data(), static_cast<int>(block.size())) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_TRUE(ok);
  out.resize(ok ? static_cast<std::size_t>(n) : 0);
  return out;
}

// One wrapping scheme: PKCS#1 v1.5, or OAEP with a hash (and MGF1 of the same hash).
struct Scheme {
  CK_MECHANISM_TYPE hash;  // 0: CKM_RSA_PKCS
  CK_RSA_PKCS_MGF_TYPE mgf;
  const EVP_MD* (*md)();
};
const Scheme kSchemes[] = {{0, 0, nullptr},
                           {CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1},
                           {CKM_SHA224, CKG_MGF1_SHA224, EVP_sha224},
                           {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256},
                           {CKM_SHA384, CKG_MGF1_SHA384, EVP_sha384},
                           {CKM_SHA512, CKG_MGF1_SHA512, EVP_sha512}};

// A CK_MECHANISM for a scheme, with its OAEP parameters kept alive here.
struct Mech {
  CK_RSA_PKCS_OAEP_PARAMS oaep{};
  Bytes label;
  CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
  explicit Mech(const Scheme& s, Bytes l = {}) : label(std::move(l)) {
    if (s.hash != 0) {
      oaep = {s.hash, s.mgf, CKZ_DATA_SPECIFIED, label.empty() ? nullptr : label.data(),
              static_cast<CK_ULONG>(label.size())};
      m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
    }
  }
  Mech(const Mech&) = delete;
  Mech& operator=(const Mech&) = delete;
};

class RsaWrapTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    s_ = OpenSession();
    ossl_ = GenerateRsaKey(2048);
    ASSERT_NE(ossl_, nullptr);
    c_ = RsaComponentsOf(ossl_.get());
  }
  // The OpenSSL key's private half (CKA_UNWRAP) and public half (CKA_WRAP) as objects.
  CK_OBJECT_HANDLE Private(bool token, bool unwrap = true, const Extra& extra = nullptr) {
    Template t;
    if (extra) {
      extra(t);
    }
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, token);
    t.Bool(CKA_UNWRAP, unwrap).Bool(CKA_DECRYPT, false).Bool(CKA_SIGN, false);
    t.Raw(CKA_MODULUS, c_.n).Raw(CKA_PUBLIC_EXPONENT, c_.e).Raw(CKA_PRIVATE_EXPONENT, c_.d);
    t.Raw(CKA_PRIME_1, c_.p).Raw(CKA_PRIME_2, c_.q).Raw(CKA_EXPONENT_1, c_.dp);
    t.Raw(CKA_EXPONENT_2, c_.dq).Raw(CKA_COEFFICIENT, c_.qinv);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &h));
    return h;
  }
  CK_OBJECT_HANDLE Public(bool token, bool wrap = true, const Extra& extra = nullptr) {
    Template t;
    if (extra) {
      extra(t);
    }
    t.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA).Bool(CKA_TOKEN, token);
    t.Bool(CKA_WRAP, wrap).Raw(CKA_MODULUS, c_.n).Raw(CKA_PUBLIC_EXPONENT, c_.e);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &h));
    return h;
  }
  CK_OBJECT_HANDLE Secret(CK_KEY_TYPE type, const Bytes& value, bool sensitive = false,
                          bool extractable = true, const Extra& extra = nullptr) {
    Template t;
    if (extra) {
      extra(t);
    }
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Raw(CKA_VALUE, value);
    t.Bool(CKA_SENSITIVE, sensitive).Bool(CKA_EXTRACTABLE, extractable);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &h));
    return h;
  }
  Bytes Wrap(CK_MECHANISM* m, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE key, CK_RV* rv = nullptr) {
    CK_ULONG len = 0;
    CK_RV r = f_->C_WrapKey(s_, m, kek, key, nullptr, &len);
    Bytes out(len);
    if (r == CKR_OK) {
      r = f_->C_WrapKey(s_, m, kek, key, out.data(), &len);
      out.resize(len);
    }
    if (rv != nullptr) {
      *rv = r;
    } else {
      EXPECT_CKR(CKR_OK, r);
    }
    return r == CKR_OK ? out : Bytes{};
  }
  CK_RV Unwrap(CK_MECHANISM* m, CK_OBJECT_HANDLE kek, Bytes wrapped, Template& t,
               CK_OBJECT_HANDLE* out) {
    return f_->C_UnwrapKey(s_, m, kek, wrapped.data(), static_cast<CK_ULONG>(wrapped.size()),
                           t.data(), t.size(), out);
  }
  // OpenSSL's encryption of value for a scheme.
  Bytes OsslWrap(const Scheme& s, const Bytes& value, const Bytes& label = {}) {
    return RsaEncrypt(ossl_.get(), s.md != nullptr ? RSA_PKCS1_OAEP_PADDING : RSA_PKCS1_PADDING,
                      s.md != nullptr ? s.md() : nullptr, value, label);
  }
  // C_Encrypt of one block with CKM_AES_ECB.
  Bytes EcbBlock(CK_OBJECT_HANDLE key, const Bytes& block) {
    CK_MECHANISM m{CKM_AES_ECB, nullptr, 0};
    EXPECT_CKR(CKR_OK, f_->C_EncryptInit(s_, &m, key));
    Bytes in = block;
    Bytes out(block.size());
    CK_ULONG len = out.size();
    EXPECT_CKR(CKR_OK,
               f_->C_Encrypt(s_, in.data(), static_cast<CK_ULONG>(in.size()), out.data(), &len));
    out.resize(len);
    return out;
  }

  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  PKey ossl_;
  RsaComponents c_;
};

// RSA wraps secret keys only, so a slot that keeps none (the platform (TPM) slots) has no
// CKF_WRAP / CKF_UNWRAP on the RSA mechanisms; encryption is there on every slot.
TEST_F(RsaWrapTest, MechanismInfoHasWrapWhereSecretKeysLive) {
  for (const CK_SLOT_ID slot : {kUserSlot, kMachineSlot}) {
    CK_MECHANISM_INFO gen{};
    const bool secret_keys =
        f_->C_GetMechanismInfo(slot, CKM_AES_KEY_GEN, &gen) == CKR_OK ||
        f_->C_GetMechanismInfo(slot, CKM_GENERIC_SECRET_KEY_GEN, &gen) == CKR_OK;
    EXPECT_EQ(secret_keys, !IsPlatformSlot(slot)) << "slot " << slot;
    for (const CK_MECHANISM_TYPE mech : {CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP}) {
      CK_MECHANISM_INFO info{};
      ASSERT_CKR(CKR_OK, f_->C_GetMechanismInfo(slot, mech, &info));
      EXPECT_EQ(info.flags & (CKF_WRAP | CKF_UNWRAP), secret_keys ? CKF_WRAP | CKF_UNWRAP : 0UL)
          << "slot " << slot << " mechanism " << mech;
      EXPECT_EQ(info.flags & (CKF_ENCRYPT | CKF_DECRYPT), CKF_ENCRYPT | CKF_DECRYPT);
    }
  }
}

TEST_F(RsaWrapTest, OpenSslDecryptsWhatTheModuleWraps) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);
  const CK_OBJECT_HANDLE session_pub = Public(false);
  const CK_OBJECT_HANDLE token_pub = Public(true);
  for (const bool generic : {false, true}) {
    const Bytes value = Random(generic ? 40 : 32);
    // Sensitive: the value is never readable, yet it can be wrapped.
    const CK_OBJECT_HANDLE key = Secret(generic ? CKK_GENERIC_SECRET : CKK_AES, value, true);
    CK_RV rv = CKR_OK;
    GetBytes(s_, key, CKA_VALUE, &rv);
    EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
    for (const Scheme& scheme : kSchemes) {
      for (const bool labelled : {false, true}) {
        if (scheme.hash == 0 && labelled) {
          continue;
        }
        SCOPED_TRACE(std::to_string(scheme.hash) + (labelled ? " label" : "") +
                     (generic ? " generic" : " aes"));
        Mech m(scheme, labelled ? ToBytes("wrapping label") : Bytes{});
        for (const CK_OBJECT_HANDLE kek : {session_pub, token_pub}) {
          const Bytes wrapped = Wrap(&m.m, kek, key);
          ASSERT_EQ(wrapped.size(), 256u);
          EXPECT_EQ(Hex(OsslDecrypt(ossl_.get(), wrapped,
                                    scheme.md != nullptr ? scheme.md() : nullptr, m.label)),
                    Hex(value));
        }
      }
    }
  }
}

TEST_F(RsaWrapTest, UnwrapsWhatOpenSslEncryptsSessionAndToken) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  for (const bool token : {false, true}) {
    const CK_OBJECT_HANDLE priv = Private(token);
    for (const Scheme& scheme : kSchemes) {
      SCOPED_TRACE(std::to_string(scheme.hash) + (token ? " token" : " session"));
      const Bytes label = scheme.hash != 0 ? ToBytes("L") : Bytes{};
      Mech m(scheme, label);
      const Bytes value = Random(scheme.hash == CKM_SHA512 ? 16 : 24);
      const std::string name = "rsa-unwrapped-" + std::to_string(scheme.hash);
      Template t;
      t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bool(CKA_TOKEN, token);
      t.Bool(CKA_ENCRYPT, true).Bool(CKA_SENSITIVE, true).Str(CKA_LABEL, name);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      ASSERT_CKR(CKR_OK, Unwrap(&m.m, priv, OsslWrap(scheme, value, label), t, &h));
      EXPECT_EQ(GetUlong(s_, h, CKA_VALUE_LEN), value.size());
      EXPECT_EQ(GetBool(s_, h, CKA_TOKEN), token);
      EXPECT_FALSE(GetBool(s_, h, CKA_LOCAL));
      EXPECT_EQ(GetUlong(s_, h, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
      const Bytes block = Random(16);
      EXPECT_EQ(Hex(EcbBlock(h, block)), Hex(OsslAesEcb(value, block)));
    }
  }
  // The token keys are persisted CNG keys.
  Reinitialize();
  s_ = OpenSession();
  const auto found = FindByLabel(s_, CKO_SECRET_KEY, "rsa-unwrapped-" + std::to_string(CKM_SHA256));
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(GetUlong(s_, found[0], CKA_VALUE_LEN), 24UL);
}

// A generated pair: the module wraps under the public key and unwraps with the private one.
TEST_F(RsaWrapTest, RoundTripUnderAGeneratedPair) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  Template pub;
  pub.Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1}).Bool(CKA_WRAP, true);
  Template priv;
  priv.Bool(CKA_UNWRAP, true).Bool(CKA_TOKEN, true);
  pub.Bool(CKA_TOKEN, true);
  CK_MECHANISM gen{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE kpub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE kpriv = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_GenerateKeyPair(s_, &gen, pub.data(), pub.size(), priv.data(),
                                           priv.size(), &kpub, &kpriv));
  const Bytes value = Random(32);
  const CK_OBJECT_HANDLE key = Secret(CKK_AES, value);
  for (const Scheme& scheme : {kSchemes[0], kSchemes[3]}) {
    Mech m(scheme);
    const Bytes wrapped = Wrap(&m.m, kpub, key);
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bool(CKA_ENCRYPT, true);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ASSERT_CKR(CKR_OK, Unwrap(&m.m, kpriv, wrapped, t, &h));
    const Bytes block = Random(16);
    EXPECT_EQ(Hex(EcbBlock(h, block)), Hex(OsslAesEcb(value, block)));
  }
}

TEST_F(RsaWrapTest, WrapErrors) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);
  const CK_OBJECT_HANDLE pub = Public(false);
  const CK_OBJECT_HANDLE priv = Private(false);
  const CK_OBJECT_HANDLE key = Secret(CKK_AES, Random(16));
  Mech pkcs1(kSchemes[0]);
  Mech oaep(kSchemes[3]);
  CK_RV rv = CKR_OK;
  // The wrapping key: CKA_WRAP, a public RSA key, a known handle.
  Wrap(&pkcs1.m, Public(false, false), key, &rv);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, rv);
  Wrap(&pkcs1.m, priv, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, rv);
  const CK_OBJECT_HANDLE aes_kek =
      Secret(CKK_AES, Random(16), false, true, [](Template& t) { t.Bool(CKA_WRAP, true); });
  Wrap(&pkcs1.m, aes_kek, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, rv);
  Wrap(&pkcs1.m, 0x7777, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_HANDLE_INVALID, rv);
  // The key: extractable, a secret key (PKCS#11 defines no RSA wrapping of private keys),
  // short enough for the modulus, CKA_WRAP_WITH_TRUSTED only under a trusted key.
  Wrap(&pkcs1.m, pub, Secret(CKK_AES, Random(16), true, false), &rv);
  EXPECT_CKR(CKR_KEY_UNEXTRACTABLE, rv);
  KeyOptions o;
  o.extractable = true;
  const KeyPair ec = GenerateEc(s_, EcParamsP256(), o);
  Wrap(&pkcs1.m, pub, ec.priv, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  Wrap(&pkcs1.m, pub, ec.pub, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  Wrap(&pkcs1.m, pub, Secret(CKK_GENERIC_SECRET, Random(245)));  // 256 - 11 fits
  Wrap(&pkcs1.m, pub, Secret(CKK_GENERIC_SECRET, Random(246)), &rv);
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, rv);
  Wrap(&oaep.m, pub, Secret(CKK_GENERIC_SECRET, Random(190)));  // 256 - 2 * 32 - 2
  Wrap(&oaep.m, pub, Secret(CKK_GENERIC_SECRET, Random(191)), &rv);
  EXPECT_CKR(CKR_KEY_SIZE_RANGE, rv);
  const CK_OBJECT_HANDLE trusted_only = Secret(
      CKK_AES, Random(16), false, true, [](Template& t) { t.Bool(CKA_WRAP_WITH_TRUSTED, true); });
  Wrap(&pkcs1.m, pub, trusted_only, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  // OAEP parameters.
  CK_RSA_PKCS_OAEP_PARAMS bad{CKM_SHA256, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &bad, sizeof bad};
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, pub, key, nullptr, &len));
  bad = {CKM_MD5, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, pub, key, nullptr, &len));
  bad = {CKM_SHA256, CKG_MGF1_SHA256, 2, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, pub, key, nullptr, &len));
  bad = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 4};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, pub, key, nullptr, &len));
  m.ulParameterLen = 3;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, pub, key, nullptr, &len));
  CK_MECHANISM no_params{CKM_RSA_PKCS_OAEP, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &no_params, pub, key, nullptr, &len));
  // Size query, a short buffer, NULL length.
  len = 0;
  ASSERT_CKR(CKR_OK, f_->C_WrapKey(s_, &oaep.m, pub, key, nullptr, &len));
  EXPECT_EQ(len, 256UL);
  Bytes out(256);
  len = 255;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_WrapKey(s_, &oaep.m, pub, key, out.data(), &len));
  EXPECT_EQ(len, 256UL);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_WrapKey(s_, &oaep.m, pub, key, out.data(), nullptr));
  len = out.size();
  ASSERT_CKR(CKR_OK, f_->C_WrapKey(s_, &oaep.m, pub, key, out.data(), &len));
  EXPECT_EQ(len, 256UL);
}

TEST_F(RsaWrapTest, UnwrapErrors) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  const CK_OBJECT_HANDLE priv = Private(false);
  const CK_OBJECT_HANDLE pub = Public(false);
  Mech oaep(kSchemes[3], ToBytes("L"));
  const Bytes good = OsslWrap(kSchemes[3], Random(16), ToBytes("L"));
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Unwrap(&oaep.m, Private(false, false), good, t, &h));
  EXPECT_CKR(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, Unwrap(&oaep.m, pub, good, t, &h));
  EXPECT_CKR(CKR_UNWRAPPING_KEY_HANDLE_INVALID, Unwrap(&oaep.m, 0x7777, good, t, &h));
  // The wrapped length is the modulus length; what does not decrypt is invalid.
  EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE,
             Unwrap(&oaep.m, priv, Bytes(good.begin() + 1, good.end()), t, &h));
  Bytes longer = good;
  longer.push_back(1);
  EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, Unwrap(&oaep.m, priv, longer, t, &h));
  Bytes bad = good;
  bad[77] ^= 0x20;
  EXPECT_CKR(CKR_WRAPPED_KEY_INVALID, Unwrap(&oaep.m, priv, bad, t, &h));
  Mech other_label(kSchemes[3], ToBytes("M"));
  EXPECT_CKR(CKR_WRAPPED_KEY_INVALID, Unwrap(&other_label.m, priv, good, t, &h));
  // 20 bytes are no AES key.
  EXPECT_CKR(CKR_WRAPPED_KEY_INVALID,
             Unwrap(&oaep.m, priv, OsslWrap(kSchemes[3], Random(20), ToBytes("L")), t, &h));
  // CKA_VALUE_LEN that differs from what is inside.
  Template len32;
  len32.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Ulong(CKA_VALUE_LEN, 32);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(&oaep.m, priv, good, len32, &h));
  // Only secret keys come out of an RSA unwrap.
  Template private_key;
  private_key.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(&oaep.m, priv, good, private_key, &h));
  Template incomplete;
  incomplete.Ulong(CKA_CLASS, CKO_SECRET_KEY);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, Unwrap(&oaep.m, priv, good, incomplete, &h));
  CK_RSA_PKCS_OAEP_PARAMS sha256_mgf1{CKM_SHA256, CKG_MGF1_SHA384, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM m{CKM_RSA_PKCS_OAEP, &sha256_mgf1, sizeof sha256_mgf1};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, Unwrap(&m, priv, good, t, &h));
  // Read-only session and a token key.
  Template token;
  token.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bool(CKA_TOKEN, true);
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  Bytes w = good;
  EXPECT_CKR(CKR_SESSION_READ_ONLY,
             f_->C_UnwrapKey(ro, &oaep.m, priv, w.data(), static_cast<CK_ULONG>(w.size()),
                             token.data(), token.size(), &h));
}

// CKA_WRAP_TEMPLATE on the public key, CKA_UNWRAP_TEMPLATE on the private key.
TEST_F(RsaWrapTest, WrapAndUnwrapTemplates) {
  REQUIRE_MECHANISM(CKM_AES_KEY_GEN);  // the platform (TPM) slots keep no secret keys
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE wrap_tmpl[] = {{CKA_ENCRYPT, &yes, sizeof yes}};
  CK_ATTRIBUTE unwrap_tmpl[] = {{CKA_EXTRACTABLE, &no, sizeof no}};
  const CK_OBJECT_HANDLE pub = Public(false, true, [&](Template& t) {
    t.Verbatim(CKA_WRAP_TEMPLATE, wrap_tmpl, sizeof wrap_tmpl);
  });
  const CK_OBJECT_HANDLE priv = Private(false, true, [&](Template& t) {
    t.Verbatim(CKA_UNWRAP_TEMPLATE, unwrap_tmpl, sizeof unwrap_tmpl);
  });
  Mech pkcs1(kSchemes[0]);
  CK_RV rv = CKR_OK;
  Wrap(&pkcs1.m, pub, Secret(CKK_AES, Random(16)), &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  const Bytes value = Random(16);
  const CK_OBJECT_HANDLE encrypting =
      Secret(CKK_AES, value, false, true, [](Template& t) { t.Bool(CKA_ENCRYPT, true); });
  const Bytes wrapped = Wrap(&pkcs1.m, pub, encrypting);
  EXPECT_EQ(Hex(OsslDecrypt(ossl_.get(), wrapped, nullptr, {})), Hex(value));
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, Unwrap(&pkcs1.m, priv, wrapped, t, &h));
  EXPECT_FALSE(GetBool(s_, h, CKA_EXTRACTABLE));
  Template conflict;
  conflict.Ulong(CKA_CLASS, CKO_SECRET_KEY)
      .Ulong(CKA_KEY_TYPE, CKK_AES)
      .Bool(CKA_EXTRACTABLE, true);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(&pkcs1.m, priv, wrapped, conflict, &h));
}

}  // namespace
}  // namespace conf
