// Template validation through the object layer: error codes for bad templates, and the
// five cases of C_GetAttributeValue.
#include <cstring>

#include "core/p11_error.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

CK_RV rv_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const P11Error& e) {
    return e.rv();
  }
  return CKR_OK;
}

class TemplateTest : public ObjectLayerTest {
 protected:
  CK_RV generate(const Template& pub, const Template& priv,
                 CK_MECHANISM_TYPE mech = CKM_EC_KEY_PAIR_GEN, const SessionContext* s = nullptr) {
    CK_MECHANISM m{mech, nullptr, 0};
    return rv_of([&] { layer_->generate_key_pair(s ? *s : rw_, m, pub.span(), priv.span()); });
  }
  Template ec_pub() {
    Template t;
    t.bytes(CKA_EC_PARAMS, ec_params(256));
    return t;
  }
};

TEST_F(TemplateTest, KeyPairTemplateErrors) {
  Template empty;
  // Unknown attribute type.
  Template unknown = ec_pub();
  unknown.boolean(0x7FFF0000UL, true);
  EXPECT_EQ(generate(unknown, empty), CKR_ATTRIBUTE_TYPE_INVALID);
  // A private-key attribute in the public template.
  Template wrong_class = ec_pub();
  wrong_class.boolean(CKA_SIGN, true);
  EXPECT_EQ(generate(wrong_class, empty), CKR_ATTRIBUTE_TYPE_INVALID);
  // Read-only (token-set) attribute.
  Template local;
  local.boolean(CKA_LOCAL, true);
  EXPECT_EQ(generate(ec_pub(), local), CKR_ATTRIBUTE_READ_ONLY);
  // CK_BBOOL of the wrong size, CK_ULONG of the wrong size.
  Template bad_bool;
  const CK_ULONG four = 1;
  bad_bool.raw(CKA_SIGN, &four, sizeof four);
  EXPECT_EQ(generate(ec_pub(), bad_bool), CKR_ATTRIBUTE_VALUE_INVALID);
  Template bad_ulong;
  const std::uint32_t bits = 2048;
  bad_ulong.raw(CKA_MODULUS_BITS, &bits, sizeof bits);
  EXPECT_EQ(generate(bad_ulong, empty, CKM_RSA_PKCS_KEY_PAIR_GEN), CKR_ATTRIBUTE_VALUE_INVALID);
  // Required attributes.
  EXPECT_EQ(generate(empty, empty), CKR_TEMPLATE_INCOMPLETE);
  EXPECT_EQ(generate(empty, empty, CKM_RSA_PKCS_KEY_PAIR_GEN), CKR_TEMPLATE_INCOMPLETE);
  // Curves and exponents CNG does not offer.
  Template k1;
  k1.bytes(CKA_EC_PARAMS, from_hex("06052b8104000a"));  // secp256k1
  EXPECT_EQ(generate(k1, empty), CKR_CURVE_NOT_SUPPORTED);
  Template named;
  named.bytes(CKA_EC_PARAMS, from_hex("130a7072696d653235367631"));  // PrintableString
  EXPECT_EQ(generate(named, empty), CKR_CURVE_NOT_SUPPORTED);
  Template garbage;
  garbage.bytes(CKA_EC_PARAMS, {0xFF, 0x01});
  EXPECT_EQ(generate(garbage, empty), CKR_ATTRIBUTE_VALUE_INVALID);
  Template e3;
  e3.ulong(CKA_MODULUS_BITS, 2048).bytes(CKA_PUBLIC_EXPONENT, {3});
  EXPECT_EQ(generate(e3, empty, CKM_RSA_PKCS_KEY_PAIR_GEN), CKR_ATTRIBUTE_VALUE_INVALID);
  Template odd_size;
  odd_size.ulong(CKA_MODULUS_BITS, 100);
  EXPECT_EQ(generate(odd_size, empty, CKM_RSA_PKCS_KEY_PAIR_GEN), CKR_KEY_SIZE_RANGE);
  // Mechanism checks.
  EXPECT_EQ(generate(ec_pub(), empty, CKM_SHA256_RSA_PKCS), CKR_MECHANISM_INVALID);
  CK_MECHANISM with_param{CKM_EC_KEY_PAIR_GEN, const_cast<CK_ULONG*>(&four), sizeof four};
  EXPECT_EQ(
      rv_of([&] { layer_->generate_key_pair(rw_, with_param, ec_pub().span(), empty.span()); }),
      CKR_MECHANISM_PARAM_INVALID);
  // Inconsistent class / key type.
  Template rsa_type = ec_pub();
  rsa_type.ulong(CKA_KEY_TYPE, CKK_RSA);
  EXPECT_EQ(generate(rsa_type, empty), CKR_TEMPLATE_INCONSISTENT);
  // Same attribute twice with different values.
  Template twice;
  twice.boolean(CKA_SIGN, true).boolean(CKA_SIGN, false);
  EXPECT_EQ(generate(ec_pub(), twice), CKR_TEMPLATE_INCONSISTENT);
  // Token objects need a read/write session.
  Template token;
  token.boolean(CKA_TOKEN, true);
  EXPECT_EQ(generate(ec_pub(), token, CKM_EC_KEY_PAIR_GEN, &ro_), CKR_SESSION_READ_ONLY);
  // Nothing was created by any of these.
  EXPECT_TRUE(find(*layer_, Template()).empty());
}

