#include "slots/capabilities.h"

namespace slots {

namespace {

bool supported(NCRYPT_PROV_HANDLE provider, const char16_t* algorithm) noexcept {
  return NCryptIsAlgSupported(provider, algorithm, 0) == 0;
}

// The Lengths property of an RSA key that is created but never finalized (nothing is stored,
// no TPM object is made): the provider's RSA modulus range.
BitRange rsa_lengths(NCRYPT_PROV_HANDLE provider) noexcept {
  NCRYPT_KEY_HANDLE key = 0;
  if (NCryptCreatePersistedKey(provider, &key, NCRYPT_RSA_ALGORITHM, nullptr, 0, 0) != 0) {
    return {};
  }
  NCRYPT_SUPPORTED_LENGTHS lengths{};
  DWORD written = 0;
  const SECURITY_STATUS status = NCryptGetProperty(
      key, NCRYPT_LENGTHS_PROPERTY, reinterpret_cast<PBYTE>(&lengths), sizeof lengths, &written, 0);
  (void)NCryptFreeObject(key);
  if (status != 0 || written != sizeof lengths || lengths.dwMaxLength < lengths.dwMinLength) {
    return {};
  }
  return {lengths.dwMinLength, lengths.dwMaxLength};
}

}  // namespace

BitRange Capabilities::ec_bits() const noexcept {
  const bool p256 = ecdsa_p256 || ecdh_p256;
  const bool p384 = ecdsa_p384 || ecdh_p384;
  const bool p521 = ecdsa_p521 || ecdh_p521;
  const std::uint32_t min = p256 ? 256U : p384 ? 384U : p521 ? 521U : 0U;
  const std::uint32_t max = p521 ? 521U : p384 ? 384U : p256 ? 256U : 0U;
  return {min, max};
}

Abilities Capabilities::abilities() const noexcept {
  Abilities out = declared;
  const auto add = [&out](bool present, Ability ability) {
    if (present) {
      out = out | ability;
    }
  };
  add(rsa, Ability::kRsa);
  add(any_ecdsa() || any_ecdh(), Ability::kEcKeys);
  add(any_ecdsa(), Ability::kEcdsa);
  add(any_ecdh(), Ability::kEcdh);
  add(aes, Ability::kAes);
  add(generic_secret, Ability::kGenericSecret);
  return out;
}

Capabilities probe_capabilities(NCRYPT_PROV_HANDLE provider) noexcept {
  Capabilities caps;
  caps.rsa = supported(provider, NCRYPT_RSA_ALGORITHM);
  if (caps.rsa) {
    caps.rsa_bits = rsa_lengths(provider);
    caps.rsa = caps.rsa_bits.max_bits != 0;
  }
  caps.ecdsa_p256 = supported(provider, NCRYPT_ECDSA_P256_ALGORITHM);
  caps.ecdsa_p384 = supported(provider, NCRYPT_ECDSA_P384_ALGORITHM);
  caps.ecdsa_p521 = supported(provider, NCRYPT_ECDSA_P521_ALGORITHM);
  caps.ecdh_p256 = supported(provider, NCRYPT_ECDH_P256_ALGORITHM);
  caps.ecdh_p384 = supported(provider, NCRYPT_ECDH_P384_ALGORITHM);
  caps.ecdh_p521 = supported(provider, NCRYPT_ECDH_P521_ALGORITHM);
  caps.aes = supported(provider, NCRYPT_AES_ALGORITHM);
  caps.generic_secret = supported(provider, NCRYPT_GENERIC_SECRET_ALGORITHM);
  return caps;
}

}  // namespace slots
