#include "bridge/class_schema.h"

#include <initializer_list>
#include <span>
#include <vector>

#include "bridge/attribute_map.h"
#include "bridge/key_types/key_type.h"
#include "core/unload.h"

namespace p11::bridge {

namespace {

constexpr std::uint32_t C = kOnCreate;
constexpr std::uint32_t G = kOnGenerate;
constexpr std::uint32_t M = kModifiable;
constexpr std::uint32_t P = kOnCopy;
constexpr std::uint32_t CG = kOnCreate | kOnGenerate;
constexpr std::uint32_t CGP = CG | kOnCopy;
constexpr std::uint32_t CGMP = CG | kModifiable | kOnCopy;
constexpr std::uint32_t RO = 0;  // read-only: set by the token

using D = Default;
using Group = std::initializer_list<SchemaEntry>;

// PKCS#11 3.0 §4.4 common storage object attributes.
const Group kStorage = {
    {CKA_CLASS, C | G | kRequiredCreate, D::kNone},
    {CKA_TOKEN, CGP, D::kFalse},
    {CKA_PRIVATE, CGP, D::kFalse},  // keys override the default below
    {CKA_MODIFIABLE, CGP, D::kTrue},
    {CKA_COPYABLE, CGP | kOnlyToFalse, D::kTrue},
    {CKA_DESTROYABLE, CGMP, D::kTrue},
    {CKA_LABEL, CGMP, D::kEmpty},
    {CKA_UNIQUE_ID, RO, D::kNone},
};

// §4.7 common key attributes. Usage attributes are fixed once the CNG key is finalized
// (Key Usage is a creation-time property), so they are not modifiable (§5.2).
const Group kKey = {
    {CKA_KEY_TYPE, C | G | kRequiredCreate, D::kNone},
    {CKA_ID, CGMP, D::kEmpty},
    {CKA_START_DATE, CGMP, D::kEmpty},
    {CKA_END_DATE, CGMP, D::kEmpty},
    {CKA_DERIVE, CG, D::kFalse},
    {CKA_LOCAL, RO, D::kFalse},
    {CKA_KEY_GEN_MECHANISM, RO, D::kUnavailable},
    {CKA_ALLOWED_MECHANISMS, CG, D::kEmpty},
};

// §4.8 public key attributes.
const Group kPublicKey = {
    {CKA_PRIVATE, CGP, D::kFalse},
    {CKA_SUBJECT, CGMP, D::kEmpty},
    {CKA_ENCRYPT, CG, D::kTrue},
    {CKA_VERIFY, CG, D::kTrue},
    {CKA_VERIFY_RECOVER, CG, D::kFalse},
    {CKA_WRAP, CG, D::kFalse},
    {CKA_TRUSTED, CGMP, D::kFalse},
    {CKA_PUBLIC_KEY_INFO, RO, D::kNone},
    // What a key wrapped under this one must have (RSA wrapping, objects/layer_wrap.cpp).
    {CKA_WRAP_TEMPLATE, CG, D::kEmpty},
};

// §4.9 private key attributes. CKA_SENSITIVE defaults to TRUE and CKA_EXTRACTABLE to FALSE,
// as a CNG key's default Export Policy (0) is non-exportable.
const Group kPrivateKey = {
    {CKA_PRIVATE, CGP, D::kTrue},
    {CKA_SUBJECT, CGMP, D::kEmpty},
    {CKA_SENSITIVE, CGMP | kOnlyToTrue, D::kTrue},
    {CKA_DECRYPT, CG, D::kTrue},
    {CKA_SIGN, CG, D::kTrue},
    {CKA_SIGN_RECOVER, CG, D::kFalse},
    {CKA_UNWRAP, CG, D::kFalse},
    {CKA_EXTRACTABLE, CGMP | kOnlyToFalse, D::kFalse},
    {CKA_ALWAYS_SENSITIVE, RO, D::kFalse},
    {CKA_NEVER_EXTRACTABLE, RO, D::kFalse},
    {CKA_WRAP_WITH_TRUSTED, CGMP | kOnlyToTrue, D::kFalse},
    {CKA_UNWRAP_TEMPLATE, CG, D::kEmpty},  // merged into what this key unwraps
    {CKA_ALWAYS_AUTHENTICATE, CG, D::kFalse},
    {CKA_PUBLIC_KEY_INFO, RO, D::kNone},
    {kCkaNssDb, C | P | kOptional, D::kNone},
};

// §4.10 secret keys (CNG AES and generic-secret keys, objects/secret_keys.h). The key types'
// own attributes (§6) are in their descriptors (key_types/).
const Group kSecretKey = {
    {CKA_PRIVATE, CGP, D::kTrue},
    {CKA_SENSITIVE, CGMP | kOnlyToTrue, D::kTrue},
    {CKA_ENCRYPT, CG, D::kFalse},
    {CKA_DECRYPT, CG, D::kFalse},
    {CKA_SIGN, CG, D::kFalse},
    {CKA_VERIFY, CG, D::kFalse},
    {CKA_WRAP, CG, D::kFalse},
    {CKA_UNWRAP, CG, D::kFalse},
    {CKA_EXTRACTABLE, CGMP | kOnlyToFalse, D::kTrue},
    {CKA_ALWAYS_SENSITIVE, RO, D::kFalse},
    {CKA_NEVER_EXTRACTABLE, RO, D::kFalse},
    {CKA_CHECK_VALUE, C, D::kNone},  // §4.10: given at creation, it must match the value
    {CKA_WRAP_WITH_TRUSTED, CGMP | kOnlyToTrue, D::kFalse},
    {CKA_TRUSTED, CGMP, D::kFalse},
    // §4.10: the attributes a key wrapped / unwrapped with this key must have (an attribute
    // array, persisted serialised as a custom property).
    {CKA_WRAP_TEMPLATE, CG, D::kEmpty},
    {CKA_UNWRAP_TEMPLATE, CG, D::kEmpty},
    {CKA_VALUE, C | kSensitive | kRequiredCreate, D::kNone},
    {CKA_VALUE_LEN, G, D::kNone},
};

// CKA_TRUSTED (certificates, public and secret keys) may be set to TRUE only in the Security
// Officer's session: objects/template_rules.h check_officer_only, on every template.

// §4.6 certificates and §4.6.3 X.509 public key certificates. Subject, issuer and serial are
// derived from CKA_VALUE when the template leaves them out.
const Group kCertificate = {
    {CKA_CERTIFICATE_TYPE, C | kRequiredCreate, D::kNone},
    {CKA_TRUSTED, C | M, D::kFalse},
    {CKA_CERTIFICATE_CATEGORY, C, D::kNone},
    {CKA_CHECK_VALUE, C, D::kNone},
    {CKA_START_DATE, C | M, D::kEmpty},
    {CKA_END_DATE, C | M, D::kEmpty},
    {CKA_PUBLIC_KEY_INFO, RO, D::kNone},
    {CKA_SUBJECT, C, D::kNone},
    {CKA_ID, C | M | P, D::kEmpty},
    {CKA_ISSUER, C, D::kNone},
    {CKA_SERIAL_NUMBER, C, D::kNone},
    {CKA_VALUE, C | kRequiredCreate, D::kNone},
    {CKA_URL, C, D::kEmpty},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, C, D::kEmpty},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, C, D::kEmpty},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, C, D::kNone},
    {CKA_NAME_HASH_ALGORITHM, C, D::kNone},
};

