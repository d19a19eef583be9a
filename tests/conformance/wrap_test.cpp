// C_WrapKey / C_UnwrapKey (PKCS#11 3.0 §5.18) with CKM_AES_KEY_WRAP (RFC 3394),
// CKM_AES_KEY_WRAP_PAD (v2.40: RFC 3394 over PKCS#7-padded input) and CKM_AES_KEY_WRAP_KWP
// (RFC 5649). Oracles: the RFCs' published vectors and OpenSSL's key-wrap ciphers; unwrapped
// private keys sign and OpenSSL verifies against the original key.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Bytes Random(std::size_t n) {
  Bytes b(n);
  EXPECT_EQ(RAND_bytes(b.data(), static_cast<int>(n)), 1);
  return b;
}

// OpenSSL's key wrap: RFC 3394 (pad=false) or RFC 5649 (pad=true), by KEK size.
Bytes OsslWrap(const Bytes& kek, const Bytes& in, bool pad, bool wrap = true) {
  const EVP_CIPHER* c = nullptr;
  if (kek.size() == 16) {
    c = pad ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
  } else if (kek.size() == 24) {
    c = pad ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
  } else {
    c = pad ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes out(in.size() + 16);
  int n = 0;
  int tail = 0;
  const bool ok =
      EVP_CipherInit_ex(ctx, c, nullptr, kek.data(), nullptr, wrap ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx, out.data() + n, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_TRUE(ok) << "OpenSSL key wrap";
  out.resize(ok ? static_cast<std::size_t>(n + tail) : 0);
  return out;
}

// The reference wrapping of a mechanism.
Bytes Reference(CK_MECHANISM_TYPE mech, const Bytes& kek, const Bytes& key) {
  if (mech == CKM_AES_KEY_WRAP_KWP) {
    return OsslWrap(kek, key, true);
  }
  if (mech == CKM_AES_KEY_WRAP_PAD) {
    Bytes padded = key;
    const std::size_t pad = 8 - key.size() % 8;
    padded.insert(padded.end(), pad, static_cast<unsigned char>(pad));
    return OsslWrap(kek, padded, false);
  }
  return OsslWrap(kek, key, false);
}

Bytes Pkcs8Of(EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
  Bytes out(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  PKCS8_PRIV_KEY_INFO_free(info);
  return out;
}

constexpr CK_MECHANISM_TYPE kMechs[] = {CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD,
                                        CKM_AES_KEY_WRAP_KWP};

class WrapTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    if (IsSkipped()) {
      return;
    }
    REQUIRE_MECHANISM(CKM_AES_KEY_WRAP);  // the wrapping keys are AES keys
    s_ = OpenSession();
  }
  CK_OBJECT_HANDLE Secret(CK_KEY_TYPE type, const Bytes& value, bool wrap, bool token = false,
                          bool sensitive = false, bool extractable = true,
                          const std::string& label = "k") {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Raw(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, token).Bool(CKA_SENSITIVE, sensitive).Bool(CKA_EXTRACTABLE, extractable);
    t.Bool(CKA_WRAP, wrap).Bool(CKA_UNWRAP, wrap).Str(CKA_LABEL, label);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &h));
    return h;
  }
  Bytes Wrap(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE key,
             CK_RV* rv = nullptr) {
    CK_MECHANISM m{mech, nullptr, 0};
    CK_ULONG len = 0;
    CK_RV r = f_->C_WrapKey(s_, &m, kek, key, nullptr, &len);
    Bytes out(len);
    if (r == CKR_OK) {
      r = f_->C_WrapKey(s_, &m, kek, key, out.data(), &len);
      out.resize(len);
    }
    if (rv != nullptr) {
      *rv = r;
    } else {
      EXPECT_CKR(CKR_OK, r);
    }
    return r == CKR_OK ? out : Bytes{};
  }
  CK_RV Unwrap(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE kek, Bytes wrapped, Template& t,
               CK_OBJECT_HANDLE* out) {
    CK_MECHANISM m{mech, nullptr, 0};
    return f_->C_UnwrapKey(s_, &m, kek, wrapped.data(), static_cast<CK_ULONG>(wrapped.size()),
                           t.data(), t.size(), out);
  }
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
};

