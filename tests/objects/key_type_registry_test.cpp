// The key type registry (module/bridge/key_types/) against independent facts: the mechanism
// table's key types, the PKCS#11 3.0 specification (generation mechanisms, key size units,
// the error for an unregistered CKA_KEY_TYPE), the BCRYPT blob layouts Microsoft documents
// (bcrypt.h: BCRYPT_RSAKEY_BLOB, BCRYPT_ECCKEY_BLOB and their magics, written here as the
// documented numbers) and OpenSSL-generated keys.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>
#include <string>

#include "bridge/key_types/key_type.h"
#include "cng_common/ossl_ptr.h"
#include "core/p11_error.h"
#include "mechanisms/registry.h"

namespace p11 {
namespace {

using bridge::AttrMap;
using bridge::KeyTypeDescriptor;

using Pkey = cng::ossl::PkeyPtr;

Bytes bn_param(const EVP_PKEY* key, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    ADD_FAILURE() << "no " << name;
    return {};
  }
  Bytes out(pad != 0 ? pad : static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_clear_free(bn);
  return out;
}

Bytes ulong_value(CK_ULONG v) {
  Bytes out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

void put_le32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

void append(Bytes& out, const Bytes& part) { out.insert(out.end(), part.begin(), part.end()); }

// PKCS#11 3.0: the mechanism that generates each key type, and whether C_GetMechanismInfo
// counts its key sizes in bits (RSA modulus §6.1, EC field §6.3) or bytes (AES §6.8).
struct SpecFact {
  CK_KEY_TYPE key_type;
  CK_MECHANISM_TYPE generator;
  CK_ULONG size_unit_bits;
};
constexpr SpecFact kSpecFacts[] = {
    {CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, 1},
    {CKK_EC, CKM_EC_KEY_PAIR_GEN, 1},
    {CKK_AES, CKM_AES_KEY_GEN, 8},
};

TEST(KeyTypeRegistry, EveryKeyTypeOfAMechanismRowHasADescriptorOfItsClasses) {
  for (const mech::MechanismSpec& row : mech::all_mechanisms()) {
    if (row.key_type == CK_UNAVAILABLE_INFORMATION) {
      continue;  // digests take no key
    }
    const KeyTypeDescriptor* type = bridge::find_key_type(row.key_type);
    ASSERT_NE(type, nullptr) << "mechanism 0x" << std::hex << row.type;
    for (const CK_OBJECT_CLASS cls : {row.key_classes.sign, row.key_classes.verify,
                                      row.key_classes.encrypt, row.key_classes.decrypt}) {
      EXPECT_TRUE(type->has_class(cls)) << type->name << " class " << cls;
    }
    EXPECT_EQ(bridge::find_key_type(row.key_type)->key_type, row.key_type);
  }
}

TEST(KeyTypeRegistry, GenerationMechanismsAndSizeUnitsAreTheSpecifications) {
  for (const SpecFact& fact : kSpecFacts) {
    const KeyTypeDescriptor* type = bridge::find_key_type(fact.key_type);
    ASSERT_NE(type, nullptr) << fact.key_type;
    EXPECT_EQ(type->generate_mechanism, fact.generator) << type->name;
    EXPECT_EQ(bridge::find_key_type_by_generator(fact.generator), type) << type->name;
    EXPECT_EQ(type->size_unit_bits, fact.size_unit_bits) << type->name;
    // The generator is a row of the mechanism table for the same key type.
    const mech::MechanismSpec* row = mech::find_mechanism(fact.generator);
    ASSERT_NE(row, nullptr) << type->name;
    EXPECT_EQ(row->key_type, fact.key_type) << type->name;
  }
  // Exactly one of the two sections, and a schema for each of the type's classes.
  for (const KeyTypeDescriptor* type : bridge::all_key_types()) {
    EXPECT_NE(type->pair == nullptr, type->secret == nullptr) << type->name;
    for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY}) {
      EXPECT_EQ(bridge::schema_for(cls, type->key_type) != nullptr, type->has_class(cls))
          << type->name << " class " << cls;
    }
  }
}

TEST(KeyTypeRegistry, AnUnregisteredKeyTypeIsAnInvalidAttributeValue) {
  EXPECT_EQ(bridge::find_key_type(CKK_DSA), nullptr);
  EXPECT_EQ(bridge::find_key_type(CKO_PUBLIC_KEY, CKK_AES), nullptr);
  EXPECT_EQ(bridge::find_key_type(CKO_SECRET_KEY, CKK_RSA), nullptr);
  EXPECT_EQ(bridge::find_key_type_by_generator(CKM_DSA_KEY_PAIR_GEN), nullptr);
  // PKCS#11 3.0 §5.1: an invalid value for an attribute in a template.
  for (const auto& [cls, key_type] :
       {std::pair{CKO_PRIVATE_KEY, CKK_DSA}, std::pair{CKO_SECRET_KEY, CKK_RSA},
        std::pair{CKO_PUBLIC_KEY, CKK_VENDOR_DEFINED}}) {
    try {
      (void)bridge::key_type_for_template(cls, key_type);
      ADD_FAILURE() << "accepted key type " << key_type << " for class " << cls;
    } catch (const P11Error& e) {
      EXPECT_EQ(e.rv(), static_cast<CK_RV>(CKR_ATTRIBUTE_VALUE_INVALID));
    }
  }
}

class RsaDescriptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.reset(EVP_RSA_gen(2048));
    ASSERT_TRUE(key_);
    n_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N);
    e_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E);
    d_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_D);
    p_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_FACTOR1);
    q_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_FACTOR2);
    dp_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1);
    dq_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2);
    qinv_ = bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  }
  Pkey key_;
  Bytes n_, e_, d_, p_, q_, dp_, dq_, qinv_;
  const bridge::KeyPairRules& rules_ = *bridge::find_key_type(CKK_RSA)->pair;
};

