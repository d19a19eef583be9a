// The key storage providers this library knows, by name. Adding a provider (the platform
// provider, on a TPM) means adding one entry whose instance() returns it.
#pragma once

#include <span>
#include <string_view>

#include "providers/provider.h"

namespace cng::api {

struct ProviderDescriptor {
  std::u16string_view name;
  std::u16string_view comment;
  // The process-wide provider instance. Throws (e.g. NTE_DEVICE_NOT_FOUND) when the provider
  // cannot be used on this machine.
  Provider& (*instance)();
};

std::span<const ProviderDescriptor> registered_providers() noexcept;

// The provider of that name (case-insensitive); NULL name = the software KSP, as on Windows.
// An unknown name is NTE_PROV_DLL_NOT_FOUND: Windows reports a provider that is not
// registered as its DLL not being found, the closest code to "no such provider".
const ProviderDescriptor& find_provider(LPCWSTR name);

// Points the keyring at the platform provider's TPM for sealing master keys (once per process;
// the TPM is reached only when a master key is created or unsealed).
void install_master_key_sealer();

}  // namespace cng::api