TEST_F(WrapTest, MechanismInfo) {
  for (const CK_MECHANISM_TYPE mech : kMechs) {
    CK_MECHANISM_INFO info{};
    ASSERT_CKR(CKR_OK, f_->C_GetMechanismInfo(kUserSlot, mech, &info));
    EXPECT_EQ(info.flags & (CKF_WRAP | CKF_UNWRAP), CKF_WRAP | CKF_UNWRAP);
    EXPECT_EQ(info.flags & (CKF_ENCRYPT | CKF_DECRYPT), 0UL);
    EXPECT_EQ(info.ulMinKeySize, 16UL);
    EXPECT_EQ(info.ulMaxKeySize, 32UL);
  }
}

TEST_F(WrapTest, Rfc3394Vectors) {
  const Bytes kek = FromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  const Bytes data = FromHex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
  struct Vector {
    std::size_t kek_bytes, key_bytes;
    const char* wrapped;
  };
  const Vector vectors[] = {
      {16, 16, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},                  // §4.1
      {24, 16, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},                  // §4.2
      {32, 16, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},                  // §4.3
      {24, 24, "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},  // §4.4
      {32, 24, "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},  // §4.5
      {32, 32,
       "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},  // §4.6
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(std::to_string(v.kek_bytes) + "/" + std::to_string(v.key_bytes));
    const CK_OBJECT_HANDLE k = Secret(CKK_AES, Bytes(kek.begin(), kek.begin() + v.kek_bytes), true);
    const Bytes value(data.begin(), data.begin() + v.key_bytes);
    const CK_OBJECT_HANDLE key = Secret(CKK_AES, value, false);
    EXPECT_EQ(Hex(Wrap(CKM_AES_KEY_WRAP, k, key)), Hex(FromHex(v.wrapped)));
    // The default IV given explicitly is the same mechanism.
    Bytes iv(8, 0xA6);
    CK_MECHANISM m{CKM_AES_KEY_WRAP, iv.data(), 8};
    Bytes out(64);
    CK_ULONG len = out.size();
    ASSERT_CKR(CKR_OK, f_->C_WrapKey(s_, &m, k, key, out.data(), &len));
    out.resize(len);
    EXPECT_EQ(Hex(out), Hex(FromHex(v.wrapped)));
  }
}

TEST_F(WrapTest, Rfc5649Vectors) {
  const Bytes kek = FromHex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true);
  const CK_OBJECT_HANDLE key20 =
      Secret(CKK_GENERIC_SECRET, FromHex("c37b7e6492584340bed12207808941155068f738"), false);
  EXPECT_EQ(Hex(Wrap(CKM_AES_KEY_WRAP_KWP, k, key20)),
            Hex(FromHex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")));
  const CK_OBJECT_HANDLE key7 = Secret(CKK_GENERIC_SECRET, FromHex("466f7250617369"), false);
  EXPECT_EQ(Hex(Wrap(CKM_AES_KEY_WRAP_KWP, k, key7)),
            Hex(FromHex("afbeb0f07dfbf5419200f2ccb50bb24f")));
  // RFC 5649's default IV given explicitly; another is refused.
  Bytes iv = FromHex("A65959A6");
  CK_MECHANISM m{CKM_AES_KEY_WRAP_KWP, iv.data(), 4};
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_OK, f_->C_WrapKey(s_, &m, k, key7, nullptr, &len));
  EXPECT_EQ(len, 16UL);
  iv[1] = 0;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, k, key7, nullptr, &len));
}

TEST_F(WrapTest, MatchesOpenSslForRandomKeys) {
  for (const std::size_t kek_bytes : {16U, 24U, 32U}) {
    const Bytes kek = Random(kek_bytes);
    const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true);
    for (const CK_MECHANISM_TYPE mech : kMechs) {
      for (const std::size_t key_bytes : {16U, 24U, 32U, 20U, 40U}) {
        if (mech == CKM_AES_KEY_WRAP && key_bytes % 8 != 0) {
          continue;
        }
        SCOPED_TRACE(std::to_string(kek_bytes) + " " + std::to_string(mech) + " " +
                     std::to_string(key_bytes));
        const Bytes value = Random(key_bytes);
        const CK_KEY_TYPE type = key_bytes == 20 || key_bytes == 40 ? CKK_GENERIC_SECRET : CKK_AES;
        const CK_OBJECT_HANDLE key = Secret(type, value, false);
        EXPECT_EQ(Hex(Wrap(mech, k, key)), Hex(Reference(mech, kek, value)));
      }
    }
  }
}

