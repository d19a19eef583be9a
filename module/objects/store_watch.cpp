#include "objects/store_watch.h"

#include <sys/stat.h>

#include <ctime>

namespace p11::objects {

FileStamp stamp_of(const std::filesystem::path& path) noexcept {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  FileStamp s;
  s.exists = true;
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  s.size = static_cast<std::int64_t>(st.st_size);
  return s;
}

bool DirectoryWatch::needs_read(FileStamp& now) const {
  now = stamp_of(dir_);
  return !read_once_ || racy_ || now != last_;
}

void DirectoryWatch::mark_read(const FileStamp& seen_before_reading) {
  last_ = seen_before_reading;
  read_once_ = true;
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const std::int64_t now_ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  const std::int64_t window =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kRacyWindow).count();
  racy_ = seen_before_reading.exists && now_ns - seen_before_reading.mtime_ns < window;
}

}  // namespace p11::objects
