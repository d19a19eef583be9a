#include "swtpm_da.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <cstdio>
#include <functional>
#include <memory>

namespace platform_test {

namespace {

struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* tcti) const noexcept { Tss2_TctiLdr_Finalize(&tcti); }
};
struct EsysDeleter {
  void operator()(ESYS_CONTEXT* esys) const noexcept { Esys_Finalize(&esys); }
};
struct FreeDeleter {
  void operator()(void* p) const noexcept { Esys_Free(p); }
};

// Connects, makes sure the TPM is started (TPM2_RC_INITIALIZE: it already was), runs op.
bool with_esys(const std::string& tcti_config, const char* what,
               const std::function<TSS2_RC(ESYS_CONTEXT*)>& op) {
  TSS2_TCTI_CONTEXT* raw_tcti = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti_config.c_str(), &raw_tcti);
  const std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter> tcti(raw_tcti);
  ESYS_CONTEXT* raw_esys = nullptr;
  if (rc == TSS2_RC_SUCCESS) {
    rc = Esys_Initialize(&raw_esys, tcti.get(), nullptr);
  }
  const std::unique_ptr<ESYS_CONTEXT, EsysDeleter> esys(raw_esys);
  if (rc == TSS2_RC_SUCCESS) {
    rc = Esys_Startup(esys.get(), TPM2_SU_CLEAR);
    if ((rc & 0xFFFFU) == TPM2_RC_INITIALIZE) {
      rc = TSS2_RC_SUCCESS;
    }
  }
  if (rc == TSS2_RC_SUCCESS) {
    rc = op(esys.get());
  }
  if (rc != TSS2_RC_SUCCESS) {
    std::fprintf(stderr, "%s on %s: TSS2_RC 0x%x\n", what, tcti_config.c_str(), rc);
  }
  return rc == TSS2_RC_SUCCESS;
}

}  // namespace

bool set_dictionary_attack(const std::string& tcti, std::uint32_t max_tries,
                           std::uint32_t recovery_seconds, std::uint32_t lockout_recovery_seconds) {
  return with_esys(tcti, "TPM2_DictionaryAttackParameters", [&](ESYS_CONTEXT* esys) {
    return Esys_DictionaryAttackParameters(esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                           ESYS_TR_NONE, max_tries, recovery_seconds,
                                           lockout_recovery_seconds);
  });
}

std::optional<DaState> read_dictionary_attack(const std::string& tcti) {
  DaState state;
  bool counter = false;
  bool max = false;
  const bool ok = with_esys(tcti, "TPM2_GetCapability", [&](ESYS_CONTEXT* esys) {
    TPMS_CAPABILITY_DATA* raw = nullptr;
    const TSS2_RC rc =
        Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                           TPM2_PT_LOCKOUT_COUNTER, 2, nullptr, &raw);
    const std::unique_ptr<TPMS_CAPABILITY_DATA, FreeDeleter> data(raw);
    if (rc == TSS2_RC_SUCCESS) {
      const TPML_TAGGED_TPM_PROPERTY& props = data->data.tpmProperties;
      for (UINT32 i = 0; i < props.count; ++i) {
        if (props.tpmProperty[i].property == TPM2_PT_LOCKOUT_COUNTER) {
          state.counter = props.tpmProperty[i].value;
          counter = true;
        } else if (props.tpmProperty[i].property == TPM2_PT_MAX_AUTH_FAIL) {
          state.max_tries = props.tpmProperty[i].value;
          max = true;
        }
      }
    }
    return rc;
  });
  if (!ok || !counter || !max) {
    return std::nullopt;
  }
  return state;
}

bool reset_dictionary_attack(const std::string& tcti) {
  return with_esys(tcti, "TPM2_DictionaryAttackLockReset", [](ESYS_CONTEXT* esys) {
    return Esys_DictionaryAttackLockReset(esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                          ESYS_TR_NONE);
  });
}

}  // namespace platform_test