TEST_F(WrapTest, UnwrapsOpenSslWrappedSecretKeysSessionAndToken) {
  const Bytes kek = Random(32);
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true);
  for (const CK_MECHANISM_TYPE mech : kMechs) {
    for (const bool token : {false, true}) {
      SCOPED_TRACE(std::to_string(mech) + (token ? " token" : " session"));
      const Bytes value = Random(24);
      const std::string label = "unwrapped-" + std::to_string(mech) + (token ? "-t" : "-s");
      Template t;
      t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bool(CKA_TOKEN, token);
      t.Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true).Bool(CKA_ENCRYPT, true);
      t.Str(CKA_LABEL, label);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      ASSERT_CKR(CKR_OK, Unwrap(mech, k, Reference(mech, kek, value), t, &h));
      EXPECT_EQ(Hex(GetBytes(s_, h, CKA_VALUE)), Hex(value));
      EXPECT_EQ(GetUlong(s_, h, CKA_VALUE_LEN), 24UL);
      EXPECT_EQ(GetBool(s_, h, CKA_TOKEN), token);
      EXPECT_FALSE(GetBool(s_, h, CKA_LOCAL));
      EXPECT_FALSE(GetBool(s_, h, CKA_ALWAYS_SENSITIVE));
      EXPECT_FALSE(GetBool(s_, h, CKA_NEVER_EXTRACTABLE));
      EXPECT_EQ(GetUlong(s_, h, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
      // Wrapping it again gives back the same bytes.
      EXPECT_EQ(Hex(Wrap(mech, k, h)), Hex(Reference(mech, kek, value)));
    }
  }
  // Token keys are persisted CNG keys: found again after re-initialisation.
  Reinitialize();
  s_ = OpenSession();
  const auto found =
      FindByLabel(s_, CKO_SECRET_KEY, "unwrapped-" + std::to_string(CKM_AES_KEY_WRAP_KWP) + "-t");
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(GetUlong(s_, found[0], CKA_VALUE_LEN), 24UL);
  EXPECT_TRUE(
      FindByLabel(s_, CKO_SECRET_KEY, "unwrapped-" + std::to_string(CKM_AES_KEY_WRAP_KWP) + "-s")
          .empty());
}

TEST_F(WrapTest, SensitiveExtractableKeyIsWrappedButNeverRevealed) {
  const Bytes kek = Random(16);
  const Bytes value = Random(32);
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true, true);
  const CK_OBJECT_HANDLE key = Secret(CKK_AES, value, false, true, true, true);
  CK_RV rv = CKR_OK;
  GetBytes(s_, key, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  const Bytes wrapped = Wrap(CKM_AES_KEY_WRAP_KWP, k, key);
  EXPECT_EQ(Hex(wrapped), Hex(OsslWrap(kek, value, true)));
  // Unwrapped sensitive: usable, not readable.
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Bool(CKA_TOKEN, true);
  t.Bool(CKA_SENSITIVE, true).Bool(CKA_EXTRACTABLE, false);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, Unwrap(CKM_AES_KEY_WRAP_KWP, k, wrapped, t, &h));
  GetBytes(s_, h, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  EXPECT_FALSE(GetBool(s_, h, CKA_ALWAYS_SENSITIVE));
  EXPECT_FALSE(GetBool(s_, h, CKA_NEVER_EXTRACTABLE));
  Wrap(CKM_AES_KEY_WRAP_KWP, k, h, &rv);
  EXPECT_CKR(CKR_KEY_UNEXTRACTABLE, rv);
}

