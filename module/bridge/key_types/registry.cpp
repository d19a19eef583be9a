// The key types of this floor, one line each (key_type.h explains the descriptor).
#include <array>

#include "bridge/key_types/key_type.h"
#include "core/p11_error.h"

namespace p11::bridge {

extern const KeyTypeDescriptor kRsaKeyType;            // rsa.cpp
extern const KeyTypeDescriptor kEcKeyType;             // ec.cpp
extern const KeyTypeDescriptor kAesKeyType;            // aes.cpp
extern const KeyTypeDescriptor kGenericSecretKeyType;  // generic_secret.cpp

namespace {

constexpr std::array<const KeyTypeDescriptor*, 4> kKeyTypes = {
    &kRsaKeyType,
    &kEcKeyType,
    &kAesKeyType,
    &kGenericSecretKeyType,
};

}  // namespace

std::span<const KeyTypeDescriptor* const> all_key_types() noexcept { return kKeyTypes; }

const KeyTypeDescriptor* find_key_type(CK_KEY_TYPE key_type) noexcept {
  for (const KeyTypeDescriptor* d : kKeyTypes) {
    if (d->key_type == key_type) {
      return d;
    }
  }
  return nullptr;
}

const KeyTypeDescriptor* find_key_type(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type) noexcept {
  const KeyTypeDescriptor* d = find_key_type(key_type);
  return d != nullptr && d->has_class(cls) ? d : nullptr;
}

const KeyTypeDescriptor& key_type_for_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE key_type) {
  const KeyTypeDescriptor* d = find_key_type(cls, key_type);
  if (d == nullptr) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_KEY_TYPE names no key type of this class");
  }
  return *d;
}

const KeyTypeDescriptor* find_key_type_by_generator(CK_MECHANISM_TYPE mechanism) noexcept {
  for (const KeyTypeDescriptor* d : kKeyTypes) {
    if (d->generate_mechanism == mechanism) {
      return d;
    }
  }
  return nullptr;
}

const KeyTypeDescriptor* find_key_type_of_cng_key(CK_OBJECT_CLASS cls,
                                                  std::u16string_view algorithm,
                                                  NCRYPT_KEY_HANDLE key) {
  for (const KeyTypeDescriptor* d : kKeyTypes) {
    if (d->key_class() == cls && d->is_cng_key(algorithm, key)) {
      return d;
    }
  }
  return nullptr;
}

bool SecretKeyRules::length_ok(CK_ULONG bytes) const noexcept {
  if (aes_lengths) {
    return bytes == 16 || bytes == 24 || bytes == 32;
  }
  return bytes >= min_bytes && bytes <= max_bytes;
}

}  // namespace p11::bridge
