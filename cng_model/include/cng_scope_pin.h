// cng_scope_pin.h: the optional PIN of a key scope (shared/DESIGN.md §2), for the PKCS#11
// module and cngkey. Not part of ncrypt.h (Windows has no such calls). C++ only.
//
// A scope (dwFlags: 0 = user, NCRYPT_MACHINE_KEY_FLAG = machine) has no PIN by default. With
// one, its state lives in the scope directory's "pin-state" file: scrypt parameters, salt, a
// hash of the verifier half of scrypt(PIN) and the failure counter. The PIN itself is never
// written. PINs are UTF-8, 4..255 bytes (NTE_INVALID_PARAMETER otherwise when setting one).
//
// Logging a scope in is NCryptSetProperty(hProvider, NCRYPT_PIN_PROPERTY, pin, cb, dwFlags),
// as with the Windows smart-card KSP: pin is UTF-16 (a terminating NUL is dropped), dwFlags may
// carry NCRYPT_MACHINE_KEY_FLAG to name the machine scope (an extension: Windows has one card
// per provider handle). cbInput = 0 logs the scope out of this process. Results:
//   ERROR_SUCCESS        the PIN is right (or the scope has no PIN): the scope is logged in
//   SCARD_W_WRONG_CHV    wrong PIN; the failure is counted (also across processes)
//   SCARD_W_CHV_BLOCKED  max_failures wrong PINs in a row: the scope is locked, no PIN is
//                        checked any more. Recovery: CngForceRemoveScopePin (cngkey pin remove
//                        --force), which only the OS account owning the store can do.
// Why the smart-card codes: the scope PIN behaves as a card PIN does (a counted retry budget
// and a blocked state), which TPM_E_AUTHFAIL (the PCP's answer, with dictionary-attack lockout
// timing instead of a retry budget) does not describe.
// Every check counts before the expensive scrypt: a killed process has spent its attempt.
// When the scope's master key is sealed to a TPM, the PIN is also the sealed object's auth
// (store/master_key.h): the TPM counts every wrong PIN in its dictionary-attack counter and its
// lockout (SCARD_W_CHV_BLOCKED) outlives restarts and file restores; ScopePinStatus then shows
// whichever of the two counters is closer to locking. A TPM lockout ends by the TPM's recovery
// interval or its lockout-auth holder, not by CngForceRemoveScopePin.
#pragma once

#include <cstdint>
#include <span>

#include "ncrypt.h"

namespace cng {

struct ScopePinStatus {
  bool pin_set = false;
  bool locked = false;      // attempts_left == 0
  DWORD failures = 0;       // consecutive wrong PINs
  DWORD attempts_left = 0;  // before the lock
  DWORD max_failures = 0;   // the lockout threshold
  DWORD min_length = 0;     // of a new PIN, in bytes
  DWORD max_length = 0;
  bool logged_in = false;  // this process gave the right PIN since the last logout
};

using PinBytes = std::span<const std::uint8_t>;

SECURITY_STATUS CngGetScopePinStatus(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                     ScopePinStatus* status) noexcept;
// Sets the first PIN (NTE_EXISTS when one is set). The scope stays logged in.
SECURITY_STATUS CngSetScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes pin) noexcept;
// Checks old_pin (counted: SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED), then sets new_pin.
// NTE_NOT_FOUND when no PIN is set.
SECURITY_STATUS CngChangeScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes old_pin,
                                  PinBytes new_pin) noexcept;
// Checks the PIN (counted), then removes it: the scope is back to no PIN.
SECURITY_STATUS CngRemoveScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                  PinBytes pin) noexcept;
// Removes the PIN without checking it, also a locked one (the recovery of the store's owner).
// NTE_NOT_FOUND when no PIN is set.
SECURITY_STATUS CngForceRemoveScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags) noexcept;
// Logs the scope in with a UTF-8 PIN (as NCryptSetProperty with NCRYPT_PIN_PROPERTY, which
// takes UTF-16): the form PKCS#11 and cngkey hold, so their callers convert nothing. A PIN
// that is not UTF-8 cannot be the scope's: SCARD_W_WRONG_CHV without spending an attempt.
SECURITY_STATUS CngLoginScope(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes pin) noexcept;

}  // namespace cng
