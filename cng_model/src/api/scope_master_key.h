// The scope PIN's hold on the scope's master key (store/master_key.h, DESIGN.md §4): setting a
// PIN rewraps it under the PIN's key-encryption key (kKek), or, when a TPM
// answers, reseals it to the TPM with an authValue derived from that KEK (kTpmPin: the TPM checks
// the PIN and its dictionary-attack lockout counts wrong ones); a login unlocks it in the
// process, a change rewraps it under the new KEK, a removal puts it back under the protector a
// new master key gets (TPM-sealed without auth, or file), and a logout forgets it.
// `pin remove --force` cannot unwrap it: software keys under a kKek or kTpmPin master key stay
// unusable after a forced removal (the price of a forgotten PIN). A TPM lockout ends by the
// TPM's own recovery (one failure forgiven per lockout interval) or its lockout-auth holder.
#pragma once

#include <functional>
#include <optional>

#include "core/secure_bytes.h"
#include "store/key_store.h"
#include "store/master_key.h"

namespace cng::api {

void protect_master_key(Scope scope, const SecureBytes& kek);
void unlock_master_key(Scope scope, const SecureBytes& kek);
// PIN change steps 2 and 3 (store/master_key.h) under the keyring's exclusive lock: the master
// key wrapped under both KEKs, then switch_pin() (the pin-state write).
void wrap_master_key_twice(Scope scope, const SecureBytes& old_kek, const SecureBytes& new_kek,
                           const std::function<void()>& switch_pin);
// After a verified PIN (login, change): a master key left mid-protocol by a crash (kFile under a
// set PIN, or two wrappings) becomes kKek under this PIN's KEK alone.
void finish_master_key(Scope scope, const SecureBytes& kek);
// PIN removal steps 2 and 3 under the keyring's exclusive lock: the master key back under the
// file (or TPM) protector, then remove_pin() (the pin-state removal).
void release_master_key(Scope scope, const SecureBytes& kek,
                        const std::function<void()>& remove_pin);
void lock_master_key(Scope scope) noexcept;
// PinStore's presenter (pin_store.h): with a kTpmPin master key, a PIN's KEK goes to the TPM
// whether or not it matches the verifier. A matching PIN unlocks the master key (the TPM
// refusing it gives SCARD_W_WRONG_CHV); a wrong one is refused and counted by the TPM; in
// lockout both give SCARD_W_CHV_BLOCKED. No-op for other protectors.
void present_pin_to_tpm(Scope scope, const SecureBytes& kek, bool matches);
// The TPM's dictionary-attack state when the scope's master key is kTpmPin and the TPM answers.
std::optional<master_key::TpmLockout> master_key_tpm_lockout(Scope scope) noexcept;

}  // namespace cng::api
