#include "store/store_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
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
// Covers a typical key file (RSA-4096 PKCS#8 is about 2.4 kB); larger ones take a second read.
constexpr std::size_t kFirstReadBytes = 8 * 1024;

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

}  // namespace

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

StoreDirectory StoreDirectory::open(const std::filesystem::path& dir, bool create) {
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
  return {dir, UniqueFd(fd)};
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

bool StoreDirectory::read(const std::string& name, std::size_t max_bytes, SecureBytes& out,
                          bool known_regular) const {
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
  std::size_t got = 0;
  if (known_regular) {
    // One read() of a regular file returns everything up to end-of-file: a short read means the
    // whole (small) file is in; only a full buffer needs the size.
    out.resize(std::min(kFirstReadBytes, max_bytes + 1));
    const ssize_t n = retry_eintr([&] { return ::read(file.get(), out.data(), out.size()); });
    if (n < 0) {
      fail(NTE_BAD_DATA, "cannot read '" + (path_ / name).string() + "' as a regular file");
    }
    got = static_cast<std::size_t>(n);
    if (got < out.size()) {
      out.resize(got);
      return true;
    }
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    fail_at(errno, "cannot stat", path_ / name);
  }
  require(S_ISREG(st.st_mode), NTE_BAD_DATA, "store entry is not a regular file");
  require(static_cast<std::uintmax_t>(st.st_size) <= max_bytes, NTE_BAD_DATA,
          "store file too large");
  // Files are replaced by rename, never rewritten in place: the size is final.
  out.resize(std::max(got, static_cast<std::size_t>(st.st_size)));
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
  return true;
}

std::string StoreDirectory::write_temp(std::span<const std::uint8_t> bytes, bool durable) const {
  std::string name;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    name = random_temp_name();
    fd = retry_eintr([&] {
      return ::openat(fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    });
    if (fd < 0 && errno != EEXIST) {
      fail_at(errno, "cannot write to store directory", path_);
    }
  }
  if (fd < 0) {
    fail(NTE_SYS_ERR, "cannot create a unique temporary file in '" + path_.string() + "'");
  }
  UniqueFd file(fd);
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
    // EINTR from close(): Linux has released the descriptor anyway, and the data is flushed.
    if (::close(file.release()) != 0 && errno != EINTR) {
      fail_at(errno, "cannot close", path_ / name);
    }
  } catch (...) {
    (void)retry_eintr([&] { return ::unlinkat(fd_.get(), name.c_str(), 0); });
    throw;
  }
  return name;
}

void StoreDirectory::sync() const {
  if (retry_eintr([&] { return ::fsync(fd_.get()); }) != 0 &&
      errno != EINVAL) {  // EINVAL: no directory sync on this fs
    fail_at(errno, "cannot flush store directory", path_);
  }
}

WriteResult StoreDirectory::write(const std::string& name, std::span<const std::uint8_t> bytes,
                                  WriteMode mode) {
  const std::string temp = write_temp(bytes, true);
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
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name.starts_with(kTempPrefix)) {
      // Left by a writer that died; a live writer keeps its file for milliseconds only.
      struct stat st {};
      if (::fstatat(fd_.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          now - st.st_mtime > kStaleTempSeconds) {
        (void)retry_eintr([&] { return ::unlinkat(fd_.get(), entry->d_name, 0); });
      }
      continue;
    }
    if ((entry->d_type == DT_REG || entry->d_type == DT_UNKNOWN) && accept(name)) {
      out.push_back({std::string(name), entry->d_type == DT_REG});
    }
  }
  return out;
}

void StoreDirectory::check_writable() const {
  const std::string temp = write_temp({}, false);
  // A probe file that cannot be deleted is a stale temporary file for names() to sweep.
  (void)retry_eintr([&] { return ::unlinkat(fd_.get(), temp.c_str(), 0); });
}

bool StoreDirectory::probe_writable() const noexcept {
  try {
    check_writable();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace cng::store_io
