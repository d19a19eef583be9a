// C_GenerateKeyPair templates and the attributes of the generated objects; the five cases of
// C_GetAttributeValue (PKCS#11 3.0 §5.7).
#include <openssl/evp.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

using KeygenTest = P11Test;

TEST_F(KeygenTest, RsaKeyPairAttributes) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048, {.label = "rsa attrs"});
  ASSERT_TRUE(kp.ok());
  EXPECT_NE(kp.pub, kp.priv);
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_CLASS), CKO_PRIVATE_KEY);
  EXPECT_EQ(GetUlong(s, kp.pub, CKA_CLASS), CKO_PUBLIC_KEY);
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_KEY_TYPE), CKK_RSA);
  EXPECT_EQ(GetUlong(s, kp.pub, CKA_KEY_TYPE), CKK_RSA);
  EXPECT_EQ(GetUlong(s, kp.pub, CKA_MODULUS_BITS), 2048u);
  EXPECT_FALSE(GetBool(s, kp.priv, CKA_TOKEN));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_SIGN));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_DECRYPT));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_SENSITIVE));
  EXPECT_FALSE(GetBool(s, kp.priv, CKA_EXTRACTABLE));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_ALWAYS_SENSITIVE));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_NEVER_EXTRACTABLE));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_LOCAL));
  EXPECT_TRUE(GetBool(s, kp.pub, CKA_LOCAL));
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_KEY_GEN_MECHANISM), CKM_RSA_PKCS_KEY_PAIR_GEN);
  EXPECT_TRUE(GetBool(s, kp.pub, CKA_VERIFY));
  EXPECT_TRUE(GetBool(s, kp.pub, CKA_ENCRYPT));
  EXPECT_EQ(GetBytes(s, kp.priv, CKA_LABEL), ToBytes("rsa attrs"));
  const Bytes modulus = GetBytes(s, kp.pub, CKA_MODULUS);
  EXPECT_EQ(modulus.size(), 256u);
  EXPECT_GE(modulus.at(0), 0x80) << "modulus must be unsigned big-endian without padding";
  // Java and libp11 read the public parts from the private key.
  EXPECT_EQ(GetBytes(s, kp.priv, CKA_MODULUS), modulus);
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_PUBLIC_EXPONENT), (Bytes{1, 0, 1}));
  EXPECT_EQ(GetBytes(s, kp.priv, CKA_PUBLIC_EXPONENT), (Bytes{1, 0, 1}));
  // Default CKA_ID: SHA-1 of the modulus (the NSS convention), same on both halves.
  const Bytes id = GetBytes(s, kp.priv, CKA_ID);
  EXPECT_EQ(Hex(id), Hex(Digest(EVP_sha1(), modulus)));
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_ID), id);
  // The private exponent never leaves.
  CK_RV rv = CKR_OK;
  GetBytes(s, kp.priv, CKA_PRIVATE_EXPONENT, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  GetBytes(s, kp.priv, CKA_PRIME_1, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
  // A unique id (3.0) differs between the two objects when present.
  const Bytes u1 = GetBytes(s, kp.priv, CKA_UNIQUE_ID, &rv);
  if (rv == CKR_OK) {
    EXPECT_NE(u1, GetBytes(s, kp.pub, CKA_UNIQUE_ID));
  }
}

class EcKeygen : public P11Test, public ::testing::WithParamInterface<int> {};

TEST_P(EcKeygen, EcKeyPairAttributes) {
  const Bytes params[] = {EcParamsP256(), EcParamsP384(), EcParamsP521()};
  const size_t coord[] = {32, 48, 66};
  const Bytes& ec_params = params[GetParam()];
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, ec_params, {.token = true, .label = "ec attrs"});
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_KEY_TYPE), CKK_EC);
  EXPECT_EQ(GetUlong(s, kp.pub, CKA_KEY_TYPE), CKK_EC);
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_TOKEN));
  EXPECT_TRUE(GetBool(s, kp.priv, CKA_DERIVE));
  EXPECT_EQ(GetUlong(s, kp.priv, CKA_KEY_GEN_MECHANISM), CKM_EC_KEY_PAIR_GEN);
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_EC_PARAMS), ec_params);
  EXPECT_EQ(GetBytes(s, kp.priv, CKA_EC_PARAMS), ec_params);
  const Bytes point_attr = GetBytes(s, kp.pub, CKA_EC_POINT);
  const Bytes point = UnwrapOctetString(point_attr);
  ASSERT_EQ(point.size(), 1 + 2 * coord[GetParam()])
      << "CKA_EC_POINT must be a DER OCTET STRING around the uncompressed point: "
      << Hex(point_attr);
  EXPECT_EQ(point[0], 0x04);
  EXPECT_NE(EcPublicKey(ec_params, point_attr), nullptr) << "point not on the curve";
  const Bytes id = GetBytes(s, kp.priv, CKA_ID);
  EXPECT_EQ(Hex(id), Hex(Digest(EVP_sha1(), point))) << "CKA_ID default: SHA-1 of the EC point";
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_ID), id);
  CK_RV rv = CKR_OK;
  GetBytes(s, kp.priv, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, rv);
}

