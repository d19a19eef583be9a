// The scope PIN's hold on the scope's master key (store/master_key.h, DESIGN.md §4): unless the
// master key is sealed to a TPM, setting a PIN rewraps it under the PIN's key-encryption key
// (the kKek protector), a login unlocks it in the process, a change rewraps it under the new
// KEK, a removal puts it back under the protector a new master key gets (TPM or file), and a
// logout forgets it. A TPM-sealed master key is left alone: the PIN then only gates use.
// `pin remove --force` cannot unwrap it: software keys under a kKek master key stay unusable
// after a forced removal (the price of a forgotten PIN).
#pragma once

#include <functional>

#include "core/secure_bytes.h"
#include "store/key_store.h"

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

}  // namespace cng::api
