#include "listing_index_support.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/u16.h"
#include "store/key_file.h"
#include "store/listing_cache.h"
#include "store_test_util.h"

namespace cng::test {

namespace fs = std::filesystem;

std::map<std::u16string, KeyRecord> decoded_keys(const fs::path& dir) {
  std::map<std::u16string, KeyRecord> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string file = e.path().filename().string();
    if (file.size() != 32 || !e.is_regular_file() ||
        file.find_first_not_of("0123456789abcdef") != std::string::npos) {
      continue;
    }
    const Bytes bytes = read_file(e.path());
    try {
      KeyRecord record = key_file::decode(bytes);
      if (KeyStore::file_name_for(record.name) == file) {
        record.private_blob.clear();
        out.emplace(record.name, std::move(record));
      }
    } catch (const CngError&) {
      // damaged: not a key the store lists
    }
  }
  return out;
}

void expect_lists_exactly(const KeyStore& store, bool fresh) {
  if (fresh) {
    store_index::forget_in_memory_indexes();
  }
  const auto oracle = decoded_keys(store.dir());
  const auto records = store.list_records();
  ASSERT_EQ(records.size(), oracle.size());
  for (const KeyRecord& r : records) {
    const auto it = oracle.find(r.name);
    ASSERT_NE(it, oracle.end()) << to_utf8(r.name);
    expect_same_record(r, it->second);
  }
  const auto listed = store.list();
  ASSERT_EQ(listed.size(), oracle.size());
  auto it = oracle.begin();
  for (const KeyListing& l : listed) {  // both sorted by name
    EXPECT_EQ(l.name, it->first);
    EXPECT_EQ(l.algorithm, it->second.algorithm);
    EXPECT_EQ(l.legacy_key_spec, it->second.legacy_key_spec);
    ++it;
  }
}

void write_behind(const fs::path& dir, const KeyRecord& record) {
  const SecureBytes bytes = key_file::encode(record);
  const fs::path temp = dir / "behind-the-back";
  write_file(temp, Bytes(bytes.begin(), bytes.end()));
  ASSERT_EQ(::chmod(temp.c_str(), 0600), 0);
  fs::rename(temp, dir / KeyStore::file_name_for(record.name));
}

fs::path index_path(const fs::path& dir) {
  return dir / store_index::kIndexDirectory / store_index::kIndexFile;
}

}  // namespace cng::test
