#include "store/store_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>

#include "core/cng_error.h"
#include "store/byte_codec.h"

namespace cng::store_io {

namespace {

constexpr std::string_view kTempPrefix = ".tmp-";

[[noreturn]] void fail_at(int err, const std::string& what, const std::filesystem::path& path) {
  if (err == ELOOP) {
    fail(NTE_PERM, what + " '" + path.string() + "': it is a symbolic link (not followed)");
  }
  fail_errno(err, what + " '" + path.string() + "'");
}

// Retries a system call interrupted by a signal (every call here that can return EINTR: a
// signal must never turn into a failed store operation).
template <class F>
auto retry_eintr(F call) {
  for (;;) {
    const auto result = call();
    if (result >= 0 || errno != EINTR) {
      return result;
    }
  }
}

std::string random_temp_name() {
  std::array<std::uint8_t, 8> bytes{};
  if (getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) != static_cast<ssize_t>(bytes.size())) {
    // No entropy yet (very early boot): O_EXCL still guarantees uniqueness, this only spreads.
    static std::atomic<std::uint64_t> counter{0};
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const std::uint64_t mix = static_cast<std::uint64_t>(ts.tv_nsec) ^
                              (static_cast<std::uint64_t>(getpid()) << 32) ^ counter++;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<std::uint8_t>(mix >> (8 * i));
    }
  }
  return std::string(kTempPrefix) + store_codec::to_hex(bytes);
}

// Creates the directories of path that do not exist yet, each 0700 (whatever the umask).
void make_dirs(const std::filesystem::path& path) {
  std::filesystem::path prefix;
  for (const auto& part : path) {
    prefix /= part;
    if (part.empty() || part == part.root_directory() || part == "." || part == "..") {
      continue;
    }
    if (retry_eintr([&] { return ::mkdir(prefix.c_str(), 0700); }) != 0) {
      if (errno == EEXIST) {
        continue;
      }
      fail_at(errno, "cannot create store directory", prefix);
    }
    const UniqueFd created(retry_eintr(
        [&] { return ::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }));
    if (created.valid()) {
      (void)::fchmod(created.get(), 0700);
    }
    // Make the new entry durable in its parent.
    const auto parent =
        prefix.has_parent_path() ? prefix.parent_path() : std::filesystem::path(".");
    const UniqueFd parent_fd(
        retry_eintr([&] { return ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (parent_fd.valid()) {
      (void)retry_eintr([&] { return ::fsync(parent_fd.get()); });
    }
  }
}

bool rename_flags_unsupported(int err) { return err == EINVAL || err == ENOSYS || err == ENOTSUP; }

// Deletes a leftover temporary file when no writer holds its lock (the writer died: the kernel
// released it). A live writer holds it from creation to rename, so its file is never touched.
void sweep_temp(int dir_fd, const char* name) {
  const UniqueFd file(
      ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!file.valid() || ::flock(file.get(), LOCK_EX | LOCK_NB) != 0) {
    return;
  }
  // Unlink only the very file locked (the name may have been reused meanwhile).
  struct stat held {};
  struct stat named {};
  if (::fstat(file.get(), &held) == 0 && S_ISREG(held.st_mode) &&
      ::fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && held.st_ino == named.st_ino &&
      held.st_dev == named.st_dev) {
    (void)::unlinkat(dir_fd, name, 0);
  }
}

// Applies the directory rules to the ancestors of dir up to scope_root (when dir is beneath
// it): the scope directory and a provider subdirectory guard the store as much as its leaf.
void check_ancestors(const std::filesystem::path& dir, const std::filesystem::path& scope_root) {
  if (scope_root.empty()) {
    return;
  }
  auto root = scope_root.lexically_normal();
  if (!root.has_filename()) {
    root = root.parent_path();
  }
  auto p = dir.lexically_normal();
  if (!p.has_filename()) {
    p = p.parent_path();
  }
  while (p != root && p.has_relative_path()) {
    p = p.parent_path();
    const auto rel = p.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") {
      return;  // not beneath the scope directory
    }
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      return;  // gone meanwhile: the opened leaf is checked anyway
    }
    if (const auto problem = ownership_problem(st.st_uid, st.st_mode, true)) {
      note_refused(p, *problem);
      fail(NTE_PERM, "refused store directory '" + p.string() + "': " + *problem);
    }
  }
}

}  // namespace