// An OpenSSL key wrapped by OpenSSL, unwrapped into a CNG key pair; its signature verifies
// against the original key.
TEST_F(WrapTest, UnwrapsPrivateKeysThatSign) {
  const Bytes kek = Random(32);
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true);
  const Bytes data = ToBytes("signed by an unwrapped key");
  for (const bool rsa : {false, true}) {
    for (const bool token : {false, true}) {
      SCOPED_TRACE(std::string(rsa ? "RSA" : "EC") + (token ? " token" : " session"));
      PKey original = rsa ? GenerateRsaKey(2048) : GenerateEcKey("P-256");
      const Bytes pkcs8 = Pkcs8Of(original.get());
      ASSERT_FALSE(pkcs8.empty());
      const std::string label = std::string("unwrapped-") + (rsa ? "rsa" : "ec");
      Template t;
      t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, rsa ? CKK_RSA : CKK_EC);
      t.Bool(CKA_TOKEN, token).Bool(CKA_SIGN, true).Str(CKA_LABEL, label);
      CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
      ASSERT_CKR(CKR_OK, Unwrap(CKM_AES_KEY_WRAP_KWP, k, OsslWrap(kek, pkcs8, true), t, &h));
      EXPECT_EQ(GetUlong(s_, h, CKA_CLASS), CKO_PRIVATE_KEY);
      EXPECT_FALSE(GetBool(s_, h, CKA_LOCAL));
      EXPECT_FALSE(GetBool(s_, h, CKA_ALWAYS_SENSITIVE));
      EXPECT_FALSE(GetBool(s_, h, CKA_NEVER_EXTRACTABLE));
      EXPECT_TRUE(GetBool(s_, h, CKA_SENSITIVE));
      CK_MECHANISM m{rsa ? CKM_SHA256_RSA_PKCS : CKM_ECDSA_SHA256, nullptr, 0};
      const Bytes sig = Sign(s_, &m, h, data);
      if (rsa) {
        EXPECT_TRUE(VerifyRsaPkcs1(original.get(), EVP_sha256(), data, sig));
      } else {
        EXPECT_TRUE(VerifyEcdsa(original.get(), EVP_sha256(), data, sig, false));
      }
      // The public object of the same CNG key came along.
      EXPECT_FALSE(FindByLabel(s_, CKO_PUBLIC_KEY, label).empty());
      EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s_, h));
    }
  }
}

// Round trip: a generated extractable EC key wrapped by the module and unwrapped again.
TEST_F(WrapTest, PrivateKeyRoundTrip) {
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, Random(16), true);
  KeyOptions o;
  o.extractable = true;
  o.token = true;
  const KeyPair kp = GenerateEc(s_, EcParamsP256(), o);
  ASSERT_TRUE(kp.ok());
  for (const CK_MECHANISM_TYPE mech : {CKM_AES_KEY_WRAP_KWP, CKM_AES_KEY_WRAP_PAD}) {
    const Bytes wrapped = Wrap(mech, k, kp.priv);
    ASSERT_FALSE(wrapped.empty());
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_EC).Bool(CKA_SIGN, true);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ASSERT_CKR(CKR_OK, Unwrap(mech, k, wrapped, t, &h));
    EXPECT_EQ(Hex(GetBytes(s_, h, CKA_EC_PARAMS)), Hex(EcParamsP256()));
    PKey pub = EcPublicKey(EcParamsP256(), GetBytes(s_, kp.pub, CKA_EC_POINT));
    CK_MECHANISM m{CKM_ECDSA_SHA256, nullptr, 0};
    const Bytes data = ToBytes("round trip");
    EXPECT_TRUE(VerifyEcdsa(pub.get(), EVP_sha256(), data, Sign(s_, &m, h, data), false));
  }
  // Not extractable: refused.
  const KeyPair fixed = GenerateEc(s_, EcParamsP256());
  CK_RV rv = CKR_OK;
  Wrap(CKM_AES_KEY_WRAP_KWP, k, fixed.priv, &rv);
  EXPECT_CKR(CKR_KEY_UNEXTRACTABLE, rv);
}

