// The TPM protector of the software keys' master key (store/master_key.h): the master key as a
// TPM2 sealed data object under the platform provider's storage parent.
#pragma once

#include <memory>

#include "providers/platform/tpm_connection.h"
#include "store/master_key.h"

namespace cng::tpm {

std::shared_ptr<master_key::TpmSealer> make_tpm_sealer(std::shared_ptr<TpmConnection> connection);

}  // namespace cng::tpm
