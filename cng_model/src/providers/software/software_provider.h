// The "Microsoft Software Key Storage Provider" on OpenSSL 3.
#pragma once

#include <memory>

#include "providers/provider.h"

namespace cng {

std::unique_ptr<Provider> make_software_provider();

}  // namespace cng
