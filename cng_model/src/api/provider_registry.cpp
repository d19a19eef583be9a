#include "api/provider_registry.h"

#include <array>
#include <mutex>

#include "core/cng_error.h"
#include "core/u16.h"
#include "providers/platform/platform_provider.h"
#include "providers/software/software_provider.h"

namespace cng::api {

namespace {

Provider& software_instance() {
  static Provider* const provider = make_software_provider().release();  // leaky
  return *provider;
}

// The TPM on $CNG_PKCS11_TCTI (else /dev/tpmrm0). Without a TPM this throws
// NTE_DEVICE_NOT_FOUND and, the static being left uninitialised, is tried again next time.
Provider& platform_instance() {
  static Provider* const provider = make_platform_provider().release();  // leaky
  return *provider;
}

constexpr std::array kProviders = {
    ProviderDescriptor{MS_KEY_STORAGE_PROVIDER, u"Software keys on OpenSSL", &software_instance},
    ProviderDescriptor{MS_PLATFORM_CRYPTO_PROVIDER, u"TPM 2.0 keys", &platform_instance},
};

}  // namespace

std::span<const ProviderDescriptor> registered_providers() noexcept { return kProviders; }

void install_master_key_sealer() {
  static std::once_flag once;
  std::call_once(once, [] {
    master_key::set_tpm_sealer_factory([]() -> std::shared_ptr<master_key::TpmSealer> {
      try {
        return master_key_sealer(platform_instance());
      } catch (const CngError&) {
        return nullptr;  // no TPM answers on the configured TCTI: the file protector
      }
    });
  });
}

const ProviderDescriptor& find_provider(LPCWSTR name) {
  if (name == nullptr) {
    return kProviders.front();
  }
  const std::u16string requested = u16_arg(name, NCRYPT_MAX_KEY_NAME_LENGTH, "provider name");
  for (const auto& descriptor : kProviders) {
    if (u16_iequals(descriptor.name, requested)) {
      return descriptor;
    }
  }
  fail(NTE_PROV_DLL_NOT_FOUND, "unknown key storage provider '" + to_utf8(requested) + "'");
}

}  // namespace cng::api
