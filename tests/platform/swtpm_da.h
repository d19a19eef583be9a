// The dictionary-attack (DA) state of a swtpm, through an ESYS context of its own: the tests'
// oracle for the TPM's lockout counter, and their way to set the DA parameters with the empty
// lockout auth a fresh swtpm has. Call only while no other client holds the simulator's
// connection (swtpm serves one at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace platform_test {

struct DaState {
  std::uint32_t counter = 0;    // TPM_PT_LOCKOUT_COUNTER
  std::uint32_t max_tries = 0;  // TPM_PT_MAX_AUTH_FAIL
};

// TPM2_DictionaryAttackParameters(maxTries, recoveryTime, lockoutRecovery) on the TPM at tcti;
// false (with a message on stderr) when the TPM refuses or does not answer.
bool set_dictionary_attack(const std::string& tcti, std::uint32_t max_tries,
                           std::uint32_t recovery_seconds, std::uint32_t lockout_recovery_seconds);
// TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_LOCKOUT_COUNTER, 2); nullopt on failure.
std::optional<DaState> read_dictionary_attack(const std::string& tcti);
// TPM2_DictionaryAttackLockReset (the lockout auth is empty).
bool reset_dictionary_attack(const std::string& tcti);

}  // namespace platform_test
