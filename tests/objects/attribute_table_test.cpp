// Consistency of the declarative tables: the CKA <-> CNG attribute map and the class schemas.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"

namespace p11::bridge {
namespace {

TEST(AttributeTable, SortedUniqueAndNamed) {
  const auto rows = all_attributes();
  ASSERT_FALSE(rows.empty());
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LT(rows[i - 1].type, rows[i].type) << rows[i].name;
  }
  for (const AttributeInfo& row : rows) {
    EXPECT_EQ(attribute_info(row.type), &row) << row.name;
    EXPECT_EQ(std::string(row.name).rfind("CKA_", 0) == 0 || row.type == kCkaNssDb, true);
  }
  EXPECT_EQ(attribute_info(0x7FFFFFFFUL), nullptr);
}

TEST(AttributeTable, CustomPropertiesAreDistinctAndFitCng) {
  std::set<std::u16string> names;
  for (const AttributeInfo& row : all_attributes()) {
    if (row.custom == nullptr) {
      EXPECT_NE(row.source, CngSource::kCustom) << row.name << " needs a custom property name";
      continue;
    }
    for (const bool pub : {false, true}) {
      const std::u16string name = custom_property_name(row, pub);
      EXPECT_LE(name.size(), static_cast<std::size_t>(NCRYPT_MAX_PROPERTY_NAME)) << row.name;
      EXPECT_TRUE(names.insert(name).second) << row.name;
    }
  }
  // Each half of a pair keeps its own label and id; the public one falls back to the key's.
  EXPECT_EQ(custom_property_name(*attribute_info(CKA_LABEL), true), u"PKCS11 Pub Label");
  EXPECT_EQ(custom_property_name(*attribute_info(CKA_LABEL), false), u"PKCS11 Label");
  EXPECT_EQ(custom_property_name(*attribute_info(CKA_ID), false), u"PKCS11 Id");
  EXPECT_TRUE(pair_shared_fallback(CKA_LABEL));
  EXPECT_TRUE(pair_shared_fallback(CKA_ID));
  EXPECT_FALSE(pair_shared_fallback(CKA_VERIFY));
  EXPECT_EQ(custom_property_name(*attribute_info(CKA_VERIFY), true), u"PKCS11 Pub Verify");
}

TEST(AttributeTable, UsageRowsNameTheirKeyUsageBit) {
  for (const AttributeInfo& row : all_attributes()) {
    // kKeyUsage rows name a "Key Usage" bit, kUiPolicy rows the UI policy's dwFlags bits.
    if (row.source == CngSource::kKeyUsage || row.source == CngSource::kUiPolicy) {
      EXPECT_NE(row.usage_bit, 0u) << row.name;
      EXPECT_EQ(row.kind, ValueKind::kBool) << row.name;
    } else {
      EXPECT_EQ(row.usage_bit, 0u) << row.name;
    }
  }
  EXPECT_EQ(attribute_info(CKA_SIGN)->usage_bit, static_cast<DWORD>(NCRYPT_ALLOW_SIGNING_FLAG));
  EXPECT_EQ(attribute_info(CKA_DERIVE)->usage_bit,
            static_cast<DWORD>(NCRYPT_ALLOW_KEY_AGREEMENT_FLAG));
  EXPECT_EQ(attribute_info(CKA_ALWAYS_AUTHENTICATE)->source, CngSource::kUiPolicy);
  EXPECT_EQ(attribute_info(CKA_ALWAYS_AUTHENTICATE)->usage_bit,
            static_cast<DWORD>(NCRYPT_UI_PROTECT_KEY_FLAG | NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG));
}

TEST(ClassSchemas, EveryEntryIsAKnownAttributeAndSchemasAreComplete) {
  ASSERT_EQ(all_schemas().size(), 8u);
  for (const Schema* s : all_schemas()) {
    std::set<CK_ATTRIBUTE_TYPE> seen;
    for (const SchemaEntry& e : s->entries) {
      EXPECT_NE(attribute_info(e.type), nullptr) << "0x" << std::hex << e.type;
      EXPECT_TRUE(seen.insert(e.type).second) << "duplicate 0x" << std::hex << e.type;
      // Sensitive values are never modifiable and never have a default.
      if (e.flags & kSensitive) {
        EXPECT_EQ(e.flags & kModifiable, 0u);
        EXPECT_EQ(e.fallback, Default::kNone);
      }
    }
    for (const CK_ATTRIBUTE_TYPE common :
         {CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_MODIFIABLE, CKA_LABEL, CKA_COPYABLE,
          CKA_DESTROYABLE, CKA_UNIQUE_ID}) {
      EXPECT_NE(s->find(common), nullptr) << "class 0x" << std::hex << s->object_class;
    }
    EXPECT_EQ(schema_for(s->object_class, s->subtype), s);
  }
  EXPECT_EQ(schema_for(CKO_PRIVATE_KEY, CKK_DSA), nullptr);
  EXPECT_EQ(schema_for(CKO_DATA, 1), nullptr);
  EXPECT_EQ(schema_for(CKO_HW_FEATURE, 0), nullptr);
}

// PKCS#11 3.0 §4.5, table 28: three byte attributes, each modifiable, each empty by default.
TEST(ClassSchemas, SpecRulesOfDataObjects) {
  const Schema* data = schema_for(CKO_DATA, kDataSubtype);
  ASSERT_NE(data, nullptr);
  for (const CK_ATTRIBUTE_TYPE t : {CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE}) {
    const SchemaEntry* e = data->find(t);
    ASSERT_NE(e, nullptr) << t;
    EXPECT_EQ(e->flags, std::uint32_t{kOnCreate | kModifiable}) << t;
    EXPECT_EQ(e->fallback, Default::kEmpty) << t;
  }
  EXPECT_EQ(data->find(CKA_PRIVATE)->fallback, Default::kFalse);
  EXPECT_EQ(data->find(CKA_UNIQUE_ID)->flags, 0u);
  for (const CK_ATTRIBUTE_TYPE absent : {CKA_ID, CKA_KEY_TYPE, CKA_CERTIFICATE_TYPE, CKA_SUBJECT}) {
    EXPECT_EQ(data->find(absent), nullptr) << absent;
  }
}

TEST(ClassSchemas, SpecRulesOfPrivateKeys) {
  const Schema& rsa = *schema_for(CKO_PRIVATE_KEY, CKK_RSA);
  EXPECT_TRUE(rsa.find(CKA_PRIVATE_EXPONENT)->flags & kSensitive);
  EXPECT_TRUE(rsa.find(CKA_MODULUS)->flags & kRequiredCreate);
  EXPECT_TRUE(rsa.find(CKA_SENSITIVE)->flags & kOnlyToTrue);
  EXPECT_TRUE(rsa.find(CKA_EXTRACTABLE)->flags & kOnlyToFalse);
  EXPECT_TRUE(rsa.find(CKA_LABEL)->flags & kModifiable);
  EXPECT_TRUE(rsa.find(CKA_ID)->flags & kModifiable);
  EXPECT_EQ(rsa.find(CKA_TOKEN)->flags & kModifiable, 0u);
  EXPECT_EQ(rsa.find(CKA_LOCAL)->flags, 0u);  // token-set only
  EXPECT_EQ(rsa.find(CKA_PRIVATE)->fallback, Default::kTrue);
  EXPECT_EQ(rsa.find(CKA_MODULUS_BITS)->flags, 0u);  // shown, never set
  const Schema& ec_pub = *schema_for(CKO_PUBLIC_KEY, CKK_EC);
  EXPECT_TRUE(ec_pub.find(CKA_EC_PARAMS)->flags & kRequiredGenerate);
  EXPECT_EQ(ec_pub.find(CKA_PRIVATE)->fallback, Default::kFalse);
  EXPECT_EQ(ec_pub.find(CKA_VALUE), nullptr);
}

TEST(ValueShapes, BoolUlongDateChecks) {
  const CK_BBOOL t = CK_TRUE;
  const CK_BBOOL two = 2;
  const CK_ULONG u = 5;
  EXPECT_TRUE(value_shape_ok(ValueKind::kBool, &t, 1));
  EXPECT_FALSE(value_shape_ok(ValueKind::kBool, &two, 1));
  EXPECT_FALSE(value_shape_ok(ValueKind::kBool, &u, sizeof u));
  EXPECT_TRUE(value_shape_ok(ValueKind::kUlong, &u, sizeof u));
  EXPECT_FALSE(value_shape_ok(ValueKind::kUlong, &u, 4));
  EXPECT_TRUE(value_shape_ok(ValueKind::kDate, "20240101", 8));
  EXPECT_FALSE(value_shape_ok(ValueKind::kDate, "2024", 4));
  EXPECT_TRUE(value_shape_ok(ValueKind::kDate, nullptr, 0));
  EXPECT_FALSE(value_shape_ok(ValueKind::kBigInt, nullptr, 0));
  EXPECT_FALSE(value_shape_ok(ValueKind::kBytes, nullptr, 3));
}

}  // namespace
}  // namespace p11::bridge
