// The store listing index across processes: listers racing creators and deleters, and index
// writers killed at random points (SIGKILL). Oracle: the key files decoded directly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "core/u16.h"
#include "listing_index_support.h"
#include "store/listing_cache.h"
#include "store_test_util.h"

namespace cng {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::sample_record;

// Every key of these tests is sample_record(name, 64, seed) with the seed in its name.
std::u16string name_of(const std::string& kind, std::uint32_t seed) {
  return from_utf8(kind + " " + std::to_string(seed));
}
KeyRecord record_of(const std::string& kind, std::uint32_t seed) {
  return sample_record(name_of(kind, seed), 64, seed);
}
// The seed a listed name carries, or -1 when it is none of ours.
long seed_in(const std::u16string& name) {
  const std::string s = to_utf8(name);
  const auto space = s.rfind(' ');
  return space == std::string::npos ? -1 : std::stol(s.substr(space + 1));
}

std::size_t temp_files_in(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    n += e.path().filename().string().starts_with(".tmp-") ? 1 : 0;
  }
  return n;
}

// Two processes create and delete keys while this one lists: every listed key existed (its
// record is exactly what its creator wrote), and no key that exists throughout is missing.
TEST(ListingIndexRace, ListersSeeOnlyWholeKeysAndNeverMissAStableOne) {
  test::TempDir root;
  const fs::path dir = root.path() / "keys";
  KeyStore store(dir, Scope::kUser);
  constexpr std::uint32_t kStable = 20;
  for (std::uint32_t i = 0; i < kStable; ++i) {
    store.store(record_of("stable", i), false);
  }
  // Forked before this process lists (no other thread runs when they fork).
  std::vector<pid_t> children;
  for (int child = 0; child < 2; ++child) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        KeyStore mine(dir, Scope::kUser);
        const std::string kind = "churn" + std::to_string(child);
        const auto end = Clock::now() + std::chrono::milliseconds(1500);
        for (std::uint32_t i = 0; Clock::now() < end; ++i) {
          mine.store(record_of(kind, i), false);
          if (i >= 3) {
            mine.remove(name_of(kind, i - 3));
          }
        }
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  int listings = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(1500);
  while (Clock::now() < end) {
    if (listings % 2 == 0) {
      store_index::forget_in_memory_indexes();  // as a fresh process
    }
    const auto records = store.list_records();
    ++listings;
    std::set<std::u16string> names;
    for (const KeyRecord& r : records) {
      names.insert(r.name);
      const long seed = seed_in(r.name);
      ASSERT_GE(seed, 0) << to_utf8(r.name);
      const std::string kind = to_utf8(r.name).substr(0, to_utf8(r.name).rfind(' '));
      KeyRecord expected = record_of(kind, static_cast<std::uint32_t>(seed));
      expected.private_blob.clear();
      test::expect_same_record(r, expected);
    }
    for (std::uint32_t i = 0; i < kStable; ++i) {
      ASSERT_TRUE(names.contains(name_of("stable", i))) << "listing " << listings;
    }
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  RecordProperty("listings", listings);
  EXPECT_GT(listings, 10);
  test::expect_lists_exactly(store, true);
  std::vector<KeyFileIssue> issues;
  (void)store.list(&issues);
  EXPECT_TRUE(issues.empty());
}

// A child changes the store and lists (rewriting the index) in a loop until it is killed at a
// random moment; afterwards the listing is exact and leaves no temporary file behind.
TEST(ListingIndexCrash, KilledIndexWritersLeaveAnExactListing) {
  test::TempDir root;
  const fs::path dir = root.path() / "keys";
  KeyStore store(dir, Scope::kUser);
  for (std::uint32_t i = 0; i < 200; ++i) {
    store.store(record_of("base", i), false);
  }
  std::mt19937 rng(20261204);
  int killed_while_running = 0;
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      KeyStore mine(dir, Scope::kUser);
      for (std::uint32_t i = 0;; ++i) {
        const KeyRecord r = record_of("flip", (static_cast<std::uint32_t>(round) * 7 + i) % 16);
        try {
          if (mine.exists(r.name)) {
            mine.remove(r.name);
          } else {
            mine.store(r, false);
          }
          store_index::forget_in_memory_indexes();
          (void)mine.list();
        } catch (...) {
          ::_exit(3);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + rng() % 20000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    killed_while_running += (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ? 1 : 0;
    ASSERT_NO_FATAL_FAILURE(test::expect_lists_exactly(store, true)) << "round " << round;
    EXPECT_EQ(temp_files_in(dir / store_index::kIndexDirectory), 0U) << "round " << round;
    EXPECT_EQ(temp_files_in(dir), 0U) << "round " << round;
  }
  EXPECT_EQ(killed_while_running, kRounds);
}

}  // namespace
}  // namespace cng