// §4.5 data objects: application-defined bytes the token only keeps. All three are
// modifiable (when CKA_MODIFIABLE is TRUE) and default to empty.
const Group kData = {
    {CKA_APPLICATION, C | M, D::kEmpty},
    {CKA_OBJECT_ID, C | M, D::kEmpty},  // DER of an OBJECT IDENTIFIER, or empty
    {CKA_VALUE, C | M, D::kEmpty},
};

using Entries = std::span<const SchemaEntry>;

Entries entries_of(const Group& group) { return {group.begin(), group.size()}; }

// Later groups override earlier entries of the same type (e.g. the private key's CKA_PRIVATE).
Schema compose(CK_OBJECT_CLASS cls, CK_ULONG subtype, std::initializer_list<Entries> groups) {
  Schema s{cls, subtype, {}};
  for (const Entries g : groups) {
    for (const SchemaEntry& e : g) {
      bool replaced = false;
      for (SchemaEntry& have : s.entries) {
        if (have.type == e.type) {
          have = e;
          replaced = true;
        }
      }
      if (!replaced) {
        s.entries.push_back(e);
      }
    }
  }
  return s;
}

// Key schemas come from the key type registry (key_types/key_type.h): the common groups plus
// the type's own entries.
struct AllSchemas {
  std::vector<Schema> schemas;
  std::vector<const Schema*> list;
  AllSchemas() {
    const Entries storage = entries_of(kStorage);
    const Entries key = entries_of(kKey);
    for (const KeyTypeDescriptor* type : all_key_types()) {
      const CK_KEY_TYPE k = type->key_type;
      if (type->pair != nullptr) {
        schemas.push_back(
            compose(CKO_PRIVATE_KEY, k,
                    {storage, key, entries_of(kPrivateKey), type->pair->private_entries}));
        schemas.push_back(compose(
            CKO_PUBLIC_KEY, k, {storage, key, entries_of(kPublicKey), type->pair->public_entries}));
      } else {
        schemas.push_back(compose(CKO_SECRET_KEY, k, {storage, key, entries_of(kSecretKey)}));
      }
    }
    schemas.push_back(compose(CKO_CERTIFICATE, CKC_X_509, {storage, entries_of(kCertificate)}));
    schemas.push_back(compose(CKO_DATA, kDataSubtype, {storage, entries_of(kData)}));
    for (const Schema& schema : schemas) {
      list.push_back(&schema);
    }
  }
};

const AllSchemas* g_schemas = nullptr;  // freed at unload (core/unload.h)

const AllSchemas& schemas() {
  static const AllSchemas* const all = [] {
    g_schemas = new AllSchemas();
    release_at_unload([]() noexcept { delete g_schemas; });
    return g_schemas;
  }();
  return *all;
}

}  // namespace

const SchemaEntry* Schema::find(CK_ATTRIBUTE_TYPE type) const noexcept {
  for (const SchemaEntry& e : entries) {
    if (e.type == type) {
      return &e;
    }
  }
  return nullptr;
}

const Schema* schema_for(CK_OBJECT_CLASS object_class, CK_ULONG subtype) noexcept {
  for (const Schema* s : schemas().list) {
    if (s->object_class == object_class && s->subtype == subtype) {
      return s;
    }
  }
  return nullptr;
}

std::span<const Schema* const> all_schemas() noexcept { return schemas().list; }

}  // namespace p11::bridge
