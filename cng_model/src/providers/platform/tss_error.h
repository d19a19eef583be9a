// The TSS2 error space (TPM response codes and TSS layer codes) mapped onto SECURITY_STATUS.
// TpmError keeps the original TSS2_RC so that the connection can tell a broken transport
// (reconnect and retry) or full object memory (evict and retry) from a refused command.
#pragma once

#include <tss2/tss2_common.h>

#include <string>

#include "core/cng_error.h"

namespace cng::tpm {

class TpmError : public CngError {
 public:
  TpmError(SECURITY_STATUS status, TSS2_RC rc, const std::string& cause)
      : CngError(status, cause), rc_(rc) {}
  [[nodiscard]] TSS2_RC rc() const noexcept { return rc_; }

 private:
  TSS2_RC rc_;
};

// The one mapping table: a TSS2_RC (any layer) → the NTE_* status reported to callers.
SECURITY_STATUS status_from_tss(TSS2_RC rc) noexcept;

// The TPM cannot be reached or answered garbage: the TCTI failed, the response was cut
// short, or the TPM was restarted and needs TPM2_Startup. A reconnect may cure it.
bool is_transport_error(TSS2_RC rc) noexcept;
// The TPM no longer holds an object we loaded (TPM2_RC_REFERENCE_H*): it was restarted, or
// someone else flushed it.
bool is_lost_object_error(TSS2_RC rc) noexcept;
// The TPM has no free transient object slot (TPM2_RC_OBJECT_MEMORY and relatives).
bool is_object_memory_error(TSS2_RC rc) noexcept;
// A TPM response code with its layer and parameter/handle/session number stripped,
// e.g. TPM2_RC_VALUE for "parameter 2: value is out of range"; 0 for non-TPM layers.
TSS2_RC tpm_base_code(TSS2_RC rc) noexcept;

// Throws TpmError(status_from_tss(rc), what + decoded rc) unless rc is TSS2_RC_SUCCESS.
void check_tss(TSS2_RC rc, const char* what);
[[noreturn]] void fail_tss(TSS2_RC rc, const std::string& what);

}  // namespace cng::tpm
