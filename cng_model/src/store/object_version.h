// The version of a certificate or data object file as the listings report it
// (StoredCertificate::version, StoredDataObject::version): a digest of the file's identity.
// Store files are never rewritten in place (every write renames a new inode into place), so a
// rewritten object has another version, and the index's record of a file and a read of the
// same file agree on it.
#pragma once

#include <cstdint>

#include "store/store_dir.h"

namespace cng::store_io {

inline std::uint64_t object_version(const FileIdentity& id) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::uint64_t w :
       {id.inode, static_cast<std::uint64_t>(id.size), static_cast<std::uint64_t>(id.mtime_ns),
        static_cast<std::uint64_t>(id.ctime_ns)}) {
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return h == 0 ? 1 : h;  // 0 is "no version" for the callers
}

}  // namespace cng::store_io
