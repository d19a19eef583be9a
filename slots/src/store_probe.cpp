#include "store_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <string>
#include <system_error>

namespace slots {

namespace {

namespace fs = std::filesystem;

constexpr int kProbeAttempts = 8;

// Retries a call interrupted by a signal.
template <class F>
int retry_eintr(F call) {
  int result = 0;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  return result;
}

// Only these say "this process may not write here"; any other failure (a full disk, an I/O
// error) is not write protection: the write itself reports it with its own error.
bool denied(int err) { return err == EACCES || err == EPERM || err == EROFS; }

// Unique enough with O_EXCL / mkdir's EEXIST as the real guarantee. The store's temporary-file
// prefix: a probe that could not be deleted is swept with the store's stale temporary files.
std::string probe_name() {
  static std::atomic<unsigned long> counter{0};
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ".tmp-probe-" + std::to_string(::getpid()) + "-" + std::to_string(ts.tv_nsec) + "-" +
         std::to_string(counter.fetch_add(1));
}

bool can_create_file_in(const fs::path& dir) {
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
    return existing == dir.lexically_normal() ? can_create_file_in(existing)
                                              : can_create_dir_in(existing);
  } catch (...) {  // allocation failure: report "not writable", never throw
    return false;
  }
}

}  // namespace slots
