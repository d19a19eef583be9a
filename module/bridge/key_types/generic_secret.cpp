// CKK_GENERIC_SECRET (PKCS#11 3.0 §6.7) ⇄ NCRYPT_GENERIC_SECRET_ALGORITHM, the model's own
// algorithm: CNG has no generic-secret KSP key (objects/secret_keys.h says why we keep one).
#include "bridge/key_types/key_type.h"

namespace p11::bridge {

namespace {

bool is_generic_secret_key(std::u16string_view algorithm, NCRYPT_KEY_HANDLE /*key*/) {
  return algorithm == NCRYPT_GENERIC_SECRET_ALGORITHM;
}

constexpr CK_ULONG kMinBytes = NCRYPT_GENERIC_SECRET_MIN_LENGTH / 8;
constexpr CK_ULONG kMaxBytes = NCRYPT_GENERIC_SECRET_MAX_LENGTH / 8;

// C_GetMechanismInfo counts generic secret sizes in bytes.
KeySizeRange generic_secret_sizes(const slots::Capabilities& caps) {
  return caps.generic_secret ? KeySizeRange{kMinBytes, kMaxBytes} : KeySizeRange{0, 0};
}

CK_ULONG value_bits(const AttrMap& attrs) {
  return attr_ulong(attrs, CKA_VALUE_LEN).value_or(0) * 8;
}

constexpr SecretKeyRules kGenericSecretRules{kMinBytes, kMaxBytes, false,
                                             SecretKeyRules::Check::kSha1OfValue};

}  // namespace

extern const KeyTypeDescriptor kGenericSecretKeyType;
constinit const KeyTypeDescriptor kGenericSecretKeyType{
    CKK_GENERIC_SECRET,
    "GENERIC_SECRET",
    CKM_GENERIC_SECRET_KEY_GEN,
    NCRYPT_GENERIC_SECRET_ALGORITHM,
    is_generic_secret_key,
    8,
    generic_secret_sizes,
    value_bits,
    nullptr,
    &kGenericSecretRules,
};

}  // namespace p11::bridge
