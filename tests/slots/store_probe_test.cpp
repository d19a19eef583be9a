// The write-protection probe (slots/src/store_probe.h): real directories, a real unprivileged
// child process when running as root.
#include "store_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

class StoreProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cng-probe-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_ / "ro", fs::perms::owner_all, ec);
    fs::remove_all(root_, ec);
  }
  static std::size_t entries(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }
  // Evaluates store_writable(dir) as an unprivileged user (nobody when root).
  static int writable_as_unprivileged(const fs::path& dir) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
        ::_exit(2);
      }
      ::_exit(slots::store_writable(dir) ? 1 : 0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  fs::path root_;
};

// Nothing but the (empty) probe subdirectory, created by the first probe.
TEST_F(StoreProbe, ExistingWritableDirectoryLeavesNothingBehind) {
  fs::create_directories(root_ / "store");
  EXPECT_TRUE(slots::store_writable(root_ / "store"));
  EXPECT_TRUE(slots::store_writable(root_ / "store"));
  EXPECT_EQ(entries(root_ / "store"), 1U);
  ASSERT_TRUE(fs::is_directory(root_ / "store" / ".cng-pkcs11-probes"));
  EXPECT_EQ(entries(root_ / "store" / ".cng-pkcs11-probes"), 0U);
}

// Once the probe subdirectory exists, probing leaves the store directory's mtime (the key
// store's listing index stamp) as it was.
TEST_F(StoreProbe, LaterProbesLeaveTheDirectoryMtime) {
  fs::create_directories(root_ / "store");
  ASSERT_TRUE(slots::store_writable(root_ / "store"));
  struct stat before {};
  ASSERT_EQ(::stat((root_ / "store").c_str(), &before), 0);
  ::usleep(20000);  // past the file system's timestamp granularity (coarse clock tick)
  EXPECT_TRUE(slots::store_writable(root_ / "store"));
  struct stat after {};
  ASSERT_EQ(::stat((root_ / "store").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

// Write protection set after the probe subdirectory was made still counts.
TEST_F(StoreProbe, ReadOnlyAfterTheFirstProbeIsNotWritable) {
  fs::create_directories(root_ / "ro" / "store");
  fs::permissions(root_ / "ro" / "store", fs::perms::owner_all | fs::perms::others_all);
  ASSERT_EQ(writable_as_unprivileged(root_ / "ro" / "store"), 1);
  ASSERT_TRUE(fs::is_directory(root_ / "ro" / "store" / ".cng-pkcs11-probes"));
  fs::permissions(root_ / "ro" / "store" / ".cng-pkcs11-probes",
                  fs::perms::owner_all | fs::perms::others_all);
  fs::permissions(root_ / "ro" / "store", fs::perms::owner_read | fs::perms::owner_exec |
                                              fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(writable_as_unprivileged(root_ / "ro" / "store"), 0);
  fs::permissions(root_ / "ro" / "store", fs::perms::owner_all);
}

TEST_F(StoreProbe, MissingDirectoryIsWritableWhenAnAncestorIs) {
  EXPECT_TRUE(slots::store_writable(root_ / "a" / "b" / "store"));
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_EQ(entries(root_), 0U);
}

TEST_F(StoreProbe, ReadOnlyDirectoryIsNotWritable) {
  fs::create_directories(root_ / "ro" / "store");
  fs::permissions(root_ / "ro" / "store", fs::perms::owner_read | fs::perms::owner_exec |
                                              fs::perms::group_read | fs::perms::group_exec |
                                              fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(root_ / "ro", fs::perms::owner_read | fs::perms::owner_exec |
                                    fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(writable_as_unprivileged(root_ / "ro" / "store"), 0);
  EXPECT_EQ(writable_as_unprivileged(root_ / "ro" / "missing"), 0);
  EXPECT_EQ(entries(root_ / "ro" / "store"), 0U);
  fs::permissions(root_ / "ro" / "store", fs::perms::owner_all);
}

TEST_F(StoreProbe, UnusablePaths) {
  EXPECT_FALSE(slots::store_writable(fs::path()));
  // A regular file where the directory should be.
  const fs::path file = root_ / "file";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  EXPECT_FALSE(slots::store_writable(file));
  EXPECT_FALSE(slots::store_writable(file / "store"));
}

}  // namespace

// A full store (no inode left) still counts as writable: it is not write-protected, only full,
// and destroying objects must stay possible.
TEST_F(StoreProbe, FullFileSystemIsWritable) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a tmpfs";
  }
  const fs::path small = root_ / "small";
  fs::create_directory(small);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k,nr_inodes=3,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  // Use up the inodes (the root directory holds one).
  int made = 0;
  for (int i = 0; i < 8; ++i) {
    const int fd = ::open((small / ("f" + std::to_string(i))).c_str(), O_WRONLY | O_CREAT, 0600);
    if (fd < 0) {
      EXPECT_EQ(errno, ENOSPC);
      break;
    }
    ::close(fd);
    ++made;
  }
  EXPECT_GT(made, 0);
  EXPECT_TRUE(slots::store_writable(small));
  EXPECT_TRUE(slots::store_writable(small / "keys"));  // a missing store under a full one
  ::umount2(small.c_str(), MNT_DETACH);
}

// Probes left by a process killed between creating and deleting them are swept; a running
// process's probe is not.
TEST_F(StoreProbe, ProbesOfDeadProcessesAreSwept) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // reaped: the pid runs no more
  const fs::path dead_file = root_ / (".cng-pkcs11-probe-" + std::to_string(child) + "-1-0");
  const fs::path dead_dir = root_ / (".cng-pkcs11-probe-" + std::to_string(child) + "-2-0");
  const fs::path live = root_ / (".cng-pkcs11-probe-" + std::to_string(::getpid()) + "-3-0");
  for (const auto& p : {dead_file, live}) {
    ::close(::open(p.c_str(), O_WRONLY | O_CREAT, 0600));
  }
  fs::create_directory(dead_dir);
  EXPECT_TRUE(slots::store_writable(root_));
  EXPECT_FALSE(fs::exists(dead_file));
  EXPECT_FALSE(fs::exists(dead_dir));
  EXPECT_TRUE(fs::exists(live));
}