TEST_F(WrapTest, WrapErrors) {
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, Random(16), true);
  const CK_OBJECT_HANDLE no_wrap = Secret(CKK_AES, Random(16), false);
  const CK_OBJECT_HANDLE key = Secret(CKK_AES, Random(16), false);
  const CK_OBJECT_HANDLE generic = Secret(CKK_GENERIC_SECRET, Random(16), true);
  CK_RV rv = CKR_OK;
  Wrap(CKM_AES_KEY_WRAP, no_wrap, key, &rv);
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, rv);
  Wrap(CKM_AES_KEY_WRAP, generic, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, rv);
  Wrap(CKM_AES_KEY_WRAP, 0x7777, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_HANDLE_INVALID, rv);
  Wrap(CKM_AES_KEY_WRAP, k, 0x7777, &rv);
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, rv);
  const CK_OBJECT_HANDLE fixed = Secret(CKK_AES, Random(16), false, false, true, false);
  Wrap(CKM_AES_KEY_WRAP, k, fixed, &rv);
  EXPECT_CKR(CKR_KEY_UNEXTRACTABLE, rv);
  // RFC 3394 needs a multiple of 8 bytes.
  const CK_OBJECT_HANDLE odd = Secret(CKK_GENERIC_SECRET, Random(20), false);
  Wrap(CKM_AES_KEY_WRAP, k, odd, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  // CKA_WRAP_WITH_TRUSTED: only under a CKA_TRUSTED wrapping key.
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, Random(16));
  t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_WRAP_WITH_TRUSTED, true);
  CK_OBJECT_HANDLE trusted_only = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &trusted_only));
  Wrap(CKM_AES_KEY_WRAP, k, trusted_only, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  // Public keys are not wrapped; an EC key does not wrap.
  const KeyPair kp = GenerateEc(s_, EcParamsP256());
  Wrap(CKM_AES_KEY_WRAP_KWP, k, kp.pub, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  Wrap(CKM_AES_KEY_WRAP_KWP, kp.priv, key, &rv);
  EXPECT_CKR(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, rv);
  // Parameters: only the default IV.
  Bytes iv(8, 0x11);
  CK_MECHANISM m{CKM_AES_KEY_WRAP, iv.data(), 8};
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, k, key, nullptr, &len));
  m.ulParameterLen = 4;
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_WrapKey(s_, &m, k, key, nullptr, &len));
  // Size query and a short buffer.
  CK_MECHANISM kw{CKM_AES_KEY_WRAP, nullptr, 0};
  len = 0;
  ASSERT_CKR(CKR_OK, f_->C_WrapKey(s_, &kw, k, key, nullptr, &len));
  EXPECT_EQ(len, 24UL);
  Bytes out(64);
  len = 10;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_WrapKey(s_, &kw, k, key, out.data(), &len));
  EXPECT_EQ(len, 24UL);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_WrapKey(s_, &kw, k, key, out.data(), nullptr));
  // Wrap mechanisms do not encrypt.
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_EncryptInit(s_, &kw, k));
}

