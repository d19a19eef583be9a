// cng_data_store.h: the per-scope store of PKCS#11 data objects (CKO_DATA), beside the key and
// certificate stores. CNG has no analogue (shared/DESIGN.md §3): this is our own store, with the
// same file rules as the others. Not part of ncrypt.h. C++ only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cng {

// The largest property value (e.g. a data object's CKA_VALUE) a stored object may carry:
// 1 MiB, as NCRYPT_MAX_PROPERTY_DATA for a CNG key's properties.
inline constexpr std::size_t kDataStoreMaxValueBytes = 1024 * 1024;

// Reserved property names. The store treats every other name as opaque, but these two carry
// its at-rest protection: an object whose kDataStorePrivateProperty value is one nonzero byte
// (a CK_BBOOL: the module stores CKA_PRIVATE there) is private, and its kDataStoreValueProperty
// value (the module's CKA_VALUE) is written AES-256-GCM-sealed under the scope's master key (the
// one that encrypts software keys at rest, store/master_key.h), the other properties staying clear.
inline constexpr char kDataStorePrivateProperty[] = "Private";
inline constexpr char kDataStoreValueProperty[] = "Value";

struct StoredDataObject {
  // Stable identifier (file name) assigned by the store: 32 random lowercase hex digits, not
  // derived from the content, since two data objects may well be equal.
  std::string id;
  // Named properties carrying the object's attributes (e.g. "Label", "Value"): raw bytes.
  std::map<std::string, std::vector<std::uint8_t>> properties;
  // Set by list() for a private object whose sealed value could not be opened: the status
  // (NTE_BAD_KEY_STATE: its master key is unavailable, e.g. the store was copied without its
  // keyring or the scope's PIN is not given; NTE_BAD_DATA: the value does not authenticate,
  // e.g. moved from another object) and why. The value property is then absent, never garbage.
  long value_status = 0;
  std::string value_cause{};
  // Which version of the object's file this was read from: another value whenever the file
  // was rewritten (set_properties) since; 0 when not read from the store.
  std::uint64_t version = 0;
};

// True when properties mark a private object (kDataStorePrivateProperty is one nonzero byte).
bool data_store_is_private(const std::map<std::string, std::vector<std::uint8_t>>& properties);

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
  // Every readable, well-formed object, sorted by id (corrupt files skipped). A private
  // object's value is opened here (see value_status for one that cannot be).
  // Reads every file: a caller that keeps its own view uses summaries() and read().
  [[nodiscard]] std::vector<StoredDataObject> list() const;
  // Every readable, well-formed object without its value (kDataStoreValueProperty absent),
  // sorted by id, from the listing index, which holds no value at all, sealed or clear: no
  // value is read or opened here, whether or not the master key is available.
  [[nodiscard]] std::vector<StoredDataObject> summaries() const;
  // One object whole, read and verified now, a private object's value opened (value_status
  // as for list()); nullopt when absent or damaged. NTE_PERM when its file is refused or
  // unreadable.
  [[nodiscard]] std::optional<StoredDataObject> read(const std::string& id) const;
  // Stores a new object under a fresh id and returns the id. A private object's value is sealed
  // (the scope's master key is created when it has none); NTE_BAD_KEY_STATE when the master
  // key is unavailable (PIN not given). set_properties() too: so a private object still in a
  // clear (version 1) file from before is sealed at its next write.
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

// Tests: how many sealed values this process has opened (a listing must open none).
std::uint64_t data_store_values_opened_for_testing() noexcept;

// The SECURITY_STATUS carried by an exception thrown by this API (NTE_FAIL when not a CngError).
long data_store_error_status(const std::exception& e) noexcept;

}  // namespace cng