TEST_F(RsaDescriptorTest, PublicAttributesRoundTripThroughTheDocumentedBlob) {
  const AttrMap tmpl = {{CKA_MODULUS, n_}, {CKA_PUBLIC_EXPONENT, e_}};
  const bridge::PublicKeyValues values = rules_.public_from_template(tmpl);
  // BCRYPT_RSAPUBLIC_BLOB: BCRYPT_RSAKEY_BLOB {Magic "RSA1", BitLength, cbPublicExp,
  // cbModulus, cbPrime1 = 0, cbPrime2 = 0}, then e and n big-endian.
  Bytes documented;
  put_le32(documented, 0x31415352);
  put_le32(documented, static_cast<std::uint32_t>(EVP_PKEY_get_bits(key_.get())));
  put_le32(documented, static_cast<std::uint32_t>(e_.size()));
  put_le32(documented, static_cast<std::uint32_t>(n_.size()));
  put_le32(documented, 0);
  put_le32(documented, 0);
  append(documented, e_);
  append(documented, n_);
  const Bytes blob = rules_.make_public_blob(values);
  EXPECT_EQ(blob, documented);
  const bridge::PublicKeyValues parsed = rules_.parse_public_blob(blob);
  EXPECT_EQ(rules_.public_attribute(CKA_MODULUS, parsed), n_);
  EXPECT_EQ(rules_.public_attribute(CKA_PUBLIC_EXPONENT, parsed), e_);
  EXPECT_EQ(rules_.public_attribute(CKA_MODULUS_BITS, parsed),
            ulong_value(static_cast<CK_ULONG>(EVP_PKEY_get_bits(key_.get()))));
  EXPECT_EQ(rules_.public_attribute(CKA_EC_POINT, parsed), std::nullopt);
}

