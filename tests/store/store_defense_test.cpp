// Store defenses: owner and mode of store directories and files (StrictModes), leftovers of
// killed writers, and a full file system. The tests run as root: owners are changed with
// chown, and a forked child switches to nobody where a non-root view is needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "store/key_store.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using test::sample_record;
using test::status_of;

constexpr uid_t kOtherUid = 65534;  // nobody

class StoreDefenseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root to give files to another uid";
    }
  }
  test::StoreEnv env_;
  KeyStore store_{KeyStore::default_dir(Scope::kUser), Scope::kUser};
  fs::path file_of(std::u16string_view name) const {
    return store_.dir() / KeyStore::file_name_for(name);
  }
};

// ---- StrictModes ----------------------------------------------------------------------------

TEST_F(StoreDefenseTest, KeyFileOfAnotherOwnerIsRefusedAndReported) {
  store_.store(sample_record(u"mine"), false);
  store_.store(sample_record(u"planted"), false);
  ASSERT_EQ(::chown(file_of(u"planted").c_str(), kOtherUid, kOtherUid), 0);

  EXPECT_EQ(status_of([&] { (void)store_.load(u"planted"); }), NTE_PERM);
  std::vector<KeyFileIssue> issues;
  const auto listed = store_.list(&issues);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, u"mine");
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].file, KeyStore::file_name_for(u"planted"));
  EXPECT_TRUE(issues[0].refused);
  EXPECT_EQ(issues[0].reason, "owned by uid 65534, not 0");
  const auto issue = store_.issue_of(u"planted");
  ASSERT_TRUE(issue.has_value());
  EXPECT_TRUE(issue->refused);
  EXPECT_FALSE(store_.issue_of(u"mine").has_value());
}

TEST_F(StoreDefenseTest, KeyFileWithGroupOrOtherAccessIsRefused) {
  store_.store(sample_record(u"loose"), false);
  for (const mode_t mode : {0644, 0640, 0604, 0601, 0610}) {
    ASSERT_EQ(::chmod(file_of(u"loose").c_str(), mode), 0);
    EXPECT_EQ(status_of([&] { (void)store_.load(u"loose"); }), NTE_PERM) << std::oct << mode;
    std::vector<KeyFileIssue> issues;
    EXPECT_TRUE(store_.list(&issues).empty());
    ASSERT_EQ(issues.size(), 1U);
    EXPECT_TRUE(issues[0].refused);
    char expected[8];
    std::snprintf(expected, sizeof expected, "%04o", static_cast<unsigned>(mode));
    EXPECT_EQ(issues[0].reason.rfind(std::string("mode ") + expected, 0), 0U) << issues[0].reason;
  }
  ASSERT_EQ(::chmod(file_of(u"loose").c_str(), 0600), 0);
  test::expect_same_record(store_.load(u"loose"), sample_record(u"loose"));
}

TEST_F(StoreDefenseTest, RefusalIsLoggedWithPathAndOwnerWhenDebugging) {
  store_.store(sample_record(u"planted"), false);
  ASSERT_EQ(::chown(file_of(u"planted").c_str(), kOtherUid, kOtherUid), 0);
  test::ScopedEnv debug("CNG_PKCS11_DEBUG", "1");
  ::testing::internal::CaptureStderr();
  (void)store_.list();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find(file_of(u"planted").string()), std::string::npos) << log;
  EXPECT_NE(log.find("owned by uid 65534"), std::string::npos) << log;
}

TEST_F(StoreDefenseTest, StoreDirectoryOfAnotherOwnerOrWritableByOthersIsRefused) {
  store_.store(sample_record(u"k"), false);
  const fs::path dir = store_.dir();
  ASSERT_EQ(::chown(dir.c_str(), kOtherUid, kOtherUid), 0);
  EXPECT_EQ(status_of([&] { (void)store_.list(); }), NTE_PERM);
  EXPECT_EQ(status_of([&] { (void)store_.load(u"k"); }), NTE_PERM);
  EXPECT_EQ(status_of([&] { store_.store(sample_record(u"new"), false); }), NTE_PERM);
  EXPECT_FALSE(store_.writable());
  ASSERT_EQ(::chown(dir.c_str(), 0, 0), 0);
  for (const mode_t mode : {0770, 0707, 0777}) {
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    EXPECT_EQ(status_of([&] { (void)store_.list(); }), NTE_PERM) << std::oct << mode;
    EXPECT_EQ(status_of([&] { store_.remove(u"k"); }), NTE_PERM) << std::oct << mode;
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // readable by others is fine
  EXPECT_EQ(store_.list().size(), 1U);
}

TEST_F(StoreDefenseTest, CertificateAndDataFilesOfAnotherOwnerAreNotListed) {
  CertStore certs(false, "");
  DataStore data(false, "");
  const std::string cert_id = certs.add(test::make_certificate("trust"), {});
  const std::string data_id = data.add({{"Label", {'d'}}});
  ASSERT_EQ(certs.list().size(), 1U);
  ASSERT_EQ(data.list().size(), 1U);
  const fs::path cert_file = env_.user_dir() / "certs" / cert_id;
  const fs::path data_file = env_.user_dir() / "data" / data_id;
  ASSERT_EQ(::chown(cert_file.c_str(), kOtherUid, kOtherUid), 0);
  ASSERT_EQ(::chmod(data_file.c_str(), 0644), 0);
  EXPECT_TRUE(certs.list().empty());
  EXPECT_TRUE(data.list().empty());
  // The certs directory itself writable by others: the whole store is refused.
  ASSERT_EQ(::chmod((env_.user_dir() / "certs").c_str(), 0777), 0);
  EXPECT_EQ(status_of([&] { (void)certs.add(test::make_certificate("other"), {}); }), NTE_PERM);
}

// The scope directory guards the provider subdirectories beneath it (here the platform
// provider's key store): writable by others, it could have had them swapped.
TEST_F(StoreDefenseTest, LooseScopeDirectoryRefusesTheStoresBeneathIt) {
  KeyStore platform(env_.user_dir() / "platform", Scope::kUser);
  platform.store(sample_record(u"tpm key"), false);
  DataStore data(false, "platform");
  (void)data.add({{"Label", {'p'}}});
  ASSERT_EQ(platform.list().size(), 1U);
  ASSERT_EQ(data.list().size(), 1U);
  ASSERT_EQ(::chmod(env_.user_dir().c_str(), 0777), 0);
  EXPECT_EQ(status_of([&] { (void)platform.list(); }), NTE_PERM);
  EXPECT_EQ(status_of([&] { (void)platform.load(u"tpm key"); }), NTE_PERM);
  EXPECT_EQ(status_of([&] { (void)data.list(); }), NTE_PERM);
}

// A root-owned store directory (the machine store) is trusted by every user.
TEST_F(StoreDefenseTest, RootOwnedDirectoryIsTrustedByOtherUsers) {
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) {
    GTEST_SKIP() << "no user nobody";
  }
  ASSERT_EQ(::chmod(env_.root().c_str(), 0755), 0);
  const fs::path dir = env_.root() / "machine";
  fs::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // root-owned, not writable by others
  EXPECT_EQ(test::run_in_child([&] {
              if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) {
                return 100;
              }
              KeyStore machine(dir, Scope::kMachine);
              return status_of([&] { (void)machine.list(); }) == ERROR_SUCCESS ? 0 : 1;
            }),
            0);
}

