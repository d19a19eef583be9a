// Call tracing to stderr, enabled by CNG_PKCS11_DEBUG (any non-empty value other than "0"):
// one line per C_* call with its arguments (core/trace_args.h), its CK_RV and the cause text of
// an error. Never logs attribute values, PINs or data: handles, lengths, types, addresses.
#pragma once

#include <string>

#include "pkcs11/pkcs11_all.h"

namespace p11 {

bool log_enabled() noexcept;
// "C_Sign -> 0x00000150 (CKR_BUFFER_TOO_SMALL)"; cause may be null.
void log_call(const char* function, CK_RV rv, const char* cause) noexcept;
// "C_Sign(1, 0x5617c0, 32, 0x5617f0, 0x7ffc10) -> 0x00000000 (CKR_OK)"; args as formatted by
// trace::format_args.
void log_call(const char* function, const std::string& args, CK_RV rv, const char* cause) noexcept;
const char* rv_name(CK_RV rv) noexcept;

}  // namespace p11
