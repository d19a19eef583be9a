#include "store/key_store.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "core/cng_error.h"
#include "store/byte_codec.h"
#include "store/key_file.h"
#include "store/listing_cache.h"
#include "store/store_dir.h"

namespace cng {

namespace {

using store_io::StoreDirectory;
using store_io::WriteMode;
using store_io::WriteResult;

// 128 bits of SHA-256: collisions are out of reach, and the name inside is verified anyway.
constexpr std::size_t kFileNameHexDigits = 32;

// secure_getenv: a set-uid host must not let its caller redirect the store.
std::string env(const char* name) {
  const char* value = ::secure_getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::filesystem::path home_dir() {
  if (auto home = env("HOME"); !home.empty()) {
    return home;
  }
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* result = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr && result->pw_dir[0] != '\0') {
    return result->pw_dir;
  }
  fail(NTE_NOT_FOUND,
       "no user key store directory: set CNG_PKCS11_USER_DIR, XDG_DATA_HOME or HOME");
}

// Rethrows a format error with the file it came from.
[[noreturn]] void fail_corrupt(const CngError& e, const std::filesystem::path& file) {
  fail(e.status(), "key file '" + file.string() + "': " + e.what());
}

}  // namespace

KeyStore::KeyStore(std::filesystem::path dir, Scope scope) : dir_(std::move(dir)), scope_(scope) {}

bool KeyStore::is_key_file_name(std::string_view name) noexcept {
  return name.size() == kFileNameHexDigits && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::filesystem::path KeyStore::default_dir(Scope scope) {
  if (scope == Scope::kMachine) {
    auto dir = env("CNG_PKCS11_MACHINE_DIR");
    return dir.empty() ? std::filesystem::path("/var/lib/cng-pkcs11") : std::filesystem::path(dir);
  }
  if (auto dir = env("CNG_PKCS11_USER_DIR"); !dir.empty()) {
    return dir;
  }
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  if (auto xdg = env("XDG_DATA_HOME"); !xdg.empty() && xdg.front() == '/') {
    return std::filesystem::path(xdg) / "cng-pkcs11";
  }
  return home_dir() / ".local" / "share" / "cng-pkcs11";
}

std::string KeyStore::file_name_for(std::u16string_view key_name) {
  std::string utf16le;
  utf16le.reserve(key_name.size() * 2);
  for (const char16_t c : key_name) {
    utf16le += static_cast<char>(c & 0xFF);
    utf16le += static_cast<char>(c >> 8);
  }
  const auto digest =
      store_codec::sha256({reinterpret_cast<const std::uint8_t*>(utf16le.data()), utf16le.size()});
  return store_codec::to_hex(std::span(digest).first(kFileNameHexDigits / 2));
}

bool KeyStore::exists(std::u16string_view key_name) const {
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  return dir.is_open() && dir.contains(file_name_for(key_name));
}

void KeyStore::store(const KeyRecord& record, bool overwrite) {
  (void)key_file::encode(record);  // invalid records fail before any I/O
  write_record(record, [&](std::span<const std::uint8_t> bytes) {
    auto dir = StoreDirectory::open(dir_, true, scope_root_dir(scope_ == Scope::kMachine));
    const auto result = dir.write(file_name_for(record.name), bytes,
                                  overwrite ? WriteMode::kReplace : WriteMode::kCreateExclusive);
    require(result == WriteResult::kWritten, NTE_EXISTS, "a key of this name already exists");
  });
}

void KeyStore::update(const KeyRecord& record) {
  (void)key_file::encode(record);
  {
    const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
    require(dir.is_open(), NTE_BAD_KEYSET, "key not found");
  }
  write_record(record, [&](std::span<const std::uint8_t> bytes) {
    auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
    require(dir.is_open(), NTE_BAD_KEYSET, "key not found");
    const auto result = dir.write(file_name_for(record.name), bytes, WriteMode::kReplaceExisting);
    require(result == WriteResult::kWritten, NTE_BAD_KEYSET, "key not found");
  });
}

KeyRecord KeyStore::load(std::u16string_view key_name) const {
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  require(dir.is_open(), NTE_BAD_KEYSET, "key not found");
  const std::string file = file_name_for(key_name);
  SecureBytes bytes;
  try {
    // A second read when a concurrent rekey retired the master key the first one named.
    for (int attempt = 0;; ++attempt) {
      require(dir.read(file, key_file::kMaxFileBytes, bytes), NTE_BAD_KEYSET, "key not found");
      KeyRecord record = key_file::decode(bytes);
      // Hash-then-verify: the file must belong to this very name.
      require(record.name == key_name, NTE_BAD_DATA, "file holds a different key name");
      if (open_private(record) || attempt == 1) {
        return record;
      }
    }
  } catch (const CngError& e) {
    if (e.status() != NTE_BAD_DATA) {
      throw;
    }
    fail_corrupt(e, dir_ / file);
  }
}

void KeyStore::remove(std::u16string_view key_name) {
  auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  require(dir.is_open() && dir.remove(file_name_for(key_name)), NTE_BAD_KEYSET, "key not found");
}

namespace {

// What listing says about one file it cannot list: refused (NTE_PERM) or damaged (the rest).
KeyFileIssue issue_for(const StoreDirectory& dir, const std::string& file, const CngError& e) {
  if (e.status() == NTE_PERM) {
    if (auto problem = dir.ownership_problem_of(file)) {
      return {file, true, std::move(*problem)};
    }
    return {file, true, e.what()};
  }
  return {file, false, e.what()};
}

// A key file's entry in the listing index: the record without its private blob, once the
// whole file verified and its name hashed to the file's name (a misplaced file is not that
// key). The private blob is read with the file (the checksum covers it) but never parsed.
SecureBytes summarize_key_file(const std::string& file, std::span<const std::uint8_t> bytes) {
  KeyRecord record = key_file::decode(bytes);
  require(KeyStore::file_name_for(record.name) == file, NTE_BAD_DATA,
          "file holds a different key name");
  record.private_blob = SecureBytes();
  return key_file::encode_summary(record);
}

constexpr store_index::IndexSpec kKeyIndex = {1, &KeyStore::is_key_file_name,
                                              key_file::kMaxFileBytes, &summarize_key_file};

}  // namespace

std::vector<KeyListing> KeyStore::list(std::vector<KeyFileIssue>* issues) const {
  std::vector<KeyListing> out;
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  if (!dir.is_open()) {
    return out;
  }
  const auto index =
      store_index::current_listing(dir, kKeyIndex,
                                   issues != nullptr ? store_index::Freshness::kEveryFile
                                                     : store_index::Freshness::kDirectoryStamp);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state == index_file::EntryState::kListed) {
      out.push_back(key_file::decode_summary_listing(index->payload(entry)));
    } else if (issues != nullptr) {
      issues->push_back({entry.file, entry.state == index_file::EntryState::kRefused,
                         std::string(index->payload(entry).begin(), index->payload(entry).end())});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const KeyListing& a, const KeyListing& b) { return a.name < b.name; });
  if (issues != nullptr) {
    std::sort(issues->begin(), issues->end(),
              [](const KeyFileIssue& a, const KeyFileIssue& b) { return a.file < b.file; });
  }
  return out;
}

