#include <algorithm>
#include <optional>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "core/cng_error.h"
#include "store/data_file.h"
#include "store/data_store_at_rest.h"
#include "store/key_store.h"
#include "store/listing_cache.h"
#include "store/object_version.h"
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

const std::string kValue(kDataStoreValueProperty);

// The listing index keeps each verified file without its value (a clear version 1 encoding of
// the rest, whatever the file's version): no value, sealed or clear, is ever in the index.
SecureBytes summarize_file(const std::string& file, std::span<const std::uint8_t> bytes) {
  data_file::DataFile content = data_file::decode_file(bytes);
  require(content.object.id == file, NTE_BAD_DATA, "file content does not match its name");
  content.object.properties.erase(kValue);
  const auto summary = data_file::encode(content.object);
  return SecureBytes(summary.begin(), summary.end());
}

// kEveryFile: each file's identity (and so its owner and mode) is checked at every listing.
// Kind 5: the summaries above (kind 3 indexes, which held whole files, are ignored).
constexpr store_index::IndexSpec kIndex = {5, &is_data_file_name, data_file::kMaxFileBytes,
                                           &summarize_file};

}  // namespace

DataStore::DataStore(bool machine, std::string_view provider_subdirectory)
    : machine_(machine), provider_subdirectory_(provider_subdirectory) {}

std::vector<StoredDataObject> DataStore::summaries() const {
  std::vector<StoredDataObject> out;
  const auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return out;
  }
  const auto index = store_index::current_listing(dir, kIndex, store_index::Freshness::kEveryFile,
                                                  store_index::Retention::kDontKeep);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state != index_file::EntryState::kListed) {
      continue;  // corrupt, refused or unreadable files are skipped: the others stay visible
    }
    try {
      StoredDataObject object = data_file::decode(index->payload(entry));
      if (object.id != entry.file || object.properties.contains(kValue)) {
        continue;  // not a summary this version wrote (the index is only a cache)
      }
      object.version = store_io::object_version(entry.identity);
      out.push_back(std::move(object));
    } catch (const CngError&) {
      // Likewise.
    }
  }
  return out;  // entries are ascending by file name, which is the id
}

std::optional<StoredDataObject> DataStore::read(const std::string& id) const {
  if (!data_file::is_data_id(id)) {
    return std::nullopt;
  }
  const auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                        scope_root_dir(machine_));
  if (!dir.is_open()) {
    return std::nullopt;
  }
  SecureBytes bytes;
  store_io::FileIdentity identity;
  data_file::DataFile file;
  try {
    if (!dir.read(id, data_file::kMaxFileBytes, bytes, false, &identity)) {
      return std::nullopt;
    }
    file = data_file::decode_file(bytes);
  } catch (const CngError& e) {
    if (e.status() == NTE_BAD_DATA) {
      return std::nullopt;  // damaged: as a listing, which skips it
    }
    throw;
  }
  if (file.object.id != id) {
    return std::nullopt;
  }
  StoredDataObject object = data_at_rest::open_object(data_at_rest::keyring_of(machine_), file);
  object.version = store_io::object_version(identity);
  return object;
}

std::vector<StoredDataObject> DataStore::list() const {
  std::vector<StoredDataObject> out;
  for (const StoredDataObject& summary : summaries()) {
    try {
      if (auto object = read(summary.id)) {
        out.push_back(std::move(*object));
      }
    } catch (const CngError&) {
      // Refused or unreadable since it was listed: skipped, as by the listing.
    }
  }
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
