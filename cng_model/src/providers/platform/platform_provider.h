// The "Microsoft Platform Crypto Provider" on a TPM 2.0 (TPM2-TSS ESAPI).
#pragma once

#include <memory>
#include <string>

#include "providers/provider.h"
#include "store/master_key.h"

namespace cng {

// The TCTI configuration: $CNG_PKCS11_TCTI (a TSS TCTI string such as
// "swtpm:host=127.0.0.1,port=2321"), else "device:/dev/tpmrm0" (the kernel resource manager).
std::string default_tcti_config();

// Connects to the TPM. CngError(NTE_DEVICE_NOT_FOUND) when no TPM answers there (TCTI
// initialisation, TPM2_Startup or TPM2_GetCapability fails).
std::unique_ptr<Provider> make_platform_provider();
std::unique_ptr<Provider> make_platform_provider(const std::string& tcti_config);

// The sealer of the software keys' master keys on this platform provider's TPM (sharing its
// connection: one client per TPM). NTE_INVALID_PARAMETER when provider is not one.
std::shared_ptr<master_key::TpmSealer> master_key_sealer(Provider& provider);

}  // namespace cng
