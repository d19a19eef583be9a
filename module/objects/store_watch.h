// Noticing that another process changed a scope's key or certificate store, cheaply.
//
// Token objects are loaded once (lazily) and then refreshed only when the store changed: a
// stat() of the store directory per C_FindObjectsInit. Every change to a store is a file
// create, rename or unlink in that directory (the stores write atomically: temporary file +
// rename), and each of those updates the directory's mtime. A key whose properties another
// process changed is found the same way (its file was replaced) and then by its listing
// (layer_refresh.cpp compares each key's listing fingerprint, key_cache.h). File-system timestamps
// are coarse (jiffies, or a second on some file systems), so a directory changed within kRacyWindow
// of being read is treated as still changing and read again next time ("racy" stamps, as git does
// for its index).
//
// The directory is the store location of shared/DESIGN.md §4 (cng_storage_paths.h, the rule
// cng_model's KeyStore implements). On Windows this would be NCryptNotifyChangeKey / a change
// notification instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "objects/key_factory.h"

namespace p11::objects {

struct FileStamp {
  bool exists = false;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::filesystem::path& path) noexcept;

class DirectoryWatch {
 public:
  // Linux file systems the stores live on (ext4, xfs, btrfs, tmpfs) keep nanosecond timestamps
  // taken from the kernel's coarse clock, which advances at least every 10 ms; 50 ms covers it
  // with margin. A file system with one-second timestamps would need a longer window: then a
  // change made within the same second as a read shows up at the next change instead. The
  // window is short because every find inside it re-reads the whole store.
  static constexpr std::chrono::milliseconds kRacyWindow{50};

  explicit DirectoryWatch(std::filesystem::path dir) : dir_(std::move(dir)) {}
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  // True when the store must be read (first use, changed, or last read while racy); now is
  // the stamp to hand to mark_read() after reading.
  bool needs_read(FileStamp& now) const;
  void mark_read(const FileStamp& seen_before_reading);

 private:
  std::filesystem::path dir_;
  FileStamp last_;
  bool read_once_ = false;
  bool racy_ = false;
};

}  // namespace p11::objects