TEST_F(WrapTest, UnwrapErrors) {
  const Bytes kek = Random(16);
  const CK_OBJECT_HANDLE k = Secret(CKK_AES, kek, true);
  const CK_OBJECT_HANDLE no_unwrap = Secret(CKK_AES, kek, false);
  const CK_OBJECT_HANDLE generic = Secret(CKK_GENERIC_SECRET, kek, true);
  const Bytes good = OsslWrap(kek, Random(16), false);
  const auto aes_template = [](Template& t) {
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  };
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  {
    Template t;
    aes_template(t);
    EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, Unwrap(CKM_AES_KEY_WRAP, no_unwrap, good, t, &h));
    EXPECT_CKR(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
               Unwrap(CKM_AES_KEY_WRAP, generic, good, t, &h));
    EXPECT_CKR(CKR_UNWRAPPING_KEY_HANDLE_INVALID, Unwrap(CKM_AES_KEY_WRAP, 0x7777, good, t, &h));
    EXPECT_CKR(CKR_OK, Unwrap(CKM_AES_KEY_WRAP, k, good, t, &h));
    Bytes bad = good;
    bad[5] ^= 1;
    EXPECT_CKR(CKR_WRAPPED_KEY_INVALID, Unwrap(CKM_AES_KEY_WRAP, k, bad, t, &h));
    EXPECT_CKR(CKR_WRAPPED_KEY_INVALID, Unwrap(CKM_AES_KEY_WRAP_PAD, k, good, t, &h));
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE,
               Unwrap(CKM_AES_KEY_WRAP, k, Bytes(good.begin(), good.end() - 1), t, &h));
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, Unwrap(CKM_AES_KEY_WRAP, k, Bytes(16, 1), t, &h));
    EXPECT_CKR(CKR_WRAPPED_KEY_LEN_RANGE, Unwrap(CKM_AES_KEY_WRAP_KWP, k, Bytes(8, 1), t, &h));
    // A 20-byte secret is no AES key.
    EXPECT_CKR(CKR_WRAPPED_KEY_INVALID,
               Unwrap(CKM_AES_KEY_WRAP_KWP, k, OsslWrap(kek, Random(20), true), t, &h));
  }
  {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY);
    EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, Unwrap(CKM_AES_KEY_WRAP, k, good, t, &h));
    Template u;
    u.Ulong(CKA_KEY_TYPE, CKK_AES);
    EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, Unwrap(CKM_AES_KEY_WRAP, k, good, u, &h));
    Template d;
    d.Ulong(CKA_CLASS, CKO_DATA).Ulong(CKA_KEY_TYPE, CKK_AES);
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(CKM_AES_KEY_WRAP, k, good, d, &h));
    Template des;
    des.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_DES3);
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(CKM_AES_KEY_WRAP, k, good, des, &h));
  }
  {
    Template t;
    aes_template(t);
    t.Ulong(CKA_VALUE_LEN, 32);
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(CKM_AES_KEY_WRAP, k, good, t, &h));
    Template v;
    aes_template(v);
    v.Raw(CKA_VALUE, Bytes(16, 0));
    EXPECT_CKR_ONE_OF(Unwrap(CKM_AES_KEY_WRAP, k, good, v, &h), CKR_ATTRIBUTE_READ_ONLY,
                      CKR_TEMPLATE_INCONSISTENT);
  }
  {
    Template t;
    aes_template(t);
    t.Bool(CKA_TOKEN, true);
    const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
    CK_MECHANISM m{CKM_AES_KEY_WRAP, nullptr, 0};
    Bytes w = good;
    EXPECT_CKR(CKR_SESSION_READ_ONLY,
               f_->C_UnwrapKey(ro, &m, k, w.data(), 24, t.data(), t.size(), &h));
    Bytes iv(8, 0);
    CK_MECHANISM bad_iv{CKM_AES_KEY_WRAP, iv.data(), 8};
    EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID,
               f_->C_UnwrapKey(s_, &bad_iv, k, w.data(), 24, t.data(), t.size(), &h));
  }
  {
    // The wrapped key is not what the template says: an EC key where RSA is expected.
    PKey ec = GenerateEcKey("P-256");
    Template t;
    t.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA);
    EXPECT_CKR(CKR_WRAPPED_KEY_INVALID,
               Unwrap(CKM_AES_KEY_WRAP_KWP, k, OsslWrap(kek, Pkcs8Of(ec.get()), true), t, &h));
  }
}

