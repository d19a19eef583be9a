// The CKA_* <-> CNG mapping: ONE declarative table (reference/cng-model.md §5.2).
//
// Each row says what an attribute's value looks like (kind) and where a key object over a CNG
// key gets it from (source): a standard NCrypt property, a bit of "Key Usage", the exported
// public or private blob, or a persisted custom property ("PKCS11 <name>") for everything CNG
// has no home for. Certificates keep their extra attributes as named properties of the
// certificate store (cert_property). Which classes have which attributes, and what may be set
// when, is the per-class schema (class_schema.h).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"

namespace p11::bridge {

// NSS's vendor attribute CKA_NETSCAPE_DB (the EC public value): Java SunPKCS11 adds it to
// private-key templates (nssNetscapeDbWorkaround, on by default), so it must be accepted.
inline constexpr CK_ATTRIBUTE_TYPE kCkaNssDb = 0xD5A0DB00UL;

enum class ValueKind : std::uint8_t {
  kBool,        // CK_BBOOL, length 1
  kUlong,       // CK_ULONG, length sizeof(CK_ULONG)
  kBytes,       // arbitrary bytes (may be empty)
  kUtf8,        // RFC 2279 string (bytes, not NUL-terminated)
  kDate,        // CK_DATE: 8 ASCII digits, or empty
  kBigInt,      // big-endian unsigned integer, non-empty
  kMechanisms,  // CK_MECHANISM_TYPE array
  kAttributes,  // CK_ATTRIBUTE array (CKF_ARRAY_ATTRIBUTE: CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE);
                // the object layer keeps it serialised (template_rules.h, attribute arrays)
};

// Where a key object over a CNG key takes the attribute from.
enum class CngSource : std::uint8_t {
  kObject,        // intrinsic to the object (CKA_CLASS, CKA_TOKEN, CKA_KEY_TYPE)
  kCustom,        // persisted custom property "PKCS11 <custom>" (token keys only)
  kKeyUsage,      // bit usage_bit of "Key Usage", unless a custom property overrides it
  kExportPolicy,  // "Export Policy", unless a custom property overrides it
  kLength,        // "Length"
  kAlgorithm,     // "Algorithm Name" (CKA_EC_PARAMS from the curve)
  kPublicBlob,    // the exported BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB
  kPrivateBlob,   // the exported RSAFULLPRIVATE / ECCPRIVATE blob (sensitive)
  kUniqueName,    // "Unique Name" (persisted keys), a generated id for ephemeral keys
  kUiPolicy,      // "UI Policy": TRUE when dwFlags has a bit of usage_bit (private keys)
  kNone,          // not over CNG (certificates, secret keys: held by the object layer)
};

struct AttributeInfo {
  CK_ATTRIBUTE_TYPE type;
  const char* name;  // "CKA_LABEL"
  ValueKind kind;
  CngSource source;
  const char16_t* custom;  // custom property suffix ("Label" -> "PKCS11 Label") or null
  // kKeyUsage: the bit of "Key Usage". kUiPolicy: the NCRYPT_UI_POLICY dwFlags bits that read
  // as TRUE; TRUE at creation sets the lowest of them.
  DWORD usage_bit;
  const char* cert_property;  // certificate store property name, or null (not persisted)
};

// The row of an attribute type; nullptr for types this module does not know.
const AttributeInfo* attribute_info(CK_ATTRIBUTE_TYPE type) noexcept;
std::span<const AttributeInfo> all_attributes() noexcept;

// Custom property names: every attribute is per object, "PKCS11 <custom>" for the private key
// and "PKCS11 Pub <custom>" for the public key object of the same CNG key, so the two halves
// keep their own CKA_LABEL and CKA_ID.
inline constexpr char16_t kPropertyPrefix[] = u"PKCS11 ";
inline constexpr char16_t kPublicPropertyPrefix[] = u"PKCS11 Pub ";
std::u16string custom_property_name(const AttributeInfo& info, bool public_object);
// CKA_LABEL and CKA_ID: a public object without its own "PKCS11 Pub" value shows the key's
// "PKCS11" one (stores written when the pair shared them, and keys labelled by other tools).
bool pair_shared_fallback(CK_ATTRIBUTE_TYPE type) noexcept;

// Checks a template value's length/shape for its kind (CKR_ATTRIBUTE_VALUE_INVALID).
bool value_shape_ok(ValueKind kind, const void* value, CK_ULONG length) noexcept;

}  // namespace p11::bridge
