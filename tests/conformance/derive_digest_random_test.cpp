// C_DeriveKey (ECDH1) against OpenSSL, C_Digest* against OpenSSL, C_GenerateRandom and
// C_SeedRandom.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

using DeriveTest = P11Test;

TEST_F(DeriveTest, Ecdh1DeriveMatchesOpenSsl) {
  REQUIRE_MECHANISM(CKM_ECDH1_DERIVE);
  REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);  // the derived key is a generic secret
  const CK_SESSION_HANDLE s = OpenSession();
  const std::pair<Bytes, const char*> curves[] = {
      {EcParamsP256(), "P-256"}, {EcParamsP384(), "P-384"}, {EcParamsP521(), "P-521"}};
  for (const auto& [params, curve] : curves) {
    SCOPED_TRACE(curve);
    if (!Offers(CKM_ECDH1_DERIVE, std::strtoul(curve + 2, nullptr, 10))) {  // "P-384": 384
      continue;
    }
    const KeyPair kp = GenerateEc(s, params);
    ASSERT_TRUE(kp.ok());
    PKey peer = GenerateEcKey(curve);
    Bytes peer_point = EcRawPoint(peer.get());
    CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(peer_point.size()),
                                peer_point.data()};
    CK_MECHANISM mech{CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh};
    PKey token_pub = EcPublicKey(params, GetBytes(s, kp.pub, CKA_EC_POINT));
    ASSERT_NE(token_pub, nullptr);
    const Bytes expected = EcdhSecret(peer.get(), token_pub.get());
    ASSERT_FALSE(expected.empty());
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    t.Ulong(CKA_VALUE_LEN, expected.size()).Bool(CKA_SENSITIVE, false);
    t.Bool(CKA_EXTRACTABLE, true).Bool(CKA_TOKEN, false);
    CK_OBJECT_HANDLE secret = CK_INVALID_HANDLE;
    ASSERT_CKR(CKR_OK, f_->C_DeriveKey(s, &mech, kp.priv, t.data(), t.size(), &secret));
    EXPECT_EQ(GetUlong(s, secret, CKA_CLASS), CKO_SECRET_KEY);
    EXPECT_EQ(Hex(GetBytes(s, secret, CKA_VALUE)), Hex(expected));
    // A shorter CKA_VALUE_LEN takes the leading bytes (PKCS#11: truncation of Z).
    Template short_t;
    short_t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    short_t.Ulong(CKA_VALUE_LEN, 16).Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
    ASSERT_CKR(CKR_OK, f_->C_DeriveKey(s, &mech, kp.priv, short_t.data(), short_t.size(), &secret));
    EXPECT_EQ(Hex(GetBytes(s, secret, CKA_VALUE)),
              Hex(Bytes(expected.begin(), expected.begin() + 16)));
  }
}

TEST_F(DeriveTest, Ecdh1DeriveErrors) {
  REQUIRE_MECHANISM(CKM_ECDH1_DERIVE);
  REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);  // the derived key is a generic secret
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair ec = GenerateEc(s, EcParamsP256());
  const KeyPair no_derive = GenerateEc(s, EcParamsP256(), {.derive = false});
  const KeyPair rsa = GenerateRsa(s, 2048);
  ASSERT_TRUE(ec.ok() && no_derive.ok() && rsa.ok());
  PKey peer = GenerateEcKey("P-256");
  Bytes point = EcRawPoint(peer.get());
  ASSERT_EQ(point.size(), 65u);
  CK_ECDH1_DERIVE_PARAMS ecdh{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(point.size()),
                              point.data()};
  CK_MECHANISM mech{CKM_ECDH1_DERIVE, &ecdh, sizeof ecdh};
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  t.Ulong(CKA_VALUE_LEN, 32);
  CK_OBJECT_HANDLE out = 0;
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED,
             f_->C_DeriveKey(s, &mech, no_derive.priv, t.data(), t.size(), &out));
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT,
             f_->C_DeriveKey(s, &mech, rsa.priv, t.data(), t.size(), &out));
  CK_MECHANISM no_params{CKM_ECDH1_DERIVE, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID,
             f_->C_DeriveKey(s, &no_params, ec.priv, t.data(), t.size(), &out));
  Bytes off_curve = point;
  off_curve[5] ^= 0x10;
  CK_ECDH1_DERIVE_PARAMS bad_point{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(off_curve.size()),
                                   off_curve.data()};
  CK_MECHANISM bad_point_mech{CKM_ECDH1_DERIVE, &bad_point, sizeof bad_point};
  EXPECT_CKR_ONE_OF(f_->C_DeriveKey(s, &bad_point_mech, ec.priv, t.data(), t.size(), &out),
                    CKR_MECHANISM_PARAM_INVALID, CKR_DOMAIN_PARAMS_INVALID, CKR_ARGUMENTS_BAD);
  CK_MECHANISM sign_mech{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID,
             f_->C_DeriveKey(s, &sign_mech, ec.priv, t.data(), t.size(), &out));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DeriveKey(s, &mech, ec.priv, t.data(), t.size(), nullptr));
  // A derived sensitive secret does not reveal its value.
  Template sensitive;
  sensitive.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  sensitive.Ulong(CKA_VALUE_LEN, 32).Bool(CKA_SENSITIVE, true);
  ASSERT_CKR(CKR_OK, f_->C_DeriveKey(s, &mech, ec.priv, sensitive.data(), sensitive.size(), &out));
  CK_RV rv = CKR_OK;
  GetBytes(s, out, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
}

