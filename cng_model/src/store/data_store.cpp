#include <algorithm>
#include <optional>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "core/cng_error.h"
#include "store/data_file.h"
#include "store/data_store_at_rest.h"
#include "store/key_store.h"
#include "store/listing_cache.h"
#include "store/store_dir.h"

namespace cng {

namespace {

using store_io::StoreDirectory;
using store_io::WriteMode;
using store_io::WriteResult;

std::filesystem::path data_dir(bool machine, std::string_view provider_subdirectory) {
  return object_store_dir(machine, provider_subdirectory, "data");
}

bool is_data_file_name(std::string_view name) { return data_file::is_data_id(name); }

// The listing index keeps the whole verified file: a listing serves whole objects. A private
// object's value stays sealed there (opened by list()).
SecureBytes summarize_file(const std::string& file, std::span<const std::uint8_t> bytes) {
  const data_file::DataFile content = data_file::decode_file(bytes);
  require(content.object.id == file, NTE_BAD_DATA, "file content does not match its name");
  return SecureBytes(bytes.begin(), bytes.end());
}

// kEveryFile: each file's identity (and so its owner and mode) is checked at every listing.
constexpr store_index::IndexSpec kIndex = {3, &is_data_file_name, data_file::kMaxFileBytes,
                                           &summarize_file};

}  // namespace

DataStore::DataStore(bool machine, std::string_view provider_subdirectory)
    : machine_(machine), provider_subdirectory_(provider_subdirectory) {}

std::vector<StoredDataObject> DataStore::list() const {
  std::vector<StoredDataObject> out;
  const auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return out;
  }
  // A value may be secret (CKA_PRIVATE; a clear version 1 file from before): the index keeps
  // the files in SecureBytes, wiped when an index is dropped.
  const auto index = store_index::current_listing(dir, kIndex, store_index::Freshness::kEveryFile);
  out.reserve(index->entries.size());
  const master_key::Keyring keyring = data_at_rest::keyring_of(machine_);
  for (const auto& entry : index->entries) {
    if (entry.state == index_file::EntryState::kListed) {
      // Corrupt, refused or unreadable files are skipped: the others stay visible.
      out.push_back(
          data_at_rest::open_object(keyring, data_file::decode_file(index->payload(entry))));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const StoredDataObject& a, const StoredDataObject& b) { return a.id < b.id; });
  return out;
}

std::string DataStore::add(const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  StoredDataObject object{data_file::new_id(), properties};
  (void)data_file::encode(object);  // limits checked before anything is created
  auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), true,
                                  scope_root_dir(machine_));
  // Create-exclusive: a (astronomically unlikely) id collision draws another id instead of
  // replacing someone else's object.
  for (int attempt = 0; attempt < 4; ++attempt) {
    bool written = false;
    data_at_rest::write_object(machine_, object, [&](std::span<const std::uint8_t> bytes) {
      written = dir.write(object.id, bytes, WriteMode::kCreateExclusive) == WriteResult::kWritten;
    });
    if (written) {
      return object.id;
    }
    object.id = data_file::new_id();
  }
  fail(NTE_FAIL, "cannot find a free data object id");
}

void DataStore::set_properties(const std::string& id,
                               const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  require(data_file::is_data_id(id), NTE_NOT_FOUND, "data object not found");
  const StoredDataObject object{id, properties};
  (void)data_file::encode(object);  // limits checked first
  auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                  scope_root_dir(machine_));
  require(dir.is_open(), NTE_NOT_FOUND, "data object not found");
  // Replace only if still present: a concurrent remove() is not undone. A private object is
  // sealed here, so a clear version 1 file of one migrates at its next write.
  bool written = false;
  data_at_rest::write_object(machine_, object, [&](std::span<const std::uint8_t> bytes) {
    written = dir.write(id, bytes, WriteMode::kReplaceExisting) == WriteResult::kWritten;
  });
  require(written, NTE_NOT_FOUND, "data object not found");
}

void DataStore::remove(const std::string& id) {
  require(data_file::is_data_id(id), NTE_NOT_FOUND, "data object not found");
  auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                  scope_root_dir(machine_));
  require(dir.is_open() && dir.remove(id), NTE_NOT_FOUND, "data object not found");
}

bool DataStore::writable() const {
  try {
    return StoreDirectory::open(data_dir(machine_, provider_subdirectory_), true,
                                scope_root_dir(machine_))
        .probe_writable();
  } catch (const CngError&) {
    return false;
  }
}

bool data_store_is_private(const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  const auto it = properties.find(kDataStorePrivateProperty);
  return it != properties.end() && it->second.size() == 1 && it->second[0] != 0;
}

long data_store_error_status(const std::exception& e) noexcept {
  return cert_store_error_status(e);  // one CngError -> status rule for every store
}

}  // namespace cng
