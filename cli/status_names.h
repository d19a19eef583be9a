// Names of the SECURITY_STATUS codes declared in ncrypt.h, for error messages.
#pragma once

#include <string>
#include <string_view>

#include "ncrypt.h"

namespace cngkey {

// "NTE_BAD_KEYSET" for a known code, "ERROR_SUCCESS" for 0, empty for anything else.
std::string_view status_name(SECURITY_STATUS status) noexcept;

// "NTE_BAD_KEYSET (0x80090016)"; an unknown code is shown as its hex value alone.
std::string describe_status(SECURITY_STATUS status);

}  // namespace cngkey
