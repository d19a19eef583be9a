#include <algorithm>
#include <optional>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "core/cng_error.h"
#include "store/data_file.h"
#include "store/key_store.h"
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

// Reads and verifies one data object file; nullopt when absent. NTE_BAD_DATA when corrupt or
// when the id inside is not its name (a file copied over another).
std::optional<StoredDataObject> read_object(const StoreDirectory& dir, const std::string& id,
                                            SecureBytes& buffer, bool known_regular = false) {
  if (!dir.read(id, data_file::kMaxFileBytes, buffer, known_regular)) {
    return std::nullopt;
  }
  StoredDataObject object = data_file::decode(buffer);
  require(object.id == id, NTE_BAD_DATA, "data object file content does not match its name");
  return object;
}

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
  // A value may be large (kMaxValueBytes) and may be secret (CKA_PRIVATE): SecureBytes is
  // wiped when done.
  SecureBytes buffer;
  for (const auto& entry : dir.names(&is_data_file_name)) {
    try {
      if (auto object = read_object(dir, entry.name, buffer, entry.known_regular)) {
        out.push_back(std::move(*object));
      }
    } catch (const CngError&) {
      // Corrupt or unreadable: skipped, the others stay visible.
    }
  }
  std::sort(out.begin(), out.end(),
            [](const StoredDataObject& a, const StoredDataObject& b) { return a.id < b.id; });
  return out;
}

std::string DataStore::add(const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  StoredDataObject object{data_file::new_id(), properties};
  auto bytes = data_file::encode(object);  // limits checked before anything is created
  auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), true,
                                  scope_root_dir(machine_));
  // Create-exclusive: a (astronomically unlikely) id collision draws another id instead of
  // replacing someone else's object.
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (dir.write(object.id, bytes, WriteMode::kCreateExclusive) == WriteResult::kWritten) {
      return object.id;
    }
    object.id = data_file::new_id();
    bytes = data_file::encode(object);
  }
  fail(NTE_FAIL, "cannot find a free data object id");
}

void DataStore::set_properties(const std::string& id,
                               const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  require(data_file::is_data_id(id), NTE_NOT_FOUND, "data object not found");
  const StoredDataObject object{id, properties};
  const auto bytes = data_file::encode(object);
  auto dir = StoreDirectory::open(data_dir(machine_, provider_subdirectory_), false,
                                  scope_root_dir(machine_));
  require(dir.is_open(), NTE_NOT_FOUND, "data object not found");
  // Replace only if still present: a concurrent remove() is not undone.
  require(dir.write(id, bytes, WriteMode::kReplaceExisting) == WriteResult::kWritten, NTE_NOT_FOUND,
          "data object not found");
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

long data_store_error_status(const std::exception& e) noexcept {
  return cert_store_error_status(e);  // one CngError -> status rule for every store
}

}  // namespace cng
