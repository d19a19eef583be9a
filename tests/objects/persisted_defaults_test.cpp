// Generated token keys persist only the custom properties whose value differs from what their
// absence reads as (module/objects/key_objects.h: custom_properties_to_write), and a key whose
// file carries every property, as older stores have, reads the same. Oracles: PKCS#11 3.0's
// defaults (§4.4 storage objects: CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE TRUE, CKA_LABEL
// empty; §4.7 keys: CKA_START_DATE/CKA_END_DATE empty, CKA_DERIVE FALSE, CKA_LOCAL TRUE and
// CKA_KEY_GEN_MECHANISM for generated keys; §4.8/§4.9: CKA_SUBJECT empty, CKA_TRUSTED,
// CKA_WRAP_WITH_TRUSTED and CKA_ALWAYS_AUTHENTICATE FALSE, CKA_ALWAYS_SENSITIVE and
// CKA_NEVER_EXTRACTABLE from the key's history) and the templates, which name every
// token-specific default.
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

class PersistedDefaultsTest : public ObjectLayerTest {
 protected:
  void SetUp() override {
    ObjectLayerTest::SetUp();
    ASSERT_EQ(NCryptOpenStorageProvider(&provider_, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
  }
  void TearDown() override {
    NCryptFreeObject(provider_);
    ObjectLayerTest::TearDown();
  }

  // An EC P-256 token pair whose templates name every token-specific default.
  std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> generate(const std::string& label,
                                                         const Bytes& id) {
    Template pub;
    pub.boolean(CKA_TOKEN, true).bytes(CKA_EC_PARAMS, ec_params(256)).boolean(CKA_PRIVATE, false);
    pub.boolean(CKA_VERIFY, true).boolean(CKA_ENCRYPT, false).boolean(CKA_WRAP, false);
    pub.boolean(CKA_VERIFY_RECOVER, false);
    Template priv;
    priv.boolean(CKA_TOKEN, true).boolean(CKA_PRIVATE, true).boolean(CKA_SIGN, true);
    priv.boolean(CKA_SENSITIVE, true).boolean(CKA_EXTRACTABLE, false);
    priv.boolean(CKA_DECRYPT, false).boolean(CKA_UNWRAP, false).boolean(CKA_SIGN_RECOVER, false);
    for (Template* t : {&pub, &priv}) {
      if (!label.empty()) {
        t->text(CKA_LABEL, label);
      }
      if (!id.empty()) {
        t->bytes(CKA_ID, id);
      }
    }
    CK_MECHANISM m{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    return layer_->generate_key_pair(rw_, m, pub.span(), priv.span());
  }

  static Expected expected_private(const std::string& label) {
    const Bytes empty;
    return {{CKA_CLASS, ul(CKO_PRIVATE_KEY)},
            {CKA_KEY_TYPE, ul(CKK_EC)},
            {CKA_TOKEN, b(true)},
            {CKA_PRIVATE, b(true)},
            {CKA_MODIFIABLE, b(true)},
            {CKA_COPYABLE, b(true)},
            {CKA_DESTROYABLE, b(true)},
            {CKA_LABEL, Bytes(label.begin(), label.end())},
            {CKA_START_DATE, empty},
            {CKA_END_DATE, empty},
            {CKA_DERIVE, b(false)},
            {CKA_LOCAL, b(true)},
            {CKA_KEY_GEN_MECHANISM, ul(CKM_EC_KEY_PAIR_GEN)},
            {CKA_SUBJECT, empty},
            {CKA_SENSITIVE, b(true)},
            {CKA_EXTRACTABLE, b(false)},
            {CKA_ALWAYS_SENSITIVE, b(true)},
            {CKA_NEVER_EXTRACTABLE, b(true)},
            {CKA_SIGN, b(true)},
            {CKA_DECRYPT, b(false)},
            {CKA_UNWRAP, b(false)},
            {CKA_SIGN_RECOVER, b(false)},
            {CKA_WRAP_WITH_TRUSTED, b(false)},
            {CKA_ALWAYS_AUTHENTICATE, b(false)}};
  }

  static Expected expected_public(const std::string& label) {
    const Bytes empty;
    return {{CKA_CLASS, ul(CKO_PUBLIC_KEY)},
            {CKA_KEY_TYPE, ul(CKK_EC)},
            {CKA_TOKEN, b(true)},
            {CKA_PRIVATE, b(false)},
            {CKA_MODIFIABLE, b(true)},
            {CKA_COPYABLE, b(true)},
            {CKA_DESTROYABLE, b(true)},
            {CKA_LABEL, Bytes(label.begin(), label.end())},
            {CKA_START_DATE, empty},
            {CKA_END_DATE, empty},
            {CKA_DERIVE, b(false)},
            {CKA_LOCAL, b(true)},
            {CKA_KEY_GEN_MECHANISM, ul(CKM_EC_KEY_PAIR_GEN)},
            {CKA_SUBJECT, empty},
            {CKA_VERIFY, b(true)},
            {CKA_ENCRYPT, b(false)},
            {CKA_WRAP, b(false)},
            {CKA_VERIFY_RECOVER, b(false)},
            {CKA_TRUSTED, b(false)},
            {CKA_EC_PARAMS, ec_params(256)}};
  }

  // The persisted custom property names of a key, from its store listing.
  std::set<std::u16string> property_names(const std::u16string& key_name) {
    cng::KeyStoreListing listing;
    EXPECT_EQ(cng::CngGetKeyListing(provider_, key_name.c_str(), 0, &listing), ERROR_SUCCESS);
    std::set<std::u16string> out;
    for (const auto& [name, value] : listing.properties) {
      out.insert(name);
    }
    return out;
  }

  // The attribute types of a class that live in custom properties (CKA_*_TEMPLATE aside: the
  // ABI shows them as CK_ATTRIBUTE arrays, not as the stored form).
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

  void expect_attributes(ObjectLayer& layer, CK_OBJECT_HANDLE h, const Expected& expected) {
    for (const auto& [type, value] : expected) {
      EXPECT_EQ(attr(layer, h, type), value) << "attribute 0x" << std::hex << type;
    }
  }

  NCRYPT_PROV_HANDLE provider_ = 0;
};

TEST_F(PersistedDefaultsTest, GeneratedKeyPersistsOnlyWhatItsAbsenceWouldNotSay) {
  generate("pd-new", {});
  const std::set<std::u16string> names = property_names(u"pd-new");
  // Values equal to the specification's defaults, to the key name (the label) or to what
  // Export Policy and Key Usage say are not written.
  for (const char16_t* absent :
       {u"PKCS11 Modifiable", u"PKCS11 Copyable", u"PKCS11 Destroyable", u"PKCS11 Derive",
        u"PKCS11 StartDate", u"PKCS11 EndDate", u"PKCS11 Subject", u"PKCS11 WrapWithTrusted",
        u"PKCS11 Label", u"PKCS11 Sign", u"PKCS11 Sensitive", u"PKCS11 Extractable",
        u"PKCS11 Pub Label", u"PKCS11 Pub Verify", u"PKCS11 Pub Trusted", u"PKCS11 Pub Private",
        u"PKCS11 Id", u"PKCS11 Pub Id"}) {
    EXPECT_FALSE(names.contains(absent)) << std::string(absent, absent + 20).c_str();
  }
  // What only PKCS#11 knows (the key's history) is.
  for (const char16_t* present :
       {u"PKCS11 Local", u"PKCS11 KeyGenMechanism", u"PKCS11 AlwaysSensitive",
        u"PKCS11 NeverExtractable", u"PKCS11 Pub Local", u"PKCS11 Pub KeyGenMechanism"}) {
    EXPECT_TRUE(names.contains(present));
  }
  auto fresh = new_layer();  // another process: every value from the store
  expect_attributes(*fresh, one(*fresh, "pd-new", CKO_PRIVATE_KEY), expected_private("pd-new"));
  expect_attributes(*fresh, one(*fresh, "pd-new", CKO_PUBLIC_KEY), expected_public("pd-new"));
}

TEST_F(PersistedDefaultsTest, KeyWithEveryPropertyWrittenReadsAsOneWithOnlyTheDifferingOnes) {
  const Bytes id{0x01, 0x02, 0x03};
  generate("pd-new", id);
  const auto [old_pub, old_priv] = generate("pd-old", id);  // (public, private)
  // The older layout: every custom property of both halves, with the values the key was made
  // with.
  NCRYPT_KEY_HANDLE h = 0;
  ASSERT_EQ(NCryptOpenKey(provider_, &h, u"pd-old", 0, 0), ERROR_SUCCESS);
  for (const auto& [cls, handle] :
       {std::pair{CKO_PRIVATE_KEY, old_priv}, std::pair{CKO_PUBLIC_KEY, old_pub}}) {
    objects::AttrMap values;
    for (const CK_ATTRIBUTE_TYPE type : custom_types(cls)) {
      if (auto v = attr(*layer_, handle, type)) {
        values[type] = *v;
      }
    }
    objects::write_custom_properties(h, cls, CKK_EC, values);
  }
  NCryptFreeObject(h);
  EXPECT_GE(property_names(u"pd-old").size(), 2 * property_names(u"pd-new").size());

  auto fresh = new_layer();
  for (const char* label : {"pd-new", "pd-old"}) {
    const CK_OBJECT_HANDLE priv = one(*fresh, label, CKO_PRIVATE_KEY);
    const CK_OBJECT_HANDLE pub = one(*fresh, label, CKO_PUBLIC_KEY);
    Expected e_priv = expected_private(label);
    Expected e_pub = expected_public(label);
    e_priv[CKA_ID] = e_pub[CKA_ID] = id;
    expect_attributes(*fresh, priv, e_priv);
    expect_attributes(*fresh, pub, e_pub);
  }
  // And every other custom attribute alike (the label aside).
  for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    const CK_OBJECT_HANDLE a = one(*fresh, "pd-new", cls);
    const CK_OBJECT_HANDLE o = one(*fresh, "pd-old", cls);
    for (const CK_ATTRIBUTE_TYPE type : custom_types(cls)) {
      if (type != CKA_LABEL) {
        EXPECT_EQ(attr(*fresh, a, type), attr(*fresh, o, type)) << "0x" << std::hex << type;
      }
    }
  }
}

TEST_F(PersistedDefaultsTest, EmptyLabelIsKeptWhileTheKeyNameWouldSayOtherwise) {
  const auto [pub, priv] = generate("", {});
  EXPECT_EQ(attr(*layer_, priv, CKA_LABEL), Bytes{});
  EXPECT_EQ(attr(*layer_, pub, CKA_LABEL), Bytes{});
  auto fresh = new_layer();
  Template t;
  t.bytes(CKA_LABEL, {}).ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  const auto found = find(*fresh, t);
  ASSERT_EQ(found.size(), 1u);  // (the key has a generated name, which is not its label)
  expect_attributes(*fresh, found[0], expected_private(""));
  t = Template();
  t.bytes(CKA_LABEL, {}).ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  const auto found_pub = find(*fresh, t);
  ASSERT_EQ(found_pub.size(), 1u);
  expect_attributes(*fresh, found_pub[0], expected_public(""));
}

}  // namespace
}  // namespace p11::test