std::string CurveParamName(const ::testing::TestParamInfo<int>& param) {
  static const char* const kCurveNames[] = {"P256", "P384", "P521"};
  return kCurveNames[param.param];
}

INSTANTIATE_TEST_SUITE_P(Curves, EcKeygen, ::testing::Values(0, 1, 2), CurveParamName);

TEST_F(KeygenTest, GetAttributeValueFiveCases) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048, {.label = "five"});
  ASSERT_TRUE(kp.ok());
  CK_OBJECT_CLASS cls = 0;
  CK_BYTE small[4];
  CK_BYTE label[64];
  CK_BYTE priv_exp[512];
  CK_ATTRIBUTE t[] = {
      {CKA_CLASS, &cls, sizeof cls},                      // fits
      {kUnknownAttribute, label, sizeof label},           // invalid type
      {CKA_PRIVATE_EXPONENT, priv_exp, sizeof priv_exp},  // sensitive
      {CKA_MODULUS, small, sizeof small},                 // too small
      {CKA_LABEL, nullptr, 0},                            // size query
  };
  const CK_RV rv = f_->C_GetAttributeValue(s, kp.priv, t, 5);
  // Any of the three errors may be reported; every attribute must still be processed.
  EXPECT_CKR_ONE_OF(rv, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(cls, CKO_PRIVATE_KEY);
  EXPECT_EQ(t[0].ulValueLen, sizeof cls);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[4].ulValueLen, 4u);

  // One error at a time gives that error.
  CK_ATTRIBUTE unknown[] = {{CKA_CLASS, &cls, sizeof cls}, {kUnknownAttribute, label, 8}};
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, f_->C_GetAttributeValue(s, kp.priv, unknown, 2));
  EXPECT_EQ(unknown[0].ulValueLen, sizeof cls);
  EXPECT_EQ(unknown[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  CK_ATTRIBUTE too_small[] = {{CKA_MODULUS, small, sizeof small}};
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_GetAttributeValue(s, kp.priv, too_small, 1));
  EXPECT_EQ(too_small[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  CK_ATTRIBUTE sensitive[] = {{CKA_PRIVATE_EXPONENT, nullptr, 0}};
  EXPECT_CKR(CKR_ATTRIBUTE_SENSITIVE, f_->C_GetAttributeValue(s, kp.priv, sensitive, 1));
  EXPECT_EQ(sensitive[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  // Attributes that do not apply to the class are "invalid for the object", not a crash.
  CK_ATTRIBUTE not_for_class[] = {{CKA_CERTIFICATE_TYPE, label, sizeof label}};
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, f_->C_GetAttributeValue(s, kp.pub, not_for_class, 1));
  EXPECT_EQ(not_for_class[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

TEST_F(KeygenTest, GetAttributeValueArgumentAndHandleErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GetAttributeValue(s, kp.priv, nullptr, 1));
  CK_ATTRIBUTE a{CKA_CLASS, nullptr, 0};
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(s, 0x7FFF1234, &a, 1));
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, f_->C_GetAttributeValue(s, CK_INVALID_HANDLE, &a, 1));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_GetAttributeValue(0x7FFF1234, kp.priv, &a, 1));
  EXPECT_CKR(CKR_OK, f_->C_GetAttributeValue(s, kp.priv, &a, 0)) << "empty template";
}

TEST_F(KeygenTest, GenerateKeyPairTemplateErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  CK_OBJECT_HANDLE pub = 0;
  CK_OBJECT_HANDLE priv = 0;
  CK_MECHANISM rsa{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  Template empty;
  {
    Template no_bits;
    no_bits.Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1});
    EXPECT_CKR(
        CKR_TEMPLATE_INCOMPLETE,
        f_->C_GenerateKeyPair(s, &rsa, no_bits.data(), no_bits.size(), nullptr, 0, &pub, &priv));
  }
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE,
             f_->C_GenerateKeyPair(s, &ec, nullptr, 0, nullptr, 0, &pub, &priv))
      << "EC without CKA_EC_PARAMS";
  {
    Template bad_curve;
    bad_curve.Raw(CKA_EC_PARAMS, {0x06, 0x03, 0x2B, 0x65, 0x70});  // Ed25519 OID
    EXPECT_CKR_ONE_OF(
        f_->C_GenerateKeyPair(s, &ec, bad_curve.data(), bad_curve.size(), nullptr, 0, &pub, &priv),
        CKR_CURVE_NOT_SUPPORTED, CKR_ATTRIBUTE_VALUE_INVALID, CKR_DOMAIN_PARAMS_INVALID);
    Template garbage;
    garbage.Raw(CKA_EC_PARAMS, {0xFF, 0x01, 0x02});
    EXPECT_CKR_ONE_OF(
        f_->C_GenerateKeyPair(s, &ec, garbage.data(), garbage.size(), nullptr, 0, &pub, &priv),
        CKR_ATTRIBUTE_VALUE_INVALID, CKR_DOMAIN_PARAMS_INVALID, CKR_CURVE_NOT_SUPPORTED);
  }
  {
    Template wrong_class;
    wrong_class.Ulong(CKA_CLASS, CKO_SECRET_KEY).Raw(CKA_EC_PARAMS, EcParamsP256());
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT,
               f_->C_GenerateKeyPair(s, &ec, wrong_class.data(), wrong_class.size(), nullptr, 0,
                                     &pub, &priv));
    Template wrong_type;
    wrong_type.Ulong(CKA_KEY_TYPE, CKK_RSA).Raw(CKA_EC_PARAMS, EcParamsP256());
    EXPECT_CKR(CKR_TEMPLATE_INCONSISTENT,
               f_->C_GenerateKeyPair(s, &ec, wrong_type.data(), wrong_type.size(), nullptr, 0, &pub,
                                     &priv));
  }
  {
    Template unknown;
    unknown.Raw(CKA_EC_PARAMS, EcParamsP256()).Bool(kUnknownAttribute, true);
    EXPECT_CKR(
        CKR_ATTRIBUTE_TYPE_INVALID,
        f_->C_GenerateKeyPair(s, &ec, unknown.data(), unknown.size(), nullptr, 0, &pub, &priv));
    CK_ULONG four = 1;
    Template bad_bool;
    bad_bool.Raw(CKA_EC_PARAMS, EcParamsP256()).Verbatim(CKA_TOKEN, &four, sizeof four);
    EXPECT_CKR(
        CKR_ATTRIBUTE_VALUE_INVALID,
        f_->C_GenerateKeyPair(s, &ec, bad_bool.data(), bad_bool.size(), nullptr, 0, &pub, &priv))
        << "CK_BBOOL attribute with ulValueLen 8";
    Template bad_bits;
    bad_bits.Ulong(CKA_MODULUS_BITS, 100000).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1});
    EXPECT_CKR_ONE_OF(
        f_->C_GenerateKeyPair(s, &rsa, bad_bits.data(), bad_bits.size(), nullptr, 0, &pub, &priv),
        CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID);
    Template tiny_bits;
    tiny_bits.Ulong(CKA_MODULUS_BITS, 256);
    EXPECT_CKR_ONE_OF(
        f_->C_GenerateKeyPair(s, &rsa, tiny_bits.data(), tiny_bits.size(), nullptr, 0, &pub, &priv),
        CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID);
  }
  Template p256;
  p256.Raw(CKA_EC_PARAMS, EcParamsP256());
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(s, nullptr, p256.data(), p256.size(), nullptr, 0, &pub, &priv));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(s, &ec, p256.data(), p256.size(), nullptr, 0, nullptr, &priv));
  EXPECT_CKR(CKR_ARGUMENTS_BAD,
             f_->C_GenerateKeyPair(s, &ec, p256.data(), p256.size(), nullptr, 0, &pub, nullptr));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_GenerateKeyPair(s, &ec, nullptr, 2, nullptr, 0, &pub, &priv));
  CK_MECHANISM not_keygen{CKM_SHA256, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GenerateKeyPair(s, &not_keygen, p256.data(), p256.size(),
                                                          nullptr, 0, &pub, &priv));
  CK_MECHANISM unknown_mech{kUnknownMechanism, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_GenerateKeyPair(s, &unknown_mech, p256.data(),
                                                          p256.size(), nullptr, 0, &pub, &priv));
  EXPECT_CKR(
      CKR_SESSION_HANDLE_INVALID,
      f_->C_GenerateKeyPair(0x7FFF1234, &ec, p256.data(), p256.size(), nullptr, 0, &pub, &priv));
}

