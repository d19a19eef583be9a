// Imported token keys (C_CreateObject of a private key, a token public key; C_UnwrapKey and
// copies to the token go through the same import) persist only the custom properties whose
// value differs from what their absence reads as, as generated keys do
// (persisted_defaults_test.cpp), and read the same as a key whose file carries every property.
// Oracles: PKCS#11 3.0 (§4.4 storage objects: CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE
// TRUE by default, CKA_LABEL as given; §4.7 keys: CKA_LOCAL FALSE and CKA_KEY_GEN_MECHANISM
// CK_UNAVAILABLE_INFORMATION for a key not generated on the token, CKA_START_DATE/CKA_END_DATE
// empty, CKA_DERIVE FALSE; §4.9: CKA_ALWAYS_SENSITIVE FALSE for an imported key), the
// templates, and OpenSSL for the key material.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstring>
#include <map>
#include <set>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "cng_key_listing.h"
#include "ncrypt.h"
#include "object_test_support.h"
#include "objects/key_objects.h"

namespace p11::test {
namespace {

using Expected = std::map<CK_ATTRIBUTE_TYPE, Bytes>;

Bytes b(bool v) { return {static_cast<std::uint8_t>(v ? 1 : 0)}; }
Bytes ul(CK_ULONG v) {
  Bytes out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

// An OpenSSL P-256 key: its private scalar (32 bytes) and CKA_EC_POINT (DER OCTET STRING of
// the uncompressed point).
struct EcKey {
  Bytes d;
  Bytes point;
};

EcKey make_ec_key() {
  EcKey out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  EXPECT_NE(key, nullptr);
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
  out.d.resize(32);
  BN_bn2binpad(bn, out.d.data(), 32);
  BN_clear_free(bn);
  std::uint8_t raw[65];
  std::size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof raw, &len),
            1);
  EXPECT_EQ(len, 65u);
  out.point = {0x04, 0x41};
  out.point.insert(out.point.end(), raw, raw + 65);
  EVP_PKEY_free(key);
  return out;
}

class PersistedImportsTest : public ObjectLayerTest {
 protected:
  void SetUp() override {
    ObjectLayerTest::SetUp();
    ASSERT_EQ(NCryptOpenStorageProvider(&provider_, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
  }
  void TearDown() override {
    NCryptFreeObject(provider_);
    ObjectLayerTest::TearDown();
  }

  std::set<std::u16string> property_names(const std::u16string& key_name) {
    cng::KeyStoreListing listing;
    EXPECT_EQ(cng::CngGetKeyListing(provider_, key_name.c_str(), 0, &listing), ERROR_SUCCESS);
    std::set<std::u16string> out;
    for (const auto& [name, value] : listing.properties) {
      out.insert(name);
    }
    return out;
  }

  static std::vector<CK_ATTRIBUTE_TYPE> custom_types(CK_OBJECT_CLASS cls) {
    std::vector<CK_ATTRIBUTE_TYPE> out;
    for (const bridge::SchemaEntry& e : bridge::schema_for(cls, CKK_EC)->entries) {
      const auto* info = bridge::attribute_info(e.type);
      if (objects::has_custom_property(e.type) && info != nullptr &&
          info->kind != bridge::ValueKind::kAttributes) {
        out.push_back(e.type);
      }
    }
    return out;
  }

  CK_OBJECT_HANDLE one(ObjectLayer& layer, const std::string& label, CK_OBJECT_CLASS cls) {
    Template t;
    t.text(CKA_LABEL, label).ulong(CKA_CLASS, cls);
    const auto found = find(layer, t);
    EXPECT_EQ(found.size(), 1u) << label;
    return found.empty() ? CK_INVALID_HANDLE : found[0];
  }

  // The older layout: every custom property of the object (class cls) over the key, with the
  // values the layer shows for it now.
  void write_every_property(const std::u16string& key_name, CK_OBJECT_CLASS cls,
                            CK_OBJECT_HANDLE h) {
    NCRYPT_KEY_HANDLE key = 0;
    ASSERT_EQ(NCryptOpenKey(provider_, &key, key_name.c_str(), 0, 0), ERROR_SUCCESS);
    objects::AttrMap values;
    for (const CK_ATTRIBUTE_TYPE type : custom_types(cls)) {
      if (auto v = attr(*layer_, h, type)) {
        values[type] = *v;
      }
    }
    objects::write_custom_properties(key, cls, CKK_EC, values);
    NCryptFreeObject(key);
  }

  // Every custom attribute but the label reads alike for the two keys' objects of class cls.
  void expect_alike(ObjectLayer& layer, const std::string& a, const std::string& o,
                    CK_OBJECT_CLASS cls) {
    const CK_OBJECT_HANDLE ha = one(layer, a, cls);
    const CK_OBJECT_HANDLE ho = one(layer, o, cls);
    for (const CK_ATTRIBUTE_TYPE type : custom_types(cls)) {
      if (type != CKA_LABEL) {
        EXPECT_EQ(attr(layer, ha, type), attr(layer, ho, type)) << "0x" << std::hex << type;
      }
    }
  }

  void expect_attributes(ObjectLayer& layer, CK_OBJECT_HANDLE h, const Expected& expected) {
    for (const auto& [type, value] : expected) {
      EXPECT_EQ(attr(layer, h, type), value) << "attribute 0x" << std::hex << type;
    }
  }

  NCRYPT_PROV_HANDLE provider_ = 0;
};

TEST_F(PersistedImportsTest, ImportedPrivateKeyPersistsOnlyWhatDiffers) {
  const EcKey key = make_ec_key();
  const Bytes id{0x0a, 0x0b};
  const auto import = [&](const std::string& label) {
    Template t;
    t.ulong(CKA_CLASS, CKO_PRIVATE_KEY).ulong(CKA_KEY_TYPE, CKK_EC).boolean(CKA_TOKEN, true);
    t.boolean(CKA_PRIVATE, true).text(CKA_LABEL, label).bytes(CKA_ID, id);
    t.bytes(CKA_EC_PARAMS, ec_params(256)).bytes(CKA_VALUE, key.d);
    t.boolean(CKA_SIGN, true).boolean(CKA_SENSITIVE, true).boolean(CKA_EXTRACTABLE, false);
    return layer_->create_object(rw_, t.span());
  };
  import("pi-new");
  const CK_OBJECT_HANDLE old_priv = import("pi-old");
  write_every_property(u"pi-old", CKO_PRIVATE_KEY, old_priv);

  const std::set<std::u16string> fresh_names = property_names(u"pi-new");
  const std::set<std::u16string> every_name = property_names(u"pi-old");
  for (const char16_t* absent :
       {u"PKCS11 Modifiable", u"PKCS11 Copyable", u"PKCS11 Destroyable", u"PKCS11 Derive",
        u"PKCS11 StartDate", u"PKCS11 EndDate", u"PKCS11 Subject", u"PKCS11 Label", u"PKCS11 Sign",
        u"PKCS11 Sensitive", u"PKCS11 Extractable"}) {
    EXPECT_FALSE(fresh_names.contains(absent)) << std::string(absent, absent + 18).c_str();
    EXPECT_TRUE(every_name.contains(absent)) << std::string(absent, absent + 18).c_str();
  }
  EXPECT_GE(every_name.size(), 2 * fresh_names.size());

  auto fresh = new_layer();  // another process: every value from the store
  const Bytes empty;
  expect_attributes(*fresh, one(*fresh, "pi-new", CKO_PRIVATE_KEY),
                    {{CKA_CLASS, ul(CKO_PRIVATE_KEY)},
                     {CKA_KEY_TYPE, ul(CKK_EC)},
                     {CKA_TOKEN, b(true)},
                     {CKA_PRIVATE, b(true)},
                     {CKA_MODIFIABLE, b(true)},
                     {CKA_COPYABLE, b(true)},
                     {CKA_DESTROYABLE, b(true)},
                     {CKA_LABEL, Bytes{'p', 'i', '-', 'n', 'e', 'w'}},
                     {CKA_ID, id},
                     {CKA_START_DATE, empty},
                     {CKA_END_DATE, empty},
                     {CKA_DERIVE, b(false)},
                     {CKA_LOCAL, b(false)},
                     {CKA_KEY_GEN_MECHANISM, ul(CK_UNAVAILABLE_INFORMATION)},
                     {CKA_SENSITIVE, b(true)},
                     {CKA_EXTRACTABLE, b(false)},
                     {CKA_ALWAYS_SENSITIVE, b(false)},
                     {CKA_SIGN, b(true)}});
  expect_alike(*fresh, "pi-new", "pi-old", CKO_PRIVATE_KEY);
}

TEST_F(PersistedImportsTest, TokenPublicKeyPersistsOnlyWhatDiffers) {
  const EcKey key = make_ec_key();
  const Bytes id{0x0c};
  const auto import = [&](const std::string& label) {
    Template t;
    t.ulong(CKA_CLASS, CKO_PUBLIC_KEY).ulong(CKA_KEY_TYPE, CKK_EC).boolean(CKA_TOKEN, true);
    t.text(CKA_LABEL, label).bytes(CKA_ID, id).boolean(CKA_VERIFY, true);
    t.bytes(CKA_EC_PARAMS, ec_params(256)).bytes(CKA_EC_POINT, key.point);
    return layer_->create_object(rw_, t.span());
  };
  import("pi-pub-new");
  const CK_OBJECT_HANDLE old_pub = import("pi-pub-old");
  write_every_property(u"pi-pub-old", CKO_PUBLIC_KEY, old_pub);

  const std::set<std::u16string> fresh_names = property_names(u"pi-pub-new");
  const std::set<std::u16string> every_name = property_names(u"pi-pub-old");
  for (const char16_t* absent : {u"PKCS11 Pub Label", u"PKCS11 Pub Verify"}) {
    EXPECT_FALSE(fresh_names.contains(absent)) << std::string(absent, absent + 16).c_str();
    EXPECT_TRUE(every_name.contains(absent)) << std::string(absent, absent + 16).c_str();
  }
  EXPECT_TRUE(fresh_names.contains(objects::kClassProperty));  // still public-only
  EXPECT_GE(every_name.size(), 2 * fresh_names.size());

  auto fresh = new_layer();
  const Bytes empty;
  const CK_OBJECT_HANDLE h = one(*fresh, "pi-pub-new", CKO_PUBLIC_KEY);
  expect_attributes(*fresh, h,
                    {{CKA_CLASS, ul(CKO_PUBLIC_KEY)},
                     {CKA_KEY_TYPE, ul(CKK_EC)},
                     {CKA_TOKEN, b(true)},
                     {CKA_MODIFIABLE, b(true)},
                     {CKA_COPYABLE, b(true)},
                     {CKA_DESTROYABLE, b(true)},
                     {CKA_LABEL, Bytes{'p', 'i', '-', 'p', 'u', 'b', '-', 'n', 'e', 'w'}},
                     {CKA_ID, id},
                     {CKA_START_DATE, empty},
                     {CKA_END_DATE, empty},
                     {CKA_DERIVE, b(false)},
                     {CKA_LOCAL, b(false)},
                     {CKA_KEY_GEN_MECHANISM, ul(CK_UNAVAILABLE_INFORMATION)},
                     {CKA_VERIFY, b(true)},
                     {CKA_EC_POINT, key.point}});
  EXPECT_EQ(find(*fresh, Template().ulong(CKA_CLASS, CKO_PRIVATE_KEY)).size(), 0u);
  expect_alike(*fresh, "pi-pub-new", "pi-pub-old", CKO_PUBLIC_KEY);
}

}  // namespace
}  // namespace p11::test
