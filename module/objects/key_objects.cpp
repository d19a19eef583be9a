#include "objects/key_objects.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <utility>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/key_types/key_type.h"
#include "bridge/ncrypt_props.h"
#include "bridge/utf.h"
#include "core/p11_error.h"

namespace p11::objects {

namespace {

using bridge::CngSource;

bool persisted_in_custom(const bridge::AttributeInfo& info) {
  return info.custom != nullptr &&
         (info.source == CngSource::kCustom || info.source == CngSource::kKeyUsage ||
          info.source == CngSource::kExportPolicy);
}

// custom_property_name(), built once per attribute (a listing of 10,000 keys reads several
// properties per object: no string built for each read).
const std::u16string& property_name(const bridge::AttributeInfo& info, bool public_object) {
  static const std::map<std::pair<CK_ATTRIBUTE_TYPE, bool>, std::u16string> names = [] {
    std::map<std::pair<CK_ATTRIBUTE_TYPE, bool>, std::u16string> out;
    for (const bridge::AttributeInfo& a : bridge::all_attributes()) {
      if (a.custom != nullptr) {
        for (const bool pub : {false, true}) {
          out.emplace(std::pair{a.type, pub}, bridge::custom_property_name(a, pub));
        }
      }
    }
    return out;
  }();
  return names.at({info.type, public_object});
}

}  // namespace

// Stored values are fixed-width little-endian (never a native CK_ULONG, practices.md P9):
// booleans 1 byte, CK_ULONG and mechanism lists 8 bytes per value.
Bytes to_stored(const bridge::AttributeInfo& info, const Bytes& value) {
  if (info.kind != bridge::ValueKind::kUlong && info.kind != bridge::ValueKind::kMechanisms) {
    return value;
  }
  Bytes out;
  for (std::size_t at = 0; at + sizeof(CK_ULONG) <= value.size(); at += sizeof(CK_ULONG)) {
    CK_ULONG v = 0;
    std::memcpy(&v, value.data() + at, sizeof v);
    auto wide = static_cast<std::uint64_t>(v);
    if (v == CK_UNAVAILABLE_INFORMATION) {
      wide = ~std::uint64_t{0};
    }
    for (int i = 0; i < 8; ++i) {
      out.push_back(static_cast<std::uint8_t>(wide >> (8 * i)));
    }
  }
  return out;
}

std::optional<Bytes> from_stored(const bridge::AttributeInfo& info, const Bytes& stored) {
  if (info.kind == bridge::ValueKind::kAttributes) {
    return stored;  // serialised as the object layer keeps it (template_rules.h)
  }
  if (info.kind != bridge::ValueKind::kUlong && info.kind != bridge::ValueKind::kMechanisms) {
    if (!bridge::value_shape_ok(info.kind, stored.data(), stored.size())) {
      return std::nullopt;
    }
    return stored;
  }
  if (stored.size() % 8 != 0 || (info.kind == bridge::ValueKind::kUlong && stored.size() != 8)) {
    return std::nullopt;
  }
  Bytes out;
  for (std::size_t at = 0; at < stored.size(); at += 8) {
    std::uint64_t wide = 0;
    for (int i = 7; i >= 0; --i) {
      wide = (wide << 8) | stored[at + static_cast<std::size_t>(i)];
    }
    const CK_ULONG v =
        wide == ~std::uint64_t{0} ? CK_UNAVAILABLE_INFORMATION : static_cast<CK_ULONG>(wide);
    const Bytes b = ulong_bytes(v);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

namespace {

// What CNG itself says about an attribute (no custom property, no overlay).
std::optional<Bytes> from_cng(const bridge::AttributeInfo& info, const CngKeyFacts& facts,
                              CK_OBJECT_CLASS cls, const std::u16string& key_name,
                              const std::string& unique_id) {
  switch (info.type) {
    case CKA_CLASS:
      return ulong_bytes(cls);
    case CKA_KEY_TYPE:
      return ulong_bytes(facts.pub.key_type);
    case CKA_LABEL:
      return key_name.empty() ? Bytes{} : to_bytes(utf16_to_utf8(key_name));
    case CKA_ID:
      return bridge::nss_key_id(facts.pub);
    case CKA_UNIQUE_ID: {
      std::string id = facts.unique_name.empty() ? unique_id : utf16_to_utf8(facts.unique_name);
      return to_bytes(cls == CKO_PUBLIC_KEY ? id + "/public" : id);
    }
    case CKA_PUBLIC_KEY_INFO:
      return bridge::spki_der(facts.pub);
    case CKA_SENSITIVE:
    case CKA_EXTRACTABLE:
      return export_policy_attribute(info.type, facts.export_policy);
    default:
      break;
  }
  if (auto value = facts.type->pair->public_attribute(info.type, facts.pub)) {
    return value;  // the key type's own public values (CKA_MODULUS, CKA_EC_POINT, ...)
  }
  if (info.source == CngSource::kUiPolicy) {
    return bool_bytes(cls == CKO_PRIVATE_KEY && (facts.ui_policy_flags & info.usage_bit) != 0);
  }
  if (info.source == CngSource::kKeyUsage) {
    // CNG's usage word is generic; PKCS#11 asks per key type (RSA decrypts/wraps, only ECDH
    // keys agree), and public halves do in software what the bit permits, except agreeing.
    const DWORD shown = facts.type->pair->shown_usage(facts.algorithm);
    bool allowed = (facts.key_usage & shown & info.usage_bit) != 0;
    if (info.usage_bit == NCRYPT_ALLOW_KEY_AGREEMENT_FLAG) {
      allowed = allowed && cls == CKO_PRIVATE_KEY;
    }
    return bool_bytes(allowed);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Bytes> KeyProperties::get(const char16_t* name) const {
  if (listing_ == nullptr) {
    return bridge::get_property(key_, name);
  }
  const std::u16string_view wanted(name);
  const auto& props = listing_->properties;  // ascending by name
  const auto it =
      std::lower_bound(props.begin(), props.end(), wanted,
                       [](const auto& p, std::u16string_view n) { return p.first < n; });
  if (it == props.end() || it->first != wanted) {
    return std::nullopt;
  }
  return Bytes(it->second.begin(), it->second.end());
}

std::optional<CngKeyFacts> listed_key_facts(const cng::KeyStoreListing& listing) {
  CngKeyFacts facts;
  facts.algorithm = listing.algorithm;
  try {
    // No handle: a key whose algorithm name does not decide its type (a secret key, a generic
    // EC key) is not summarised (asking handle 0 for more fails).
    facts.type = bridge::find_key_type_of_cng_key(CKO_PRIVATE_KEY, facts.algorithm, 0);
    if (facts.type == nullptr || listing.public_blob_type != facts.type->pair->public_blob_type) {
      return std::nullopt;
    }
    facts.pub = facts.type->pair->parse_public_blob(listing.public_blob);
  } catch (const P11Error&) {
    return std::nullopt;  // the open key decides (or fails the way it always did)
  }
  facts.key_usage = listing.key_usage;
  facts.export_policy = listing.export_policy;
  facts.unique_name = utf8_to_utf16(listing.unique_name).value_or(u"");
  return facts;
}

CngKeyFacts read_key_facts(NCRYPT_KEY_HANDLE key) {
  CngKeyFacts facts;
  facts.algorithm = bridge::get_string_property(key, NCRYPT_ALGORITHM_PROPERTY).value_or(u"");
  facts.type = bridge::find_key_type_of_cng_key(CKO_PRIVATE_KEY, facts.algorithm, key);
  if (facts.type == nullptr) {
    fail(CKR_KEY_TYPE_INCONSISTENT, "CNG key of an algorithm PKCS#11 objects cannot show");
  }
  const SecretBytes blob =
      bridge::export_key(key, facts.type->pair->public_blob_type, NcryptContext::kGeneral);
  facts.pub = facts.type->pair->parse_public_blob(blob);
  facts.key_usage =
      bridge::get_dword_property(key, NCRYPT_KEY_USAGE_PROPERTY).value_or(NCRYPT_ALLOW_ALL_USAGES);
  facts.export_policy = bridge::get_dword_property(key, NCRYPT_EXPORT_POLICY_PROPERTY).value_or(0);
  facts.unique_name = bridge::get_string_property(key, NCRYPT_UNIQUE_NAME_PROPERTY).value_or(u"");
  if (const auto policy = bridge::get_property(key, NCRYPT_UI_POLICY_PROPERTY);
      policy && policy->size() >= sizeof(NCRYPT_UI_POLICY)) {
    std::memcpy(&facts.ui_policy_flags, policy->data() + offsetof(NCRYPT_UI_POLICY, dwFlags),
                sizeof facts.ui_policy_flags);
  }
  return facts;
}

AttrMap key_object_attrs(const CngKeyFacts& facts, const KeyProperties& props, bool persisted,
                         CK_OBJECT_CLASS object_class, const AttrMap& overlay,
                         const std::u16string& key_name, const std::string& unique_id,
                         std::span<const CK_ATTRIBUTE_TYPE> only) {
  const bridge::Schema* schema = bridge::schema_for(object_class, facts.pub.key_type);
  if (schema == nullptr) {
    fail(CKR_GENERAL_ERROR, "no schema for a key object");
  }
  AttrMap out;
  for (const bridge::SchemaEntry& e : schema->entries) {
    if (e.flags & bridge::kSensitive) {
      continue;  // read on demand from the private blob, never kept
    }
    if (!only.empty() && std::find(only.begin(), only.end(), e.type) == only.end()) {
      continue;
    }
    if (e.type == CKA_TOKEN) {
      out[e.type] = bool_bytes(persisted);
      continue;
    }
    if (const auto it = overlay.find(e.type); it != overlay.end()) {
      out[e.type] = it->second;
      continue;
    }
    const auto* info = bridge::attribute_info(e.type);
    if (info == nullptr) {
      continue;
    }
    if (persisted && persisted_in_custom(*info)) {
      const bool public_object = object_class == CKO_PUBLIC_KEY;
      auto stored = props.get(property_name(*info, public_object).c_str());
      if (!stored && public_object && bridge::pair_shared_fallback(e.type)) {
        stored = props.get(property_name(*info, false).c_str());
      }
      if (stored) {
        if (auto value = from_stored(*info, *stored)) {
          out[e.type] = std::move(*value);
          continue;
        }
      }
    }
    if (auto value = from_cng(*info, facts, object_class, key_name, unique_id)) {
      out[e.type] = std::move(*value);
      continue;
    }
    if (auto value = schema_default(e)) {
      out[e.type] = std::move(*value);
    }
  }
  return out;
}

Bytes export_policy_attribute(CK_ATTRIBUTE_TYPE type, DWORD export_policy) {
  if (type == CKA_SENSITIVE) {
    return bool_bytes((export_policy & NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG) == 0);
  }
  return bool_bytes(
      (export_policy & (NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG)) != 0);
}

std::optional<Bytes> schema_default(const bridge::SchemaEntry& entry) {
  switch (entry.fallback) {
    case bridge::Default::kFalse:
    case bridge::Default::kTrue:
      return bool_bytes(entry.fallback == bridge::Default::kTrue);
    case bridge::Default::kEmpty:
      return Bytes{};
    case bridge::Default::kUnavailable:
      return ulong_bytes(CK_UNAVAILABLE_INFORMATION);
    case bridge::Default::kNone:
      break;
  }
  return std::nullopt;
}

void write_custom_properties(NCRYPT_KEY_HANDLE key, CK_OBJECT_CLASS object_class,
                             CK_KEY_TYPE key_type, const AttrMap& values) {
  const bridge::Schema* schema = bridge::schema_for(object_class, key_type);
  for (const auto& [type, value] : values) {
    const auto* info = bridge::attribute_info(type);
    if (schema == nullptr || schema->find(type) == nullptr || info == nullptr ||
        !persisted_in_custom(*info)) {
      continue;
    }
    const std::u16string name = bridge::custom_property_name(*info, object_class == CKO_PUBLIC_KEY);
    bridge::set_property(key, name.c_str(), to_stored(*info, value), NCRYPT_PERSIST_FLAG,
                         NcryptContext::kPersist);
  }
}

AttrMap custom_properties_to_write(const AttrMap& values, CK_OBJECT_CLASS cls,
                                   const CngKeyFacts& facts, const std::u16string& key_name,
                                   const AttrMap* private_kept) {
  const bridge::Schema* schema = bridge::schema_for(cls, facts.pub.key_type);
  AttrMap out;
  for (const auto& [type, value] : values) {
    const auto* info = bridge::attribute_info(type);
    const bridge::SchemaEntry* entry = schema == nullptr ? nullptr : schema->find(type);
    if (entry == nullptr || info == nullptr || !persisted_in_custom(*info)) {
      continue;
    }
    std::optional<Bytes> absent;  // what the key reads without the property; none: unknown
    if (cls == CKO_PUBLIC_KEY && bridge::pair_shared_fallback(type) && private_kept != nullptr &&
        private_kept->contains(type)) {
      absent = private_kept->at(type);
    } else if (type != CKA_ID) {
      absent = from_cng(*info, facts, cls, key_name, {});
      if (!absent) {
        absent = schema_default(*entry);
      }
    }
    if (!absent || *absent != value) {
      out.emplace(type, value);
    }
  }
  return out;
}

CngKeyFacts new_key_facts(NCRYPT_KEY_HANDLE h, const bridge::KeyTypeDescriptor& type,
                          DWORD export_policy, DWORD key_usage) {
  CngKeyFacts facts;
  facts.type = &type;
  facts.pub.key_type = type.key_type;
  facts.algorithm = bridge::get_string_property(h, NCRYPT_ALGORITHM_PROPERTY).value_or(u"");
  facts.key_usage = key_usage;
  facts.export_policy = export_policy;
  return facts;
}

void write_differing_custom_properties(NCRYPT_KEY_HANDLE key, const CngKeyFacts& facts,
                                       const AttrMap& priv, const AttrMap& pub,
                                       const std::u16string& key_name) {
  const AttrMap kept = custom_properties_to_write(priv, CKO_PRIVATE_KEY, facts, key_name, nullptr);
  write_custom_properties(key, CKO_PRIVATE_KEY, facts.pub.key_type, kept);
  write_custom_properties(key, CKO_PUBLIC_KEY, facts.pub.key_type,
                          custom_properties_to_write(pub, CKO_PUBLIC_KEY, facts, key_name, &kept));
}

namespace {

Bytes stored_class(CK_OBJECT_CLASS cls) {
  Bytes out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(cls) >> (8 * i)));
  }
  return out;
}

}  // namespace

void mark_public_only(NCRYPT_KEY_HANDLE key) {
  bridge::set_property(key, kClassProperty, stored_class(CKO_PUBLIC_KEY), NCRYPT_PERSIST_FLAG,
                       NcryptContext::kPersist);
}

bool is_public_only(const KeyProperties& key) {
  const auto stored = key.get(kClassProperty);
  return stored && *stored == stored_class(CKO_PUBLIC_KEY);
}

void mark_public_destroyed(NCRYPT_KEY_HANDLE key) {
  const Bytes destroyed{1};
  bridge::set_property(key, kPublicDestroyedProperty, destroyed, NCRYPT_PERSIST_FLAG,
                       NcryptContext::kProperty);
}

bool is_public_destroyed(const KeyProperties& key) {
  const auto stored = key.get(kPublicDestroyedProperty);
  return stored && *stored == Bytes{1};
}

bool has_custom_property(CK_ATTRIBUTE_TYPE type) {
  const auto* info = bridge::attribute_info(type);
  return info != nullptr && persisted_in_custom(*info);
}

std::string random_hex(std::size_t bytes) {
  Bytes raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    fail(CKR_FUNCTION_FAILED, "RAND_bytes");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : raw) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace p11::objects