TEST_F(TemplateTest, FiveCasesOfGetAttributeValue) {
  const auto [pub, priv] = generate_ec(*layer_, false, "five");
  CK_BBOOL sign = 0;
  std::uint8_t small[2];
  std::uint8_t label[16];
  std::uint8_t value[64];
  CK_ATTRIBUTE t[] = {
      {CKA_SIGN, &sign, sizeof sign},        // fits
      {CKA_LABEL, nullptr, 0},               // size query
      {CKA_EC_PARAMS, small, sizeof small},  // too small
      {0x7FFF0001UL, label, sizeof label},   // not an attribute of the object
      {CKA_VALUE, value, sizeof value},      // sensitive
      {CKA_ID, label, sizeof label},         // too small for SHA-1
  };
  EXPECT_EQ(layer_->get_attribute_value(rw_, priv, t), CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(t[0].ulValueLen, 1u);
  EXPECT_EQ(sign, CK_TRUE);
  EXPECT_EQ(t[1].ulValueLen, 4u);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[4].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[5].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  // Without the sensitive one: type invalid wins over buffer too small.
  t[1].ulValueLen = 0;
  t[2].ulValueLen = sizeof small;
  t[3].ulValueLen = sizeof label;
  EXPECT_EQ(layer_->get_attribute_value(rw_, priv, std::span(t, 4)), CKR_ATTRIBUTE_TYPE_INVALID);
  CK_ATTRIBUTE only_small[] = {{CKA_EC_PARAMS, small, sizeof small}};
  EXPECT_EQ(layer_->get_attribute_value(rw_, priv, only_small), CKR_BUFFER_TOO_SMALL);
  // Public values are on both objects; CKA_MODULUS is on neither of an EC pair.
  EXPECT_EQ(attr(*layer_, priv, CKA_EC_POINT), attr(*layer_, pub, CKA_EC_POINT));
  CK_RV rv = CKR_OK;
  EXPECT_FALSE(attr(*layer_, priv, CKA_MODULUS, &rv));
  EXPECT_EQ(rv, CKR_ATTRIBUTE_TYPE_INVALID);
  // Unknown handles.
  CK_ATTRIBUTE one[] = {{CKA_CLASS, nullptr, 0}};
  EXPECT_EQ(rv_of([&] { layer_->get_attribute_value(rw_, 0xDEAD0000UL, one); }),
            CKR_OBJECT_HANDLE_INVALID);
}

TEST_F(TemplateTest, SetAttributeValueRules) {
  // Named handles, not a structured binding: lambdas capture them (clang 14).
  const auto pub_priv = generate_ec(*layer_, false);
  const CK_OBJECT_HANDLE pub = pub_priv.first;
  const CK_OBJECT_HANDLE priv = pub_priv.second;
  Template token;
  token.boolean(CKA_TOKEN, true);
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, token.span()); }),
            CKR_ATTRIBUTE_READ_ONLY);
  Template cls;
  cls.ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, cls.span()); }),
            CKR_ATTRIBUTE_READ_ONLY);
  Template insensitive;
  insensitive.boolean(CKA_SENSITIVE, false);
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, insensitive.span()); }),
            CKR_ATTRIBUTE_READ_ONLY);
  Template unextractable;
  unextractable.boolean(CKA_EXTRACTABLE, false);  // already FALSE: restating is fine
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, unextractable.span()); }), CKR_OK);
  Template unknown;
  unknown.boolean(CKA_MODULUS_BITS, true);
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, unknown.span()); }),
            CKR_ATTRIBUTE_VALUE_INVALID);  // wrong shape checked first
  Template unknown2;
  unknown2.ulong(CKA_MODULUS_BITS, 1);
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv, unknown2.span()); }),
            CKR_ATTRIBUTE_TYPE_INVALID);
  // A frozen object.
  Template pub_t;
  pub_t.bytes(CKA_EC_PARAMS, ec_params(256));
  Template frozen;
  frozen.boolean(CKA_MODIFIABLE, false)
      .boolean(CKA_DESTROYABLE, false)
      .boolean(CKA_COPYABLE, false);
  CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  // Named handles, not a structured binding: lambdas capture them (clang 14).
  const auto pub2_priv2 = layer_->generate_key_pair(rw_, m, pub_t.span(), frozen.span());
  const CK_OBJECT_HANDLE pub2 = pub2_priv2.first;
  const CK_OBJECT_HANDLE priv2 = pub2_priv2.second;
  Template label;
  label.text(CKA_LABEL, "x");
  EXPECT_EQ(rv_of([&] { layer_->set_attribute_value(rw_, priv2, label.span()); }),
            CKR_ACTION_PROHIBITED);
  EXPECT_EQ(rv_of([&] { layer_->destroy_object(rw_, priv2); }), CKR_ACTION_PROHIBITED);
  EXPECT_EQ(rv_of([&] { layer_->copy_object(rw_, priv2, {}); }), CKR_ACTION_PROHIBITED);
  (void)pub;
  (void)pub2;
}

TEST_F(TemplateTest, FindWithUnknownClassOrAttributeFindsNothing) {
  generate_ec(*layer_, false, "visible");
  Template trust;
  trust.ulong(CKA_CLASS, 0xCE534353UL);  // CKO_NSS_TRUST
  EXPECT_TRUE(find(*layer_, trust).empty());
  Template unknown;
  unknown.boolean(0xCE534358UL, true);
  EXPECT_TRUE(find(*layer_, unknown).empty());
  Template all;
  EXPECT_EQ(find(*layer_, all).size(), 2u);
}

}  // namespace
}  // namespace p11::test