TEST_F(KeygenTest, JavaEmptyPrivateTemplateGivesSigningKey) {
  const CK_SESSION_HANDLE s = OpenSession();
  Template pub;
  pub.Raw(CKA_EC_PARAMS, EcParamsP256());
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE hpub = 0;
  CK_OBJECT_HANDLE hpriv = 0;
  ASSERT_CKR(CKR_OK,
             f_->C_GenerateKeyPair(s, &ec, pub.data(), pub.size(), nullptr, 0, &hpub, &hpriv));
  EXPECT_FALSE(GetBool(s, hpriv, CKA_TOKEN)) << "CKA_TOKEN defaults to FALSE";
  EXPECT_TRUE(GetBool(s, hpriv, CKA_SIGN));
  Bytes hash(32, 0x5A);
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_EQ(Sign(s, &ecdsa, hpriv, hash).size(), 64u);
}

TEST_F(KeygenTest, ReadOnlySessionCannotCreateTokenKeysButSessionKeys) {
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  Template pub;
  Template priv;
  pub.Bool(CKA_TOKEN, true).Raw(CKA_EC_PARAMS, EcParamsP256());
  priv.Bool(CKA_TOKEN, true);
  CK_MECHANISM ec{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE hpub = 0;
  CK_OBJECT_HANDLE hpriv = 0;
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_GenerateKeyPair(ro, &ec, pub.data(), pub.size(),
                                                          priv.data(), priv.size(), &hpub, &hpriv));
  EXPECT_TRUE(GenerateEc(ro, EcParamsP256(), {.token = false}).ok());
}

TEST_F(KeygenTest, ExplicitIdAndLabelAreKept) {
  const CK_SESSION_HANDLE s = OpenSession();
  const Bytes id = {0xA1, 0xB2, 0xC3};
  const KeyPair kp = GenerateRsa(s, 2048, {.token = true, .label = "mine", .id = id});
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(GetBytes(s, kp.priv, CKA_ID), id);
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_ID), id);
  EXPECT_EQ(GetBytes(s, kp.pub, CKA_LABEL), ToBytes("mine"));
  // A second key with the same label is a distinct key, not an overwrite.
  const KeyPair kp2 = GenerateRsa(s, 2048, {.token = true, .label = "mine", .id = {0x01}});
  ASSERT_TRUE(kp2.ok());
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, "mine").size(), 2u);
  EXPECT_NE(GetBytes(s, kp.pub, CKA_MODULUS), GetBytes(s, kp2.pub, CKA_MODULUS));
}

}  // namespace
}  // namespace conf
