// CKK_AES (PKCS#11 3.0 §6.8) ⇄ NCRYPT_AES_ALGORITHM, a key the Microsoft Software KSP keeps
// (objects/secret_keys.h makes and reads these keys).
#include "bridge/key_types/key_type.h"

namespace p11::bridge {

namespace {

bool is_aes_key(std::u16string_view algorithm, NCRYPT_KEY_HANDLE /*key*/) {
  return algorithm == NCRYPT_AES_ALGORITHM;
}

// C_GetMechanismInfo counts AES key sizes in bytes.
KeySizeRange aes_sizes(const slots::Capabilities& caps) {
  return caps.aes ? KeySizeRange{16, 32} : KeySizeRange{0, 0};
}

CK_ULONG value_bits(const AttrMap& attrs) {
  return attr_ulong(attrs, CKA_VALUE_LEN).value_or(0) * 8;
}

constexpr SecretKeyRules kAesRules{16, 32, true, SecretKeyRules::Check::kZeroBlockEcb};

}  // namespace

extern const KeyTypeDescriptor kAesKeyType;
constinit const KeyTypeDescriptor kAesKeyType{
    CKK_AES,   "AES",      CKM_AES_KEY_GEN, NCRYPT_AES_ALGORITHM, is_aes_key, 8,
    aes_sizes, value_bits, nullptr,         &kAesRules,
};

}  // namespace p11::bridge