TEST_F(RsaDescriptorTest, PrivateAttributesRoundTripThroughPkcs8AndTheDocumentedBlob) {
  // Template -> PKCS#8 (CRT values computed from d, p, q): OpenSSL reads back its own key.
  const AttrMap tmpl = {{CKA_MODULUS, n_},
                        {CKA_PUBLIC_EXPONENT, e_},
                        {CKA_PRIVATE_EXPONENT, d_},
                        {CKA_PRIME_1, p_},
                        {CKA_PRIME_2, q_}};
  const SecretBytes pkcs8 = rules_.pkcs8_from_template(tmpl);
  const unsigned char* at = pkcs8.data();
  Pkey back(d2i_AutoPrivateKey(nullptr, &at, static_cast<long>(pkcs8.size())));
  ASSERT_TRUE(back);
  EXPECT_EQ(EVP_PKEY_eq(back.get(), key_.get()), 1);
  EXPECT_EQ(bn_param(back.get(), OSSL_PKEY_PARAM_RSA_D), d_);
  EXPECT_EQ(bn_param(back.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1), dp_);
  EXPECT_EQ(bn_param(back.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2), dq_);
  EXPECT_EQ(bn_param(back.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1), qinv_);

  // BCRYPT_RSAFULLPRIVATE_BLOB ("RSA3"): e, n, p, q, dp, dq, qinv, d; the primes and CRT
  // values padded to cbPrime1/cbPrime2, d to cbModulus.
  const std::size_t half = n_.size() / 2;
  const auto padded = [&](const char* name, std::size_t size) {
    return bn_param(key_.get(), name, size);
  };
  Bytes blob;
  put_le32(blob, 0x33415352);
  put_le32(blob, static_cast<std::uint32_t>(EVP_PKEY_get_bits(key_.get())));
  put_le32(blob, static_cast<std::uint32_t>(e_.size()));
  put_le32(blob, static_cast<std::uint32_t>(n_.size()));
  put_le32(blob, static_cast<std::uint32_t>(half));
  put_le32(blob, static_cast<std::uint32_t>(half));
  append(blob, e_);
  append(blob, n_);
  append(blob, padded(OSSL_PKEY_PARAM_RSA_FACTOR1, half));
  append(blob, padded(OSSL_PKEY_PARAM_RSA_FACTOR2, half));
  append(blob, padded(OSSL_PKEY_PARAM_RSA_EXPONENT1, half));
  append(blob, padded(OSSL_PKEY_PARAM_RSA_EXPONENT2, half));
  append(blob, padded(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, half));
  append(blob, padded(OSSL_PKEY_PARAM_RSA_D, n_.size()));
  const auto component = [&](CK_ATTRIBUTE_TYPE type) {
    const SecretBytes v = rules_.private_attribute(blob, type);
    return Bytes(v.begin(), v.end());
  };
  EXPECT_EQ(component(CKA_PRIVATE_EXPONENT), d_);
  EXPECT_EQ(component(CKA_PRIME_1), p_);
  EXPECT_EQ(component(CKA_PRIME_2), q_);
  EXPECT_EQ(component(CKA_EXPONENT_1), dp_);
  EXPECT_EQ(component(CKA_EXPONENT_2), dq_);
  EXPECT_EQ(component(CKA_COEFFICIENT), qinv_);
  EXPECT_THROW(rules_.private_attribute(blob, CKA_VALUE), P11Error);
}

struct CurveCase {
  const char* openssl_group;  // also the curve's short name for its OID
  std::size_t field_bytes;
  std::uint32_t public_magic;   // BCRYPT_ECDSA_PUBLIC_P*_MAGIC
  std::uint32_t private_magic;  // BCRYPT_ECDSA_PRIVATE_P*_MAGIC
  const char16_t* ecdsa_algorithm;
  const char16_t* ecdh_algorithm;
};

class EcDescriptorTest : public ::testing::TestWithParam<CurveCase> {
 protected:
  const bridge::KeyPairRules& rules_ = *bridge::find_key_type(CKK_EC)->pair;
};

