// Per-class attribute schemas (PKCS#11 3.0 §4): which attributes an object of a class has and
// what may be done with each. Composed from groups (storage, key, private key, public key,
// RSA, EC, certificate, X.509, secret key, data) so each spec table appears exactly once. This
// drives template validation (create, generate, derive, copy, set) and C_GetAttributeValue.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pkcs11/pkcs11_all.h"

namespace p11::bridge {

enum AttrFlag : std::uint32_t {
  kOnCreate = 1u << 0,          // may be given to C_CreateObject
  kOnGenerate = 1u << 1,        // may be given to C_GenerateKeyPair / C_DeriveKey
  kModifiable = 1u << 2,        // C_SetAttributeValue (when CKA_MODIFIABLE is TRUE)
  kOnCopy = 1u << 3,            // may be changed by a C_CopyObject template
  kSensitive = 1u << 4,         // secret component: CKR_ATTRIBUTE_SENSITIVE unless exportable
  kRequiredCreate = 1u << 5,    // C_CreateObject: CKR_TEMPLATE_INCOMPLETE when missing
  kRequiredGenerate = 1u << 6,  // C_GenerateKeyPair: likewise
  kOnlyToTrue = 1u << 7,        // may change only FALSE -> TRUE (CKA_SENSITIVE)
  kOnlyToFalse = 1u << 8,       // may change only TRUE -> FALSE (CKA_EXTRACTABLE, CKA_COPYABLE)
  kOptional = 1u << 9,          // may be absent from an object (then CKR_ATTRIBUTE_TYPE_INVALID)
};

// A default for attributes the template leaves out.
enum class Default : std::uint8_t { kNone, kFalse, kTrue, kEmpty, kUnavailable };

struct SchemaEntry {
  CK_ATTRIBUTE_TYPE type;
  std::uint32_t flags;
  Default fallback;
};

struct Schema {
  CK_OBJECT_CLASS object_class;
  CK_ULONG subtype;  // CKK_* for keys, CKC_* for certificates
  std::vector<SchemaEntry> entries;

  [[nodiscard]] const SchemaEntry* find(CK_ATTRIBUTE_TYPE type) const noexcept;
};

// Data objects have no type attribute: their schema is filed under this subtype.
inline constexpr CK_ULONG kDataSubtype = 0;

// The schema of a supported (class, key type / certificate type); nullptr otherwise.
// Supported: the key types of the registry (key_types/key_type.h: CKO_PRIVATE_KEY and
// CKO_PUBLIC_KEY of key pair types, CKO_SECRET_KEY of secret types), CKO_CERTIFICATE with
// CKC_X_509, CKO_DATA (kDataSubtype).
const Schema* schema_for(CK_OBJECT_CLASS object_class, CK_ULONG subtype) noexcept;
std::span<const Schema* const> all_schemas() noexcept;

}  // namespace p11::bridge