std::vector<KeyRecord> KeyStore::list_records() const {
  std::vector<KeyRecord> out;
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  if (!dir.is_open()) {
    return out;
  }
  const auto index =
      store_index::current_listing(dir, kKeyIndex, store_index::Freshness::kDirectoryStamp);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state == index_file::EntryState::kListed) {
      out.push_back(key_file::decode_summary(index->payload(entry)));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const KeyRecord& a, const KeyRecord& b) { return a.name < b.name; });
  return out;
}

std::vector<KeyStoreListing> KeyStore::list_summaries() const {
  std::vector<KeyStoreListing> out;
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  if (!dir.is_open()) {
    return out;
  }
  const auto index =
      store_index::current_listing(dir, kKeyIndex, store_index::Freshness::kDirectoryStamp);
  out.reserve(index->entries.size());
  for (const auto& entry : index->entries) {
    if (entry.state == index_file::EntryState::kListed) {
      out.push_back(key_file::decode_summary_as_listing(index->payload(entry), entry.file));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const KeyStoreListing& a, const KeyStoreListing& b) { return a.name < b.name; });
  return out;
}

std::optional<KeyFileIssue> KeyStore::issue_of(std::u16string_view key_name) const {
  const auto dir = StoreDirectory::open(dir_, false, scope_root_dir(scope_ == Scope::kMachine));
  if (!dir.is_open()) {
    return std::nullopt;
  }
  const std::string file = file_name_for(key_name);
  try {
    (void)load(key_name);
    return std::nullopt;
  } catch (const CngError& e) {
    if (e.status() == NTE_BAD_KEYSET) {
      return std::nullopt;
    }
    return issue_for(dir, file, e);
  }
}

bool KeyStore::writable() const {
  try {
    return StoreDirectory::open(dir_, true, scope_root_dir(scope_ == Scope::kMachine))
        .probe_writable();
  } catch (const CngError&) {
    return false;
  }
}

void KeyStore::check_writable() const { StoreDirectory::open(dir_, true).check_writable(); }
std::filesystem::path scope_root_dir(bool machine) {
  try {
    return KeyStore::default_dir(machine ? Scope::kMachine : Scope::kUser);
  } catch (const CngError&) {
    return {};
  }
}

std::filesystem::path object_store_dir(bool machine, std::string_view provider_subdirectory,
                                       std::string_view leaf) {
  auto dir = KeyStore::default_dir(machine ? Scope::kMachine : Scope::kUser);
  return (provider_subdirectory.empty() ? dir : dir / provider_subdirectory) / leaf;
}

}  // namespace cng
