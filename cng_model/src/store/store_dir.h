// StoreDirectory: the file-system primitives shared by KeyStore and CertStore.
//
// - The directory (and missing parents) is created 0700; files are created 0600.
// - Every file is opened relative to the directory descriptor with O_NOFOLLOW | O_CLOEXEC, so a
//   symbolic link at a file's path is never followed (ELOOP → NTE_PERM, its target untouched).
// - Writes go to a random temporary file (".tmp-…", O_EXCL) in the same directory, are fsynced,
//   then renamed into place (create-exclusive: renameat2(RENAME_NOREPLACE), or link()+unlink()
//   where unsupported; replace: rename(); replace-existing: renameat2(RENAME_EXCHANGE), falling
//   back to a check and rename()), and the directory is fsynced. A crash leaves each file whole
//   or absent; leftover temporary files are never listed and are deleted once stale.
// - EACCES / EPERM / EROFS surface as NTE_PERM with the path and cause; nothing is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/secure_bytes.h"

namespace cng::store_io {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

enum class WriteMode {
  kCreateExclusive,  // fail (kAlreadyExists) when the name exists; atomic against racers
  kReplace,          // create or replace
  kReplaceExisting,  // replace only when the name exists (kAbsent otherwise)
};
enum class WriteResult { kWritten, kAlreadyExists, kAbsent };

// How long a leftover temporary file must be untouched before names() deletes it.
inline constexpr int kStaleTempSeconds = 600;

class StoreDirectory {
 public:
  // Opens the directory. With create, creates it and its missing parents (0700) first; without,
  // an absent directory gives a StoreDirectory for which is_open() is false.
  static StoreDirectory open(const std::filesystem::path& dir, bool create);

  [[nodiscard]] bool is_open() const noexcept { return fd_.valid(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // Whether something exists at name (not followed).
  [[nodiscard]] bool contains(const std::string& name) const;
  // Reads a regular file whole into out; false when absent. NTE_PERM when unreadable (or a
  // symbolic link), NTE_BAD_DATA when not a regular file or larger than max_bytes.
  // known_regular (the directory listing said so) lets a small file be read with one read()
  // and no fstat(): the listing fast path.
  bool read(const std::string& name, std::size_t max_bytes, SecureBytes& out,
            bool known_regular = false) const;
  WriteResult write(const std::string& name, std::span<const std::uint8_t> bytes, WriteMode mode);
  // Deletes name (a link itself, never its target); false when absent.
  bool remove(const std::string& name);
  struct Entry {
    std::string name;
    bool known_regular = false;  // false: the file system did not say (DT_UNKNOWN)
  };
  // The regular (or untyped) entries accepted by the predicate, in directory order.
  // Deletes stale temporary files on the way (best effort).
  [[nodiscard]] std::vector<Entry> names(bool (*accept)(std::string_view)) const;
  // Creates and deletes a temporary file: true when this process may write here.
  [[nodiscard]] bool probe_writable() const noexcept;
  // The same probe, throwing the errno-mapped status of the call that failed (NTE_PERM when
  // the process may not write, NTE_TOKEN_KEYSET_STORAGE_FULL when the disk is full, ...).
  void check_writable() const;

 private:
  StoreDirectory(std::filesystem::path path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}
  // Creates a fresh temporary file (0600) holding bytes, fsynced when durable; returns its name.
  [[nodiscard]] std::string write_temp(std::span<const std::uint8_t> bytes, bool durable) const;
  void sync() const;

  std::filesystem::path path_;
  UniqueFd fd_;
};

}  // namespace cng::store_io
