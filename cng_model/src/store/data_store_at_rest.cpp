#include "store/data_store_at_rest.h"

#include <atomic>

#include "core/cng_error.h"
#include "store/key_store.h"
#include "store/store_dir.h"

namespace cng::data_at_rest {

namespace {

using master_key::MasterKey;
using store_io::StoreDirectory;
using store_io::WriteMode;

const std::string kValue(kDataStoreValueProperty);

constinit std::atomic<std::uint64_t> g_values_opened{0};

// The version 2 file of a private object: its value sealed under key.
data_file::DataFile sealed_file(const StoredDataObject& object, const MasterKey& key) {
  data_file::DataFile file{object, true, key.id()};
  auto& value = file.object.properties[kValue];  // absent: sealed as empty
  const SecureBytes sealed =
      master_key::seal(key.bytes(), value, data_file::value_aad(object.id, kValue, key.id()));
  value.assign(sealed.begin(), sealed.end());
  return file;
}

// Opens the sealed value of file with key in place (NTE_BAD_DATA when it does not authenticate).
void open_with(data_file::DataFile& file, const MasterKey& key) {
  g_values_opened.fetch_add(1, std::memory_order_relaxed);
  auto& value = file.object.properties[kValue];
  const SecureBytes clear = master_key::open(
      key.bytes(), value, data_file::value_aad(file.object.id, kValue, file.key_id));
  value.assign(clear.begin(), clear.end());
  file.sealed = false;
}

}  // namespace

master_key::Keyring keyring_of(bool machine) {
  return master_key::Keyring(master_key::Keyring::dir_for(
      KeyStore::default_dir(machine ? Scope::kMachine : Scope::kUser)));
}

void write_object(bool machine, const StoredDataObject& object,
                  const std::function<void(std::span<const std::uint8_t>)>& write) {
  if (!data_store_is_private(object.properties)) {
    write(data_file::encode(object));
    return;
  }
  const master_key::Keyring keyring = keyring_of(machine);
  {
    const auto lock = keyring.acquire(false);
    if (const auto current = keyring.current()) {
      write(data_file::encode_file(sealed_file(object, *keyring.get(current->id))));
      return;
    }
  }
  const auto lock = keyring.acquire(true);  // may create the master key
  write(data_file::encode_file(sealed_file(object, *keyring.current_or_create())));
}

StoredDataObject open_object(const master_key::Keyring& keyring, data_file::DataFile file) {
  if (!file.sealed) {
    return std::move(file.object);
  }
  try {
    open_with(file, *keyring.get(file.key_id));
  } catch (const CngError& e) {
    file.object.properties.erase(kValue);  // never the sealed bytes as if they were the value
    file.object.value_status = e.status();
    file.object.value_cause = std::string("cannot decrypt the data object's value: ") + e.what();
  }
  return std::move(file.object);
}

void seal_all(const std::filesystem::path& scope_dir, const std::filesystem::path& root,
              const master_key::Keyring& keyring, const MasterKey& next, bool rekey) {
  for (const auto& dir_path : {scope_dir / "data", scope_dir / "platform" / "data"}) {
    auto dir = StoreDirectory::open(dir_path, false, root);
    if (!dir.is_open()) {
      continue;
    }
    SecureBytes bytes;
    for (const auto& entry : dir.names(&data_file::is_data_id)) {
      data_file::DataFile file;
      try {
        if (!dir.read(entry.name, data_file::kMaxFileBytes, bytes, entry.known_regular)) {
          continue;
        }
        file = data_file::decode_file(bytes);
      } catch (const CngError&) {
        continue;  // damaged or refused: nothing to reseal
      }
      if (file.object.id != entry.name) {
        continue;
      }
      if (!file.sealed) {
        if (data_store_is_private(file.object.properties)) {
          (void)dir.write(entry.name, data_file::encode_file(sealed_file(file.object, next)),
                          WriteMode::kReplaceExisting);
        }
        continue;
      }
      if (!rekey || file.key_id == next.id()) {
        continue;
      }
      const auto key = keyring.get(file.key_id);  // unavailable: stop before retiring it
      try {
        open_with(file, *key);
      } catch (const CngError& e) {
        if (e.status() != NTE_BAD_DATA) {
          throw;
        }
        continue;  // does not authenticate (moved or edited): unreadable under any key
      }
      (void)dir.write(entry.name, data_file::encode_file(sealed_file(file.object, next)),
                      WriteMode::kReplaceExisting);
    }
  }
}

}  // namespace cng::data_at_rest

namespace cng {

std::uint64_t data_store_values_opened_for_testing() noexcept {
  return data_at_rest::g_values_opened.load(std::memory_order_relaxed);
}

}  // namespace cng
