// cng_data_store.h: the per-scope store of PKCS#11 data objects (CKO_DATA), beside the key and
// certificate stores. CNG has no analogue (shared/DESIGN.md §3): this is our own store, with the
// same file rules as the others. Not part of ncrypt.h. C++ only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cng {

// The largest property value (e.g. a data object's CKA_VALUE) a stored object may carry:
// 1 MiB, as NCRYPT_MAX_PROPERTY_DATA for a CNG key's properties.
inline constexpr std::size_t kDataStoreMaxValueBytes = 1024 * 1024;

struct StoredDataObject {
  // Stable identifier (file name) assigned by the store: 32 random lowercase hex digits, not
  // derived from the content, since two data objects may well be equal.
  std::string id;
  // Named properties carrying the object's attributes (e.g. "Label", "Value"): raw bytes.
  std::map<std::string, std::vector<std::uint8_t>> properties;
};

// Same directory rules, permissions and atomic, durable writes as the key and certificate
// stores. The store lives in the "data" subdirectory of the scope's key store directory (the
// platform provider's in "platform/data"). Thread- and process-safe. Errors are CngError
// (std::runtime_error) carrying a SECURITY_STATUS: NTE_PERM when the store may not be written,
// NTE_INVALID_PARAMETER beyond a size limit (data_file.h), NTE_NOT_FOUND for an unknown id.
class DataStore {
 public:
  // machine=false: the user scope. provider_subdirectory: the provider's key store
  // subdirectory of the scope directory ("platform" for the platform (TPM) provider; empty:
  // the scope directory itself), so each slot keeps its own data objects.
  DataStore(bool machine, std::string_view provider_subdirectory);
  // Every readable, well-formed object, sorted by id (corrupt files skipped).
  [[nodiscard]] std::vector<StoredDataObject> list() const;
  // Stores a new object under a fresh id and returns the id.
  std::string add(const std::map<std::string, std::vector<std::uint8_t>>& properties);
  // Replaces the properties of a stored object (NTE_NOT_FOUND when absent; never recreates an
  // object removed meanwhile).
  void set_properties(const std::string& id,
                      const std::map<std::string, std::vector<std::uint8_t>>& properties);
  // Deletes an object (NTE_NOT_FOUND when absent).
  void remove(const std::string& id);
  // True when this process may write the store.
  [[nodiscard]] bool writable() const;

 private:
  bool machine_;
  std::string provider_subdirectory_;
};

// The SECURITY_STATUS carried by an exception thrown by this API (NTE_FAIL when not a CngError).
long data_store_error_status(const std::exception& e) noexcept;

}  // namespace cng
