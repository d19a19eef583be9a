// The per-scope master key that encrypts software keys at rest (the DPAPI analogue,
// shared/DESIGN.md §4), its keyring directory and its protectors.
//
// Where: the keyring of a scope is the directory "<scope dir>.keyring" beside the scope's
// directory (KeyStore::default_dir: $CNG_PKCS11_USER_DIR / $CNG_PKCS11_MACHINE_DIR relocate it
// too), never inside it: a copy of the key directory alone carries no master key. Directory
// 0700, files 0600, the store's owner and mode rules (store_dir.h) apply to both.
//
// Files in the keyring (each written atomically, store_dir.h):
//   master-<32 hex key id>   one master key in its protected form (format below)
//   current                  which master key new writes use, and whether the clear key files
//                            of the store have all been migrated (format below)
//   lock                     flock: writers of key files hold it shared, migration and rekey
//                            exclusive (so no key is written under a master key being retired)
//
// Master key file, version 1 (little-endian; bytes = u32 length + bytes):
//   magic "CNGMKEY\x1a" | u16 version = 1 | u16 flags = 0 | u32 total length
//   bytes key_id (16) | u32 protector | bytes payload | SHA-256 of everything before it
//   payload by protector:
//     kFile       the 32 key bytes (the file's 0600 mode is the only protection)
//     kTpmSealed  TPM2B_PUBLIC || TPM2B_PRIVATE of a TPM2 sealed data object (keyedhash,
//                 no sign/decrypt attributes, userWithAuth, empty auth) created under the
//                 platform provider's storage primary; unsealed with TPM2_Unseal
//     kKek        one or two wrappings, each nonce (12) || AES-256-GCM(KEK, key bytes) (32) ||
//                 tag (16); the AAD is "CNGMKEY-KEK-v1" || key_id. A KEK (32 bytes) comes from
//                 the scope's PIN; any wrapping that a KEK opens unlocks the key.
//     kTpmPin     one or two entries, each bytes check (16) || bytes sealed, where sealed is a
//                 kTpmSealed payload whose object's authValue is HKDF-SHA256(KEK, "CNGMKEY-TPM-
//                 AUTH-v1") (32 bytes, never stored) and which is subject to the TPM's
//                 dictionary-attack lockout (noDA clear); check is HKDF-SHA256(KEK, "CNGMKEY-TPM-
//                 CHECK-v1") (16), which picks the entry a PIN opens without spending a TPM try.
//                 A scope PIN over a TPM-sealed master key gives this protector: the TPM checks
//                 the PIN at TPM2_Unseal and counts every wrong one.
//
// PIN protocol (crash-safe together with the scope's "pin-state" file, store/pin_store.h; the
// pin-state file is the one authority on which PIN is set, every step is one atomic replace).
// "kKek[...]" below stands for the PIN protector: kTpmPin when a TPM answers (the sealer is
// installed), else kKek; likewise "kFile" for the protector of a master key without a PIN
// (kTpmSealed when a TPM answers). The steps, crash cases and recoveries are the same:
//   set:    1. pin-state := new PIN   2. master file := kKek[new]
//           A crash after 1 leaves the PIN set over a kFile master key: the PIN logs in (the key
//           opens without it) and that login finishes step 2.
//   change: 1. verify the old PIN, unlock   2. master file := kKek[old, new]
//           3. pin-state := new PIN         4. master file := kKek[new]
//           Whichever pin-state a crash leaves, its PIN opens one of the two wrappings; the next
//           login with that PIN rewrites the file as kKek[that PIN] (finishing or rolling back).
//           A failure before 3 reports the change failed and leaves the old PIN working.
//   remove: 1. verify, unlock   2. master file := kFile (or TPM-sealed)   3. pin-state removed
//           A crash after 2 leaves the old PIN set: it logs in and its login re-wraps (rollback).
// Change steps 2-3 and remove steps 2-3 run under the keyring's exclusive lock; a login's
// completion takes it too and re-reads pin-state under it, so it never acts between two steps
// of a live operation in another process.
//
// Current file, version 1: magic "CNGMCUR\x1a" | header | bytes key_id (16) | u32 migrated (0/1)
//   | SHA-256.
//
// Rekey protocol (crash-safe: a SIGKILL at any point leaves every key loadable):
//   1. exclusive lock; draw a new master key K2 (fresh id) and write master-<id2>, protected as
//      the current key is (create-exclusive, fsynced). K1 stays.
//   2. re-encrypt every key file under K2, each rewritten atomically (replace-existing): a file
//      names the key id it was written under, so a mix of K1 and K2 files all load.
//   3. rewrite "current" to id2 (atomic): new writes use K2.
//   4. delete every master-<id> other than id2 (no key file references it any more: steps 2-3
//      ran under the exclusive lock). A crash before 4 leaves an unused master file, deleted
//      by the next rekey.
// Migration (first write to a store whose "current" is absent or not migrated): under the
// exclusive lock, create the master key if absent ("current" with migrated = 0), rewrite each
// clear key file encrypted (atomically, one by one), then set migrated = 1. Clear files load
// throughout; an interrupted migration resumes on the next write.
//
// Private data objects (cng_data_store.h) are sealed under the same master key: step 2 of a
// rekey and a migration seal them too (store/data_store_at_rest.h).
//
// In memory: an unprotected master key lives only in a MasterKey (a page of its own, zeroized,
// madvise(MADV_DONTDUMP) where supported: store/secret_page.h), cached per process by
// (keyring, key id).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/secure_bytes.h"

