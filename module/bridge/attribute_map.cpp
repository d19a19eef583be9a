#include "bridge/attribute_map.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace p11::bridge {

namespace {

using K = ValueKind;
using S = CngSource;

#define ROW(type, kind, source, custom, bit, cert) \
  AttributeInfo { type, #type, kind, source, custom, bit, cert }

// Sorted by type for binary search (checked once at first use).
constexpr std::array kAttributes = {
    ROW(CKA_CLASS, K::kUlong, S::kObject, nullptr, 0, nullptr),
    ROW(CKA_TOKEN, K::kBool, S::kObject, nullptr, 0, nullptr),
    ROW(CKA_PRIVATE, K::kBool, S::kCustom, u"Private", 0, "Private"),
    ROW(CKA_LABEL, K::kUtf8, S::kCustom, u"Label", 0, "Label"),
    ROW(CKA_UNIQUE_ID, K::kUtf8, S::kUniqueName, nullptr, 0, nullptr),
    ROW(CKA_APPLICATION, K::kUtf8, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_VALUE, K::kBytes, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_OBJECT_ID, K::kBytes, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_CERTIFICATE_TYPE, K::kUlong, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_ISSUER, K::kBytes, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_SERIAL_NUMBER, K::kBytes, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_TRUSTED, K::kBool, S::kCustom, u"Trusted", 0, "Trusted"),
    ROW(CKA_CERTIFICATE_CATEGORY, K::kUlong, S::kNone, nullptr, 0, "Category"),
    ROW(CKA_JAVA_MIDP_SECURITY_DOMAIN, K::kUlong, S::kNone, nullptr, 0, "JavaMidpDomain"),
    ROW(CKA_URL, K::kUtf8, S::kNone, nullptr, 0, "Url"),
    ROW(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, K::kBytes, S::kNone, nullptr, 0, "SubjectKeyHash"),
    ROW(CKA_HASH_OF_ISSUER_PUBLIC_KEY, K::kBytes, S::kNone, nullptr, 0, "IssuerKeyHash"),
    ROW(CKA_NAME_HASH_ALGORITHM, K::kUlong, S::kNone, nullptr, 0, "NameHashAlgorithm"),
    ROW(CKA_CHECK_VALUE, K::kBytes, S::kCustom, u"CheckValue", 0, nullptr),
    ROW(CKA_KEY_TYPE, K::kUlong, S::kObject, nullptr, 0, nullptr),
    ROW(CKA_SUBJECT, K::kBytes, S::kCustom, u"Subject", 0, nullptr),
    ROW(CKA_ID, K::kBytes, S::kCustom, u"Id", 0, "KeyId"),
    ROW(CKA_SENSITIVE, K::kBool, S::kExportPolicy, u"Sensitive", 0, nullptr),
    ROW(CKA_ENCRYPT, K::kBool, S::kKeyUsage, u"Encrypt", NCRYPT_ALLOW_DECRYPT_FLAG, nullptr),
    ROW(CKA_DECRYPT, K::kBool, S::kKeyUsage, u"Decrypt", NCRYPT_ALLOW_DECRYPT_FLAG, nullptr),
    ROW(CKA_WRAP, K::kBool, S::kKeyUsage, u"Wrap", NCRYPT_ALLOW_DECRYPT_FLAG, nullptr),
    ROW(CKA_UNWRAP, K::kBool, S::kKeyUsage, u"Unwrap", NCRYPT_ALLOW_DECRYPT_FLAG, nullptr),
    ROW(CKA_SIGN, K::kBool, S::kKeyUsage, u"Sign", NCRYPT_ALLOW_SIGNING_FLAG, nullptr),
    ROW(CKA_SIGN_RECOVER, K::kBool, S::kCustom, u"SignRecover", 0, nullptr),
    ROW(CKA_VERIFY, K::kBool, S::kKeyUsage, u"Verify", NCRYPT_ALLOW_SIGNING_FLAG, nullptr),
    ROW(CKA_VERIFY_RECOVER, K::kBool, S::kCustom, u"VerifyRecover", 0, nullptr),
    ROW(CKA_DERIVE, K::kBool, S::kKeyUsage, u"Derive", NCRYPT_ALLOW_KEY_AGREEMENT_FLAG, nullptr),
    ROW(CKA_START_DATE, K::kDate, S::kCustom, u"StartDate", 0, "StartDate"),
    ROW(CKA_END_DATE, K::kDate, S::kCustom, u"EndDate", 0, "EndDate"),
    ROW(CKA_MODULUS, K::kBigInt, S::kPublicBlob, nullptr, 0, nullptr),
    ROW(CKA_MODULUS_BITS, K::kUlong, S::kLength, nullptr, 0, nullptr),
    ROW(CKA_PUBLIC_EXPONENT, K::kBigInt, S::kPublicBlob, nullptr, 0, nullptr),
    ROW(CKA_PRIVATE_EXPONENT, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_PRIME_1, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_PRIME_2, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_EXPONENT_1, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_EXPONENT_2, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_COEFFICIENT, K::kBigInt, S::kPrivateBlob, nullptr, 0, nullptr),
    ROW(CKA_PUBLIC_KEY_INFO, K::kBytes, S::kPublicBlob, nullptr, 0, nullptr),
    ROW(CKA_VALUE_LEN, K::kUlong, S::kNone, nullptr, 0, nullptr),
    ROW(CKA_EXTRACTABLE, K::kBool, S::kExportPolicy, u"Extractable", 0, nullptr),
    ROW(CKA_LOCAL, K::kBool, S::kCustom, u"Local", 0, nullptr),
    ROW(CKA_NEVER_EXTRACTABLE, K::kBool, S::kCustom, u"NeverExtractable", 0, nullptr),
    ROW(CKA_ALWAYS_SENSITIVE, K::kBool, S::kCustom, u"AlwaysSensitive", 0, nullptr),
    ROW(CKA_KEY_GEN_MECHANISM, K::kUlong, S::kCustom, u"KeyGenMechanism", 0, nullptr),
    ROW(CKA_MODIFIABLE, K::kBool, S::kCustom, u"Modifiable", 0, "Modifiable"),
    ROW(CKA_COPYABLE, K::kBool, S::kCustom, u"Copyable", 0, "Copyable"),
    ROW(CKA_DESTROYABLE, K::kBool, S::kCustom, u"Destroyable", 0, "Destroyable"),
    ROW(CKA_EC_PARAMS, K::kBytes, S::kAlgorithm, nullptr, 0, nullptr),
    ROW(CKA_EC_POINT, K::kBytes, S::kPublicBlob, nullptr, 0, nullptr),
    // Per-use authentication ⇄ a UI-protected CNG key (cng_model key_auth.h): PROTECT_KEY is
    // what TRUE sets; a key FORCE_HIGH-protected by another tool reads TRUE as well.
    ROW(CKA_ALWAYS_AUTHENTICATE, K::kBool, S::kUiPolicy, nullptr,
        NCRYPT_UI_PROTECT_KEY_FLAG | NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG, nullptr),
    ROW(CKA_WRAP_WITH_TRUSTED, K::kBool, S::kCustom, u"WrapWithTrusted", 0, nullptr),
    ROW(CKA_WRAP_TEMPLATE, K::kAttributes, S::kCustom, u"WrapTemplate", 0, nullptr),
    ROW(CKA_UNWRAP_TEMPLATE, K::kAttributes, S::kCustom, u"UnwrapTemplate", 0, nullptr),
    ROW(CKA_ALLOWED_MECHANISMS, K::kMechanisms, S::kCustom, u"AllowedMechanisms", 0, nullptr),
    ROW(kCkaNssDb, K::kBytes, S::kNone, nullptr, 0, nullptr),
};

#undef ROW

bool sorted() noexcept {
  return std::is_sorted(
      kAttributes.begin(), kAttributes.end(),
      [](const AttributeInfo& a, const AttributeInfo& b) { return a.type < b.type; });
}

}  // namespace

const AttributeInfo* attribute_info(CK_ATTRIBUTE_TYPE type) noexcept {
  static const bool ok = sorted();
  if (!ok) {  // a table edit broke the order: fall back to a scan rather than misbehave
    const auto* it = std::find_if(kAttributes.begin(), kAttributes.end(),
                                  [type](const AttributeInfo& a) { return a.type == type; });
    return it == kAttributes.end() ? nullptr : &*it;
  }
  const auto* it =
      std::lower_bound(kAttributes.begin(), kAttributes.end(), type,
                       [](const AttributeInfo& a, CK_ATTRIBUTE_TYPE t) { return a.type < t; });
  return (it == kAttributes.end() || it->type != type) ? nullptr : &*it;
}

std::span<const AttributeInfo> all_attributes() noexcept { return kAttributes; }

std::u16string custom_property_name(const AttributeInfo& info, bool public_object) {
  std::u16string name = public_object ? kPublicPropertyPrefix : kPropertyPrefix;
  name += info.custom;
  return name;
}

bool pair_shared_fallback(CK_ATTRIBUTE_TYPE type) noexcept {
  return type == CKA_LABEL || type == CKA_ID;
}

bool value_shape_ok(ValueKind kind, const void* value, CK_ULONG length) noexcept {
  if (value == nullptr && length != 0) {
    return false;
  }
  switch (kind) {
    case K::kBool: {
      if (length != sizeof(CK_BBOOL)) {
        return false;
      }
      CK_BBOOL b = 0;
      std::memcpy(&b, value, sizeof b);
      return b == CK_TRUE || b == CK_FALSE;
    }
    case K::kUlong:
      return length == sizeof(CK_ULONG);
    case K::kDate:
      return length == 0 || length == sizeof(CK_DATE);
    case K::kBigInt:
      return length > 0;
    case K::kMechanisms:
      return length % sizeof(CK_MECHANISM_TYPE) == 0;
    case K::kAttributes:
      return length % sizeof(CK_ATTRIBUTE) == 0;
    case K::kBytes:
    case K::kUtf8:
      return true;
  }
  return false;
}

}  // namespace p11::bridge
