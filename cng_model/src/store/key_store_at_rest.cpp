// KeyStore's at-rest protection (key_store.h, store/master_key.h): sealing on write, opening on
// load, migration of clear stores, rekey.
#include "core/cng_error.h"
#include "store/data_store_at_rest.h"
#include "store/key_file.h"
#include "store/key_store.h"
#include "store/store_dir.h"

namespace cng {

namespace {

using master_key::MasterKey;
using store_io::StoreDirectory;
using store_io::WriteMode;

KeyRecord sealed_copy(const KeyRecord& record, const MasterKey& key) {
  KeyRecord out = record;
  out.protection = KeyRecord::Protection::kSealed;
  out.master_key_id = key.id();
  out.private_blob = master_key::seal(key.bytes(), record.private_blob, key_file::private_aad(out));
  return out;
}

// Opens a sealed record with key in place (NTE_BAD_DATA when it does not authenticate).
void open_with(KeyRecord& record, const MasterKey& key) {
  record.private_blob =
      master_key::open(key.bytes(), record.private_blob, key_file::private_aad(record));
}

// Rewrites every well-formed key file of dir for which rewrite() returns a record to write
// (atomically, replace-existing: a key deleted meanwhile stays deleted). Damaged files are left.
template <class Rewrite>
void rewrite_all(const std::filesystem::path& dir_path, const std::filesystem::path& root,
                 Rewrite rewrite) {
  auto dir = StoreDirectory::open(dir_path, false, root);
  if (!dir.is_open()) {
    return;
  }
  SecureBytes bytes;
  for (const auto& entry : dir.names(&KeyStore::is_key_file_name)) {
    KeyRecord record;
    try {
      if (!dir.read(entry.name, key_file::kMaxFileBytes, bytes, entry.known_regular)) {
        continue;
      }
      record = key_file::decode(bytes);
      if (KeyStore::file_name_for(record.name) != entry.name) {
        continue;  // misplaced: not this key's file
      }
    } catch (const CngError&) {
      continue;  // damaged or refused: listing reports it; nothing to re-encrypt
    }
    if (const auto out = rewrite(record)) {
      (void)dir.write(entry.name, key_file::encode(*out), WriteMode::kReplaceExisting);
    }
  }
}

}  // namespace

void KeyStore::protect_at_rest() { keyring_.emplace(master_key::Keyring::dir_for(dir_)); }

void KeyStore::write_record(const KeyRecord& record,
                            const std::function<void(std::span<const std::uint8_t>)>& write) const {
  // A record whose private part could not be opened has none to write back.
  if (record.private_status != 0) {
    fail(record.private_status, record.private_cause);
  }
  if (!keyring_) {
    if (record.protection == KeyRecord::Protection::kClear) {
      write(key_file::encode(record));
    } else {  // a record load() opened, written to a store without at-rest protection
      KeyRecord clear = record;
      clear.protection = KeyRecord::Protection::kClear;
      clear.master_key_id = {};
      write(key_file::encode(clear));
    }
    return;
  }
  {
    const auto lock = keyring_->acquire(false);
    if (const auto current = keyring_->current(); current && current->migrated) {
      write(key_file::encode(sealed_copy(record, *keyring_->get(current->id))));
      return;
    }
  }
  const auto lock = keyring_->acquire(true);
  const auto key = migrate_locked();
  write(key_file::encode(sealed_copy(record, *key)));
}

bool KeyStore::open_private(KeyRecord& record) const {
  if (record.protection != KeyRecord::Protection::kSealed) {
    return true;
  }
  if (!keyring_) {
    record.private_blob.clear();
    record.private_status = NTE_BAD_KEY_STATE;
    record.private_cause = "the key is encrypted at rest and this store has no keyring";
    return true;
  }
  std::shared_ptr<const MasterKey> key;
  try {
    key = keyring_->get(record.master_key_id);
  } catch (const CngError& e) {
    if (e.status() != NTE_BAD_KEY_STATE && e.status() != NTE_PERM) {
      throw;
    }
    record.private_blob.clear();
    record.private_status = e.status();
    record.private_cause = std::string("cannot decrypt the key: ") + e.what();
    return false;
  }
  open_with(record, *key);  // NTE_BAD_DATA: moved or edited, reported as a damaged file
  return true;
}

std::shared_ptr<const MasterKey> KeyStore::migrate_locked() const {
  auto key = keyring_->current_or_create();
  const auto current = keyring_->current();
  if (current && current->migrated) {
    return key;
  }
  rewrite_all(dir_, scope_root_dir(scope_ == Scope::kMachine),
              [&](const KeyRecord& record) -> std::optional<KeyRecord> {
                if (record.protection == KeyRecord::Protection::kSealed) {
                  return std::nullopt;
                }
                return sealed_copy(record, *key);
              });
  // The scope's private data objects still in clear files are sealed too.
  data_at_rest::seal_all(dir_, scope_root_dir(scope_ == Scope::kMachine), *keyring_, *key, false);
  keyring_->set_migrated();
  return key;
}

void KeyStore::migrate() const {
  require(keyring_.has_value(), NTE_NOT_SUPPORTED, "this store is not protected at rest");
  const auto lock = keyring_->acquire(true);
  (void)migrate_locked();
}

void KeyStore::rekey() const {
  require(keyring_.has_value(), NTE_NOT_SUPPORTED, "this store is not protected at rest");
  const auto lock = keyring_->acquire(true);
  (void)migrate_locked();
  const auto next = keyring_->begin_rekey();
  rewrite_all(dir_, scope_root_dir(scope_ == Scope::kMachine),
              [&](KeyRecord record) -> std::optional<KeyRecord> {
                if (record.protection == KeyRecord::Protection::kSealed) {
                  if (record.master_key_id == next->id()) {
                    return std::nullopt;  // already done
                  }
                  // Unavailable (NTE_BAD_KEY_STATE): stop before anything is retired.
                  open_with(record, *keyring_->get(record.master_key_id));
                }
                return sealed_copy(record, *next);
              });
  // The scope's private data objects are sealed under the same master key.
  data_at_rest::seal_all(dir_, scope_root_dir(scope_ == Scope::kMachine), *keyring_, *next, true);
  keyring_->commit_rekey(next->id());
}

KeyStore::ProtectionCounts KeyStore::protection_counts() const {
  ProtectionCounts counts;
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  if (!dir.is_open()) {
    return counts;
  }
  SecureBytes bytes;
  for (const auto& entry : dir.names(&KeyStore::is_key_file_name)) {
    try {
      if (dir.read(entry.name, key_file::kMaxFileBytes, bytes, entry.known_regular)) {
        const KeyRecord record = key_file::decode(bytes);
        ++(record.protection == KeyRecord::Protection::kSealed ? counts.encrypted : counts.clear);
      }
    } catch (const CngError&) {
      // damaged or refused: neither (cngkey list reports it)
    }
  }
  return counts;
}

}  // namespace cng