std::optional<std::string> ownership_problem(uid_t owner, mode_t mode, bool directory) {
  const uid_t self = ::geteuid();
  // A directory may also belong to root (the machine store, a parent set up by the admin);
  // a file must be the user's own: anyone else could have planted or swapped it.
  if (owner != self && !(directory && owner == 0)) {
    return "owned by uid " + std::to_string(owner) + ", not " + std::to_string(self);
  }
  const mode_t forbidden = directory ? mode_t{022} : mode_t{077};
  if ((mode & forbidden) != 0) {
    std::array<char, 8> octal{};
    std::snprintf(octal.data(), octal.size(), "%04o", static_cast<unsigned>(mode & 07777));
    return std::string("mode ") + octal.data() +
           (directory ? " (writable by group or others)" : " (group or others have access)");
  }
  return std::nullopt;
}

void note_refused(const std::filesystem::path& path, const std::string& reason) noexcept {
  const char* debug = ::secure_getenv("CNG_PKCS11_DEBUG");
  if (debug != nullptr && debug[0] != '\0' && std::string_view(debug) != "0") {
    std::fprintf(stderr, "cng-pkcs11: refused '%s': %s\n", path.c_str(), reason.c_str());
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

StoreDirectory StoreDirectory::open(const std::filesystem::path& dir, bool create,
                                    const std::filesystem::path& scope_root) {
  const auto open_dir = [&] {
    return retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  };
  int fd = open_dir();
  if (fd < 0 && errno == ENOENT && create) {
    make_dirs(dir);
    fd = open_dir();
  }
  if (fd < 0) {
    if (errno == ENOENT && !create) {
      return {dir, UniqueFd()};
    }
    fail_at(errno, "cannot open store directory", dir);
  }
  UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(owned.get(), &st) != 0) {
    fail_at(errno, "cannot stat store directory", dir);
  }
  if (const auto problem = ownership_problem(st.st_uid, st.st_mode, true)) {
    note_refused(dir, *problem);
    fail(NTE_PERM, "refused store directory '" + dir.string() + "': " + *problem);
  }
  check_ancestors(dir, scope_root);
  return {dir, std::move(owned)};
}

bool StoreDirectory::contains(const std::string& name) const {
  struct stat st {};
  if (::fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return true;
  }
  if (errno == ENOENT) {
    return false;
  }
  fail_at(errno, "cannot look up", path_ / name);
}

std::optional<std::string> StoreDirectory::ownership_problem_of(const std::string& name) const {
  struct stat st {};
  if (::fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return ownership_problem(st.st_uid, st.st_mode, false);
}

FileIdentity identity_from(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_ino), static_cast<std::int64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

DirStamp StoreDirectory::stamp() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) {
    fail_at(errno, "cannot stat store directory", path_);
  }
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

std::optional<FileIdentity> StoreDirectory::identity_of(const std::string& name,
                                                        bool& regular) const {
  struct stat st {};
  if (::fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    fail_at(errno, "cannot look up", path_ / name);
  }
  regular = S_ISREG(st.st_mode);
  return identity_from(st);
}

bool StoreDirectory::read(const std::string& name, std::size_t max_bytes, SecureBytes& out,
                          bool /*known_regular*/, FileIdentity* identity) const {
  // O_NONBLOCK: a FIFO planted at the path must not hang the reader.
  const UniqueFd file(retry_eintr([&] {
    return ::openat(fd_.get(), name.c_str(),
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  }));
  if (!file.valid()) {
    if (errno == ENOENT) {
      return false;
    }
    fail_at(errno, "cannot read", path_ / name);
  }
  // One fstat() answers type, owner, mode and size (the owner check needs it anyway).
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    fail_at(errno, "cannot stat", path_ / name);
  }
  require(S_ISREG(st.st_mode), NTE_BAD_DATA, "store entry is not a regular file");
  if (const auto problem = ownership_problem(st.st_uid, st.st_mode, false)) {
    note_refused(path_ / name, *problem);
    fail(NTE_PERM, "refused '" + (path_ / name).string() + "': " + *problem);
  }
  require(static_cast<std::uintmax_t>(st.st_size) <= max_bytes, NTE_BAD_DATA,
          "store file too large");
  // Files are replaced by rename, never rewritten in place: the size is final.
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n =
        retry_eintr([&] { return ::read(file.get(), out.data() + got, out.size() - got); });
    if (n < 0) {
      fail_at(errno, "cannot read", path_ / name);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  if (identity != nullptr) {
    *identity = identity_from(st);
  }
  return true;
}

StoreDirectory::TempFile StoreDirectory::write_temp(std::span<const std::uint8_t> bytes,
                                                    bool durable) const {
  std::string name;
  UniqueFd file;
  for (int attempt = 0; attempt < 16 && !file.valid(); ++attempt) {
    name = random_temp_name();
    file = UniqueFd(retry_eintr([&] {
      return ::openat(fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    }));
    if (!file.valid()) {
      if (errno != EEXIST) {
        fail_at(errno, "cannot write to store directory", path_);
      }
      continue;
    }
    // The lock marks the file as live until the caller is done with it (sweep_temp). A sweeper
    // that got in between create and lock has unlinked the file: take another name.
    struct stat st {};
    if (retry_eintr([&] { return ::flock(file.get(), LOCK_EX); }) != 0 ||
        ::fstat(file.get(), &st) != 0) {
      fail_at(errno, "cannot lock", path_ / name);
    }
    if (st.st_nlink == 0) {
      file = UniqueFd();
    }
  }
  if (!file.valid()) {
    fail(NTE_SYS_ERR, "cannot create a unique temporary file in '" + path_.string() + "'");
  }
  try {
    if (retry_eintr([&] { return ::fchmod(file.get(), 0600); }) !=
        0) {  // exact mode whatever the umask
      fail_at(errno, "cannot set the mode of", path_ / name);
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = retry_eintr(
          [&] { return ::write(file.get(), bytes.data() + done, bytes.size() - done); });
      if (n < 0) {
        fail_at(errno, "cannot write", path_ / name);
      }
      done += static_cast<std::size_t>(n);
    }
    if (durable && retry_eintr([&] { return ::fsync(file.get()); }) != 0) {
      fail_at(errno, "cannot flush", path_ / name);
    }
  } catch (...) {
    (void)retry_eintr([&] { return ::unlinkat(fd_.get(), name.c_str(), 0); });
    throw;
  }
  return {std::move(name), std::move(file)};
}

void StoreDirectory::sync() const {
  if (retry_eintr([&] { return ::fsync(fd_.get()); }) != 0 &&
      errno != EINVAL) {  // EINVAL: no directory sync on this fs
    fail_at(errno, "cannot flush store directory", path_);
  }
}

WriteResult StoreDirectory::write(const std::string& name, std::span<const std::uint8_t> bytes,
                                  WriteMode mode) {
  // The temporary file stays open (and locked) until it is renamed or dropped.
  const TempFile written = write_temp(bytes, true);
  const std::string& temp = written.name;
  const int dir = fd_.get();
  const auto drop_temp = [&] {
    (void)retry_eintr([&] { return ::unlinkat(dir, temp.c_str(), 0); });
  };
  try {
    switch (mode) {
      case WriteMode::kReplace:
        if (retry_eintr([&] { return ::renameat(dir, temp.c_str(), dir, name.c_str()); }) != 0) {
          fail_at(errno, "cannot replace", path_ / name);
        }
        break;
      case WriteMode::kCreateExclusive:
        if (retry_eintr([&] {
              return ::renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_NOREPLACE);
            }) != 0) {
          if (errno == EEXIST) {
            drop_temp();
            return WriteResult::kAlreadyExists;
          }
          if (!rename_flags_unsupported(errno)) {
            fail_at(errno, "cannot create", path_ / name);
          }
          // link() never replaces an existing name either.
          if (retry_eintr([&] { return ::linkat(dir, temp.c_str(), dir, name.c_str(), 0); }) != 0) {
            if (errno == EEXIST) {
              drop_temp();
              return WriteResult::kAlreadyExists;
            }
            fail_at(errno, "cannot create", path_ / name);
          }
          drop_temp();
        }
        break;
      case WriteMode::kReplaceExisting:
        // Exchange fails with ENOENT when the name is absent: replace-if-present atomically.
        if (retry_eintr([&] {
              return ::renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_EXCHANGE);
            }) == 0) {
          drop_temp();  // now holds the previous content
          break;
        }
        if (errno == ENOENT) {
          drop_temp();
          return WriteResult::kAbsent;
        }
        if (!rename_flags_unsupported(errno)) {
          fail_at(errno, "cannot replace", path_ / name);
        }
        if (!contains(name)) {
          drop_temp();
          return WriteResult::kAbsent;
        }
        if (retry_eintr([&] { return ::renameat(dir, temp.c_str(), dir, name.c_str()); }) != 0) {
          fail_at(errno, "cannot replace", path_ / name);
        }
        break;
    }
  } catch (...) {
    drop_temp();
    throw;
  }
  sync();
  return WriteResult::kWritten;
}

void StoreDirectory::write_cache(const std::string& name, std::span<const std::uint8_t> bytes) {
  const TempFile written = write_temp(bytes, false);
  if (retry_eintr([&] {
        return ::renameat(fd_.get(), written.name.c_str(), fd_.get(), name.c_str());
      }) != 0) {
    const int err = errno;
    (void)retry_eintr([&] { return ::unlinkat(fd_.get(), written.name.c_str(), 0); });
    fail_at(err, "cannot replace", path_ / name);
  }
}

bool StoreDirectory::has_spare_room(std::size_t bytes) const noexcept {
  constexpr std::uint64_t kSpareBytes = 64ULL * 1024 * 1024;
  constexpr std::uint64_t kSpareInodes = 4096;
  struct statvfs vfs {};
  if (::fstatvfs(fd_.get(), &vfs) != 0) {
    return false;
  }
  const std::uint64_t free_bytes = std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
  // f_files == 0: a file system without an inode limit (btrfs).
  const bool inodes_ok = vfs.f_files == 0 || vfs.f_favail >= kSpareInodes;
  return inodes_ok && free_bytes >= kSpareBytes + 4 * std::uint64_t{bytes};
}

bool StoreDirectory::remove(const std::string& name) {
  if (retry_eintr([&] { return ::unlinkat(fd_.get(), name.c_str(), 0); }) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    fail_at(errno, "cannot delete", path_ / name);
  }
  sync();
  return true;
}

std::vector<StoreDirectory::Entry> StoreDirectory::names(bool (*accept)(std::string_view)) const {
  std::vector<Entry> out;
  const int listing_fd =
      retry_eintr([&] { return ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (listing_fd < 0) {
    fail_at(errno, "cannot list store directory", path_);
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(listing_fd), &::closedir);
  if (!dir) {
    const int err = errno;
    ::close(listing_fd);
    fail_at(err, "cannot list store directory", path_);
  }
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name.starts_with(kTempPrefix)) {
      sweep_temp(fd_.get(), entry->d_name);  // never listed; deleted once its writer is gone
      continue;
    }
    if ((entry->d_type == DT_REG || entry->d_type == DT_UNKNOWN) && accept(name)) {
      out.push_back({std::string(name), entry->d_type == DT_REG});
    }
  }
  return out;
}

void StoreDirectory::check_writable() const {
  const TempFile temp = write_temp({}, false);
  // A probe file that cannot be deleted is a temporary file for names() to sweep once unlocked.
  (void)retry_eintr([&] { return ::unlinkat(fd_.get(), temp.name.c_str(), 0); });
}

bool StoreDirectory::probe_writable() const noexcept {
  try {
    check_writable();
    return true;
  } catch (const CngError& e) {
    // A full store (no space or no inode left) is still writable: deleting must stay possible,
    // and the calls that need room fail with the storage-full status themselves.
    return e.status() == NTE_TOKEN_KEYSET_STORAGE_FULL;
  } catch (...) {
    return false;
  }
}

}  // namespace cng::store_io
