#include "providers/platform/tss_error.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include <array>
#include <cstdio>

namespace cng::tpm {

namespace {

struct TpmCodeStatus {
  TSS2_RC code;
  SECURITY_STATUS status;
};

// TPM response codes (base form, see tpm_base_code) → status. Codes not listed map to
// NTE_INTERNAL_ERROR: they mean we sent something the TPM should never have been sent.
constexpr std::array kTpmCodes = {
    // Authorization.
    TpmCodeStatus{TPM2_RC_AUTH_FAIL, NTE_INCORRECT_PASSWORD},
    TpmCodeStatus{TPM2_RC_BAD_AUTH, NTE_INCORRECT_PASSWORD},
    TpmCodeStatus{TPM2_RC_POLICY_FAIL, NTE_INCORRECT_PASSWORD},
    TpmCodeStatus{TPM2_RC_AUTH_UNAVAILABLE, NTE_PERM},
    TpmCodeStatus{TPM2_RC_HIERARCHY, NTE_PERM},
    TpmCodeStatus{TPM2_RC_DISABLED, NTE_DEVICE_NOT_READY},
    // Dictionary-attack lockout: too many wrong auths (a key's or the scope PIN's), as a
    // smart card's blocked PIN.
    TpmCodeStatus{TPM2_RC_LOCKOUT, SCARD_W_CHV_BLOCKED},
    // Transient conditions.
    TpmCodeStatus{TPM2_RC_RETRY, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_YIELDED, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_TESTING, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_NV_RATE, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_NV_UNAVAILABLE, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_CANCELED, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_INITIALIZE, NTE_DEVICE_NOT_READY},
    TpmCodeStatus{TPM2_RC_FAILURE, NTE_DEVICE_NOT_READY},
    // Out of TPM memory (after eviction and retry failed).
    TpmCodeStatus{TPM2_RC_OBJECT_MEMORY, NTE_NO_MEMORY},
    TpmCodeStatus{TPM2_RC_SESSION_MEMORY, NTE_NO_MEMORY},
    TpmCodeStatus{TPM2_RC_MEMORY, NTE_NO_MEMORY},
    TpmCodeStatus{TPM2_RC_OBJECT_HANDLES, NTE_NO_MEMORY},
    TpmCodeStatus{TPM2_RC_SESSION_HANDLES, NTE_NO_MEMORY},
    TpmCodeStatus{TPM2_RC_NV_SPACE, NTE_NO_MEMORY},
    // Caller data the TPM refuses.
    TpmCodeStatus{TPM2_RC_VALUE, NTE_INVALID_PARAMETER},
    TpmCodeStatus{TPM2_RC_SIZE, NTE_INVALID_PARAMETER},
    TpmCodeStatus{TPM2_RC_ECC_POINT, NTE_INVALID_PARAMETER},
    TpmCodeStatus{TPM2_RC_NO_RESULT, NTE_INVALID_PARAMETER},
    TpmCodeStatus{TPM2_RC_HASH, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_SCHEME, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_KEY_SIZE, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_CURVE, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_SYMMETRIC, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_ASYMMETRIC, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_COMMAND_CODE, NTE_NOT_SUPPORTED},
    TpmCodeStatus{TPM2_RC_ATTRIBUTES, NTE_PERM},
    TpmCodeStatus{TPM2_RC_KEY, NTE_BAD_KEY},
    TpmCodeStatus{TPM2_RC_TYPE, NTE_BAD_KEY},
    // A wrapped key that does not belong to this TPM / parent, or was altered.
    TpmCodeStatus{TPM2_RC_INTEGRITY, NTE_BAD_DATA},
    TpmCodeStatus{TPM2_RC_BINDING, NTE_BAD_DATA},
    TpmCodeStatus{TPM2_RC_SENSITIVE, NTE_BAD_DATA},
    TpmCodeStatus{TPM2_RC_HANDLE, NTE_BAD_KEYSET},
    TpmCodeStatus{TPM2_RC_REFERENCE_H0, NTE_BAD_KEYSET},
};

TSS2_RC layer_of(TSS2_RC rc) noexcept { return rc & TSS2_RC_LAYER_MASK; }
TSS2_RC base_of(TSS2_RC rc) noexcept { return rc & 0xFFFFU; }

bool is_tpm_layer(TSS2_RC rc) noexcept {
  const TSS2_RC layer = layer_of(rc);
  return layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER;
}

// Codes of the software layers (ESAPI, SAPI, MU, TCTI, resource manager).
SECURITY_STATUS status_from_tss_layer(TSS2_RC rc) noexcept {
  switch (base_of(rc)) {
    case TSS2_BASE_RC_MEMORY:
      return NTE_NO_MEMORY;
    case TSS2_BASE_RC_NO_CONNECTION:
    case TSS2_BASE_RC_NO_TPM:
    case TSS2_BASE_RC_NO_CONFIG:
    case TSS2_BASE_RC_INCOMPATIBLE_TCTI:
      return NTE_DEVICE_NOT_FOUND;
    case TSS2_BASE_RC_IO_ERROR:
    case TSS2_BASE_RC_TRY_AGAIN:
    case TSS2_BASE_RC_INSUFFICIENT_RESPONSE:
    case TSS2_BASE_RC_MALFORMED_RESPONSE:
      return NTE_DEVICE_NOT_READY;
    case TSS2_BASE_RC_BAD_VALUE:
    case TSS2_BASE_RC_BAD_SIZE:
    case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
      return layer_of(rc) == TSS2_MU_RC_LAYER ? NTE_BAD_DATA : NTE_INVALID_PARAMETER;
    case TSS2_BASE_RC_NOT_PERMITTED:
      return NTE_PERM;
    case TSS2_BASE_RC_NOT_SUPPORTED:
    case TSS2_BASE_RC_NOT_IMPLEMENTED:
      return NTE_NOT_SUPPORTED;
    default:
      return layer_of(rc) == TSS2_TCTI_RC_LAYER ? NTE_DEVICE_NOT_READY : NTE_INTERNAL_ERROR;
  }
}

}  // namespace

TSS2_RC tpm_base_code(TSS2_RC rc) noexcept {
  if (!is_tpm_layer(rc)) {
    return 0;
  }
  const TSS2_RC code = base_of(rc);
  if ((code & TPM2_RC_FMT1) != 0) {
    return code & (TPM2_RC_FMT1 | 0x3FU);  // drop the parameter/handle/session number
  }
  return code & 0xFFFU;
}

SECURITY_STATUS status_from_tss(TSS2_RC rc) noexcept {
  if (rc == TSS2_RC_SUCCESS) {
    return ERROR_SUCCESS;
  }
  if (!is_tpm_layer(rc)) {
    return status_from_tss_layer(rc);
  }
  const TSS2_RC code = tpm_base_code(rc);
  for (const auto& entry : kTpmCodes) {
    if (entry.code == code) {
      return entry.status;
    }
  }
  return NTE_INTERNAL_ERROR;
}

bool is_transport_error(TSS2_RC rc) noexcept {
  if (rc == TSS2_RC_SUCCESS) {
    return false;
  }
  if (is_tpm_layer(rc)) {
    return tpm_base_code(rc) == TPM2_RC_INITIALIZE;  // restarted TPM: needs TPM2_Startup
  }
  if (layer_of(rc) == TSS2_TCTI_RC_LAYER) {
    return true;
  }
  switch (base_of(rc)) {
    case TSS2_BASE_RC_IO_ERROR:
    case TSS2_BASE_RC_NO_CONNECTION:
    case TSS2_BASE_RC_TRY_AGAIN:
    case TSS2_BASE_RC_INSUFFICIENT_RESPONSE:
    case TSS2_BASE_RC_MALFORMED_RESPONSE:
      return true;
    default:
      return false;
  }
}

bool is_lost_object_error(TSS2_RC rc) noexcept {
  const TSS2_RC code = tpm_base_code(rc);
  return code >= TPM2_RC_REFERENCE_H0 && code <= TPM2_RC_REFERENCE_H6;
}

bool is_object_memory_error(TSS2_RC rc) noexcept {
  const TSS2_RC code = tpm_base_code(rc);
  return code == TPM2_RC_OBJECT_MEMORY || code == TPM2_RC_OBJECT_HANDLES || code == TPM2_RC_MEMORY;
}

void fail_tss(TSS2_RC rc, const std::string& what) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(rc));
  throw TpmError(status_from_tss(rc), rc, what + ": " + Tss2_RC_Decode(rc) + " (" + hex + ")");
}

void check_tss(TSS2_RC rc, const char* what) {
  if (rc != TSS2_RC_SUCCESS) {
    fail_tss(rc, what);
  }
}

}  // namespace cng::tpm