TEST_P(EcDescriptorTest, AttributesRoundTripThroughTheDocumentedBlobsAndPkcs8) {
  const CurveCase& c = GetParam();
  Pkey key(EVP_EC_gen(c.openssl_group));
  ASSERT_TRUE(key);
  // CKA_EC_PARAMS: the curve's OID, DER (OpenSSL's encoding).
  ASN1_OBJECT* oid = OBJ_nid2obj(OBJ_sn2nid(c.openssl_group));
  ASSERT_NE(oid, nullptr);
  Bytes params(static_cast<std::size_t>(i2d_ASN1_OBJECT(oid, nullptr)));
  unsigned char* out = params.data();
  i2d_ASN1_OBJECT(oid, &out);
  // CKA_EC_POINT: DER OCTET STRING of the uncompressed point.
  std::size_t point_len = 0;
  EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &point_len);
  Bytes point(point_len);
  ASSERT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size(), &point_len),
            1);
  ASSERT_EQ(point.size(), 1 + 2 * c.field_bytes);
  ASSERT_EQ(point[0], 0x04);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, point.data(), static_cast<int>(point.size()));
  Bytes ec_point(static_cast<std::size_t>(i2d_ASN1_OCTET_STRING(os, nullptr)));
  out = ec_point.data();
  i2d_ASN1_OCTET_STRING(os, &out);
  ASN1_OCTET_STRING_free(os);
  const Bytes d = bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, c.field_bytes);

  // Public: template -> BCRYPT_ECCPUBLIC_BLOB {Magic, cbKey, X, Y} -> attributes.
  const AttrMap pub = {{CKA_EC_PARAMS, params}, {CKA_EC_POINT, ec_point}};
  Bytes documented;
  put_le32(documented, c.public_magic);
  put_le32(documented, static_cast<std::uint32_t>(c.field_bytes));
  documented.insert(documented.end(), point.begin() + 1, point.end());
  const Bytes blob = rules_.make_public_blob(rules_.public_from_template(pub));
  EXPECT_EQ(blob, documented);
  const bridge::PublicKeyValues parsed = rules_.parse_public_blob(blob);
  EXPECT_EQ(rules_.public_attribute(CKA_EC_PARAMS, parsed), params);
  EXPECT_EQ(rules_.public_attribute(CKA_EC_POINT, parsed), ec_point);
  EXPECT_EQ(rules_.public_attribute(CKA_MODULUS, parsed), std::nullopt);

  // Private: template -> PKCS#8, read back by OpenSSL; BCRYPT_ECCPRIVATE_BLOB -> CKA_VALUE.
  const AttrMap priv = {{CKA_EC_PARAMS, params}, {CKA_VALUE, d}};
  const SecretBytes pkcs8 = rules_.pkcs8_from_template(priv);
  const unsigned char* at = pkcs8.data();
  Pkey back(d2i_AutoPrivateKey(nullptr, &at, static_cast<long>(pkcs8.size())));
  ASSERT_TRUE(back);
  EXPECT_EQ(EVP_PKEY_eq(back.get(), key.get()), 1);
  EXPECT_EQ(bn_param(back.get(), OSSL_PKEY_PARAM_PRIV_KEY, c.field_bytes), d);
  Bytes private_blob;
  put_le32(private_blob, c.private_magic);
  put_le32(private_blob, static_cast<std::uint32_t>(c.field_bytes));
  private_blob.insert(private_blob.end(), point.begin() + 1, point.end());
  append(private_blob, d);
  const SecretBytes value = rules_.private_attribute(private_blob, CKA_VALUE);
  EXPECT_EQ(Bytes(value.begin(), value.end()), d);

  // Generation: ECDSA_P* keys sign; a key that may derive is made ECDH_P* (NCrypt ids).
  const AttrMap no_derive = {{CKA_DERIVE, Bytes{CK_FALSE}}};
  const AttrMap derive = {{CKA_DERIVE, Bytes{CK_TRUE}}};
  EXPECT_EQ(std::u16string(rules_.generation(0, pub, no_derive).algorithm), c.ecdsa_algorithm);
  EXPECT_EQ(std::u16string(rules_.generation(0, pub, derive).algorithm), c.ecdh_algorithm);
}

// Magics from bcrypt.h: "ECS1".."ECS6" little-endian.
INSTANTIATE_TEST_SUITE_P(Curves, EcDescriptorTest,
                         ::testing::Values(CurveCase{"prime256v1", 32, 0x31534345, 0x32534345,
                                                     u"ECDSA_P256", u"ECDH_P256"},
                                           CurveCase{"secp384r1", 48, 0x33534345, 0x34534345,
                                                     u"ECDSA_P384", u"ECDH_P384"},
                                           CurveCase{"secp521r1", 66, 0x35534345, 0x36534345,
                                                     u"ECDSA_P521", u"ECDH_P521"}));

}  // namespace
}  // namespace p11
