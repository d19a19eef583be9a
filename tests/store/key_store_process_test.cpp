// KeyStore across processes: crashes mid-write, racing creators, and access control.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "core/u16.h"
#include "store/key_store.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using test::sample_record;
using test::status_of;

std::u16string key_name(int i) { return u"crash key " + from_utf8(std::to_string(i)); }

// The child of the crash test: stores, overwrites, updates and deletes keys forever.
[[noreturn]] void churn_keys(const fs::path& dir, std::uint32_t seed) {
  KeyStore store(dir, Scope::kUser);
  std::mt19937 rng(seed);
  for (std::uint32_t generation = 0;; ++generation) {
    const std::u16string name = key_name(static_cast<int>(rng() % 8));
    // Large blobs make the kill land inside a write more often.
    const KeyRecord r = sample_record(name, 1000 + rng() % 60000, generation);
    try {
      switch (rng() % 4) {
        case 0:
          store.store(r, false);
          break;
        case 1:
          store.store(r, true);
          break;
        case 2:
          store.update(r);
          break;
        default:
          if (rng() % 4 == 0) {
            store.remove(name);
          }
          break;
      }
    } catch (const CngError&) {
      // NTE_EXISTS / NTE_BAD_KEYSET are expected here.
    }
  }
}

TEST(KeyStoreCrash, KilledWritersLeaveEveryKeyWholeOrAbsent) {
  test::TempDir root;
  const fs::path dir = root.path() / "keys";
  KeyStore store(dir, Scope::kUser);
  std::mt19937 rng(std::random_device{}());
  int killed_while_running = 0;
  for (int round = 0; round < 30; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      churn_keys(dir, static_cast<std::uint32_t>(rng()) + static_cast<std::uint32_t>(round));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 40000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    killed_while_running += (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ? 1 : 0;

    std::size_t loadable = 0;
    for (int i = 0; i < 8; ++i) {
      const auto s = status_of([&] { (void)store.load(key_name(i)); });
      ASSERT_TRUE(s == 0 || s == NTE_BAD_KEYSET)
          << "round " << round << " key " << i << " status " << std::hex << s;
      loadable += s == 0 ? 1 : 0;
    }
    EXPECT_EQ(store.list().size(), loadable) << "round " << round;
  }
  EXPECT_EQ(killed_while_running, 30);
  // Only key files and (young) temporary files of killed writers remain.
  int leftover_temp_files = 0;  // each one is a kill that landed inside a write
  for (const auto& name : test::entries(dir)) {
    EXPECT_TRUE(name.size() == 32 || name.starts_with(".tmp-")) << name;
    leftover_temp_files += name.starts_with(".tmp-") ? 1 : 0;
  }
  RecordProperty("leftover_temp_files", leftover_temp_files);
}

// A one-shot barrier for processes: children block on a pipe until the parent closes it.
class StartGate {
 public:
  StartGate() {
    EXPECT_EQ(::pipe(ready_), 0);
    EXPECT_EQ(::pipe(go_), 0);
  }
  ~StartGate() {
    for (const int fd : {ready_[0], ready_[1], go_[0], go_[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  StartGate(const StartGate&) = delete;
  StartGate& operator=(const StartGate&) = delete;
  // In a child: announce readiness, then wait for the gate to open.
  void arrive_and_wait() {
    // Drop this process's copy of the write end, or the read below never sees end-of-file.
    ::close(go_[1]);
    go_[1] = -1;
    const char c = 'r';
    (void)!::write(ready_[1], &c, 1);
    char buf = 0;
    (void)!::read(go_[0], &buf, 1);  // returns 0 once the parent closes the write end
  }
  // In the parent: wait for n children, then release them all at once.
  void open_when_ready(int n) {
    for (int i = 0; i < n; ++i) {
      char c = 0;
      ASSERT_EQ(::read(ready_[0], &c, 1), 1);
    }
    ::close(go_[1]);
    go_[1] = -1;
  }

 private:
  int ready_[2] = {-1, -1};
  int go_[2] = {-1, -1};
};

TEST(KeyStoreRace, OfTwoConcurrentCreatorsExactlyOneWins) {
  test::TempDir root;
  const fs::path dir = root.path() / "keys";
  KeyStore store(dir, Scope::kUser);
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    const std::u16string name = u"race " + from_utf8(std::to_string(round));
    StartGate gate;
    pid_t pids[2] = {};
    for (int who = 0; who < 2; ++who) {
      pids[who] = ::fork();
      ASSERT_GE(pids[who], 0);
      if (pids[who] == 0) {
        gate.arrive_and_wait();
        KeyStore mine(dir, Scope::kUser);
        const auto s = status_of(
            [&] { mine.store(sample_record(name, 500, static_cast<std::uint32_t>(who)), false); });
        ::_exit(s == 0 ? 0 : s == NTE_EXISTS ? 1 : 2);
      }
    }
    gate.open_when_ready(2);
    int codes[2] = {};
    for (int who = 0; who < 2; ++who) {
      int status = 0;
      ASSERT_EQ(::waitpid(pids[who], &status, 0), pids[who]);
      ASSERT_TRUE(WIFEXITED(status));
      codes[who] = WEXITSTATUS(status);
    }
    ASSERT_TRUE((codes[0] == 0 && codes[1] == 1) || (codes[0] == 1 && codes[1] == 0))
        << "round " << round << ": exit codes " << codes[0] << ", " << codes[1];
    const int winner = codes[0] == 0 ? 0 : 1;
    test::expect_same_record(store.load(name),
                             sample_record(name, 500, static_cast<std::uint32_t>(winner)));
  }
  EXPECT_EQ(store.list().size(), static_cast<std::size_t>(kRounds));
  EXPECT_EQ(test::entries(dir).size(), static_cast<std::size_t>(kRounds));  // no temp files left
}

// Drops every privilege to the account "nobody"; false when that is impossible.
bool become_nobody() {
  const passwd* pw = ::getpwnam("nobody");
  if (pw != nullptr && ::geteuid() == pw->pw_uid) {
    return true;  // already
  }
  return pw != nullptr && ::setgroups(0, nullptr) == 0 && ::setgid(pw->pw_gid) == 0 &&
         ::setuid(pw->pw_uid) == 0 && ::geteuid() == pw->pw_uid;
}

// Exit code of a child that checks every operation is refused with NTE_PERM (0 = all refused;
// otherwise the number of the first check that failed).
int expect_all_refused(const fs::path& dir, const std::u16string& existing) {
  if (!become_nobody()) {
    return 100;
  }
  KeyStore store(dir, Scope::kMachine);
  const SECURITY_STATUS statuses[] = {
      status_of([&] { store.store(sample_record(u"intruder"), false); }),
      status_of([&] { store.store(sample_record(existing, 10, 99), true); }),
      status_of([&] { store.update(sample_record(existing, 10, 99)); }),
      status_of([&] { (void)store.load(existing); }),
      status_of([&] { store.remove(existing); }),
  };
  for (std::size_t i = 0; i < std::size(statuses); ++i) {
    if (statuses[i] != NTE_PERM) {
      return static_cast<int>(i) + 1;
    }
  }
  return store.writable() ? 50 : 0;
}

class KeyStorePermission : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root to switch to the user nobody";
    }
    if (::getpwnam("nobody") == nullptr) {
      GTEST_SKIP() << "no user nobody";
    }
    // nobody must be able to reach the store directories themselves.
    ASSERT_EQ(::chmod(root_.path().c_str(), 0755), 0);
  }
  test::TempDir root_;
};

TEST_F(KeyStorePermission, NobodyCannotTouchARootOwnedMachineStore) {
  const fs::path dir = root_.path() / "machine";
  KeyStore machine(dir, Scope::kMachine);
  machine.store(sample_record(u"machine key"), false);
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  const auto before = test::snapshot(dir);
  EXPECT_EQ(test::run_in_child([&] {
              if (!become_nobody()) {
                return 100;
              }
              KeyStore store(dir, Scope::kMachine);
              if (status_of([&] { (void)store.list(); }) != NTE_PERM) {
                return 60;
              }
              if (status_of([&] { (void)store.exists(u"machine key"); }) != NTE_PERM) {
                return 61;
              }
              return expect_all_refused(dir, u"machine key");
            }),
            0);
  EXPECT_EQ(test::snapshot(dir), before);
}

// A world-readable directory still protects the 0600 files and refuses writes.
TEST_F(KeyStorePermission, NobodyCannotReadOrWriteThroughAnOpenDirectory) {
  const fs::path dir = root_.path() / "machine";
  KeyStore machine(dir, Scope::kMachine);
  machine.store(sample_record(u"machine key"), false);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  const auto before = test::snapshot(dir);
  EXPECT_EQ(test::run_in_child([&] {
              if (!become_nobody()) {
                return 100;
              }
              // The file is there but unreadable: it is not listed.
              if (!KeyStore(dir, Scope::kMachine).list().empty()) {
                return 70;
              }
              return expect_all_refused(dir, u"machine key");
            }),
            0);
  EXPECT_EQ(test::snapshot(dir), before);
}

TEST_F(KeyStorePermission, NobodyCannotTouchAnotherUsersStore) {
  const fs::path dir = root_.path() / "other-user";
  KeyStore other(dir, Scope::kUser);
  other.store(sample_record(u"their key"), false);
  // Owned by another (unprivileged) account, 0700 as the store creates it.
  constexpr uid_t kOtherUid = 54321;
  for (const auto& p : {dir, dir / KeyStore::file_name_for(u"their key")}) {
    ASSERT_EQ(::chown(p.c_str(), kOtherUid, kOtherUid), 0);
  }
  const auto before = test::snapshot(dir);
  EXPECT_EQ(test::run_in_child([&] { return expect_all_refused(dir, u"their key"); }), 0);
  EXPECT_EQ(test::snapshot(dir), before);
}

TEST_F(KeyStorePermission, NobodyCannotCreateAMissingMachineStore) {
  const fs::path parent = root_.path() / "var-lib";
  ASSERT_TRUE(fs::create_directory(parent));  // root-owned 0755, like /var/lib
  const fs::path dir = parent / "cng-pkcs11";
  EXPECT_EQ(test::run_in_child([&] {
              if (!become_nobody()) {
                return 100;
              }
              KeyStore store(dir, Scope::kMachine);
              if (store.writable()) {
                return 1;
              }
              return status_of([&] { store.store(sample_record(u"k"), false); }) == NTE_PERM ? 0
                                                                                             : 2;
            }),
            0);
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace cng