// ---- leftovers of killed writers --------------------------------------------------------------

// A temporary file fabricated as a writer would leave it; with hold, this process keeps it
// locked as a live writer does.
struct FakeTemp {
  fs::path path;
  int fd = -1;
  FakeTemp(const fs::path& dir, const std::string& name, const Bytes& content, bool hold)
      : path(dir / name) {
    test::write_file(path, content);
    ::chmod(path.c_str(), 0600);
    if (hold) {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      EXPECT_EQ(::flock(fd, LOCK_EX), 0);
    }
  }
  ~FakeTemp() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  FakeTemp(const FakeTemp&) = delete;
  FakeTemp& operator=(const FakeTemp&) = delete;
};

TEST_F(StoreDefenseTest, TemporaryFilesOfDeadWritersAreSweptAtOnceLiveOnesKept) {
  store_.store(sample_record(u"real"), false);
  const Bytes content = test::read_file(file_of(u"real"));
  const FakeTemp live(store_.dir(), ".tmp-0123456789abcdef", content, true);
  const FakeTemp dead(store_.dir(), ".tmp-fedcba9876543210", content, false);  // fresh mtime
  EXPECT_EQ(store_.list().size(), 1U);
  EXPECT_TRUE(fs::exists(live.path));
  EXPECT_FALSE(fs::exists(dead.path));
}

TEST_F(StoreDefenseTest, WriterKilledMidWriteLeavesNoTemporaryFileBehind) {
  store_.store(sample_record(u"seed"), false);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A writer between write and rename: it holds the lock on its temporary file until it
    // is killed.
    const FakeTemp held(store_.dir(), ".tmp-00000000000000aa", {1, 2, 3}, true);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  (void)store_.list();
  EXPECT_TRUE(fs::exists(store_.dir() / ".tmp-00000000000000aa")) << "swept while held";
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  (void)store_.list();
  EXPECT_FALSE(fs::exists(store_.dir() / ".tmp-00000000000000aa"));
}

// ---- a full file system -------------------------------------------------------------------------

// A tiny tmpfs (few inodes) mounted for the test; skipped where mounting is not permitted.
class FullStoreTest : public StoreDefenseTest {
 protected:
  void SetUp() override {
    StoreDefenseTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    mount_point_ = env_.root() / "small";
    fs::create_directory(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=1m,nr_inodes=6,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) {
      ::umount2(mount_point_.c_str(), MNT_DETACH);
    }
  }
  fs::path mount_point_;
  bool mounted_ = false;
};

TEST_F(FullStoreTest, FullStoreStaysWritableForDeletesAndSaysStorageFull) {
  KeyStore store(mount_point_ / "keys", Scope::kUser);
  int stored = 0;
  SECURITY_STATUS last = ERROR_SUCCESS;
  for (int i = 0; i < 20 && last == ERROR_SUCCESS; ++i) {
    last = status_of(
        [&] { store.store(sample_record(u"k" + std::u16string(1, char16_t(u'a' + i))), false); });
    stored += last == ERROR_SUCCESS ? 1 : 0;
  }
  ASSERT_GT(stored, 0);
  EXPECT_EQ(last, NTE_TOKEN_KEYSET_STORAGE_FULL);
  EXPECT_TRUE(store.writable());  // full, not write-protected
  store.remove(u"ka");
  EXPECT_EQ(store.list().size(), static_cast<std::size_t>(stored - 1));
  EXPECT_TRUE(test::entries(store.dir()).size() == static_cast<std::size_t>(stored - 1));
}

}  // namespace
}  // namespace cng