namespace cng::master_key {

inline constexpr std::size_t kKeyBytes = 32;    // AES-256
inline constexpr std::size_t kKeyIdBytes = 16;  // random
inline constexpr std::size_t kKekBytes = 32;    // the PIN-derived key-encryption key
using KeyId = std::array<std::uint8_t, kKeyIdBytes>;

enum class Protector : std::uint32_t { kFile = 1, kTpmSealed = 2, kKek = 3, kTpmPin = 4 };

// "file", "tpm-sealed", "pin", "tpm-pin" (cngkey status).
const char* protector_name(Protector p) noexcept;
// kKek or kTpmPin: the scope's PIN protects the master key.
constexpr bool is_pin_protector(Protector p) noexcept {
  return p == Protector::kKek || p == Protector::kTpmPin;
}

// The TPM's dictionary-attack state (TPM2_GetCapability: TPM_PT_LOCKOUT_COUNTER and
// TPM_PT_MAX_AUTH_FAIL). The TPM is locked out while counter >= max_tries; the counter drops by
// one per TPM_PT_LOCKOUT_INTERVAL, or to 0 by TPM2_DictionaryAttackLockReset (lockout auth). A
// right auth does not lower it.
struct TpmLockout {
  std::uint32_t counter = 0;
  std::uint32_t max_tries = 0;
  [[nodiscard]] bool locked() const noexcept { return counter >= max_tries; }
  [[nodiscard]] std::uint32_t tries_left() const noexcept {
    return locked() ? 0 : max_tries - counter;
  }
};

// An unprotected master key: 32 bytes in a non-dumpable, zeroized page.
class MasterKey {
 public:
  virtual ~MasterKey() = default;
  [[nodiscard]] virtual const KeyId& id() const noexcept = 0;
  [[nodiscard]] virtual std::span<const std::uint8_t, kKeyBytes> bytes() const noexcept = 0;
};

// Seals and unseals master keys to a TPM (implemented by the platform provider, which owns the
// TPM connection and the storage primary). Installed once per process when a TPM answers.
class TpmSealer {
 public:
  virtual ~TpmSealer() = default;
  // TPM2B_PUBLIC || TPM2B_PRIVATE of a sealed data object holding secret, with auth as its
  // authValue (at most 32 bytes). An empty auth gives a noDA object; any other is under the
  // TPM's dictionary-attack protection.
  [[nodiscard]] virtual Bytes seal(std::span<const std::uint8_t> secret,
                                   std::span<const std::uint8_t> auth) = 0;
  // The sealed secret; NTE_BAD_KEY_STATE when this TPM cannot unseal it (another TPM). With a
  // non-empty auth: NTE_INCORRECT_PASSWORD when the TPM refuses it (counted by the TPM) and
  // SCARD_W_CHV_BLOCKED in lockout (tss_error.h maps both).
  [[nodiscard]] virtual SecureBytes unseal(std::span<const std::uint8_t> sealed,
                                           std::span<const std::uint8_t> auth) = 0;
  [[nodiscard]] virtual TpmLockout lockout() = 0;
};
// How the keyring reaches the TPM: factory is called once per process, the first time a
// master key is created or a sealed one is opened, and returns the sealer of the TPM on the
// configured TCTI, or nullptr when none answers (then new master keys use the file protector).
void set_tpm_sealer_factory(std::function<std::shared_ptr<TpmSealer>()> factory);

// What `cngkey status` shows about a scope.
struct Status {
  std::optional<KeyId> current;  // nullopt: no master key yet (the store is still clear)
  Protector protector = Protector::kFile;
  std::filesystem::path file;  // the current master key's file
  bool migrated = false;
  bool unlocked = false;      // the current master key is available in this process
  std::size_t kek_wraps = 0;  // kKek, kTpmPin: how many PIN wrappings its file holds (2 mid-change)
};

// The "current" file: the master key new writes use, and whether migration finished.
struct CurrentKey {
  KeyId id{};
  bool migrated = false;
};

// One scope's keyring. Cheap to construct; every method does its own I/O. Thread-safe.
class Keyring {
 public:
  // The keyring of a scope directory: "<scope dir>.keyring".
  static std::filesystem::path dir_for(const std::filesystem::path& scope_dir);
  explicit Keyring(std::filesystem::path dir);
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