// CKA_WRAP_TEMPLATE / CKA_UNWRAP_TEMPLATE (§4.10): attribute arrays on the key-encryption
// key, read back with C_GetAttributeValue, kept across re-initialisation for token keys, and
// enforced by C_WrapKey and C_UnwrapKey.
TEST_F(WrapTest, WrapAndUnwrapTemplates) {
  const Bytes kek = Random(16);
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE wrap_tmpl[] = {{CKA_ENCRYPT, &yes, sizeof yes}};
  CK_ATTRIBUTE unwrap_tmpl[] = {{CKA_EXTRACTABLE, &no, sizeof no}, {CKA_DECRYPT, &yes, sizeof yes}};
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, kek);
  t.Bool(CKA_TOKEN, true).Bool(CKA_WRAP, true).Bool(CKA_UNWRAP, true).Str(CKA_LABEL, "kek-t");
  t.Verbatim(CKA_WRAP_TEMPLATE, wrap_tmpl, sizeof wrap_tmpl);
  t.Verbatim(CKA_UNWRAP_TEMPLATE, unwrap_tmpl, sizeof unwrap_tmpl);
  CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s_, t.data(), t.size(), &k));
  // Wrapping: only keys with CKA_ENCRYPT=TRUE.
  const Bytes value = Random(16);
  Template e;
  e.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, value);
  e.Bool(CKA_EXTRACTABLE, true).Bool(CKA_ENCRYPT, true);
  CK_OBJECT_HANDLE encrypting = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s_, e.data(), e.size(), &encrypting));
  EXPECT_EQ(Hex(Wrap(CKM_AES_KEY_WRAP, k, encrypting)), Hex(OsslWrap(kek, value, false)));
  const CK_OBJECT_HANDLE plain = Secret(CKK_AES, Random(16), false);
  CK_RV rv = CKR_OK;
  Wrap(CKM_AES_KEY_WRAP, k, plain, &rv);
  EXPECT_CKR(CKR_KEY_NOT_WRAPPABLE, rv);
  // Unwrapping: the template's attributes are merged in; a conflict is refused.
  const Bytes wrapped = OsslWrap(kek, value, false);
  Template u;
  u.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, Unwrap(CKM_AES_KEY_WRAP, k, wrapped, u, &h));
  EXPECT_FALSE(GetBool(s_, h, CKA_EXTRACTABLE));
  EXPECT_TRUE(GetBool(s_, h, CKA_DECRYPT));
  Template conflict;
  conflict.Ulong(CKA_CLASS, CKO_SECRET_KEY)
      .Ulong(CKA_KEY_TYPE, CKK_AES)
      .Bool(CKA_EXTRACTABLE, true);
  EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT, Unwrap(CKM_AES_KEY_WRAP, k, wrapped, conflict, &h));
  // Read back (array attribute: size, then types and lengths, then values), also after
  // re-initialisation.
  Reinitialize();
  s_ = OpenSession();
  const auto found = FindByLabel(s_, CKO_SECRET_KEY, "kek-t");
  ASSERT_EQ(found.size(), 1U);
  CK_ATTRIBUTE query{CKA_UNWRAP_TEMPLATE, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_GetAttributeValue(s_, found[0], &query, 1));
  ASSERT_EQ(query.ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
  CK_ATTRIBUTE elements[2] = {};
  query.pValue = elements;
  ASSERT_CKR(CKR_OK, f_->C_GetAttributeValue(s_, found[0], &query, 1));
  CK_BBOOL values[2] = {0xFF, 0xFF};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(elements[i].ulValueLen, 1UL);
    elements[i].pValue = &values[i];
  }
  ASSERT_CKR(CKR_OK, f_->C_GetAttributeValue(s_, found[0], &query, 1));
  EXPECT_EQ(elements[0].type, static_cast<CK_ATTRIBUTE_TYPE>(CKA_DECRYPT));
  EXPECT_EQ(values[0], CK_TRUE);
  EXPECT_EQ(elements[1].type, static_cast<CK_ATTRIBUTE_TYPE>(CKA_EXTRACTABLE));
  EXPECT_EQ(values[1], CK_FALSE);
  // A key without templates has empty arrays.
  const CK_OBJECT_HANDLE bare = Secret(CKK_AES, Random(16), true);
  CK_ATTRIBUTE empty{CKA_WRAP_TEMPLATE, nullptr, 99};
  EXPECT_CKR(CKR_OK, f_->C_GetAttributeValue(s_, bare, &empty, 1));
  EXPECT_EQ(empty.ulValueLen, 0UL);
}

}  // namespace
}  // namespace conf
