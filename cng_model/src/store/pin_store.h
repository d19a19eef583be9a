// PinStore: the optional PIN of one scope (shared/DESIGN.md §2), kept in the scope directory's
// "pin-state" file (pin_file.h) with the key files' rules (store_dir.h: 0600, O_NOFOLLOW,
// atomic replace, StrictModes).
//
// Failure counting survives restarts and is shared by every process: a check takes an
// exclusive flock on "pin-state.lock", re-reads the file, refuses when locked, writes the
// counter + 1, releases the lock, and only then runs scrypt. A process killed during the
// expensive check has already spent its attempt. A correct PIN resets the counter (if the PIN
// was not changed meanwhile). After max_failures consecutive wrong PINs the scope is locked:
// no PIN is checked any more; the recovery is remove_force() (cngkey pin remove --force), which
// only the owner of the store can run (StrictModes already refuse everyone else).
// When the scope's master key is sealed to the TPM under the PIN (master_key.h, kTpmPin), the
// presenter (set_presenter) hands every derived KEK, right or wrong, to the TPM before the
// verdict: the TPM counts wrong PINs in its dictionary-attack counter and, in lockout, refuses
// the right one too (SCARD_W_CHV_BLOCKED). Both counters then apply and the lock is whichever
// comes first: ours (max_failures, reset by a right PIN, cleared by remove_force) or the TPM's
// (TPM_PT_MAX_AUTH_FAIL, not reset by a right PIN, lowered by one per TPM_PT_LOCKOUT_INTERVAL
// or cleared by the TPM's lockout-auth holder with TPM2_DictionaryAttackLockReset; it survives
// restarts of every process and any copy or restore of the pin-state file). The TPM's counter is
// the whole TPM's: other DA-protected objects' wrong auths count in it too. While the TPM is
// locked out, attempts still count in ours (each is charged before the TPM answers); with
// Windows-like DA parameters (32 tries) ours locks first in normal use, and the TPM's lock
// matters when the pin-state file is rolled back.
// Throws CngError: SCARD_W_WRONG_CHV (wrong PIN), SCARD_W_CHV_BLOCKED (locked), NTE_EXISTS
// (set when a PIN is set), NTE_NOT_FOUND (no PIN), NTE_INVALID_PARAMETER (a new PIN's length),
// NTE_BAD_DATA (damaged file), NTE_PERM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include "core/secure_bytes.h"

namespace cng {

inline constexpr std::size_t kMinPinBytes = 4;
inline constexpr std::size_t kMaxPinBytes = 255;

struct PinState {
  bool pin_set = false;
  std::uint32_t failures = 0;
  std::uint32_t attempts_left = 0;
  std::uint32_t max_failures = 0;
  bool locked = false;
};

class PinStore {
 public:
  // dir: the scope directory; scope_root: the directory whose ancestors are trusted
  // (scope_root_dir()).
  PinStore(std::filesystem::path dir, std::filesystem::path scope_root)
      : dir_(std::move(dir)), scope_root_(std::move(scope_root)) {}

  // Cached per directory while the pin-state file is unchanged (one lstat; pin_store.cpp).
  [[nodiscard]] PinState state() const;
  // Called in verify() after the PIN's derivation with its KEK and whether it matches the
  // stored verifier, before the verdict; it may throw (its error is the verify's).
  using Presenter = std::function<void(const SecureBytes& kek, bool matches)>;
  void set_presenter(Presenter presenter) { presenter_ = std::move(presenter); }
  // Sets the first PIN; returns its key-encryption key.
  SecureBytes set(std::string_view pin);
  // Checks the PIN (counted, see above); returns its key-encryption key.
  SecureBytes verify(std::string_view pin);
  // Checks old_pin (counted), derives the new PIN's KEK, then calls switch_under(old KEK, new KEK,
  // write) where write() replaces the PIN (one atomic write): the caller makes the master key
  // open under both KEKs first (store/master_key.h, PIN protocol). When switch_under throws
  // before write(), the old PIN stays. Returns the new KEK.
  using SwitchUnder =
      std::function<void(const SecureBytes&, const SecureBytes&, const std::function<void()>&)>;
  SecureBytes change(std::string_view old_pin, std::string_view new_pin,
                     const SwitchUnder& switch_under);
  // Checks the PIN (counted), then removes it. Returns its KEK.
  SecureBytes remove(std::string_view pin);
  // Removes the PIN state without a PIN (also when locked); false when there was none.
  bool remove_force();
  // Runs fn under the scope's PIN lock, the one every counted check takes: a key's own
  // password counts its failures in its key file under it (api/key_password.h). The scope
  // directory must exist.
  void run_locked(const std::function<void()>& fn) const;

 private:
  std::filesystem::path dir_;
  std::filesystem::path scope_root_;
  Presenter presenter_;
};

}  // namespace cng
