// Key types on the module floor: one KeyTypeDescriptor per PKCS#11 key type.
//
// Design note. A key type is registered in one place: its descriptor, defined in its own file
// (key_types/rsa.cpp, ec.cpp, aes.cpp, generic_secret.cpp) and listed by one line in
// key_types/registry.cpp. The descriptor carries everything the generic code would otherwise
// branch on: the CKK_* value, the CNG algorithm(s) the key is kept as, the type's own schema
// entries (class_schema.cpp composes them onto the common key groups), the blob codec
// (template <-> PublicKeyValues <-> BCRYPT blob, template -> PKCS#8 import blob, private blob
// -> sensitive attribute values), the key-generation rule (template -> NCrypt algorithm and
// Length), the Key Usage rule, the private-export blob type and the C_GetMechanismInfo key
// size unit and range. The generic code (objects/, mechanisms/) asks the descriptor instead of
// branching on CKK_* values. The descriptors live in bridge/ rather than objects/ because the
// mechanism layer reads them too (key sizes) and bridge/ is the part below both; the codecs
// sit beside the blob helpers (key_blobs.h) they build on. The mechanism rows naming a key type
// stay in mechanisms/registry.cpp (one table for mechanisms); cng_model/ registers the CNG
// algorithm in its own algorithm table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bridge/attr_values.h"
#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "ncrypt.h"
#include "slots/capabilities.h"

namespace p11::bridge {

// Key sizes in the unit C_GetMechanismInfo reports for the type.
struct KeySizeRange {
  CK_ULONG min_bits;
  CK_ULONG max_bits;
};

// A Key Usage bit (NCRYPT_KEY_USAGE_PROPERTY) a TRUE private key attribute asks for.
struct UsageRule {
  CK_ATTRIBUTE_TYPE attribute;
  DWORD usage_bit;
};

// What a C_GenerateKeyPair template becomes: NCryptCreatePersistedKey's algorithm id and the
// Length property (0: none is set).
struct KeyGenPlan {
  const char16_t* algorithm;
  DWORD length_bits;
};

// Asymmetric key types: CKO_PRIVATE_KEY and CKO_PUBLIC_KEY over one CNG key pair.
struct KeyPairRules {
  std::span<const SchemaEntry> public_entries;   // the type's own public key attributes
  std::span<const SchemaEntry> private_entries;  // and private key attributes
  std::span<const UsageRule> usage;              // Key Usage from the private attributes
  // The Key Usage bits the type's usage attributes may read TRUE from, for a key of this CNG
  // algorithm (CNG's usage word is generic; PKCS#11 asks per key type).
  DWORD (*shown_usage)(std::u16string_view algorithm);
  // Usage attributes no mechanism of the type serves: FALSE unless a template says TRUE.
  std::span<const CK_ATTRIBUTE_TYPE> unserved_usages;
  const char16_t* pkcs8_algorithm;    // NCRYPTBUFFER_PKCS_ALG_ID of an unwrapped private key
  const char16_t* public_blob_type;   // NCryptExportKey of the public half
  const char16_t* private_blob_type;  // NCryptExportKey for the sensitive attribute values
  // The codec.
  PublicKeyValues (*public_from_template)(const AttrMap& tmpl);  // C_CreateObject public key
  PublicKeyValues (*parse_public_blob)(ByteView blob);           // CKR_DEVICE_ERROR if bad
  Bytes (*make_public_blob)(const PublicKeyValues& key);         // for NCryptImportKey
  // The type's public attribute values (CKA_MODULUS, CKA_EC_POINT, ...); nullopt for others.
  std::optional<Bytes> (*public_attribute)(CK_ATTRIBUTE_TYPE type, const PublicKeyValues& key);
  // A sensitive attribute from the private_blob_type export (CKR_ATTRIBUTE_TYPE_INVALID).
  SecretBytes (*private_attribute)(ByteView private_blob, CK_ATTRIBUTE_TYPE type);
  SecretBytes (*pkcs8_from_template)(const AttrMap& tmpl);  // C_CreateObject private key
  Bytes (*spki_der)(const PublicKeyValues& key);            // CKA_PUBLIC_KEY_INFO
  ByteView (*nss_id_source)(const PublicKeyValues& key);    // what the NSS CKA_ID hashes
  void (*validate)(const PublicKeyValues& key);             // a valid key (OpenSSL), or throws
  // The generation rule: templates are validated and defaulted; provider is the slot's.
  KeyGenPlan (*generation)(NCRYPT_PROV_HANDLE provider, const AttrMap& pub, const AttrMap& priv);
};

// Secret key types: one CKO_SECRET_KEY over a CNG cipher (or generic secret) key.
struct SecretKeyRules {
  CK_ULONG min_bytes;  // CKA_VALUE_LEN range
  CK_ULONG max_bytes;
  bool aes_lengths;  // only 16, 24 or 32 bytes
  // CKA_CHECK_VALUE (PKCS#11 3.0 §4.10): AES-ECB of a zero block, or SHA-1 of the value.
  enum class Check : std::uint8_t { kZeroBlockEcb, kSha1OfValue } check;
  [[nodiscard]] bool length_ok(CK_ULONG bytes) const noexcept;
};

struct KeyTypeDescriptor {
  CK_KEY_TYPE key_type;
  const char* name;                      // for messages
  CK_MECHANISM_TYPE generate_mechanism;  // CKM_*_KEY_PAIR_GEN or CKM_*_KEY_GEN
  const char16_t* cng_algorithm;         // the one CNG algorithm; nullptr when per curve (EC)
  // Whether an open CNG key of this algorithm ("Algorithm Name") is of this type; key is
  // asked for more (the curve of a generic ECDSA key) only when the name does not decide.
  bool (*is_cng_key)(std::u16string_view algorithm, NCRYPT_KEY_HANDLE key);
  CK_ULONG size_unit_bits;  // bits per unit of size_range: 8 where PKCS#11 counts bytes
  KeySizeRange (*size_range)(const slots::Capabilities& caps);  // {0,0}: not on this slot
  CK_ULONG (*key_bits)(const AttrMap& attrs);  // an object's key size in bits (0: unknown)
  const KeyPairRules* pair;                    // exactly one of pair / secret
  const SecretKeyRules* secret;