struct DigestCase {
  CK_MECHANISM_TYPE mech;
  const EVP_MD* (*md)();
};

TEST_F(DeriveTest, DigestsMatchOpenSslSingleAndMultiPart) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  const DigestCase cases[] = {{CKM_SHA_1, EVP_sha1},
                              {CKM_SHA224, EVP_sha224},
                              {CKM_SHA256, EVP_sha256},
                              {CKM_SHA384, EVP_sha384},
                              {CKM_SHA512, EVP_sha512}};
  Bytes data(777);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<unsigned char>(i * 7);
  }
  for (const DigestCase& c : cases) {
    SCOPED_TRACE(EVP_MD_get0_name(c.md()));
    const Bytes expected = Digest(c.md(), data);
    CK_MECHANISM mech{c.mech, nullptr, 0};
    ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &mech));
    CK_ULONG len = 0;
    ASSERT_CKR(CKR_OK,
               f_->C_Digest(s, data.data(), static_cast<CK_ULONG>(data.size()), nullptr, &len));
    EXPECT_EQ(len, expected.size());
    Bytes out(len);
    CK_ULONG small = 1;
    EXPECT_CKR(
        CKR_BUFFER_TOO_SMALL,
        f_->C_Digest(s, data.data(), static_cast<CK_ULONG>(data.size()), out.data(), &small));
    EXPECT_EQ(small, expected.size());
    ASSERT_CKR(CKR_OK,
               f_->C_Digest(s, data.data(), static_cast<CK_ULONG>(data.size()), out.data(), &len));
    EXPECT_EQ(Hex(out), Hex(expected));

    ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &mech));
    EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DigestInit(s, &mech));
    for (size_t off = 0; off < data.size(); off += 100) {
      ASSERT_CKR(CKR_OK, f_->C_DigestUpdate(
                             s, data.data() + off,
                             static_cast<CK_ULONG>(std::min<size_t>(100, data.size() - off))));
    }
    len = 0;
    ASSERT_CKR(CKR_OK, f_->C_DigestFinal(s, nullptr, &len));
    small = 2;
    EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_DigestFinal(s, out.data(), &small));
    ASSERT_CKR(CKR_OK, f_->C_DigestFinal(s, out.data(), &len));
    EXPECT_EQ(Hex(out), Hex(expected));
    EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_DigestFinal(s, out.data(), &len));
  }
  Bytes out(64);
  CK_ULONG len = 64;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Digest(s, data.data(), 1, out.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_DigestUpdate(s, data.data(), 1));
  CK_MECHANISM sign_only{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_DigestInit(s, &sign_only));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_DigestInit(s, nullptr));
  // Empty input.
  CK_MECHANISM sha256{CKM_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &sha256));
  len = 64;
  ASSERT_CKR(CKR_OK, f_->C_Digest(s, data.data(), 0, out.data(), &len));
  out.resize(len);
  EXPECT_EQ(Hex(out), Hex(Digest(EVP_sha256(), {})));
}

TEST_F(DeriveTest, DigestKeyIsRefusedOrWorks) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  CK_MECHANISM sha256{CKM_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_DigestInit(s, &sha256));
  EXPECT_CKR_ONE_OF(f_->C_DigestKey(s, kp.priv), CKR_FUNCTION_NOT_SUPPORTED, CKR_KEY_INDIGESTIBLE);
}

TEST_F(DeriveTest, RandomGenerateAndSeed) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  Bytes a(64, 0);
  Bytes b(64, 0);
  ASSERT_CKR(CKR_OK, f_->C_GenerateRandom(s, a.data(), 64));
  ASSERT_CKR(CKR_OK, f_->C_GenerateRandom(s, b.data(), 64));
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(64, 0));
  EXPECT_CKR(CKR_OK, f_->C_GenerateRandom(s, a.data(), 0));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateRandom(s, nullptr, 16));
  Bytes big(100000);
  EXPECT_CKR(CKR_OK, f_->C_GenerateRandom(s, big.data(), static_cast<CK_ULONG>(big.size())));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GenerateRandom(0x7FFF1234, a.data(), 8));
  // NSS calls C_SeedRandom when CKF_RNG is set.
  EXPECT_CKR_ONE_OF(f_->C_SeedRandom(s, a.data(), 64), CKR_OK, CKR_RANDOM_SEED_NOT_SUPPORTED);
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_SeedRandom(s, nullptr, 16));
}

}  // namespace
}  // namespace conf
