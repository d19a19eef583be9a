#include "bridge/class_schema.h"

#include <array>
#include <initializer_list>

#include "bridge/attribute_map.h"

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
    {CKA_TRUSTED, RO, D::kFalse},
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

// §6.1 RSA.
const Group kRsaPublic = {
    {CKA_MODULUS, C | kRequiredCreate, D::kNone},
    {CKA_MODULUS_BITS, G | kRequiredGenerate, D::kNone},
    {CKA_PUBLIC_EXPONENT, CG | kRequiredCreate, D::kNone},
};
// CKA_MODULUS_BITS is a public key attribute; shown on the private key too (read-only),
// as pkcs11-tool and others ask the private object for its size.
const Group kRsaPrivate = {
    {CKA_MODULUS, C | kRequiredCreate, D::kNone},
    {CKA_MODULUS_BITS, RO, D::kNone},
    {CKA_PUBLIC_EXPONENT, C | kRequiredCreate, D::kNone},
    {CKA_PRIVATE_EXPONENT, C | kSensitive | kRequiredCreate, D::kNone},
    {CKA_PRIME_1, C | kSensitive | kRequiredCreate, D::kNone},
    {CKA_PRIME_2, C | kSensitive | kRequiredCreate, D::kNone},
    {CKA_EXPONENT_1, C | kSensitive, D::kNone},
    {CKA_EXPONENT_2, C | kSensitive, D::kNone},
    {CKA_COEFFICIENT, C | kSensitive, D::kNone},
};

// §6.3 elliptic curve.
const Group kEcPublic = {
    {CKA_EC_PARAMS, CG | kRequiredCreate | kRequiredGenerate, D::kNone},
    {CKA_EC_POINT, C | kRequiredCreate, D::kNone},
};
// The public value is shown on the private object too (clients read it there); in a
// C_CreateObject template it is accepted and the key's own value wins.
const Group kEcPrivate = {
    {CKA_EC_PARAMS, C | kRequiredCreate, D::kNone},
    {CKA_EC_POINT, C, D::kNone},
    {CKA_VALUE, C | kSensitive | kRequiredCreate, D::kNone},
};

// §4.10 secret keys (CNG AES and generic-secret keys, objects/secret_keys.h).
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
    {CKA_TRUSTED, RO, D::kFalse},
    // §4.10: the attributes a key wrapped / unwrapped with this key must have (an attribute
    // array, persisted serialised as a custom property).
    {CKA_WRAP_TEMPLATE, CG, D::kEmpty},
    {CKA_UNWRAP_TEMPLATE, CG, D::kEmpty},
    {CKA_VALUE, C | kSensitive | kRequiredCreate, D::kNone},
    {CKA_VALUE_LEN, G, D::kNone},
};

// §4.6 certificates and §4.6.3 X.509 public key certificates. Subject, issuer and serial are
// derived from CKA_VALUE when the template leaves them out.
const Group kCertificate = {
    {CKA_CERTIFICATE_TYPE, C | kRequiredCreate, D::kNone},
    {CKA_TRUSTED, C, D::kFalse},
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

// Later groups override earlier entries of the same type (e.g. the private key's CKA_PRIVATE).
Schema compose(CK_OBJECT_CLASS cls, CK_ULONG subtype, std::initializer_list<const Group*> groups) {
  Schema s{cls, subtype, {}};
  for (const Group* g : groups) {
    for (const SchemaEntry& e : *g) {
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

struct AllSchemas {
  Schema rsa_private =
      compose(CKO_PRIVATE_KEY, CKK_RSA, {&kStorage, &kKey, &kPrivateKey, &kRsaPrivate});
  Schema rsa_public =
      compose(CKO_PUBLIC_KEY, CKK_RSA, {&kStorage, &kKey, &kPublicKey, &kRsaPublic});
  Schema ec_private =
      compose(CKO_PRIVATE_KEY, CKK_EC, {&kStorage, &kKey, &kPrivateKey, &kEcPrivate});
  Schema ec_public = compose(CKO_PUBLIC_KEY, CKK_EC, {&kStorage, &kKey, &kPublicKey, &kEcPublic});
  Schema generic_secret =
      compose(CKO_SECRET_KEY, CKK_GENERIC_SECRET, {&kStorage, &kKey, &kSecretKey});
  Schema aes_secret = compose(CKO_SECRET_KEY, CKK_AES, {&kStorage, &kKey, &kSecretKey});
  Schema x509 = compose(CKO_CERTIFICATE, CKC_X_509, {&kStorage, &kCertificate});
  Schema data = compose(CKO_DATA, kDataSubtype, {&kStorage, &kData});
  std::array<const Schema*, 8> list = {&rsa_private,    &rsa_public, &ec_private, &ec_public,
                                       &generic_secret, &aes_secret, &x509,       &data};
};

const AllSchemas& schemas() {
  static const auto* all = new AllSchemas();  // leaky: usable from atexit handlers
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
