// StoreDirectory: the file-system primitives shared by KeyStore and CertStore.
//
// - The directory (and missing parents) is created 0700; files are created 0600.
// - Every file is opened relative to the directory descriptor with O_NOFOLLOW | O_CLOEXEC, so a
//   symbolic link at a file's path is never followed (ELOOP → NTE_PERM, its target untouched).
// - Writes go to a random temporary file (".tmp-…", O_EXCL) in the same directory, are fsynced,
//   then renamed into place (create-exclusive: renameat2(RENAME_NOREPLACE), or link()+unlink()
//   where unsupported; replace: rename(); replace-existing: renameat2(RENAME_EXCHANGE), falling
//   back to a check and rename()), and the directory is fsynced. A crash leaves each file whole
//   or absent.
// - A writer holds an advisory lock (flock) on its temporary file from creation until the file
//   is renamed or dropped. Listing deletes every temporary file whose lock is free: its writer
//   is gone (the kernel released the lock), whatever its age, its pid or its pid namespace.
//   Such a file is never recovered, even when the final file is missing: its writer never
//   reported success (a create that did not complete), or it holds an update of a key that a
//   deleter removed meanwhile or the content an exchange replaced. Renaming it into place
//   would resurrect a key its owner was told was never created, or was deleted.
// - StrictModes: a store directory must belong to the effective uid (or root) and not be
//   writable by group or others; a file must belong to the effective uid and give group and
//   others no access. Otherwise NTE_PERM ("access denied": the store refuses to trust it; the
//   cause names the path and the owner or mode), and with CNG_PKCS11_DEBUG set a line on stderr.
// - EACCES / EPERM / EROFS surface as NTE_PERM with the path and cause; nothing is written.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
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

// What identifies one version of a file: a store file is never rewritten in place (every
// write renames a new inode into place), so a changed file has another identity.
struct FileIdentity {
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
// The identity of the file st describes.
FileIdentity identity_from(const struct stat& st);
// File-system timestamps are coarse (jiffies): a file or directory changed less than this
// before it was read may change again without its timestamps moving, so a state seen within
// the window is not trusted as unchanged later ("racy", as git says).
inline constexpr std::chrono::milliseconds kRacyWindow{50};
// What identifies one state of a directory: every create, rename or unlink in it moves its
// mtime (within the file system's timestamp granularity, see listing_cache.h).
struct DirStamp {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const DirStamp&) const = default;
};

enum class WriteMode {
  kCreateExclusive,  // fail (kAlreadyExists) when the name exists; atomic against racers
  kReplace,          // create or replace
  kReplaceExisting,  // replace only when the name exists (kAbsent otherwise)
};
enum class WriteResult { kWritten, kAlreadyExists, kAbsent };

// Why a store entry with this owner and mode may not be trusted (see above); nullopt when it
// may. directory: the rules for a store directory, else those for a file.
std::optional<std::string> ownership_problem(uid_t owner, mode_t mode, bool directory);
// Writes "cng-pkcs11: refused 'path': reason" to stderr when CNG_PKCS11_DEBUG is set.
void note_refused(const std::filesystem::path& path, const std::string& reason) noexcept;

class StoreDirectory {
 public:
  // Opens the directory. With create, creates it and its missing parents (0700) first; without,
  // an absent directory gives a StoreDirectory for which is_open() is false. NTE_PERM when
  // the directory, or one of its ancestors up to scope_root (when beneath it), is not trusted.
  static StoreDirectory open(const std::filesystem::path& dir, bool create,
                             const std::filesystem::path& scope_root = {});

  [[nodiscard]] bool is_open() const noexcept { return fd_.valid(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // Whether something exists at name (not followed).
  [[nodiscard]] bool contains(const std::string& name) const;
  // Why the file at name may not be trusted (ownership_problem), nullopt when it may or when
  // it cannot be looked at.
  [[nodiscard]] std::optional<std::string> ownership_problem_of(const std::string& name) const;
  // Reads a regular file whole into out; false when absent. NTE_PERM when unreadable (or a
  // symbolic link), NTE_BAD_DATA when not a regular file or larger than max_bytes.
  // known_regular (the directory listing said so) lets a small file be read with one read()
  // and no fstat(): the listing fast path.
  // identity, when given, receives the identity of the very file read.
  bool read(const std::string& name, std::size_t max_bytes, SecureBytes& out,
            bool known_regular = false, FileIdentity* identity = nullptr) const;
  // The directory's own stamp (one fstat of the open directory).
  [[nodiscard]] DirStamp stamp() const;
  // The identity of the entry at name (not followed); nullopt when absent. regular receives
  // whether it is a regular file.
  [[nodiscard]] std::optional<FileIdentity> identity_of(const std::string& name,
                                                        bool& regular) const;
  WriteResult write(const std::string& name, std::span<const std::uint8_t> bytes, WriteMode mode);
  // Replaces name atomically (temporary file + rename) without fsync: for caches, whose loss
  // in a crash only costs a rebuild (a torn file fails its own checksum).
  void write_cache(const std::string& name, std::span<const std::uint8_t> bytes);
  // Whether the file system keeps ample room after bytes more (and a few inodes): a cache is
  // written only then, so that it never takes the room a stored object needs.
  [[nodiscard]] bool has_spare_room(std::size_t bytes) const noexcept;
  // Deletes name (a link itself, never its target); false when absent.
  bool remove(const std::string& name);
  struct Entry {
    std::string name;
    bool known_regular = false;  // false: the file system did not say (DT_UNKNOWN)
  };
  // The regular (or untyped) entries accepted by the predicate, in directory order.
  // Deletes stale temporary files on the way (best effort).
  [[nodiscard]] std::vector<Entry> names(bool (*accept)(std::string_view)) const;
  // Creates and deletes a temporary file: true when this process may write here, also when
  // the file system is full (ENOSPC, EDQUOT): writable, just without room.
  [[nodiscard]] bool probe_writable() const noexcept;
  // The same probe, throwing the errno-mapped status of the call that failed (NTE_PERM when
  // the process may not write, NTE_TOKEN_KEYSET_STORAGE_FULL when the disk is full, ...).
  void check_writable() const;

 private:
  StoreDirectory(std::filesystem::path path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}
  struct TempFile {
    std::string name;
    UniqueFd fd;  // open and locked: the file is live while this is held
  };
  // Creates a fresh temporary file (0600) holding bytes, fsynced when durable.
  [[nodiscard]] TempFile write_temp(std::span<const std::uint8_t> bytes, bool durable) const;
  void sync() const;

  std::filesystem::path path_;
  UniqueFd fd_;
};

}  // namespace cng::store_io
