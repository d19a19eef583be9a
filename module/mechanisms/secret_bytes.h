// SecretBytes for the mechanism layer: the module's one wiping byte vector (bridge/bytes.h).
#pragma once

#include "bridge/bytes.h"

namespace p11::mech {

using p11::SecretBytes;

}  // namespace p11::mech
