// Helpers of the listing index tests: the oracle (every key file of a directory decoded
// directly with key_file::decode), writes behind the store's back, the index file's path.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "store/key_record.h"
#include "store/key_store.h"

namespace cng::test {

// The keys a directory holds: every file with a key file name whose content decodes and
// whose key name hashes to that file name; private blobs cleared (listings have none).
std::map<std::u16string, KeyRecord> decoded_keys(const std::filesystem::path& dir);
// Fails the test unless list_records() and list() give exactly decoded_keys(store.dir()).
// fresh: forget the in-memory index first (as a new process would).
void expect_lists_exactly(const KeyStore& store, bool fresh);
// Writes a key file as the store does (temporary file + rename, 0600), not through it.
void write_behind(const std::filesystem::path& dir, const KeyRecord& record);
// The store directory's index file.
std::filesystem::path index_path(const std::filesystem::path& dir);

}  // namespace cng::test
