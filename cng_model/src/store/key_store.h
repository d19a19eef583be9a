// KeyStore: one scope's directory of key files (shared/DESIGN.md §4).
//
// - One file per key, named from a hash of the UTF-16LE key name; the name is stored inside.
// - Writes are atomic and durable (temp file, fsync, rename / create-exclusive link, dir fsync):
//   after a crash each key is either whole or absent.
// - Files 0600, directory 0700, opened with O_NOFOLLOW.
// - A corrupt or truncated file fails only for that key (NTE_BAD_DATA); listing skips it.
// - Permission problems surface as NTE_PERM ("Access denied") and nothing is written.
// - Key names are compared exactly (case-sensitive): the file name is the first 128 bits of
//   SHA-256 over the UTF-16LE name, as 32 lowercase hex digits.
// Every method may also throw NTE_PERM when the directory cannot be searched, and other
// errno-mapped statuses (e.g. NTE_TOKEN_KEYSET_STORAGE_FULL for ENOSPC) on I/O failure.
// Thread-safe; many processes may use one directory at once.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cng_key_listing.h"
#include "store/key_record.h"
#include "store/master_key.h"

namespace cng {

enum class Scope { kUser, kMachine };

// A key file that listing leaves out.
struct KeyFileIssue {
  std::string file;      // its name in the store directory
  bool refused = false;  // true: not trusted (owner or mode); false: damaged (cannot be parsed)
  std::string reason;    // "owned by uid 1000, not 0", "mode 0644 (…)", or the parse error
};

class KeyStore {
 public:
  KeyStore(std::filesystem::path dir, Scope scope);

  // At-rest protection (store/master_key.h): from now on every write seals the private blob
  // under the scope's master key in the keyring "<dir>.keyring", migrating the store's clear
  // key files first (on the first write); load() opens sealed blobs. Without it (the platform
  // provider's store, whose blobs are TPM-wrapped) blobs are written as given.
  void protect_at_rest();
  [[nodiscard]] const std::optional<master_key::Keyring>& keyring() const noexcept {
    return keyring_;
  }
  struct ProtectionCounts {
    unsigned encrypted = 0;
    unsigned clear = 0;
  };
  // How many well-formed key files are sealed / still clear.
  [[nodiscard]] ProtectionCounts protection_counts() const;
  // Migrates the store's clear key files now (what the first write does).
  void migrate() const;
  // A new master key, every key file re-encrypted under it (the protocol in master_key.h).
  // NTE_BAD_KEY_STATE (nothing retired) when a key's current master key is unavailable.
  void rekey() const;

  // $CNG_PKCS11_USER_DIR or ${XDG_DATA_HOME:-$HOME/.local/share}/cng-pkcs11 (user);
  // $CNG_PKCS11_MACHINE_DIR or /var/lib/cng-pkcs11 (machine).
  static std::filesystem::path default_dir(Scope scope);

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] Scope scope() const noexcept { return scope_; }

  // The file name a key name maps to (also reported as the "Unique Name" property).
  static std::string file_name_for(std::u16string_view key_name);
  // Whether a directory entry has the shape of a key file's name.
  static bool is_key_file_name(std::string_view name) noexcept;

  // Whether a file is at the key's path (even a corrupt one, which still blocks a create
  // without overwrite until it is removed or overwritten).
  [[nodiscard]] bool exists(std::u16string_view key_name) const;
  // Creates the key file. Without overwrite, NTE_EXISTS when a key of that name exists
  // (checked atomically: of two racing creators exactly one wins).
  // NTE_INVALID_PARAMETER (nothing written) when the record exceeds key_file.h's limits.
  // Creates the directory (and parents) 0700 when missing.
  void store(const KeyRecord& record, bool overwrite);
  // Atomically replaces an existing key's file (properties changed after finalize);
  // NTE_BAD_KEYSET when absent (never recreates a key deleted meanwhile).
  void update(const KeyRecord& record);
  // NTE_BAD_KEYSET when absent, NTE_BAD_DATA when corrupt, NTE_PERM when unreadable or not
  // trusted (owner or mode, store_dir.h).
  [[nodiscard]] KeyRecord load(std::u16string_view key_name) const;
  // NTE_BAD_KEYSET when absent, NTE_PERM when not allowed.
  void remove(std::u16string_view key_name);
  // Every readable, well-formed key in the scope, sorted by name (empty when the directory
  // does not exist; NTE_PERM when it may not be read). Reads each file once. With issues, the
  // key files left out (damaged or refused) are reported there, sorted by file name.
  // Served from the directory's listing index (listing_cache.h): files are read only when
  // new or changed; with issues, every file's identity is checked (readdir + fstatat).
  [[nodiscard]] std::vector<KeyListing> list(std::vector<KeyFileIssue>* issues = nullptr) const;
  // The same keys with every persisted field except the private blob (left empty), from the
  // listing index: no private material is read for keys listed before.
  [[nodiscard]] std::vector<KeyRecord> list_records() const;
  // The same as the bulk listing's struct (cng_key_listing.h; public_blob_type left empty),
  // sorted by name: no KeyRecord is built on the way.
  [[nodiscard]] std::vector<KeyStoreListing> list_summaries() const;
  // The issue of one key's file, nullopt when it is absent or fine.
  [[nodiscard]] std::optional<KeyFileIssue> issue_of(std::u16string_view key_name) const;
  // True when this process may create files in the store (creating the directory if needed).
  [[nodiscard]] bool writable() const;
  // The same check, throwing the status of the failure: NTE_PERM when the process may not
  // write, the errno-mapped status (NTE_TOKEN_KEYSET_STORAGE_FULL, NTE_SYS_ERR) otherwise.
  void check_writable() const;

 private:
  // Encodes the record for disk (sealed when protected) and hands the bytes to write, under
  // the keyring's lock (key_store_at_rest.cpp).
  void write_record(const KeyRecord& record,
                    const std::function<void(std::span<const std::uint8_t>)>& write) const;
  // Opens a sealed private blob in place (or records why it cannot be: private_status).
  // false: the master key named is gone, maybe retired by a concurrent rekey (read again).
  bool open_private(KeyRecord& record) const;
  // Migration under the exclusive keyring lock; returns the current master key.
  std::shared_ptr<const master_key::MasterKey> migrate_locked() const;

  std::filesystem::path dir_;
  Scope scope_;
  std::optional<master_key::Keyring> keyring_;
};

// The scope's directory (KeyStore::default_dir), whose own owner and mode guard every store
// beneath it (store_dir.h); empty when it cannot be determined.
std::filesystem::path scope_root_dir(bool machine);

// The directory of one of the scope's object stores kept beside the keys (leaf "certs" or
// "data") in a provider's store subdirectory of the scope directory ("platform" for the
// platform provider, empty for the software one), so each slot shows only its own objects.
std::filesystem::path object_store_dir(bool machine, std::string_view provider_subdirectory,
                                       std::string_view leaf);

}  // namespace cng
