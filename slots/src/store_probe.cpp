#include "store_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace slots {

namespace {

namespace fs = std::filesystem;

constexpr int kProbeAttempts = 8;
constexpr std::string_view kProbePrefix = ".cng-pkcs11-probe-";
// The subdirectory of an existing store the probes are made in, created once. A probe made in
// the store directory itself would move that directory's mtime at every start, and the key
// store's listing index (and the module's directory watch) take a moved mtime for a changed
// store: every process would rebuild the index. The store lists regular files only.
constexpr std::string_view kProbeDir = ".cng-pkcs11-probes";

// Retries a call interrupted by a signal.
template <class F>
int retry_eintr(F call) {
  int result = 0;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  return result;
}

// Only these say "this process may not write here"; any other failure is not write protection.
// A full file system (no block or inode left, the quota reached) must leave deleting possible,
// and the calls that need room report "storage full" themselves; an I/O error likewise.
bool denied(int err) { return err == EACCES || err == EPERM || err == EROFS; }

// Unique enough with O_EXCL / mkdir's EEXIST as the real guarantee. The pid comes first, so
// that a probe left by a process killed between create and delete can be swept.
std::string probe_name() {
  static std::atomic<unsigned long> counter{0};
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::string(kProbePrefix) + std::to_string(::getpid()) + "-" + std::to_string(ts.tv_nsec) +
         "-" + std::to_string(counter.fetch_add(1));
}

// The pid a probe name starts with; 0 when it does not parse.
pid_t probe_pid(std::string_view name) {
  name.remove_prefix(kProbePrefix.size());
  pid_t pid = 0;
  std::size_t digits = 0;
  for (; digits < name.size() && name[digits] >= '0' && name[digits] <= '9' && digits < 9;
       ++digits) {
    pid = pid * 10 + (name[digits] - '0');
  }
  return digits < name.size() && name[digits] == '-' ? pid : 0;
}

// Deletes the probes of processes that no longer run (killed between create and delete). A
// probe is empty and only ever deleted by its creator otherwise, so a pid reused since only
// delays the sweep; a process in another pid namespace that still runs at worst finds its
// probe gone, which its unlink ignores.
void sweep_dead_probes(const fs::path& dir) {
  const std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
  if (!listing) {
    return;
  }
  while (const dirent* entry = ::readdir(listing.get())) {
    const std::string_view name = entry->d_name;
    if (!name.starts_with(kProbePrefix)) {
      continue;
    }
    const pid_t pid = probe_pid(name);
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) {
      continue;  // running (or not ours to signal: EPERM means it runs)
    }
    const fs::path probe = dir / entry->d_name;
    if (::unlink(probe.c_str()) != 0 && errno == EISDIR) {
      (void)::rmdir(probe.c_str());
    }
  }
}

bool can_create_file_in(const fs::path& dir) {
  sweep_dead_probes(dir);
  for (int attempt = 0; attempt < kProbeAttempts; ++attempt) {
    const fs::path probe = dir / probe_name();
    const int fd = retry_eintr([&] {
      return ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    });
    if (fd >= 0) {
      ::close(fd);
      (void)retry_eintr([&] { return ::unlink(probe.c_str()); });
      return true;
    }
    if (errno != EEXIST) {
      return !denied(errno);
    }
  }
  return false;
}

// Whether a file can be created in the existing store directory dir, without creating one in
// it. Creating the probe subdirectory proves it the first time. Once that exists, the store
// directory's own write permission (mode, ACLs, capabilities, immutable flag, read-only mount)
// is asked of the kernel with the effective ids, and the rest (room for a file) is tried in the
// subdirectory, which shares the store's file system. The store directory itself is not read
// (10,000 keys make that a cost): leftovers of the earlier layout are swept once, with the
// subdirectory's creation.
bool can_create_file_in_store(const fs::path& dir) {
  const fs::path probes = dir / kProbeDir;
  if (retry_eintr([&] { return ::mkdir(probes.c_str(), 0700); }) == 0) {
    sweep_dead_probes(dir);  // probes an earlier layout made in the store directory itself
  } else {
    if (errno != EEXIST) {
      return !denied(errno);  // a full file system is no write protection
    }
    if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0 && denied(errno)) {
      return false;
    }
  }
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(probes, ec))) {
    return can_create_file_in(dir);  // something else has the name: probe the old way
  }
  return can_create_file_in(probes);
}

bool can_create_dir_in(const fs::path& dir) {
  for (int attempt = 0; attempt < kProbeAttempts; ++attempt) {
    const fs::path probe = dir / probe_name();
    if (retry_eintr([&] { return ::mkdir(probe.c_str(), 0700); }) == 0) {
      (void)retry_eintr([&] { return ::rmdir(probe.c_str()); });
      return true;
    }
    if (errno != EEXIST) {
      return !denied(errno);
    }
  }
  return false;
}

}  // namespace

bool store_writable(const fs::path& dir) noexcept {
  try {
    if (dir.empty()) {
      return false;
    }
    fs::path existing = dir.lexically_normal();
    std::error_code ec;
    while (!fs::exists(existing, ec)) {
      if (ec && ec != std::errc::no_such_file_or_directory) {
        return false;  // e.g. EACCES on a path component
      }
      const fs::path parent = existing.parent_path();
      if (parent.empty() || parent == existing) {
        return false;
      }
      existing = parent;
    }
    if (!fs::is_directory(existing, ec)) {
      return false;
    }
    if (existing == dir.lexically_normal()) {
      return can_create_file_in_store(existing);
    }
    sweep_dead_probes(existing);
    return can_create_dir_in(existing);
  } catch (...) {  // allocation failure: report "not writable", never throw
    return false;
  }
}

}  // namespace slots