  // The class of the object that stands for the CNG key (the private key of a pair).
  [[nodiscard]] CK_OBJECT_CLASS key_class() const noexcept {
    return pair != nullptr ? CKO_PRIVATE_KEY : CKO_SECRET_KEY;
  }
  // Whether objects of this class have this type (private/public for pairs, secret else).
  [[nodiscard]] bool has_class(CK_OBJECT_CLASS cls) const noexcept {
    return pair != nullptr ? cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY
                           : cls == CKO_SECRET_KEY;
  }
};

// The registry (registry.cpp): every descriptor, in registration order.
std::span<const KeyTypeDescriptor* const> all_key_types() noexcept;
// nullptr when the key type is not registered (for that object class).
const KeyTypeDescriptor* find_key_type(CK_KEY_TYPE key_type) noexcept;
const KeyTypeDescriptor* find_key_type(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type) noexcept;
// A CKA_KEY_TYPE a template gives for an object of class cls: an unregistered value is
// CKR_ATTRIBUTE_VALUE_INVALID (PKCS#11 3.0 §5.1: an invalid value for an attribute).
const KeyTypeDescriptor& key_type_for_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type);
// By generation mechanism; nullptr for others.
const KeyTypeDescriptor* find_key_type_by_generator(CK_MECHANISM_TYPE mechanism) noexcept;
// The type of an open CNG key of one class (CKO_PRIVATE_KEY: pairs, CKO_SECRET_KEY: secrets);
// nullptr for algorithms PKCS#11 objects cannot show.
const KeyTypeDescriptor* find_key_type_of_cng_key(CK_OBJECT_CLASS cls,
                                                  std::u16string_view algorithm,
                                                  NCRYPT_KEY_HANDLE key);

}  // namespace p11::bridge