  [[nodiscard]] Status status() const;
  // The "current" file; nullopt when the keyring has no master key yet.
  [[nodiscard]] std::optional<CurrentKey> current() const;
  // The master key named id (from the process cache, else its file). NTE_BAD_KEY_STATE with a
  // cause when it is missing (store moved without its keyring), sealed to another TPM, or
  // PIN-protected and not unlocked; NTE_PERM when its file is not trusted.
  [[nodiscard]] std::shared_ptr<const MasterKey> get(const KeyId& id) const;
  // The current master key, creating it (TPM-sealed when a sealer is installed, else file)
  // when the keyring has none. Does not migrate (KeyStore does, see above). The caller holds
  // the exclusive lock when it may create (as for set_migrated, begin_rekey, commit_rekey).
  [[nodiscard]] std::shared_ptr<const MasterKey> current_or_create() const;
  // Marks the current master key's store as fully migrated.
  void set_migrated() const;
  // Writes a new master key (protected as the current one) and returns it; "current" is not
  // changed (rekey steps 1 and 3 are separate: see commit_rekey).
  [[nodiscard]] std::shared_ptr<const MasterKey> begin_rekey() const;
  // Rekey steps 3 and 4: current := id (migrated), other master files deleted.
  void commit_rekey(const KeyId& id) const;

  // PIN protection (the KEK is derived from the scope's PIN by the caller). The current master
  // key (created if absent) is rewrapped under kek: its file is replaced atomically by a kTpmPin
  // one when a TPM answers, else a kKek one (the clear or empty-auth sealed form is gone). Keys
  // need no re-encryption. In what follows "kKek" includes kTpmPin.
  void protect_with_kek(std::span<const std::uint8_t, kKekBytes> kek) const;
  // Unwraps every kKek master key of the keyring into the process cache. NTE_INCORRECT_PASSWORD
  // when kek does not open the current one (nothing cached); kTpmPin: the TPM checks, and
  // counts, the PIN-derived auth (SCARD_W_CHV_BLOCKED while it is locked out).
  void unlock_with_kek(std::span<const std::uint8_t, kKekBytes> kek) const;
  // Rewrites the current master key (unlocked in this process, kFile or kKek) as kKek with one
  // wrapping per KEK (1 or 2, PIN protocol above); the last KEK becomes the process's KEK.
  void wrap_with_keks(std::span<const std::span<const std::uint8_t, kKekBytes>> keks) const;
  // The TPM's dictionary-attack state when the current master key is kTpmPin; else nullopt.
  [[nodiscard]] std::optional<TpmLockout> tpm_lockout() const;
  // Forgets this keyring's unprotected master keys in this process (logout).
  void lock() const;
  // The scope's PIN is removed: the current kKek master key (unlocked in this process) is
  // rewrapped as a new master key would be (TPM-sealed when a sealer is installed, else the
  // file protector), its file replaced atomically; the KEK is forgotten. No-op unless kKek.
  void remove_kek_protection() const;

  // The advisory lock of the keyring (rekey and migration exclusive, writers shared).
  class Lock;
  [[nodiscard]] std::unique_ptr<Lock> acquire(bool exclusive) const;

 private:
  std::filesystem::path dir_;
};

class Keyring::Lock {
 public:
  explicit Lock(int fd) noexcept : fd_(fd) {}
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock();

 private:
  int fd_;
};

// AES-256-GCM with a fresh 96-bit nonce: nonce || ciphertext || tag (16).
SecureBytes seal(std::span<const std::uint8_t, kKeyBytes> key, std::span<const std::uint8_t> plain,
                 std::span<const std::uint8_t> aad);
// The inverse; NTE_BAD_DATA when the tag does not verify (wrong key, name or header).
SecureBytes open(std::span<const std::uint8_t, kKeyBytes> key, std::span<const std::uint8_t> sealed,
                 std::span<const std::uint8_t> aad);

}  // namespace cng::master_key
