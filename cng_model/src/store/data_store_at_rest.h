// DataStore's at-rest protection of private data objects (cng_data_store.h,
// store/data_file.h version 2): sealing on write and opening on read under the scope's master
// key (store/master_key.h), the one KeyStore uses for software keys.
#pragma once

#include <filesystem>
#include <functional>
#include <span>

#include "cng_data_store.h"
#include "store/data_file.h"
#include "store/master_key.h"

namespace cng::data_at_rest {

// The keyring of a scope: the one beside its key store directory (KeyStore::default_dir).
master_key::Keyring keyring_of(bool machine);

// Writes object through write(): as a clear version 1 file when it is not private, else with
// its value sealed under the scope's current master key (created when the keyring has none,
// without migrating the key store: KeyStore does that at its next write). write() runs under
// the keyring's lock, as key file writes do, so a rekey never retires the key meanwhile.
void write_object(bool machine, const StoredDataObject& object,
                  const std::function<void(std::span<const std::uint8_t>)>& write);

// The object of a file, a sealed value opened. A master key that is unavailable or refused,
// or a value that does not authenticate, leaves the value out and sets value_status.
StoredDataObject open_object(const master_key::Keyring& keyring, data_file::DataFile file);

// Seals the private data objects of a scope directory (its "data" and "platform/data" stores)
// under next, each file rewritten atomically; the caller holds the keyring's exclusive lock.
// Migration (KeyStore's, store/master_key.h; rekey false): the clear (version 1) files of
// private objects. Rekey (step 2; rekey true): those and every sealed one still under another
// master key; NTE_BAD_KEY_STATE when one's master key is unavailable (before anything is
// retired). Damaged or misplaced files, and values that do not authenticate, are left as they
// are.
void seal_all(const std::filesystem::path& scope_dir, const std::filesystem::path& root,
              const master_key::Keyring& keyring, const master_key::MasterKey& next, bool rekey);

}  // namespace cng::data_at_rest
