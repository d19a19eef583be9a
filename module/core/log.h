// Call tracing to stderr, enabled by CNG_PKCS11_DEBUG (any non-empty value other than "0").
// Never logs attribute values, PINs or data: only function names, return codes and the cause
// text of errors.
#pragma once

#include "pkcs11/pkcs11_all.h"

namespace p11 {

bool log_enabled() noexcept;
// "C_Sign -> 0x00000150 (CKR_BUFFER_TOO_SMALL)"; cause may be null.
void log_call(const char* function, CK_RV rv, const char* cause) noexcept;
const char* rv_name(CK_RV rv) noexcept;

}  // namespace p11
