// The provider profile table: one row per key storage provider (shared/DESIGN.md §2).
#include <array>

#include "slots/profile.h"

namespace slots {

namespace {

using A = Ability;

// To add a provider: implement it in cng_model (its NCrypt provider name, its key store
// subdirectory), then append one row here. Append only: a row's position gives its slot ids
// (2i user, 2i+1 machine), which clients remember. The abilities are those NCrypt cannot be
// asked for; algorithms, RSA lengths and curves are probed when the slots open. Nothing else
// changes: the module answers every slot from its profile and capabilities (its mechanism rows
// name the abilities they need).
constexpr std::array kProfiles = {
    ProviderProfile{
        .provider = MS_KEY_STORAGE_PROVIDER,
        .store_subdirectory = "",
        .token_label = "CNG Software",
        .slot_description = "Microsoft Software Key Storage Provider",
        .manufacturer = "cng-pkcs11",
        .model = "Software KSP",
        .hardware_slot = false,
        .required = true,
        .abilities = A::kRsaOaep | A::kRsaPss | A::kRsaPssSha384 | A::kRsaPssSha512 |
                     A::kRsaPkcs1Sha224 | A::kRsaRaw | A::kRsaKeyWrap,
    },
    // A TPM 2.0 behind the Platform Crypto Provider: PSS with SHA-1 and SHA-256 only, PKCS#1
    // signatures only with a CNG hash id; raw RSA is TPM2_RSA_Decrypt with the NULL scheme.
    ProviderProfile{
        .provider = MS_PLATFORM_CRYPTO_PROVIDER,
        .store_subdirectory = "platform",
        .token_label = "CNG Platform",
        .slot_description = "Microsoft Platform Crypto Provider (TPM)",
        .manufacturer = "cng-pkcs11",
        .model = "Platform KSP",
        .hardware_slot = true,
        .required = false,
        .abilities = A::kRsaOaep | A::kRsaPss | A::kRsaRaw,
    },
};

}  // namespace

std::span<const ProviderProfile> provider_profiles() noexcept { return kProfiles; }

}  // namespace slots
